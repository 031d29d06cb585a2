"""Desk work that moves no status: assignment, notes, ratings, missed service
levels.
"""

from typing import Optional, Tuple

from django.db import transaction
from django.utils import timezone

from ..port import host
from ..actors import Actor
from ..enums import Action, EventType, RequestStatus
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesRequest
from .actions import starts
from .steps import Change, lock, lock_claim, move


def rate(
    request: AftersalesRequest, *, by: Actor, rating: int, comment: str = ""
) -> Change:
    """The customer's verdict on how the claim was handled, once, 1 to 5."""
    if not 1 <= rating <= 5:
        raise _error("rating", "Rate from 1 to 5.", Code.INVALID)
    with transaction.atomic():
        request = lock(request, starts(Action.RATE))
        if request.rating is not None:
            raise _error(None, "This claim has already been rated.", Code.ALREADY_RATED)
        request.rating = rating
        request.rating_comment = comment
        return move(
            request,
            request.status,
            by,
            EventType.RATED,
            message=comment,
            parameters={"rating": rating},
            update_fields=("rating", "rating_comment"),
        )


def assign(request: AftersalesRequest, *, by: Actor, staff_user) -> Change:
    if staff_user is not None and not staff_user.is_staff:
        raise _error(
            "staff_user", "Claims can only be assigned to staff.", Code.NOT_STAFF
        )
    with transaction.atomic():
        request = lock(request, starts(Action.ASSIGN))
        request.assignee_ref = host.user_ref(staff_user)
        return move(
            request,
            request.status,
            by,
            EventType.ASSIGNED,
            message=staff_user.email if staff_user else "unassigned",
            parameters={"assignee": request.assignee_ref or None},
            update_fields=("assignee_ref",),
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
        request = lock_claim(request.pk)
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
        if escalate_to is not None and request.assignee_ref != host.user_ref(
            escalate_to
        ):
            request.assignee_ref = host.user_ref(escalate_to)
            fields += ("assignee_ref",)
            message += f"; escalated to {escalate_to.email}"
        return move(
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
        request = lock(request, starts(Action.ADD_NOTE))
        return move(request, request.status, by, EventType.NOTE_ADDED, message=message)
