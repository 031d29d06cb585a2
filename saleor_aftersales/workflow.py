"""The claim workflow: one function per transition, the only writer of status.

Each transition locks the claim row, checks the statuses it may start from, writes
the new state and one immutable ``AftersalesEvent`` and mirrors the step into the
Saleor order timeline, all in one transaction. Query counts do not depend on the
number of lines (bulk writes only).
"""

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from django.db import transaction
from django.utils import timezone

from . import host
from .enums import (
    ActorType,
    Disposition,
    EventType,
    RefundStatus,
    RequestStatus,
    RequestType,
    Resolution,
)
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import AftersalesEvent, AftersalesLine, AftersalesRequest
from .plugin import AftersalesSettings
from .policies import claimed_quantities, line_eligibility, paid_unit_prices


@dataclass(frozen=True)
class Actor:
    """Who performs a step; recorded on every event."""

    type: str
    user: Optional["host.User"] = None
    app: Optional["host.App"] = None

    @classmethod
    def customer(cls, user=None) -> "Actor":
        return cls(ActorType.CUSTOMER, user=user)

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls(ActorType.STAFF, user=user)

    @classmethod
    def for_app(cls, app) -> "Actor":
        return cls(ActorType.APP, app=app)

    @classmethod
    def system(cls) -> "Actor":
        return cls(ActorType.SYSTEM)

    def describe(self) -> str:
        if self.type == ActorType.STAFF and self.user is not None:
            return self.user.email
        if self.type == ActorType.APP and self.app is not None:
            return f"app {self.app.name}"
        return self.type


@dataclass
class ClaimLineInput:
    order_line: "host.OrderLine"
    quantity: int
    reason: str
    comment: str = ""


@dataclass
class ReceivedLineInput:
    line: AftersalesLine
    quantity: int
    disposition: str = Disposition.RESTOCK


@dataclass
class Change:
    """What a transition wrote, for callers that notify others afterwards."""

    request: AftersalesRequest
    event: AftersalesEvent
    extra: Dict = field(default_factory=dict)


def _lock(request: AftersalesRequest, allowed: Iterable[str]) -> AftersalesRequest:
    """Re-read the claim under a row lock and check it may take this step."""
    locked = (
        AftersalesRequest.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=request.pk)
    )
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
    staff_user = by.user if by.type == ActorType.STAFF else None
    host.order_timeline_note(request.order, staff_user, note)
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
    request.save(update_fields=["status", "updated_at", *update_fields])
    event = _record(
        request,
        by,
        event_type,
        from_status=from_status,
        message=message,
        parameters=parameters,
    )
    return Change(request, event)


# Creation ---------------------------------------------------------------------------


def _validate_claim_lines(
    order, lines: List[ClaimLineInput], settings: AftersalesSettings
) -> None:
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
    for index, line in enumerate(lines):
        info = eligibility[line.order_line.pk]
        if info.quantity_fulfilled < 1:
            raise _error(
                "lines",
                f"Line {index + 1} has not been fulfilled yet.",
                Code.NOT_FULFILLED,
            )
        if not info.is_open_for(line.reason, now):
            raise _error(
                "lines",
                f"Line {index + 1}: the window for this reason closed on "
                f"{info.deadline_for(line.reason):%Y-%m-%d}.",
                Code.OUTSIDE_WINDOW,
            )
        if line.quantity > info.quantity_available:
            raise _error(
                "lines",
                f"Line {index + 1}: at most {info.quantity_available} "
                "unit(s) can be claimed.",
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
) -> AftersalesRequest:
    """Open a claim on an order's fulfilled lines.

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
        _validate_claim_lines(order, lines, settings)
        unit_prices = paid_unit_prices(order, [line.order_line for line in lines])
        request = AftersalesRequest.objects.create(
            type=type,
            order=order,
            user_id=order.user_id,
            user_email=order.user_email,
            customer_note=customer_note,
            currency=order.currency,
            idempotency_key=idempotency_key,
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
) -> Change:
    """Accept the claim, fully or in part.

    ``quantities`` maps claim line pks to approved units; lines left out are approved
    as requested, 0 declines a line. At least one unit must be approved, and units
    another claim took meanwhile (possible after an appeal) can't be approved twice.
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
        AftersalesLine.objects.bulk_update(lines, ["quantity_approved"])
        request.approved_at = timezone.now()
        request.reject_reason = ""
        return _move(
            request,
            RequestStatus.APPROVED,
            by,
            EventType.APPROVED,
            message=note,
            parameters={"quantities": {str(l.pk): l.quantity_approved for l in lines}},
            update_fields=("approved_at", "reject_reason"),
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
        return _move(
            request,
            RequestStatus.APPEALED,
            by,
            EventType.APPEALED,
            message=note,
            update_fields=("appealed_at",),
        )


def cancel(request: AftersalesRequest, *, by: Actor) -> Change:
    """The customer withdraws the claim; possible until goods arrive or money moves."""
    with transaction.atomic():
        request = _lock(request, (*RequestStatus.PENDING, RequestStatus.APPROVED))
        if request.refunds.exists():
            raise _error(
                None,
                "Money has already been refunded for this claim.",
                Code.INVALID_STATUS,
            )
        return _move(request, RequestStatus.CANCELLED, by, EventType.CANCELLED)


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
        for item in lines:
            line = item.line
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
        if restock:
            warehouse = warehouse or host.default_return_warehouse(
                line.order_line_id for line in claim_lines.values()
            )
            if warehouse is None:
                raise _error(
                    "warehouse", "No warehouse to restock into.", Code.NO_WAREHOUSE
                )
            host.restock(restock, warehouse)
        AftersalesLine.objects.bulk_update(
            [item.line for item in lines],
            [
                "disposition",
                "quantity_received",
                "quantity_restocked",
                "quantity_missing",
            ],
        )
        request.received_at = timezone.now()
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
            },
            update_fields=("received_at",),
        )


def record_refund(request: AftersalesRequest, refund, *, by: Actor) -> Change:
    """A refund went through: settle its units, resolve when all are settled."""
    with transaction.atomic():
        request = _lock(request, (RequestStatus.APPROVED, RequestStatus.RECEIVED))
        lines = list(request.lines.all())
        for line in lines:
            line.quantity_refunded += int(refund.line_quantities.get(str(line.pk), 0))
        AftersalesLine.objects.bulk_update(lines, ["quantity_refunded"])
        settled = all(line.quantity_settled >= line.quantity_approved for line in lines)
        if settled:
            request.resolution = Resolution.REFUND
            request.resolved_at = timezone.now()
        return _move(
            request,
            RequestStatus.RESOLVED if settled else request.status,
            by,
            EventType.REFUNDED,
            message=f"{refund.amount} {refund.currency} refunded",
            parameters={"refund": refund.pk, "amount": str(refund.amount)},
            update_fields=("resolution", "resolved_at"),
        )


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


def add_note(request: AftersalesRequest, *, by: Actor, message: str) -> Change:
    """An internal note for the shop's staff; customers never see it."""
    if not message.strip():
        raise _error("message", "The note can't be empty.", Code.REQUIRED)
    with transaction.atomic():
        request = _lock(request, dict(RequestStatus.CHOICES))
        return _move(request, request.status, by, EventType.NOTE_ADDED, message=message)
