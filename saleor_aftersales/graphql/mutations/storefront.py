"""What shoppers do: open, cancel, appeal and complete their claims.

A customer acts by JWT on their own orders, a guest with the token of a guest
order; staff with MANAGE_ORDERS may act for them (claims taken by phone or at the
desk). To anyone but staff a claim or order that doesn't exist is refused exactly
like someone else's, so their ids can't be counted.
"""

import graphene
from django.core.exceptions import ValidationError

from ... import photos, warranty, workflow
from ..host import api
from ...enums import RequestType
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...configuration import get_settings
from ..authorize import authorize_order, is_staff_viewer
from ..enums import AftersalesReason
from ..types import AftersalesPhoto, AftersalesRequest
from .base import (
    MAX_KEY_LENGTH,
    AftersalesMutation,
    RequestMutation,
    clean_language,
    clean_meter_reading,
    clean_text,
    get_host_record,
    get_host_records,
    get_request,
    reload_for_api,
)

ORDER_TOKEN_HELP = "The order's token: how a guest proves the order is theirs."


class AftersalesRequestLineInput(graphene.InputObjectType):
    order_line = graphene.ID(required=True, description="ID of the order line.")
    quantity = graphene.Int(required=True, description="Units to claim.")
    reason = AftersalesReason(required=True, description="Why.")
    comment = graphene.String(
        description="The customer's words about this line (for repairs: the problem)."
    )
    replacement_variant = graphene.ID(
        description="Exchanges: the variant wanted instead."
    )
    serial_number = graphene.String(description="Repairs: serial number or VIN.")
    meter_reading = graphene.Int(
        description="Repairs: odometer km or operating hours, where it has one."
    )


class AftersalesRequestCreateInput(graphene.InputObjectType):
    order = graphene.ID(description="ID of the order (customers and staff).")
    order_token = graphene.UUID(description=ORDER_TOKEN_HELP)
    lines = graphene.List(
        graphene.NonNull(AftersalesRequestLineInput),
        required=True,
        description="Lines to claim.",
    )
    customer_note = graphene.String(description="A note for the shop.")
    language = graphene.String(
        description="Language of the shop's e-mails about the claim: en or zh-hans "
        "(default: the shop's)."
    )
    warranty_card_code = graphene.String(
        description="Repairs: the unit's warranty card; decides who pays."
    )
    idempotency_key = graphene.String(
        description="Retrying with the same key returns the first claim."
    )


def refuse_unknown(info, find):
    """``find()``; its NOT_FOUND is PermissionDenied unless the viewer is staff."""
    try:
        return find()
    except ValidationError as error:
        groups = error.error_dict.values() if hasattr(error, "error_dict") else []
        codes = {e.code for errors in groups for e in errors}
        if Code.NOT_FOUND.value in codes and not is_staff_viewer(info):
            raise api.PermissionDenied()
        raise


def order_from_input(info, data):
    """The host's order the input names, by ID or by a guest order's token."""
    if data.get("order"):
        return refuse_unknown(
            info, lambda: get_host_record("Order", data["order"], "order")
        )
    token = data.get("order_token")
    if token:
        order = api.order_by_token(str(token))
        if order is None:
            raise api.PermissionDenied()
        return order
    raise aftersales_error("order", "Give the order or its token.", Code.REQUIRED)


class ReturnRequestCreate(AftersalesMutation):
    aftersales_request = graphene.Field(AftersalesRequest, description="The new claim.")

    class Arguments:
        input = AftersalesRequestCreateInput(required=True, description="The claim.")

    class Meta:
        description = "Ask to return units of a fulfilled order."

    REQUEST_TYPE = RequestType.RETURN

    @classmethod
    def clean_lines(cls, lines_data):
        order_lines = get_host_records(
            "OrderLine", [line["order_line"] for line in lines_data], "lines"
        )
        wanted = [
            line["replacement_variant"]
            for line in lines_data
            if line.get("replacement_variant")
        ]
        # Only what the shop sells: hidden products are not offered as replacements.
        variants = get_host_records("ProductVariant", wanted, "lines")
        result = []
        for line in lines_data:
            meter = clean_meter_reading(line.get("meter_reading"))
            result.append(
                workflow.ClaimLineInput(
                    order_line=api.ref(order_lines[line["order_line"]].pk),
                    quantity=line["quantity"],
                    reason=line["reason"],
                    comment=clean_text(line, "comment", field="lines"),
                    replacement_variant=variants.get(line.get("replacement_variant")),
                    serial_number=clean_text(
                        line, "serial_number", field="lines", max_length=64
                    ).upper(),
                    meter_reading=meter,
                )
            )
        return result

    @classmethod
    def clean_warranty_card(cls, data):
        return None

    @classmethod
    def perform_mutation(cls, _root, info, input):
        facts = api.order_facts(order_from_input(info, input))
        actor = authorize_order(info, facts, input.get("order_token"))
        request = workflow.create_request(
            facts,
            type=cls.REQUEST_TYPE,
            lines=cls.clean_lines(input["lines"]),
            by=actor,
            settings=get_settings(),
            customer_note=clean_text(input, "customer_note"),
            language=clean_language(input),
            idempotency_key=clean_text(
                input, "idempotency_key", max_length=MAX_KEY_LENGTH
            ),
            warranty_card=cls.clean_warranty_card(input),
        )
        return cls.success(aftersales_request=reload_for_api(request, info))


