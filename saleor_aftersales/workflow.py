"""The claim workflow: one function per transition, the only writer of status.

Each transition locks the claim row, checks the statuses it may start from, writes
the new state and one immutable ``AftersalesEvent`` and mirrors the step into the
Saleor order timeline, all in one transaction. Query counts do not depend on the
number of lines (bulk writes only).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, Iterable, List, Optional, Tuple

from django.db import transaction
from django.utils import timezone

from . import host, sla, warranty
from .actors import Actor
from .enums import (
    ActorType,
    Disposition,
    EventType,
    HandBackMethod,
    Ineligibility,
    RefundMethod,
    RefundStatus,
    RequestStatus,
    RequestType,
    Resolution,
    WarrantyEndedBy,
)
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import (
    AftersalesEvent,
    AftersalesLine,
    AftersalesRequest,
    RepairQuote,
    RepairQuoteLine,
)
from .settings import AftersalesSettings, get_settings
from .policies import (
    claimed_quantities,
    line_eligibility,
    paid_unit_prices,
    policies_by_line,
)
from .webhooks import outgoing


@dataclass
class ClaimLineInput:
    order_line: "host.OrderLine"
    quantity: int
    reason: str
    comment: str = ""
    replacement_variant: Optional["host.ProductVariant"] = None  # exchanges
    serial_number: str = ""  # repairs
    meter_reading: Optional[int] = None  # repairs


@dataclass
class ReceivedLineInput:
    line: AftersalesLine
    quantity: int
    disposition: str = Disposition.RESTOCK
    serial_number: str = ""  # repairs: as the counter clerk reads it
    meter_reading: Optional[int] = None


@dataclass
class Change:
    """What a transition wrote, for callers that notify others afterwards."""

    request: AftersalesRequest
    event: AftersalesEvent
    extra: Dict = field(default_factory=dict)


def lock_claim(pk: int) -> AftersalesRequest:
    """The claim under a row lock, whatever its status."""
    return (
        AftersalesRequest.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=pk)
    )


def _lock(request: AftersalesRequest, allowed: Iterable[str]) -> AftersalesRequest:
    """Re-read the claim under a row lock and check it may take this step."""
    locked = lock_claim(request.pk)
    if locked.status not in allowed:
        raise _error(
            None,
            f"Claim {locked.number} is {locked.get_status_display().lower()}; "
            "this step is not possible now.",
            Code.INVALID_STATUS,
        )
    return locked


def _record(
    request: AftersalesRequest,
    by: Actor,
    event_type: str,
    *,
    from_status: str = "",
    message: str = "",
    parameters: Optional[dict] = None,
) -> AftersalesEvent:
    """Write the audit event and the matching note in Saleor's order timeline."""
    event = AftersalesEvent.objects.create(
        request=request,
        type=event_type,
        actor_type=by.type,
        user=by.user,
        app=by.app,
        from_status=from_status,
        to_status=request.status,
        message=message,
        parameters=parameters or {},
    )
    label = dict(EventType.CHOICES)[event_type].lower()
    note = f"{request.get_type_display()} {request.number} {label} by {by.describe()}"
    if message:
        note += f": {message}"
    # Only staff notes carry a user: Saleor files a customer's as a customer note.
    host.order_timeline_note(request.order, by.staff_user, note)
    outgoing.for_transition(request, event)
    return event


def _move(
    request: AftersalesRequest,
    to_status: str,
    by: Actor,
    event_type: str,
    *,
    message: str = "",
    parameters: Optional[dict] = None,
    update_fields: Tuple[str, ...] = (),
) -> Change:
    """Write the step; ``to_status`` may be the current one for steps that don't
    move the claim (notes, assignment, partial refunds)."""
    from_status = request.status
    request.status = to_status
    request.updated_at = timezone.now()
    clock_fields = sla.track_step(
        request,
        from_status,
        answers=by.is_staff_or_app and event_type not in EventType.STAFF_ONLY,
        now=request.updated_at,
        settings=get_settings,
    )
    request.save(update_fields=["status", "updated_at", *update_fields, *clock_fields])
    event = _record(
        request,
        by,
        event_type,
        from_status=from_status,
        message=message,
        parameters=parameters,
    )
    return Change(request, event)


