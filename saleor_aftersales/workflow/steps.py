"""How a step is taken: the claim locked, the statuses it may start from
checked, the new state and one immutable event written, the step mirrored into
Saleor's order timeline, the webhook outbox and the customer's e-mail, all in one
transaction.
"""

from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Tuple

from django.utils import timezone

from .. import rollups, sla
from ..port import host
from ..actors import Actor
from ..enums import Disposition, EventType, RefundStatus
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesEvent, AftersalesLine, AftersalesRequest
from ..configuration import get_settings
from ..emails import outbox as customer_emails
from ..webhooks import outgoing


@dataclass
class ClaimLineInput:
    order_line: str  # the host's id of the order line
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
    """The claim under a row lock, whatever its status; it remembers the state
    the step starts from, for the analytics rollups."""
    claim = (
        AftersalesRequest.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=pk)
    )
    rollups.snapshot(claim)
    return claim


def lock(request: AftersalesRequest, allowed: Iterable[str]) -> AftersalesRequest:
    """Re-read the claim under a row lock and check it may take this step:
    ``allowed`` is the step's row of ``actions.STARTS`` (``starts(Action.X)``)."""
    locked = lock_claim(request.pk)
    if locked.status not in allowed:
        raise _error(
            None,
            f"Claim {locked.number} is {locked.get_status_display().lower()}; "
            "this step is not possible now.",
            Code.INVALID_STATUS,
        )
    return locked


def record(
    request: AftersalesRequest,
    by: Actor,
    event_type: str,
    *,
    from_status: str = "",
    message: str = "",
    parameters: Optional[dict] = None,
    lines: Optional[List[AftersalesLine]] = None,
) -> AftersalesEvent:
    """Write the audit event and the matching note in Saleor's order timeline,
    and add the step's change to the analytics rollups (``lines``: a new claim's)."""
    rollups.claim_changed(request, lines)
    event = AftersalesEvent.objects.create(
        request=request,
        type=event_type,
        actor_type=by.type,
        user_ref=by.user_ref,
        app_ref=by.app_ref,
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
    host.order_timeline_note(
        request.order.host_id, by.staff_user, note, request.order.customer_ref
    )
    outgoing.for_transition(request, event)
    customer_emails.for_step(request, event)
    return event


def move(
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
    event = record(
        request,
        by,
        event_type,
        from_status=from_status,
        message=message,
        parameters=parameters,
    )
    return Change(request, event)


def refuse_while_refund_pending(request: AftersalesRequest) -> None:
    # The refund's outcome must find the claim as it left it.
    if request.refunds.filter(status=RefundStatus.PENDING).exists():
        raise _error(
            None, "A refund for this claim is in progress.", Code.REFUND_IN_PROGRESS
        )
