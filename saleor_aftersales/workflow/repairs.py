"""Repairs: the quote, the customer's answer, progress and the hand-back.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import List, Optional

from django.db import transaction
from django.utils import timezone

from ..port import NewOrderLine, host
from ..actors import Actor
from ..enums import (
    Action,
    EventType,
    HandBackMethod,
    RequestStatus,
    RequestType,
    Resolution,
)
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesRequest, RepairQuote, RepairQuoteLine
from ..orders import save_order
from ..settings import AftersalesSettings
from .actions import starts
from .steps import Change, lock, move


CENT = Decimal("0.01")


MAX_PRICE = Decimal("1000000")  # per quote line and per quote


@dataclass
class QuoteLineInput:
    kind: str
    description: str
    quantity: int
    unit_price: Decimal


def _validate_quote_lines(lines: List[QuoteLineInput], under_warranty: bool) -> None:
    if not lines and not under_warranty:
        raise _error("lines", "Itemise the quote.", Code.REQUIRED)
    for index, line in enumerate(lines):
        where = f"Quote line {index + 1}"
        if not line.description.strip() or len(line.description) > 255:
            raise _error(
                "lines", f"{where}: describe it (255 characters).", Code.INVALID
            )
        if line.quantity < 1:
            raise _error(
                "lines",
                f"{where}: quantity must be at least 1.",
                Code.QUANTITY_NOT_POSITIVE,
            )
        if line.quantity > 10_000:
            raise _error("lines", f"{where}: at most 10,000.", Code.QUANTITY_EXCEEDED)
        price = line.unit_price
        if not (
            price.is_finite() and 0 <= price <= MAX_PRICE
        ) or price != price.quantize(CENT):
            raise _error("lines", f"{where}: give a price in cents.", Code.INVALID)
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    if total > MAX_PRICE:
        raise _error("lines", "The quote is too large.", Code.INVALID)


def create_quote(
    request: AftersalesRequest,
    *,
    by: Actor,
    lines: List[QuoteLineInput],
    under_warranty: Optional[bool] = None,
    diagnosis: str = "",
) -> Change:
    """The itemised quote after inspection; under warranty it costs nothing and
    the repair starts at once. Left unsaid, a claim a valid card covers is quoted
    under warranty."""
    with transaction.atomic():
        request = lock(request, starts(Action.CREATE_QUOTE))
        if request.type != RequestType.REPAIR:
            raise _error(None, "Only repairs are quoted.", Code.INVALID_STATUS)
        if under_warranty is None:
            under_warranty = request.under_warranty
        _validate_quote_lines(lines, under_warranty)
        total = sum((l.unit_price * l.quantity for l in lines), Decimal("0"))
        quote = RepairQuote.objects.create(
            request=request,
            diagnosis=diagnosis,
            under_warranty=under_warranty,
            currency=request.currency,
            total_amount=Decimal("0") if under_warranty else total,
            accepted=True if under_warranty else None,
            responded_at=timezone.now() if under_warranty else None,
        )
        RepairQuoteLine.objects.bulk_create(
            [
                RepairQuoteLine(
                    quote=quote,
                    kind=line.kind,
                    description=line.description.strip(),
                    quantity=line.quantity,
                    unit_price_amount=line.unit_price,
                )
                for line in lines
            ]
        )
        return move(
            request,
            RequestStatus.IN_REPAIR if under_warranty else RequestStatus.QUOTED,
            by,
            EventType.QUOTED,
            message=(
                "Under warranty: no charge"
                if under_warranty
                else f"{quote.total_amount} {quote.currency}"
            ),
            parameters={"total": str(quote.total_amount), "diagnosis": diagnosis},
        )


def respond_to_quote(request: AftersalesRequest, *, by: Actor, accept: bool) -> Change:
    """The customer's answer. Accepted: the repair starts and an unpaid Saleor
    order collects the price. Declined: the item goes back unrepaired."""
    with transaction.atomic():
        request = lock(
            request, starts(Action.ACCEPT_QUOTE if accept else Action.DECLINE_QUOTE)
        )
        quote = RepairQuote.objects.select_for_update().get(request=request)
        quote.accepted = accept
        quote.responded_at = timezone.now()
        if not accept:
            quote.save(update_fields=["accepted", "responded_at"])
            request.resolved_at = timezone.now()
            return move(
                request,
                RequestStatus.RESOLVED,
                by,
                EventType.QUOTE_DECLINED,
                message="The item goes back unrepaired.",
                update_fields=("resolved_at",),
            )
        if quote.total_amount > 0:
            quote.order = save_order(
                host.create_follow_up_order(
                    request.order.host_id,
                    [
                        NewOrderLine(
                            product_name=f"Repair {request.number}: {line.description}",
                            sku=f"REPAIR-{line.kind.upper()}",
                            quantity=line.quantity,
                            unit_price=line.unit_price_amount,
                        )
                        for line in quote.lines.all()
                    ],
                    note=f"Repair {request.number}",
                    allocate=False,
                )
            )
        quote.save(update_fields=["accepted", "responded_at", "order"])
        return move(
            request,
            RequestStatus.IN_REPAIR,
            by,
            EventType.QUOTE_ACCEPTED,
            parameters={"order": quote.order.number if quote.order else None},
        )


def update_repair(
    request: AftersalesRequest,
    *,
    by: Actor,
    settings: AftersalesSettings,
    status: str,
    note: str,
    hand_back_method: str = "",
    tracking_number: str = "",
) -> Change:
    """Progress of a repair: a note (quality check, ...) while IN_REPAIR, or
    RESOLVED with the hand-back. A paid quote's item waits for its order to be
    paid unless the shop lets customers pay on collection."""
    if not note.strip():
        raise _error("note", "Say what was done or checked.", Code.REQUIRED)
    if status not in (RequestStatus.IN_REPAIR, RequestStatus.RESOLVED):
        raise _error("status", "Repairs move to IN_REPAIR or RESOLVED.", Code.INVALID)
    with transaction.atomic():
        request = lock(request, starts(Action.UPDATE_REPAIR))
        if status == RequestStatus.IN_REPAIR:
            return move(
                request, request.status, by, EventType.REPAIR_UPDATED, message=note
            )
        if hand_back_method not in dict(HandBackMethod.CHOICES):
            raise _error("handBack", "Say how the item goes back.", Code.REQUIRED)
        if hand_back_method == HandBackMethod.SHIPMENT and not tracking_number:
            raise _error(
                "tracking_number", "Give the parcel's tracking number.", Code.REQUIRED
            )
        quote = (
            RepairQuote.objects.filter(request=request).select_related("order").first()
        )
        unpaid = (
            quote is not None
            and quote.order
            and not host.is_fully_paid(quote.order.host_id)
        )
        if unpaid and not settings.repairs_paid_on_collection:
            raise _error(
                None,
                f"Order #{quote.order.number} for the repair is not paid yet.",
                Code.QUOTE_NOT_PAID,
            )
        request.resolution = Resolution.REPAIR
        request.resolved_at = timezone.now()
        request.hand_back_method = hand_back_method
        request.hand_back_tracking_number = tracking_number
        return move(
            request,
            RequestStatus.RESOLVED,
            by,
            EventType.REPAIR_UPDATED,
            message=note,
            parameters={"hand_back": hand_back_method, "tracking": tracking_number},
            update_fields=(
                "resolution",
                "resolved_at",
                "hand_back_method",
                "hand_back_tracking_number",
            ),
        )