def _warranty_cover(card, lines: List[ClaimLineInput], by: Actor) -> dict:
    """Whether the shown card covers this repair; an expired or void card still
    opens a (paid) repair and the claim says why."""
    if card is None:
        return {}
    claimed = {line.order_line.pk: line for line in lines}
    line = claimed.get(card.order_line_id)
    if line is None:
        raise _error(
            "warrantyCardCode",
            "This warranty card belongs to another item.",
            Code.WARRANTY_CARD_MISMATCH,
        )
    if (
        card.serial_number
        and line.serial_number
        and card.serial_number != line.serial_number
    ):
        raise _error(
            "warrantyCardCode",
            f"This warranty card is for serial number {card.serial_number}.",
            Code.WARRANTY_CARD_MISMATCH,
        )
    ended_by = card.ended_by(timezone.now(), line.meter_reading)
    if line.serial_number and not card.serial_number and by.type != ActorType.CUSTOMER:
        # The desk records it; a customer's word alone doesn't go on the card.
        warranty.record_serial_number(card, by=by, serial_number=line.serial_number)
    notes = {
        None: f"Covered by warranty card until {card.ends_at:%Y-%m-%d}.",
        WarrantyEndedBy.DATE: f"Warranty ended on {card.ends_at:%Y-%m-%d}: paid repair.",
        WarrantyEndedBy.USAGE: (
            f"Warranty limited to {card.usage_limit} {card.usage_unit}; the meter "
            f"reads {line.meter_reading}: paid repair."
        ),
        WarrantyEndedBy.VOID: "The warranty card is void: paid repair.",
    }
    return {
        "warranty_card": card,
        "under_warranty": ended_by is None,
        "warranty_note": notes[ended_by],
    }


# Creation ---------------------------------------------------------------------------


def _validate_replacement(index, line: ClaimLineInput, settings) -> None:
    replacement = line.replacement_variant
    if replacement is None:
        raise _error(
            "lines",
            f"Line {index + 1}: choose the replacement variant.",
            Code.REQUIRED,
        )
    original = line.order_line.variant
    same_product = (
        original is not None and original.product_id == replacement.product_id
    )
    if not same_product and not settings.exchange_other_products:
        raise _error(
            "lines",
            f"Line {index + 1}: exchanges are for another variant of the same "
            "product.",
            Code.REPLACEMENT_NOT_ALLOWED,
        )


def _validate_claim_lines(
    order,
    type: str,
    lines: List[ClaimLineInput],
    settings: AftersalesSettings,
    may_override: bool = False,
) -> Dict[int, str]:
    """Refuse what can't be claimed; returns the policy exceptions staff opened
    the claim with, by order line pk."""
    if not lines:
        raise _error("lines", "Choose at least one line.", Code.REQUIRED)
    seen = set()
    for index, line in enumerate(lines):
        if line.order_line.order_id != order.pk:
            raise _error(
                "lines",
                f"Line {index + 1} is not a line of this order.",
                Code.LINE_NOT_IN_ORDER,
            )
        if line.order_line.pk in seen:
            raise _error(
                "lines",
                f"Line {index + 1} repeats an order line.",
                Code.DUPLICATED_LINE,
            )
        seen.add(line.order_line.pk)
        if line.quantity < 1:
            raise _error(
                "lines",
                f"Line {index + 1}: quantity must be at least 1.",
                Code.QUANTITY_NOT_POSITIVE,
            )

    now = timezone.now()
    eligibility = line_eligibility([line.order_line for line in lines], settings)
    exceptions: Dict[int, str] = {}
    for index, line in enumerate(lines):
        info = eligibility[line.order_line.pk]
        refusal = info.refusal(type, line.reason, now)
        if refusal in OVERRIDABLE and may_override:
            exceptions[line.order_line.pk] = refusal
        elif refusal:
            raise _refusal_error(index, info, type, line.reason, refusal)
        if type == RequestType.REPAIR:
            # Any delivered unit can be repaired; warranty decides who pays.
            if line.quantity > info.quantity_fulfilled:
                raise _error(
                    "lines",
                    f"Line {index + 1}: only {info.quantity_fulfilled} unit(s) "
                    "were delivered.",
                    Code.QUANTITY_EXCEEDED,
                )
            continue
        if type == RequestType.EXCHANGE:
            _validate_replacement(index, line, settings)
        if line.quantity > info.quantity_available:
            raise _error(
                "lines",
                f"Line {index + 1}: at most {info.quantity_available} "
                "unit(s) can be claimed.",
                Code.QUANTITY_EXCEEDED,
            )
    return exceptions


