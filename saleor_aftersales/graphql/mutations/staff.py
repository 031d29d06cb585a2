"""What the after-sales desk does (MANAGE_ORDERS): review, receive, refund, close."""

import graphene

from ... import refunds, workflow
from ...emails import outbox as customer_emails
from ...models import CustomerEmail
from ..host import api
from ...enums import Disposition, RefundMethod, RefundStatus
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...models import AftersalesLine as AftersalesLineModel
from ...configuration import get_settings
from ..authorize import staff_actor
from ..enums import (
    AftersalesDisposition,
    AftersalesHandBackMethod,
    AftersalesRefundMethod,
    AftersalesRejectReason,
    AftersalesRequestStatus,
    RepairQuoteLineKind,
)
from ..types import (
    AftersalesCustomerEmail,
    AftersalesError,
    AftersalesRefund,
    AftersalesRequest,
)
from .base import (
    MAX_KEY_LENGTH,
    AftersalesMutation,
    RequestMutation,
    clean_meter_reading,
    clean_text,
    get_host_record,
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
            raise aftersales_error(
                field, "A line is not part of this claim.", Code.LINE_NOT_IN_REQUEST
            )
    for item in items:
        if item["line"] in seen:
            raise aftersales_error(field, "A line is repeated.", Code.DUPLICATED_LINE)
        seen.add(item["line"])
    return lines


def caller_key(data) -> str:
    key = clean_text(data, "idempotency_key", max_length=MAX_KEY_LENGTH)
    if key.startswith(refunds.SYSTEM_KEY_PREFIX):
        raise aftersales_error(
            "idempotencyKey",
            f"Keys starting with {refunds.SYSTEM_KEY_PREFIX!r} are the plugin's own.",
            Code.INVALID,
        )
    return key


def refund_errors(refund):
    """A refund the gateway refused is returned, with PAYMENT_FAILED."""
    if refund is None or refund.status != RefundStatus.FAILED:
        return []
    return [
        AftersalesError(
            message=f"The payment gateway refused the refund: {refund.error}",
            code=Code.PAYMENT_FAILED.value,
        )
    ]


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
        override_policy = graphene.Boolean(
            description="Approve lines the return policy refuses (recorded)."
        )

    class Meta:
        description = (
            "Approve a claim, fully or in part. A return below the returnless "
            "threshold is refunded at once and the customer keeps the goods."
        )
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        items = data.get("lines") or []
        lines = claim_lines_by_id(request, items)
        quantities = {lines[item["line"]].pk: item["quantity"] for item in items}
        change = workflow.approve(
            request,
            by=actor,
            quantities=quantities,
            note=clean_text(data, "note"),
            override_policy=bool(data.get("override_policy")),
        )
        if change.request.returnless:
            refunds.refund_returnless(change.request, settings=get_settings())
        return change


class AftersalesRequestReject(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        reason = AftersalesRejectReason(required=True, description="Why.")
        note = graphene.String(description="A message for the customer.")

    class Meta:
        description = "Reject a claim; the customer may appeal once."
        permissions = (api.MANAGE_ORDERS,)

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
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.request_info(request, by=actor, note=clean_text(data, "note"))


class AftersalesReceiveLineInput(graphene.InputObjectType):
    line = graphene.ID(required=True, description="ID of the claim line.")
    quantity = graphene.Int(required=True, description="Units inspected.")
    disposition = AftersalesDisposition(
        description="RESTOCK (default) back to stock, DAMAGED kept aside, MISSING "
        "not in the parcel. Repairs never join the stock."
    )
    serial_number = graphene.String(description="Repairs: the unit's serial or VIN.")
    meter_reading = graphene.Int(description="Repairs: km or hours at reception.")


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
        condition = graphene.String(
            description="Repairs: the visible condition at reception."
        )
        accessories = graphene.String(description="Repairs: accessories handed in.")

    class Meta:
        description = "Record the returned goods; restocked units go back to stock."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        warehouse = None
        if data.get("warehouse"):
            warehouse = get_host_record("Warehouse", data["warehouse"], "warehouse")
        items = data.get("lines")
        received = None
        for item in items or []:
            clean_meter_reading(item.get("meter_reading"))
        if items is not None:
            lines = claim_lines_by_id(request, items)
            received = [
                workflow.ReceivedLineInput(
                    line=lines[item["line"]],
                    quantity=item["quantity"],
                    disposition=item.get("disposition") or Disposition.RESTOCK,
                    serial_number=clean_text(
                        item, "serial_number", field="lines", max_length=64
                    ).upper(),
                    meter_reading=item.get("meter_reading"),
                )
                for item in items
            ]
        return workflow.receive(
            request,
            by=actor,
            lines=received,
            warehouse=warehouse,
            condition=clean_text(data, "condition"),
            accessories=clean_text(data, "accessories"),
        )


class AftersalesRequestRefund(AftersalesMutation):
    aftersales_request = graphene.Field(AftersalesRequest, description="The claim.")
    refund = graphene.Field(AftersalesRefund, description="The refund.")

    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        amount = api.DecimalScalar(
            description="Amount to refund; default: the units' value, plus shipping "
            "if the shop refunds it, minus the restocking fee."
        )
        include_shipping = graphene.Boolean(
            description="Refund the order's shipping too (once per order)."
        )
        restocking_fee = api.DecimalScalar(
            description="Restocking fee in percent of the goods' value, for "
            "changed-mind and size lines; default: the shop's setting."
        )
        method = AftersalesRefundMethod(description="Default: REFUND.")
        idempotency_key = graphene.String(
            description="Retrying with the same key returns the first refund."
        )

    class Meta:
        description = (
            "Refund a claim, exactly once: to the order's original payment, or as "
            "store credit (a Saleor gift card, plus the shop's bonus)."
        )
        permissions = (api.MANAGE_ORDERS,)

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
            idempotency_key=caller_key(data),
        )
        errors = refund_errors(refund)
        return cls(
            errors=errors,
            aftersales_errors=errors,
            aftersales_request=reload_for_api(request, info),
            refund=refund,
        )


class AftersalesRequestClose(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        note = graphene.String(description="Why, if closed without a refund.")

    class Meta:
        description = "Close a resolved, rejected or received claim."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.close(request, by=actor, note=clean_text(data, "note"))


class AftersalesRequestAssign(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        staff_user = graphene.ID(description="ID of a staff user; null unassigns.")

    class Meta:
        description = "Put a staff member in charge of a claim."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        staff_user = None
        if data.get("staff_user"):
            staff_user = get_host_record("User", data["staff_user"], "staffUser")
        return workflow.assign(request, by=actor, staff_user=staff_user)


class AftersalesNoteAdd(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        message = graphene.String(required=True, description="The note.")

    class Meta:
        description = "Add an internal note; customers don't see it."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.add_note(request, by=actor, message=clean_text(data, "message"))


class AftersalesCustomerEmailResend(AftersalesMutation):
    email = graphene.Field(AftersalesCustomerEmail)

    class Arguments:
        id = graphene.ID(required=True, description="ID of the failed e-mail.")

    class Meta:
        description = (
            "Try a failed customer e-mail again with a fresh set of attempts "
            "(after the address or the mail server was put right)."
        )
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, _info, id):
        email = get_instance(CustomerEmail, id, "AftersalesCustomerEmail", "id")
        if email.status != CustomerEmail.FAILED:
            raise aftersales_error(
                "id", "Only failed e-mails are sent again.", Code.INVALID_STATUS
            )
        return cls.success(email=customer_emails.resend(email))


class ExchangeRequestFulfill(AftersalesMutation):
    aftersales_request = graphene.Field(AftersalesRequest, description="The claim.")
    refund = graphene.Field(
        AftersalesRefund,
        description="The refund of a cheaper replacement's difference.",
    )

    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)

    class Meta:
        description = (
            "Send the replacements as a Saleor order with stock allocated; refund "
            "the difference of cheaper ones, leave a dearer one's difference due."
        )
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        request, refund = refunds.settle_exchange(
            get_request(data["id"]), by=staff_actor(info), settings=get_settings()
        )
        errors = refund_errors(refund)
        return cls(
            errors=errors,
            aftersales_errors=errors,
            aftersales_request=reload_for_api(request, info),
            refund=refund,
        )


class RepairQuoteLineInput(graphene.InputObjectType):
    kind = RepairQuoteLineKind(required=True, description="PART or LABOR.")
    description = graphene.String(required=True, description="What it is.")
    quantity = graphene.Int(required=True, description="How many (parts, hours).")
    unit_price = api.DecimalScalar(required=True, description="Price of one.")


class RepairQuoteCreate(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        lines = graphene.List(
            graphene.NonNull(RepairQuoteLineInput),
            description="Itemised parts and labour.",
        )
        under_warranty = graphene.Boolean(
            description="Free under warranty: the repair starts at once. Default: "
            "whether the claim's warranty card covers it."
        )
        diagnosis = graphene.String(description="What inspection found.")

    class Meta:
        description = "Quote a received repair, line by line."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        lines = [
            workflow.QuoteLineInput(
                kind=item["kind"],
                description=clean_text(
                    item, "description", field="lines", max_length=255
                ),
                quantity=item["quantity"],
                unit_price=item["unit_price"],
            )
            for item in data.get("lines") or []
        ]
        if any(line.unit_price is None for line in lines):
            raise aftersales_error("lines", "Give each line a price.", Code.INVALID)
        return workflow.create_quote(
            request,
            by=actor,
            lines=lines,
            under_warranty=data.get("under_warranty"),
            diagnosis=clean_text(data, "diagnosis"),
        )


class RepairStatusUpdate(StaffRequestMutation):
    class Arguments:
        id = graphene.ID(required=True, description=CLAIM_ID)
        status = AftersalesRequestStatus(
            required=True, description="IN_REPAIR (a progress note) or RESOLVED."
        )
        note = graphene.String(required=True, description="Work done, quality check.")
        hand_back = AftersalesHandBackMethod(
            description="RESOLVED: pickup or shipment."
        )
        tracking_number = graphene.String(description="RESOLVED by shipment: tracking.")

    class Meta:
        description = "Record a repair's progress, and its hand-back when done."
        permissions = (api.MANAGE_ORDERS,)

    @classmethod
    def transition(cls, request, actor, data):
        return workflow.update_repair(
            request,
            by=actor,
            settings=get_settings(),
            status=data["status"],
            note=clean_text(data, "note"),
            hand_back_method=data.get("hand_back") or "",
            tracking_number=clean_text(data, "tracking_number", max_length=255),
        )
