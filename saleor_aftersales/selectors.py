"""Read paths: every query set the API returns is built here, prefetches included,
so the number of SQL queries doesn't grow with rows or lines."""

from datetime import datetime, timedelta
from typing import Iterable, Optional

from django.db.models import F, Prefetch, Q, QuerySet

from .enums import EventType, RequestStatus
from .models import (
    AftersalesEvent,
    AftersalesLine,
    AftersalesPhoto,
    AftersalesRefund,
    AftersalesRequest,
    CustomerEmail,
    WarrantyCard,
    parse_number,
)

PREFETCHED = {
    "lines": "api_lines",
    "events": "api_events",
    "refunds": "api_refunds",
    "photos": "api_photos",
    "emails": "api_emails",
}


def related(request: AftersalesRequest, name: str) -> list:
    """A claim's lines, events or refunds: prefetched by requests_for_api, or
    read now for a claim that came another way."""
    rows = getattr(request, PREFETCHED[name], None)
    return rows if rows is not None else list(getattr(request, name).all())


RELATIONS = frozenset(PREFETCHED)


def requests_for_api(relations: Iterable[str] = RELATIONS) -> QuerySet:
    """Claims with what the API shows of them: joined rows always, and the
    ``relations`` asked for (some of ``PREFETCHED``) prefetched into lists, one
    query each for a whole page; a relation left out costs nothing."""
    relations = set(relations)
    prefetches = [
        # Prefetched into lists (to_attr): Django would otherwise build a related
        # queryset per claim and relation, a third of a page's time.
        Prefetch(
            name,
            queryset=RELATED_ROWS[name](),
            to_attr=PREFETCHED[name],
        )
        for name in PREFETCHED
        if name in relations
    ]
    return AftersalesRequest.objects.select_related(
        "order",
        "quote__order",
        "warranty_card__order",
        "warranty_card__order_line",
        "replacement_order",
    ).prefetch_related(*prefetches, "warranty_card__events", "quote__lines")


RELATED_ROWS = {
    "lines": lambda: AftersalesLine.objects.select_related("order_line"),
    "events": lambda: AftersalesEvent.objects.all(),
    "refunds": lambda: AftersalesRefund.objects.all(),
    "photos": lambda: AftersalesPhoto.objects.all(),
    "emails": lambda: CustomerEmail.objects.prefetch_related("attempt_log"),
}


def requests_of_customer(
    customer_ref: str, relations: Iterable[str] = RELATIONS
) -> QuerySet:
    """The claims on orders of one account (the host's user id)."""
    return requests_for_api(relations).filter(customer_ref=customer_ref)


def search_requests(qs: QuerySet, text: str) -> QuerySet:
    """By claim number, customer e-mail or order number."""
    text = (text or "").strip()
    if not text:
        return qs
    condition = Q(user_email__icontains=text)
    number = parse_number(text)
    if number is not None:
        condition |= Q(pk=number) | Q(order__number=str(number))
    return qs.filter(condition)


def warranty_cards() -> QuerySet:
    return WarrantyCard.objects.select_related("order", "order_line").prefetch_related(
        "events"
    )


def warranty_cards_by_line(order) -> dict:
    """The order's cards grouped by order line pk (one query)."""
    grouped: dict = {}
    cards = (
        WarrantyCard.objects.filter(order=order)
        .select_related("order", "order_line")
        .prefetch_related("events")
    )
    for card in cards:
        grouped.setdefault(card.order_line_id, []).append(card)
    return grouped


def service_history(serial_number: str) -> QuerySet:
    """Every claim about one unit, oldest first: by the serial on a claim line or
    on the warranty card shown."""
    serial_number = serial_number.strip().upper()
    return (
        requests_for_api()
        .filter(
            Q(lines__serial_number=serial_number)
            | Q(warranty_card__serial_number=serial_number)
        )
        .distinct()
        .order_by("created_at", "pk")
    )


def overdue(now) -> Q:
    """Claims the desk still owes something and whose first answer or resolution
    is late."""
    return ~Q(status__in=RequestStatus.FINISHED) & (
        Q(sla_resolution_due_at__lt=now, sla_paused_at__isnull=True)
        | Q(first_response_at__isnull=True, sla_response_due_at__lt=now)
    )


def sla_breaches(now, limit: int = 500):
    """(claim, target) pairs whose breach has not been recorded yet, oldest due
    first; the sweeper rechecks each under its lock."""
    open_claims = ~Q(status__in=RequestStatus.FINISHED)
    late_answers = (
        AftersalesRequest.objects.filter(
            response_breached_at__isnull=True, sla_response_due_at__lt=now
        )
        .filter(
            (Q(first_response_at__isnull=True) & open_claims)
            | Q(first_response_at__gt=F("sla_response_due_at"))
        )
        .order_by("sla_response_due_at", "pk")[:limit]
    )
    late_resolutions = AftersalesRequest.objects.filter(
        open_claims,
        resolution_breached_at__isnull=True,
        sla_resolution_due_at__lt=now,
        sla_paused_at__isnull=True,
    ).order_by("sla_resolution_due_at", "pk")[:limit]
    return [(claim, "response") for claim in late_answers] + [
        (claim, "resolution") for claim in late_resolutions
    ]


def appeal_deadline(request: AftersalesRequest, settings) -> Optional[datetime]:
    """Until when the claim's last rejection may be appealed (None: no limit)."""
    if not settings.appeal_days:
        return None
    rejected_at = (
        request.events.filter(type=EventType.REJECTED)
        .order_by("-pk")
        .values_list("created_at", flat=True)
        .first()
    )
    if rejected_at is None:
        return None
    return rejected_at + timedelta(days=settings.appeal_days)
