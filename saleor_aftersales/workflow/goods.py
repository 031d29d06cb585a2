"""Goods and money: the parcel received (restock, damage, missing), refunds
recorded, the claim closed.
"""

from typing import Dict, List, Optional

from django.db import transaction
from django.utils import timezone

from .. import rollups, warranty
from ..port import host
from ..actors import Actor
from ..enums import (
    Action,
    Disposition,
    EventType,
    RefundMethod,
    RequestStatus,
    RequestType,
    Resolution,
)
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesLine, AftersalesRequest
from .actions import starts
from .steps import (
    Change,
    ReceivedLineInput,
    lock,
    lock_claim,
    move,
    refuse_while_refund_pending,
)


def _record_serial_at_reception(request, lines, by: Actor) -> None:
    """The first repair is where a card learns its unit's serial number."""
    card = request.warranty_card
    line = next((l for l in lines if l.order_line_id == card.order_line_id), None)
    if line is not None and line.serial_number and not card.serial_number:
        warranty.record_serial_number(card, by=by, serial_number=line.serial_number)


def receive(
    request: AftersalesRequest,
    *,
    by: Actor,
    lines: Optional[List[ReceivedLineInput]] = None,
    warehouse=None,
    condition: str = "",
    accessories: str = "",
) -> Change:
    """Record what came back; RESTOCK units go back into the warehouse's stock.

    Without ``lines`` every awaited unit is received for restocking. May be called
    again for a later parcel, and after a refund paid before the goods came back
    (the claim then stays resolved).
    """
    with transaction.atomic():
        request = lock(request, starts(Action.RECEIVE))
        refuse_while_refund_pending(request)
        claim_lines = {
            line.pk: line for line in request.lines.select_related("order_line")
        }
        if lines is None:
            lines = [
                ReceivedLineInput(line, line.quantity_awaiting)
                for line in claim_lines.values()
                if line.quantity_awaiting > 0
            ]
        if not lines:
            raise _error("lines", "Nothing is awaited on this claim.", Code.REQUIRED)
        seen = set()
        for item in lines:
            line = claim_lines.get(item.line.pk)
            if line is None:
                raise _error(
                    "lines",
                    "A line is not part of this claim.",
                    Code.LINE_NOT_IN_REQUEST,
                )
            if line.pk in seen:
                raise _error("lines", "A line is repeated.", Code.DUPLICATED_LINE)
            seen.add(line.pk)
            if item.quantity < 1:
                raise _error(
                    "lines", "Quantity must be at least 1.", Code.QUANTITY_NOT_POSITIVE
                )
            if item.quantity > line.quantity_awaiting:
                raise _error(
                    "lines",
                    f"Only {line.quantity_awaiting} unit(s) of {line.order_line} "
                    "are awaited.",
                    Code.QUANTITY_EXCEEDED,
                )
            item.line = line

        restock = {}
        is_repair = request.type == RequestType.REPAIR
        for item in lines:
            line = item.line
            if is_repair:
                # The customer's own unit, in for repair: it never joins the stock.
                item.disposition = Disposition.DAMAGED
                line.serial_number = item.serial_number or line.serial_number
                if item.meter_reading is not None:
                    line.meter_reading = item.meter_reading
            line.disposition = item.disposition
            if item.disposition == Disposition.MISSING:
                line.quantity_missing += item.quantity
            else:
                line.quantity_received += item.quantity
            if item.disposition == Disposition.RESTOCK:
                line.quantity_restocked += item.quantity
                variant = line.order_line.variant_ref
                if variant:  # a deleted variant has no stock to go back to
                    restock[variant] = restock.get(variant, 0) + item.quantity
        returned: Dict[str, int] = {}
        if not is_repair:
            came_back: Dict[int, int] = {}
            for item in lines:
                if item.disposition != Disposition.MISSING:
                    key = item.line.order_line_id
                    came_back[key] = came_back.get(key, 0) + item.quantity
                    ref = item.line.order_line.host_id
                    returned[ref] = returned.get(ref, 0) + item.quantity
            warranty.void_returned_units(
                came_back, by=by, reason=f"Returned with {request.number}"
            )
        if restock:
            warehouse = warehouse or host.default_return_warehouse(
                line.order_line.host_id for line in claim_lines.values()
            )
            if warehouse is None:
                raise _error(
                    "warehouse", "No warehouse to restock into.", Code.NO_WAREHOUSE
                )
        if returned or restock:
            host.goods_received(
                request.order.host_id,
                returned=returned,
                restock=restock,
                warehouse=warehouse if restock else None,
                user=by.staff_user,
            )
        AftersalesLine.objects.bulk_update(
            [item.line for item in lines],
            [
                "disposition",
                "quantity_received",
                "quantity_restocked",
                "quantity_missing",
                "serial_number",
                "meter_reading",
            ],
        )
        if is_repair and request.warranty_card_id:
            _record_serial_at_reception(request, claim_lines.values(), by)
        request.received_at = timezone.now()
        request.received_condition = condition or request.received_condition
        request.received_accessories = accessories or request.received_accessories
        return move(
            request,
            (
                RequestStatus.RESOLVED
                if request.status == RequestStatus.RESOLVED
                else RequestStatus.RECEIVED
            ),
            by,
            EventType.RECEIVED,
            parameters={
                "lines": [
                    {
                        "line": item.line.pk,
                        "quantity": item.quantity,
                        "disposition": item.disposition,
                    }
                    for item in lines
                ],
                "warehouse": str(warehouse.pk) if restock else None,
                "condition": condition,
                "accessories": accessories,
            },
            update_fields=("received_at", "received_condition", "received_accessories"),
        )