# Policy refusals staff may open a claim despite; approving it then takes an
# explicit override.
OVERRIDABLE = (Ineligibility.FINAL_SALE, Ineligibility.WINDOW_CLOSED)


def _refusal_error(index: int, info, type: str, reason: str, refusal: str):
    where = f"Line {index + 1}"
    if refusal == Ineligibility.NOT_FULFILLED:
        return _error(
            "lines", f"{where} has not been fulfilled yet.", Code.NOT_FULFILLED
        )
    if refusal == Ineligibility.FINAL_SALE:
        return _error(
            "lines",
            f"{where} was a final sale: it can't be returned or exchanged.",
            Code.FINAL_SALE,
        )
    if refusal == Ineligibility.WINDOW_CLOSED:
        deadline = info.deadline_for(type, reason)
        closed = f" on {deadline:%Y-%m-%d}" if deadline else ""
        return _error(
            "lines",
            f"{where}: the window for this reason closed{closed}.",
            Code.OUTSIDE_WINDOW,
        )
    return _error(
        "lines",
        f"{where}: every unit is already in another claim.",
        Code.QUANTITY_EXCEEDED,
    )


def create_request(
    order,
    *,
    type: str,
    lines: List[ClaimLineInput],
    by: Actor,
    settings: AftersalesSettings,
    customer_note: str = "",
    idempotency_key: str = "",
    warranty_card=None,
) -> AftersalesRequest:
    """Open a claim (return, exchange or repair) on an order's fulfilled lines.

    A repeated call with the same ``idempotency_key`` returns the first claim.
    """
    with transaction.atomic():
        # Serialises claims per order so two of them can't hold the same units.
        order = host.lock_order(order.pk)
        if idempotency_key:
            existing = AftersalesRequest.objects.filter(
                order=order, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return existing
        exceptions = _validate_claim_lines(
            order, type, lines, settings, may_override=by.is_staff_or_app
        )
        warranty_fields = (
            _warranty_cover(warranty_card, lines, by)
            if type == RequestType.REPAIR
            else {}
        )
        unit_prices = paid_unit_prices(order, [line.order_line for line in lines])
        created_at = timezone.now()
        try:
            due = sla.due_times(created_at, settings)
        except ValueError:  # a calendar without open days: no targets
            due = sla.DueTimes(response=None, resolution=None)
        request = AftersalesRequest.objects.create(
            created_at=created_at,
            updated_at=created_at,
            sla_response_due_at=due.response,
            sla_resolution_due_at=due.resolution,
            type=type,
            order=order,
            user_id=order.user_id,
            user_email=order.user_email,
            customer_note=customer_note,
            currency=order.currency,
            idempotency_key=idempotency_key,
            **warranty_fields,
        )
        AftersalesLine.objects.bulk_create(
            [
                AftersalesLine(
                    request=request,
                    order_line=line.order_line,
                    quantity_requested=line.quantity,
                    reason=line.reason,
                    comment=line.comment,
                    unit_price_gross_amount=unit_prices[line.order_line.pk],
                    replacement_variant=line.replacement_variant,
                    serial_number=line.serial_number,
                    meter_reading=line.meter_reading,
                    policy_exception=exceptions.get(line.order_line.pk, ""),
                    created_at=created_at,
                )
                for line in lines
            ]
        )
        _record(
            request,
            by,
            EventType.CREATED,
            message=customer_note,
            parameters={
                "lines": [
                    {
                        "order_line": line.order_line.pk,
                        "quantity": line.quantity,
                        "reason": line.reason,
                    }
                    for line in lines
                ]
            },
        )
    return request


# Review -------------------------------------------------------------------------------

REVIEWABLE = RequestStatus.PENDING
CENT = Decimal("0.01")
MAX_PRICE = Decimal("1000000")  # per quote line and per quote


def request_info(request: AftersalesRequest, *, by: Actor, note: str) -> Change:
    """Ask the customer for more (photos, serial number, ...) before deciding."""
    if not note.strip():
        raise _error("note", "Tell the customer what is needed.", Code.REQUIRED)
    with transaction.atomic():
        request = _lock(request, (RequestStatus.REQUESTED, RequestStatus.APPEALED))
        return _move(
            request,
            RequestStatus.NEEDS_INFO,
            by,
            EventType.INFO_REQUESTED,
            message=note,
        )


def provide_info(request: AftersalesRequest, *, by: Actor, note: str) -> Change:
    """The customer answers; the claim goes back to where it waited for review."""
    if not note.strip():
        raise _error("note", "The answer can't be empty.", Code.REQUIRED)
    with transaction.atomic():
        request = _lock(request, (RequestStatus.NEEDS_INFO,))
        back_to = (
            RequestStatus.APPEALED if request.appealed_at else RequestStatus.REQUESTED
        )
        return _move(request, back_to, by, EventType.INFO_PROVIDED, message=note)


def approve(
    request: AftersalesRequest,
    *,
    by: Actor,
    quantities: Optional[Dict[int, int]] = None,
    note: str = "",
    override_policy: bool = False,
) -> Change:
    """Accept the claim, fully or in part.

    ``quantities`` maps claim line pks to approved units; lines left out are approved
    as requested, 0 declines a line. At least one unit must be approved, and units
    another claim took meanwhile (possible after an appeal) can't be approved twice.
    Lines opened despite the policy need ``override_policy``, which is audited. A
    return worth less than its policy's returnless threshold is approved without
    the goods coming back.
    """
    quantities = quantities or {}
    with transaction.atomic():
        request = _lock(request, REVIEWABLE)
        lines = list(request.lines.select_related("order_line"))
        by_pk = {line.pk: line for line in lines}
        for pk, quantity in quantities.items():
            line = by_pk.get(pk)
            if line is None:
                raise _error(
                    "lines",
                    "A line is not part of this claim.",
                    Code.LINE_NOT_IN_REQUEST,
                )
            if quantity < 0 or quantity > line.quantity_requested:
                raise _error(
                    "lines",
                    f"Approve between 0 and {line.quantity_requested} unit(s) of "
                    f"{line.order_line}.",
                    Code.QUANTITY_EXCEEDED if quantity > 0 else Code.INVALID,
                )
        for line in lines:
            line.quantity_approved = quantities.get(line.pk, line.quantity_requested)
        if not any(line.quantity_approved for line in lines):
            raise _error(
                "lines",
                "Approve at least one unit, or reject the claim.",
                Code.NOTHING_APPROVED,
            )
        if request.type in (RequestType.RETURN, RequestType.EXCHANGE):
            host.lock_order(request.order_id)
            claimed = claimed_quantities(
                [line.order_line_id for line in lines], exclude_request_pk=request.pk
            )
            for line in lines:
                left = line.order_line.quantity_fulfilled - claimed.get(
                    line.order_line_id, 0
                )
                if line.quantity_approved > left:
                    raise _error(
                        "lines",
                        f"Only {left} unit(s) of {line.order_line} are still "
                        "claimable.",
                        Code.QUANTITY_EXCEEDED,
                    )
        if request.type == RequestType.EXCHANGE:
            _check_replacements_in_stock(lines)
        exceptions = {
            str(line.pk): line.policy_exception
            for line in lines
            if line.policy_exception and line.quantity_approved
        }
        if exceptions and not override_policy:
            raise _error(
                "overridePolicy",
                "This claim is outside the return policy ("
                + ", ".join(sorted(set(exceptions.values()))).replace("_", " ")
                + "); approve it with overridePolicy to make an exception.",
                Code.POLICY_OVERRIDE_REQUIRED,
            )
        AftersalesLine.objects.bulk_update(lines, ["quantity_approved"])
        if exceptions:
            _record(
                request,
                by,
                EventType.POLICY_OVERRIDDEN,
                from_status=request.status,
                message=note,
                parameters={"lines": exceptions},
            )
        request.approved_at = timezone.now()
        request.reject_reason = ""
        request.returnless = _is_returnless(request, lines)
        return _move(
            request,
            RequestStatus.APPROVED,
            by,
            EventType.APPROVED,
            message=note,
            parameters={
                "quantities": {str(l.pk): l.quantity_approved for l in lines},
                "returnless": request.returnless,
            },
            update_fields=("approved_at", "reject_reason", "returnless"),
        )


def _is_returnless(request: AftersalesRequest, lines: List[AftersalesLine]) -> bool:
    """A return worth less than the lowest threshold of its approved lines'
    policies; never one approved against the policy."""
    lines = [line for line in lines if line.quantity_approved]
    if request.type != RequestType.RETURN or any(l.policy_exception for l in lines):
        return False
    policies = policies_by_line([line.order_line for line in lines], get_settings())
    threshold = min(
        policies[line.order_line_id].returnless_refund_below for line in lines
    )
    value = sum(line.unit_price_gross_amount * line.quantity_approved for line in lines)
    return value < threshold


def _check_replacements_in_stock(lines: List[AftersalesLine]) -> None:
    wanted: Dict[int, int] = {}
    for line in lines:
        if line.quantity_approved and line.replacement_variant_id:
            variant = line.replacement_variant_id
            wanted[variant] = wanted.get(variant, 0) + line.quantity_approved
    available = host.available_stock(wanted)
    for variant_pk, quantity in wanted.items():
        if available.get(variant_pk, 0) < quantity:
            raise _error(
                "lines",
                f"Only {available.get(variant_pk, 0)} replacement unit(s) in stock.",
                Code.OUT_OF_STOCK,
            )


def reject(
    request: AftersalesRequest, *, by: Actor, reason: str, note: str = ""
) -> Change:
    with transaction.atomic():
        request = _lock(request, REVIEWABLE)
        request.reject_reason = reason
        return _move(
            request,
            RequestStatus.REJECTED,
            by,
            EventType.REJECTED,
            message=note,
            parameters={"reason": reason},
            update_fields=("reject_reason",),
        )


def appeal(request: AftersalesRequest, *, by: Actor, note: str) -> Change:
    """The customer contests a rejection, once."""
    if not note.strip():
        raise _error("note", "Say why the decision should change.", Code.REQUIRED)
    with transaction.atomic():
        request = _lock(request, (RequestStatus.REJECTED,))
        if request.appealed_at is not None:
            raise _error(
                None, "This claim has already been appealed.", Code.ALREADY_APPEALED
            )
        request.appealed_at = timezone.now()
        reopened = sla.reopen(request, request.appealed_at, get_settings())
        return _move(
            request,
            RequestStatus.APPEALED,
            by,
            EventType.APPEALED,
            message=note,
            update_fields=("appealed_at", *reopened),
        )


def cancel(request: AftersalesRequest, *, by: Actor) -> Change:
    """The customer withdraws the claim; possible until goods arrive or money moves."""
    with transaction.atomic():
        request = _lock(request, (*RequestStatus.PENDING, RequestStatus.APPROVED))
        if request.refunds.exists() or request.replacement_order_id:
            raise _error(
                None,
                "Money or a replacement has already gone out for this claim.",
                Code.INVALID_STATUS,
            )
        return _move(request, RequestStatus.CANCELLED, by, EventType.CANCELLED)


def _record_serial_at_reception(request, lines, by: Actor) -> None:
    """The first repair is where a card learns its unit's serial number."""
    card = request.warranty_card
    line = next((l for l in lines if l.order_line_id == card.order_line_id), None)
    if line is not None and line.serial_number and not card.serial_number:
        warranty.record_serial_number(card, by=by, serial_number=line.serial_number)


def _refuse_while_refund_pending(request: AftersalesRequest) -> None:
    # The refund's outcome must find the claim as it left it.
    if request.refunds.filter(status=RefundStatus.PENDING).exists():
        raise _error(
            None, "A refund for this claim is in progress.", Code.REFUND_IN_PROGRESS
        )


# Goods and money ---------------------------------------------------------------------


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
        request = _lock(
            request,
            (RequestStatus.APPROVED, RequestStatus.RECEIVED, RequestStatus.RESOLVED),
        )
        _refuse_while_refund_pending(request)
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
                variant_pk = line.order_line.variant_id
                if variant_pk:  # a deleted variant has no stock to go back to
                    restock[variant_pk] = restock.get(variant_pk, 0) + item.quantity
        if not is_repair:
            came_back: Dict[int, int] = {}
            for item in lines:
                if item.disposition != Disposition.MISSING:
                    key = item.line.order_line_id
                    came_back[key] = came_back.get(key, 0) + item.quantity
            warranty.void_returned_units(
                came_back, by=by, reason=f"Returned with {request.number}"
            )
        if restock:
            warehouse = warehouse or host.default_return_warehouse(
                line.order_line_id for line in claim_lines.values()
            )
            if warehouse is None:
                raise _error(
                    "warehouse", "No warehouse to restock into.", Code.NO_WAREHOUSE
                )
            host.restock(restock, warehouse, order=request.order, user=by.staff_user)
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
        return _move(
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
        return _move(
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
        request = _lock(request, dict(RequestStatus.CHOICES))
        return _move(
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
        request = _lock(request, dict(RequestStatus.CHOICES))
        return _move(
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
        request = _lock(
            request,
            (RequestStatus.RESOLVED, RequestStatus.REJECTED, RequestStatus.RECEIVED),
        )
        _refuse_while_refund_pending(request)
        request.closed_at = timezone.now()
        return _move(
            request,
            RequestStatus.CLOSED,
            by,
            EventType.CLOSED,
            message=note,
            update_fields=("closed_at",),
        )


# Exchanges and repairs ------------------------------------------------------------


def fulfill_exchange(
    request: AftersalesRequest, *, by: Actor, settings: AftersalesSettings
) -> Change:
    """Send the replacement as a real Saleor order with its stock allocated.

    The customer's payment for the returned units is a discount on it: a dearer
    replacement leaves the difference due on that order (never charged here); a
    cheaper one leaves ``extra["difference"]`` to refund. Called again after a
    failed difference refund, it keeps the order it made.
    """
    allowed = (RequestStatus.RECEIVED,)
    if settings.ship_exchange_before_receipt:
        allowed += (RequestStatus.APPROVED,)
    with transaction.atomic():
        request = _lock(request, allowed)
        if request.type != RequestType.EXCHANGE:
            raise _error(None, "Only exchanges send replacements.", Code.INVALID_STATUS)
        _refuse_while_refund_pending(request)
        lines = list(request.lines.select_related("replacement_variant__product"))
        if request.status == RequestStatus.RECEIVED and any(
            line.quantity_awaiting for line in lines
        ):
            raise _error(
                None,
                "Units are still awaited: receive them or declare them missing.",
                Code.INVALID_STATUS,
            )
        # Units that came back (or, shipping first, are expected), not missing ones.
        units = {
            line.pk: (
                line.quantity_received
                if request.status == RequestStatus.RECEIVED
                else line.quantity_approved - line.quantity_missing
            )
            for line in lines
        }
        lines = [line for line in lines if units[line.pk]]
        if not lines:
            raise _error(None, "Nothing came back to replace.", Code.NOTHING_APPROVED)
        credit = sum(
            (line.unit_price_gross_amount * units[line.pk] for line in lines),
            Decimal("0"),
        )
        order = request.replacement_order
        created = order is None
        if created:
            order = _replacement_order(request, lines, units, credit)
            request.replacement_order = order
        difference = max(Decimal("0"), credit - host.order_lines_subtotal(order))
        settled = difference == 0
        if settled:
            request.resolution = Resolution.REPLACEMENT
            request.resolved_at = timezone.now()
        change = _move(
            request,
            RequestStatus.RESOLVED if settled else request.status,
            by,
            EventType.EXCHANGE_FULFILLED,
            message=f"Replacement order #{order.pk}",
            parameters={
                "order": order.pk,
                "credit": str(credit),
                "difference_to_refund": str(difference),
                "created": created,
            },
            update_fields=("replacement_order", "resolution", "resolved_at"),
        )
        change.extra["difference"] = difference
        return change


def _replacement_order(request, lines, units, credit):
    new_lines = [
        host.NewOrderLine(
            product_name=line.replacement_variant.product.name,
            variant_name=line.replacement_variant.name,
            sku=line.replacement_variant.sku,
            quantity=units[line.pk],
            unit_price=host.variant_unit_price(line.replacement_variant),
            variant=line.replacement_variant,
        )
        for line in lines
    ]
    try:
        return host.create_follow_up_order(
            request.order,
            new_lines,
            discount=credit,
            discount_name=f"Exchange {request.number}",
            note=f"Replacement for {request.number}",
        )
    except host.InsufficientStock:
        raise _error(None, "A replacement is no longer in stock.", Code.OUT_OF_STOCK)


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
        request = _lock(request, (RequestStatus.RECEIVED,))
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
        return _move(
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
        request = _lock(request, (RequestStatus.QUOTED,))
        quote = RepairQuote.objects.select_for_update().get(request=request)
        quote.accepted = accept
        quote.responded_at = timezone.now()
        if not accept:
            quote.save(update_fields=["accepted", "responded_at"])
            request.resolved_at = timezone.now()
            return _move(
                request,
                RequestStatus.RESOLVED,
                by,
                EventType.QUOTE_DECLINED,
                message="The item goes back unrepaired.",
                update_fields=("resolved_at",),
            )
        if quote.total_amount > 0:
            quote.order = host.create_follow_up_order(
                request.order,
                [
                    host.NewOrderLine(
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
        quote.save(update_fields=["accepted", "responded_at", "order"])
        return _move(
            request,
            RequestStatus.IN_REPAIR,
            by,
            EventType.QUOTE_ACCEPTED,
            parameters={"order": quote.order_id},
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
        request = _lock(request, (RequestStatus.IN_REPAIR,))
        if status == RequestStatus.IN_REPAIR:
            return _move(
                request, request.status, by, EventType.REPAIR_UPDATED, message=note
            )
        if hand_back_method not in dict(HandBackMethod.CHOICES):
            raise _error("handBack", "Say how the item goes back.", Code.REQUIRED)
        if hand_back_method == HandBackMethod.SHIPMENT and not tracking_number:
            raise _error(
                "trackingNumber", "Give the parcel's tracking number.", Code.REQUIRED
            )
        quote = (
            RepairQuote.objects.filter(request=request).select_related("order").first()
        )
        unpaid = (
            quote is not None and quote.order and not host.is_fully_paid(quote.order)
        )
        if unpaid and not settings.repairs_paid_on_collection:
            raise _error(
                None,
                f"Order #{quote.order_id} for the repair is not paid yet.",
                Code.QUOTE_NOT_PAID,
            )
        request.resolution = Resolution.REPAIR
        request.resolved_at = timezone.now()
        request.hand_back_method = hand_back_method
        request.hand_back_tracking_number = tracking_number
        return _move(
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


def rate(
    request: AftersalesRequest, *, by: Actor, rating: int, comment: str = ""
) -> Change:
    """The customer's verdict on how the claim was handled, once, 1 to 5."""
    if not 1 <= rating <= 5:
        raise _error("rating", "Rate from 1 to 5.", Code.INVALID)
    with transaction.atomic():
        request = _lock(request, (RequestStatus.RESOLVED, RequestStatus.CLOSED))
        if request.rating is not None:
            raise _error(None, "This claim has already been rated.", Code.ALREADY_RATED)
        request.rating = rating
        request.rating_comment = comment
        return _move(
            request,
            request.status,
            by,
            EventType.RATED,
            message=comment,
            parameters={"rating": rating},
            update_fields=("rating", "rating_comment"),
        )


# Desk work (no status change) ---------------------------------------------------------


def assign(request: AftersalesRequest, *, by: Actor, staff_user) -> Change:
    if staff_user is not None and not staff_user.is_staff:
        raise _error(
            "staffUser", "Claims can only be assigned to staff.", Code.NOT_STAFF
        )
    with transaction.atomic():
        request = _lock(request, dict(RequestStatus.CHOICES))
        request.assignee = staff_user
        return _move(
            request,
            request.status,
            by,
            EventType.ASSIGNED,
            message=staff_user.email if staff_user else "unassigned",
            parameters={"assignee": staff_user.pk if staff_user else None},
            update_fields=("assignee",),
        )


SLA_TARGETS = {
    "response": ("sla_response_due_at", "response_breached_at", "first answer"),
    "resolution": ("sla_resolution_due_at", "resolution_breached_at", "resolution"),
}


def record_sla_breach(
    request: AftersalesRequest, *, target: str, escalate_to=None
) -> Optional[Change]:
    """A service level was missed: say so once per target, and hand the claim to
    the escalation contact. None when it no longer applies (answered, finished,
    recorded by another sweeper)."""
    due_field, breached_field, label = SLA_TARGETS[target]
    with transaction.atomic():
        request = _lock(request, dict(RequestStatus.CHOICES))
        due = getattr(request, due_field)
        now = timezone.now()
        if due is None or due >= now or getattr(request, breached_field) is not None:
            return None
        answered = request.first_response_at
        # A late first answer given between two sweeps still counts, once.
        answered_late = target == "response" and answered is not None and answered > due
        if target == "response" and answered is not None and not answered_late:
            return None
        if request.status in RequestStatus.FINISHED and not answered_late:
            return None
        if target == "resolution" and request.sla_paused_at is not None:
            return None  # waiting on the customer
        setattr(request, breached_field, now)
        fields: Tuple[str, ...] = (breached_field,)
        message = f"{label} was due {due:%Y-%m-%d %H:%M} UTC"
        if answered_late:
            message += f"; answered {answered:%Y-%m-%d %H:%M} UTC"
            escalate_to = None
        if escalate_to is not None and request.assignee_id != escalate_to.pk:
            request.assignee = escalate_to
            fields += ("assignee",)
            message += f"; escalated to {escalate_to.email}"
        return _move(
            request,
            request.status,
            Actor.system(),
            EventType.SLA_BREACHED,
            message=message,
            parameters={
                "target": target,
                "due_at": due,
                "escalated_to": escalate_to.pk if escalate_to else None,
            },
            update_fields=fields,
        )


def add_note(request: AftersalesRequest, *, by: Actor, message: str) -> Change:
    """An internal note for the shop's staff; customers never see it."""
    if not message.strip():
        raise _error("message", "The note can't be empty.", Code.REQUIRED)
    with transaction.atomic():
        request = _lock(request, dict(RequestStatus.CHOICES))
        return _move(request, request.status, by, EventType.NOTE_ADDED, message=message)