class ExchangeRequestCreate(ReturnRequestCreate):
    class Arguments:
        input = AftersalesRequestCreateInput(required=True, description="The claim.")

    class Meta:
        description = (
            "Ask to exchange units of a fulfilled order for another variant "
            "(each line names its replacementVariant)."
        )

    REQUEST_TYPE = RequestType.EXCHANGE


class RepairRequestCreate(ReturnRequestCreate):
    class Arguments:
        input = AftersalesRequestCreateInput(required=True, description="The claim.")

    class Meta:
        description = (
            "Book a repair of delivered units; with a valid warrantyCardCode it is "
            "free, with an expired or void one it is paid and the claim says why."
        )

    REQUEST_TYPE = RequestType.REPAIR

    @classmethod
    def clean_warranty_card(cls, data):
        code = clean_text(data, "warranty_card_code", max_length=64)
        return warranty.card_by_code(code, field="warrantyCardCode") if code else None


class CustomerRequestMutation(RequestMutation):
    """A customer's step: the order's owner, a guest with its token, or staff."""

    class Meta:
        abstract = True

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        request = refuse_unknown(info, lambda: get_request(data["id"]))
        actor = cls.authorize(info, request, data)
        change = cls.transition(request, actor, data)
        return cls.success(aftersales_request=reload_for_api(change.request, info))

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


class RepairQuoteRespond(CustomerRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the repair claim.")
        accept = graphene.Boolean(required=True, description="Accept the quote?")
        order_token = graphene.UUID(description=ORDER_TOKEN_HELP)

    class Meta:
        description = (
            "Accept a repair quote (the repair starts; an order collects the price) "
            "or decline it (the item comes back unrepaired)."
        )

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.respond_to_quote(request, by=actor, accept=data["accept"])


class AftersalesRequestRate(CustomerRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description="ID of the claim.")
        rating = graphene.Int(required=True, description="1 (poor) to 5 (excellent).")
        comment = graphene.String(description="What went well or not.")
        order_token = graphene.UUID(description=ORDER_TOKEN_HELP)

    class Meta:
        description = "Rate how a resolved claim was handled; once."

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.rate(
            request,
            by=actor,
            rating=data["rating"],
            comment=clean_text(data, "comment"),
        )


class AftersalesPhotoUpload(AftersalesMutation):
    aftersales_request = graphene.Field(AftersalesRequest, description="The claim.")
    photo = graphene.Field(AftersalesPhoto, description="The photo kept.")

    class Arguments:
        id = graphene.ID(required=True, description="ID of the claim.")
        file = api.Upload(
            required=True,
            description=(
                "A JPEG, PNG or WebP photo of at most 5 MB and 40 megapixels "
                "(multipart); kept at most 2048 px, without its metadata."
            ),
        )
        order_token = graphene.UUID(description=ORDER_TOKEN_HELP)

    class Meta:
        description = "Attach a photo to a claim as evidence (at most 5 per claim)."

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        request = refuse_unknown(info, lambda: get_request(data["id"]))
        actor = authorize_order(info, request.order, data.get("order_token"))
        # Saleor's view puts the multipart part's name in the variable; the file
        # itself is in the request's FILES, as for its own image uploads.
        upload = info.context.FILES.get(data.get("file") or "")
        photo = photos.attach(request, upload, by=actor)
        return cls.success(
            aftersales_request=reload_for_api(request, info), photo=photo
        )