def record_refund(request: AftersalesRequest, refund, *, by: Actor) -> Change:
    """A refund went through: settle its units, resolve when all are settled.

    Called in the transaction that records the refund's success, so it refuses
    nothing: money that moved is always recorded.
    """
    with transaction.atomic():
        request = lock_claim(request.pk)
        rollups.refund_succeeded(request, refund)
        lines = list(request.lines.all())
        for line in lines:
            line.quantity_refunded += int(refund.line_quantities.get(str(line.pk), 0))
        AftersalesLine.objects.bulk_update(lines, ["quantity_refunded"])
        if request.type == RequestType.EXCHANGE:
            # The price difference of a cheaper replacement: the goods went out.
            settled, resolution = True, Resolution.REPLACEMENT
        else:
            settled = all(l.quantity_settled >= l.quantity_approved for l in lines)
            resolution = (
                Resolution.STORE_CREDIT
                if refund.method == RefundMethod.STORE_CREDIT
                else Resolution.REFUND
            )
        settled = settled and request.status in (
            RequestStatus.APPROVED,
            RequestStatus.RECEIVED,
        )
        if settled:
            request.resolution = resolution
            request.resolved_at = timezone.now()
        return move(
            request,
            RequestStatus.RESOLVED if settled else request.status,
            by,
            EventType.REFUNDED,
            message=_refund_message(refund),
            parameters={
                "refund": refund.pk,
                "amount": str(refund.amount),
                "method": refund.method,
            },
            update_fields=("resolution", "resolved_at"),
        )


def _refund_message(refund) -> str:
    if refund.method == RefundMethod.STORE_CREDIT:
        return (
            f"{refund.amount} {refund.currency} refunded as store credit: a gift "
            f"card worth {refund.credit_amount} {refund.currency}"
        )
    return f"{refund.amount} {refund.currency} refunded"


def record_refund_failure(request: AftersalesRequest, refund, *, by: Actor) -> Change:
    with transaction.atomic():
        request = lock_claim(request.pk)
        return move(
            request,
            request.status,
            by,
            EventType.REFUND_FAILED,
            message=refund.error,
            parameters={"refund": refund.pk, "amount": str(refund.amount)},
        )


def record_external_refund(request: AftersalesRequest, refund) -> Change:
    """Money refunded on the order's payment outside the desk (Stripe's dashboard):
    on the claim's record, settling no units; the desk decides what it covers."""
    with transaction.atomic():
        request = lock_claim(request.pk)
        rollups.refund_succeeded(request, refund)
        return move(
            request,
            request.status,
            Actor.system(),
            EventType.REFUNDED,
            message=(
                f"{refund.amount} {refund.currency} refunded in Stripe, outside the "
                "after-sales desk; no units settled"
            ),
            parameters={
                "refund": refund.pk,
                "amount": str(refund.amount),
                "external": True,
            },
        )


def close(request: AftersalesRequest, *, by: Actor, note: str = "") -> Change:
    """File the claim away: it is resolved, rejected, or received and settled by hand."""
    with transaction.atomic():
        request = lock(request, starts(Action.CLOSE))
        refuse_while_refund_pending(request)
        request.closed_at = timezone.now()
        return move(
            request,
            RequestStatus.CLOSED,
            by,
            EventType.CLOSED,
            message=note,
            update_fields=("closed_at",),
        )
