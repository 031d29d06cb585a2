"""What shoppers do: open, cancel, appeal and complete their claims.

A customer acts by JWT on their own orders, a guest with the order's token; staff
with MANAGE_ORDERS may act for them (claims taken by phone or at the desk).
"""

import graphene
from django.core.exceptions import ValidationError

from ... import host, workflow
from ...enums import RequestType
from ...error_codes import AftersalesErrorCode as Code
from ...plugin import get_settings
from ..authorize import authorize_order
from ..enums import AftersalesReason
from ..types import AftersalesRequest
from .base import (
    MAX_KEY_LENGTH,
    AftersalesMutation,
    RequestMutation,
    clean_text,
    get_instance,
    get_instances,
    reload_for_api,
)

ORDER_TOKEN_HELP = "The order's token: how a guest proves the order is theirs."


class AftersalesRequestLineInput(graphene.InputObjectType):
    order_line = graphene.ID(required=True, description="ID of the order line.")
    quantity = graphene.Int(required=True, description="Units to claim.")
    reason = AftersalesReason(required=True, description="Why.")
    comment = graphene.String(description="The customer's words about this line.")


class ReturnRequestCreateInput(graphene.InputObjectType):
    order = graphene.ID(description="ID of the order (customers and staff).")
    order_token = graphene.UUID(description=ORDER_TOKEN_HELP)
    lines = graphene.List(
        graphene.NonNull(AftersalesRequestLineInput),
        required=True,
        description="Lines to claim.",
    )
    customer_note = graphene.String(description="A note for the shop.")
    idempotency_key = graphene.String(
        description="Retrying with the same key returns the first claim."
    )


def order_from_input(data) -> "host.Order":
    if data.get("order"):
        return get_instance(host.Order, data["order"], "Order", "order")
    token = data.get("order_token")
    if token:
        order = host.Order.objects.filter(token=str(token)).first()
        if order is None:
            raise host.PermissionDenied()
        return order
    raise ValidationError(
        {
            "order": ValidationError(
                "Give the order or its token.", code=Code.REQUIRED.value
            )
        }
    )


class ReturnRequestCreate(AftersalesMutation):
    aftersales_request = graphene.Field(AftersalesRequest, description="The new claim.")

    class Arguments:
        input = ReturnRequestCreateInput(required=True, description="The claim.")

    class Meta:
        description = "Ask to return units of a fulfilled order."

    REQUEST_TYPE = RequestType.RETURN

    @classmethod
    def clean_lines(cls, lines_data):
        if not lines_data:
            raise ValidationError(
                {
                    "lines": ValidationError(
                        "Choose at least one line.", code=Code.REQUIRED.value
                    )
                }
            )
        order_lines = get_instances(
            host.OrderLine,
            [line["order_line"] for line in lines_data],
            "OrderLine",
            "lines",
        )
        return [
            workflow.ClaimLineInput(
                order_line=order_lines[line["order_line"]],
                quantity=line["quantity"],
                reason=line["reason"],
                comment=clean_text(line, "comment", field="lines"),
            )
            for line in lines_data
        ]

    @classmethod
    def perform_mutation(cls, _root, info, input):
        order = order_from_input(input)
        actor = authorize_order(info, order, input.get("order_token"))
        request = workflow.create_request(
            order,
            type=cls.REQUEST_TYPE,
            lines=cls.clean_lines(input["lines"]),
            by=actor,
            settings=get_settings(),
            customer_note=clean_text(input, "customer_note"),
            idempotency_key=clean_text(
                input, "idempotency_key", max_length=MAX_KEY_LENGTH
            ),
        )
        return cls.success(aftersales_request=reload_for_api(request))


class CustomerRequestMutation(RequestMutation):
    """A customer's step: the order's owner, a guest with its token, or staff."""

    class Meta:
        abstract = True

    @classmethod
    def authorize(cls, info, request, data):
        return authorize_order(info, request.order, data.get("order_token"))


class AftersalesRequestCancel(CustomerRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the claim.")
        order_token = graphene.UUID(description=ORDER_TOKEN_HELP)

    class Meta:
        description = "Withdraw a claim (until the goods are received)."

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.cancel(request, by=actor)


class AftersalesRequestAppeal(CustomerRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the claim.")
        note = graphene.String(required=True, description="Why it should change.")
        order_token = graphene.UUID(description=ORDER_TOKEN_HELP)

    class Meta:
        description = "Contest a rejection; possible once."

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.appeal(request, by=actor, note=clean_text(data, "note"))


class AftersalesRequestProvideInfo(CustomerRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the claim.")
        note = graphene.String(required=True, description="The requested information.")
        order_token = graphene.UUID(description=ORDER_TOKEN_HELP)

    class Meta:
        description = "Answer the shop's request for information."

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.provide_info(request, by=actor, note=clean_text(data, "note"))
