"""What the after-sales desk does (MANAGE_ORDERS): review, receive, refund, close."""

import graphene
from django.core.exceptions import ValidationError

from ... import host, refunds, workflow
from ...enums import Disposition, RefundMethod, RefundStatus
from ...error_codes import AftersalesErrorCode as Code
from ...models import AftersalesLine as AftersalesLineModel
from ...plugin import get_settings
from ..authorize import staff_actor
from ..enums import (
    AftersalesDisposition,
    AftersalesRefundMethod,
    AftersalesRejectReason,
)
from ..types import AftersalesError, AftersalesRefund, AftersalesRequest
from .base import (
    MAX_KEY_LENGTH,
    AftersalesMutation,
    RequestMutation,
    clean_text,
    get_instance,
    get_instances,
    get_request,
    reload_for_api,
)

CLAIM_ID = "ID of the claim."


class StaffRequestMutation(RequestMutation):
    """A desk step; MANAGE_ORDERS is checked by each subclass's Meta."""

    class Meta:
        abstract = True

    @classmethod
    def authorize(cls, info, request, data):
        return staff_actor(info)


def claim_lines_by_id(request, items, field="lines"):
    """Resolve claim line IDs in one query; each must belong to ``request``."""
    lines = get_instances(
        AftersalesLineModel, [item["line"] for item in items], "AftersalesLine", field
    )
    seen = set()
    for line in lines.values():
        if line.request_id != request.pk:
            raise ValidationError(
                {
                    field: ValidationError(
                        "A line is not part of this claim.",
                        code=Code.LINE_NOT_IN_REQUEST.value,
                    )
                }
            )
    for item in items:
        if item["line"] in seen:
            raise ValidationError(
                {
                    field: ValidationError(
                        "A line is repeated.", code=Code.DUPLICATED_LINE.value
                    )
                }
            )
        seen.add(item["line"])
    return lines


class AftersalesApproveLineInput(graphene.InputObjectType):
    line = graphene.ID(required=True, description="ID of the claim line.")
    quantity = graphene.Int(required=True, description="Units approved (0 declines).")


class AftersalesRequestApprove(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        lines = graphene.List(
            graphene.NonNull(AftersalesApproveLineInput),
            description="Approved units per line; lines left out: as requested.",
        )
        note = graphene.String(description="A message for the customer.")

    class Meta:
        description = "Approve a claim, fully or in part."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        items = data.get("lines") or []
        lines = claim_lines_by_id(request, items)
        quantities = {lines[item["line"]].pk: item["quantity"] for item in items}
        return workflow.approve(
            request, by=actor, quantities=quantities, note=clean_text(data, "note")
        )


class AftersalesRequestReject(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        reason = AftersalesRejectReason(required=True, description="Why.")
        note = graphene.String(description="A message for the customer.")

    class Meta:
        description = "Reject a claim; the customer may appeal once."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.reject(
            request, by=actor, reason=data["reason"], note=clean_text(data, "note")
        )


class AftersalesRequestRequestInfo(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        note = graphene.String(required=True, description="What the shop needs.")

    class Meta:
        description = "Ask the customer for more information before deciding."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.request_info(request, by=actor, note=clean_text(data, "note"))


class AftersalesReceiveLineInput(graphene.InputObjectType):
    line = graphene.ID(required=True, description="ID of the claim line.")
    quantity = graphene.Int(required=True, description="Units inspected.")
    disposition = AftersalesDisposition(
        description="RESTOCK (default) back to stock, DAMAGED kept aside, MISSING "
        "not in the parcel."
    )


class AftersalesRequestReceive(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        lines = graphene.List(
            graphene.NonNull(AftersalesReceiveLineInput),
            description="What arrived; left out: every awaited unit, restocked.",
        )
        warehouse = graphene.ID(
            description="Where restocked units go; default: where they shipped from."
        )

    class Meta:
        description = "Record the returned goods; restocked units go back to stock."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        warehouse = None
        if data.get("warehouse"):
            warehouse = get_instance(
                host.Warehouse, data["warehouse"], "Warehouse", "warehouse"
            )
        items = data.get("lines")
        received = None
        if items is not None:
            lines = claim_lines_by_id(request, items)
            received = [
                workflow.ReceivedLineInput(
                    line=lines[item["line"]],
                    quantity=item["quantity"],
                    disposition=item.get("disposition") or Disposition.RESTOCK,
                )
                for item in items
            ]
        return workflow.receive(request, by=actor, lines=received, warehouse=warehouse)


class AftersalesRequestRefund(AftersalesMutation):
    aftersales_request = graphene.Field(AftersalesRequest, description="The claim.")
    refund = graphene.Field(AftersalesRefund, description="The refund.")

    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        amount = host.DecimalScalar(
            description="Amount to refund; default: the units' value, plus shipping "
            "if the shop refunds it, minus the restocking fee."
        )
        include_shipping = graphene.Boolean(
            description="Refund the order's shipping too (once per order)."
        )
        restocking_fee = host.DecimalScalar(
            description="Restocking fee in percent of the goods' value, for "
            "changed-mind and size lines; default: the shop's setting."
        )
        method = AftersalesRefundMethod(description="Default: REFUND.")
        idempotency_key = graphene.String(
            description="Retrying with the same key returns the first refund."
        )

    class Meta:
        description = "Refund a claim to the order's original payment, exactly once."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        request = get_request(data["id"])
        refund = refunds.refund_request(
            request,
            by=staff_actor(info),
            settings=get_settings(),
            amount=data.get("amount"),
            include_shipping=data.get("include_shipping"),
            restocking_fee_percent=data.get("restocking_fee"),
            method=data.get("method") or RefundMethod.REFUND,
            idempotency_key=clean_text(
                data, "idempotency_key", max_length=MAX_KEY_LENGTH
            ),
        )
        errors = []
        if refund.status == RefundStatus.FAILED:
            errors = [
                AftersalesError(
                    message=f"The payment gateway refused the refund: {refund.error}",
                    code=Code.PAYMENT_FAILED.value,
                )
            ]
        return cls(
            errors=errors,
            aftersales_errors=errors,
            aftersales_request=reload_for_api(request),
            refund=refund,
        )


class AftersalesRequestClose(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        note = graphene.String(description="Why, if closed without a refund.")

    class Meta:
        description = "Close a resolved, rejected or received claim."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.close(request, by=actor, note=clean_text(data, "note"))


class AftersalesRequestAssign(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        staff_user = graphene.ID(description="ID of a staff user; null unassigns.")

    class Meta:
        description = "Put a staff member in charge of a claim."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        staff_user = None
        if data.get("staff_user"):
            staff_user = get_instance(
                host.User, data["staff_user"], "User", "staffUser"
            )
        return workflow.assign(request, by=actor, staff_user=staff_user)


class AftersalesNoteAdd(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        message = graphene.String(required=True, description="The note.")

    class Meta:
        description = "Add an internal note; customers don't see it."
        permissions = (host.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.add_note(request, by=actor, message=clean_text(data, "message"))
