"""Stripe's refund events: reconcile refund rows with what Stripe did.

Verified with Stripe's own SDK (``Stripe-Signature: t=…,v1=…``, five minutes'
tolerance) against the endpoint secret in the plugin's settings; each event id
counts once. Handled: ``charge.refunded`` (every refund on the charge),
``charge.refund.updated``, ``refund.updated``, ``refund.failed``; other types are
acknowledged and ignored.
"""

import json
from dataclasses import dataclass
from typing import List

import stripe
from django.db import IntegrityError, transaction

from .. import refunds
from ..models import InboundEvent
from ..stripe_refunds import StripeRefund

SOURCE = "stripe"
TOLERANCE_SECONDS = 300
MAX_ID_LENGTH = 255
REFUND_EVENTS = ("charge.refund.updated", "refund.updated", "refund.failed")
CHARGE_REFUNDED = "charge.refunded"


class Rejected(Exception):
    """Not from Stripe, stale or unreadable: 400, and nothing changes."""


@dataclass
class Outcome:
    status: str  # processed, duplicate, ignored
    results: List[str]


def verify(body: bytes, header: str, secret: str) -> dict:
    if not secret:
        raise Rejected("No Stripe webhook secret is configured.")
    try:
        payload = body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload, header or "", secret, TOLERANCE_SECONDS
        )
        event = json.loads(payload)
    except stripe.error.SignatureVerificationError as error:
        raise Rejected(str(error) or "Bad signature.")
    except (UnicodeDecodeError, ValueError):
        raise Rejected("Unreadable event.")
    if not isinstance(event, dict):
        raise Rejected("Unreadable event.")
    return event


def _refunds_in(event: dict) -> List[StripeRefund]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise Rejected("The event carries no object.")
    try:
        if event["type"] == CHARGE_REFUNDED:
            listed = (obj.get("refunds") or {}).get("data") or []
            intent = str(obj.get("payment_intent") or "")
            return [
                StripeRefund.from_stripe(item, intent)
                for item in listed
                if isinstance(item, dict)
            ]
        return [StripeRefund.from_stripe(obj)]
    except (TypeError, ValueError, AttributeError):
        raise Rejected("Unreadable refund.")


def handle(body: bytes, header: str, secret: str) -> Outcome:
    event = verify(body, header, secret)
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id or len(event_id) > MAX_ID_LENGTH:
        raise Rejected(f"Event ids are 1-{MAX_ID_LENGTH} characters.")
    if event_type not in REFUND_EVENTS + (CHARGE_REFUNDED,):
        return Outcome("ignored", [event_type[:64]])
    found = _refunds_in(event)
    with transaction.atomic():
        try:
            with transaction.atomic():
                inbound = InboundEvent.objects.create(
                    source=SOURCE, event_id=event_id, event_type=event_type[:64]
                )
        except IntegrityError:
            return Outcome("duplicate", [])
        # One transaction with the event's row: if anything fails, Stripe sends
        # the event again and finds it unprocessed.
        results = [
            f"{paid.id}: {refunds.reconcile_stripe_refund(paid)}" for paid in found
        ]
        inbound.outcome = "; ".join(results)[:2000]
        inbound.save(update_fields=["outcome"])
    return Outcome("processed", results)
