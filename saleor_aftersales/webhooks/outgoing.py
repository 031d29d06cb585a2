"""Signed webhooks out, through an outbox.

A transition writes one ``WebhookDelivery`` per interested subscription in its own
transaction; after commit a Celery task posts it. Failures retry with exponential
backoff; after the configured number of attempts the delivery is FAILED (the dead
letter) until staff redeliver it. Delivery is at least once: receivers dedupe on the
event id.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from datetime import timedelta
from typing import Callable, Iterable, List, Optional
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .. import dispatch
from ..port import host
from ..enums import EventType, RequestStatus
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

REQUEST_CREATED = "aftersales.request.created"
REQUEST_APPROVED = "aftersales.request.approved"
REQUEST_REJECTED = "aftersales.request.rejected"
REQUEST_RECEIVED = "aftersales.request.received"
REQUEST_REFUNDED = "aftersales.request.refunded"
REQUEST_RESOLVED = "aftersales.request.resolved"
REQUEST_CLOSED = "aftersales.request.closed"
REQUEST_SLA_BREACHED = "aftersales.request.sla_breached"
REFUND_FAILED = "aftersales.refund.failed"
WARRANTY_CARD_ISSUED = "warranty.card.issued"

EVENT_TYPES = [
    REQUEST_CREATED,
    REQUEST_APPROVED,
    REQUEST_REJECTED,
    REQUEST_RECEIVED,
    REQUEST_REFUNDED,
    REQUEST_RESOLVED,
    REQUEST_CLOSED,
    REQUEST_SLA_BREACHED,
    REFUND_FAILED,
    WARRANTY_CARD_ISSUED,
]

# Audit events that other systems hear about.
_FOR_AUDIT_EVENT = {
    EventType.CREATED: REQUEST_CREATED,
    EventType.APPROVED: REQUEST_APPROVED,
    EventType.REJECTED: REQUEST_REJECTED,
    EventType.RECEIVED: REQUEST_RECEIVED,
    EventType.REFUNDED: REQUEST_REFUNDED,
    EventType.REFUND_FAILED: REFUND_FAILED,
    EventType.CLOSED: REQUEST_CLOSED,
    EventType.SLA_BREACHED: REQUEST_SLA_BREACHED,
}


def max_attempts() -> int:
    return getattr(settings, "AFTERSALES_WEBHOOK_MAX_ATTEMPTS", 6)


def backoff_seconds(attempts: int) -> float:
    base = getattr(settings, "AFTERSALES_WEBHOOK_BACKOFF_SECONDS", 30)
    return base * 2 ** (attempts - 1)


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request_payload(request, event) -> dict:
    lines = request.lines.select_related("order_line")
    return {
        "request": {
            "number": request.number,
            "type": request.type.upper(),
            "status": request.status.upper(),
            # The shop's own ids, as text on every host (Saleor 2.10: the pk).
            "order": request.order.host_id,
            "order_number": request.order.number,
            "customer_email": request.user_email,
            "resolution": request.resolution.upper() or None,
            "lines": [
                {
                    "order_line": line.order_line.host_id,
                    "quantity": line.quantity_requested,
                    "quantity_approved": line.quantity_approved,
                    "quantity_received": line.quantity_received,
                    "quantity_refunded": line.quantity_refunded,
                    "reason": line.reason.upper(),
                    "disposition": line.disposition.upper() or None,
                }
                for line in lines
            ],
        },
        "step": {
            "type": event.type.upper(),
            "from": event.from_status.upper() or None,
            "to": event.to_status.upper() or None,
            "actor": event.actor_type.upper(),
            "at": event.created_at,
            "parameters": event.parameters,
        },
    }


def enqueue(
    event_types: Iterable[str], payloads: Callable[[], List[dict]]
) -> List[WebhookDelivery]:
    """Write the outbox rows (call inside the transition's transaction). The
    payloads, one per event, are only built if a subscription wants one."""
    event_types = list(event_types)
    subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
    if not any(s.wants(t) for s in subscriptions for t in event_types):
        return []
    deliveries = []
    for event_type, payload in zip(event_types, payloads()):
        for subscription in subscriptions:
            if subscription.wants(event_type):
                delivery = WebhookDelivery(
                    event_type=event_type, subscription=subscription, payload={}
                )
                delivery.payload = {
                    "id": str(delivery.event_id),
                    "type": event_type,
                    "created_at": timezone.now(),
                    "data": payload,
                }
                deliveries.append(delivery)
    if not deliveries:
        return []
    deliveries = WebhookDelivery.objects.bulk_create(deliveries)
    pks = [delivery.pk for delivery in deliveries]
    transaction.on_commit(lambda: _schedule(pks))
    return deliveries


def _schedule(pks: List[int]) -> None:

    try:
        for pk in pks:
            dispatch.schedule_delivery(pk)
    except Exception:  # noqa: BLE001 - the transition committed; the sweeper retries
        logger.exception("Could not queue webhook deliveries %s", pks)


def for_transition(request, event) -> None:
    """The webhooks one audit step causes (resolution has its own)."""
    types = []
    mapped = _FOR_AUDIT_EVENT.get(event.type)
    if mapped:
        types.append(mapped)
    if (
        event.to_status == RequestStatus.RESOLVED
        and event.from_status != event.to_status
    ):
        types.append(REQUEST_RESOLVED)
    if not types:
        return
    enqueue(types, lambda: [request_payload(request, event)] * len(types))


def for_cards(cards) -> None:
    enqueue([WARRANTY_CARD_ISSUED] * len(cards), lambda: _card_payloads(cards))


def _card_payloads(cards) -> List[dict]:
    return [
        {
            "card": {
                "code": card.code,
                "order": card.order.host_id,
                "order_number": card.order.number,
                "order_line": card.order_line.host_id,
                "product_name": card.product_name,
                "variant_sku": card.variant_sku,
                "starts_at": card.starts_at,
                "ends_at": card.ends_at,
            }
        }
        for card in cards
    ]


LEASE_SECONDS = 60  # longer than the HTTP timeout: one poster per attempt


def _claim(delivery_pk: int):
    """Take the next attempt of a due delivery, or None if it isn't due or another
    worker has it (the task after commit and the sweeper may both ask)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("subscription")
            .filter(
                pk=delivery_pk,
                status=WebhookDelivery.PENDING,
                next_attempt_at__lte=timezone.now(),
            )
            .first()
        )
        if delivery is None:
            return None
        if not delivery.subscription.is_active:
            delivery.status = WebhookDelivery.FAILED
            delivery.last_error = "The subscription is deactivated."
            delivery.save(update_fields=["status", "last_error"])
            return None
        delivery.next_attempt_at = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        delivery.save(update_fields=["next_attempt_at"])
        return delivery


def private_target(url: str) -> bool:
    """Whether the URL's host is (or resolves to) a loopback, private,
    link-local or otherwise non-public address. Where the shop's staff are the
    operator (the 2.10 plugin), their own network is theirs to post to; where
    one app serves many shops (AFTERSALES_WEBHOOKS_TO_PRIVATE_ADDRESSES off),
    a shop's webhooks must not reach into the app's network."""
    host_name = urlparse(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host_name, None)}
    except (OSError, UnicodeError):
        return False  # the request fails on its own
    return any(not ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


def _refused_target(url: str) -> str:
    if getattr(settings, "AFTERSALES_WEBHOOKS_TO_PRIVATE_ADDRESSES", True):
        return ""
    return "The target is not a public address." if private_target(url) else ""


def _post(url: str, body: bytes, headers: dict):
    """(HTTP status or None, error text or "") of one POST."""
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=10, allow_redirects=False
        )
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"
    code = response.status_code
    return code, "" if 200 <= code < 300 else f"HTTP {code}"


def deliver(delivery_pk: int) -> Optional[str]:
    """Make one attempt at a delivery; its status afterwards, or None if this call
    made no attempt. The HTTP call happens outside any transaction."""
    delivery = _claim(delivery_pk)
    if delivery is None:
        return None
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Saleor-Event": delivery.event_type,
        "X-Saleor-Domain": host.shop_domain(),
        "X-Saleor-HMAC-SHA256": sign(body, delivery.subscription.secret),
    }
    started = time.monotonic()
    code, error = None, _refused_target(delivery.subscription.target_url)
    refused = bool(error)  # no retry makes the address public: a dead letter
    if not refused:
        code, error = _post(delivery.subscription.target_url, body, headers)
    elapsed = int((time.monotonic() - started) * 1000)

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery_pk)
        WebhookAttempt.objects.create(
            delivery=delivery, response_code=code, error=error, duration_ms=elapsed
        )
        delivery.attempts += 1
        delivery.last_response_code = code
        delivery.last_error = error
        if not error:
            delivery.status = WebhookDelivery.DELIVERED
            delivery.delivered_at = timezone.now()
        elif refused or delivery.attempts >= max_attempts():
            delivery.status = WebhookDelivery.FAILED
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(
                seconds=backoff_seconds(delivery.attempts)
            )
        delivery.save()
        return delivery.status


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Give a delivery (usually a dead letter) a fresh set of attempts."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status != WebhookDelivery.FAILED:
            raise aftersales_error(
                "id", "Only failed deliveries are sent again.", Code.INVALID_STATUS
            )
        delivery.status = WebhookDelivery.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = timezone.now()
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
        transaction.on_commit(lambda: _schedule([delivery.pk]))
    return delivery


def due_deliveries(limit: int = 500) -> List[int]:
    """Pending deliveries whose time has come (the sweeper's work list)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
