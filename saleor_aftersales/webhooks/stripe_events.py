"""Stripe's refund events: reconcile refund rows with what Stripe did.

Verified with Stripe's own SDK (``Stripe-Signature: t=…,v1=…``, five minutes'
tolerance) against the endpoint secret in the plugin's settings; each event id
counts once. Handled: ``charge.refunded`` (every refund on the charge),
``charge.refund.updated``, ``refund.updated``, ``refund.failed``; other types are
acknowledged and ignored. Every field read (and the refund objects, which are
stored as they came) is checked before anything is done (``bodies``): an event
that is not what Stripe may send gets 400 and changes nothing.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import List

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from .. import refunds
from ..models import MONEY, InboundEvent
from ..stripe_refunds import StripeRefund, from_stripe_amount
from . import bodies

SOURCE = "stripe"
TOLERANCE_SECONDS = 300
MAX_ID_LENGTH = 255
REFUND_EVENTS = ("charge.refund.updated", "refund.updated", "refund.failed")
CHARGE_REFUNDED = "charge.refunded"

# What a signed event may carry in the fields read here.
# Stripe's ids: a lowercase prefix, "_", letters and digits; at most 255 characters.
STRIPE_ID = r"[a-z][a-z0-9]{0,15}_[A-Za-z0-9_]+"
EVENT_ID = r"evt_[A-Za-z0-9_]+"
EVENT_TYPE = r"[a-z0-9_]+(\.[a-z0-9_]+)*"
MAX_TYPE_LENGTH = 255  # refunds' types are short; others are only echoed
CURRENCY = r"[A-Za-z]{3}"
STATUS = r"[a-z_]+"
MAX_STATUS_LENGTH = 32
MAX_FAILURE_REASON_LENGTH = 200
# Stripe takes amounts of at most twelve digits (in minor units)...
MAX_STRIPE_AMOUNT = 10**12 - 1
# ...and ours must fit the money columns (12 digits, 2 or 3 of them decimals).
MAX_AMOUNT = Decimal(10) ** (
    MONEY["max_digits"] - max(MONEY["decimal_places"], settings.DEFAULT_DECIMAL_PLACES)
)
# Stripe's metadata: at most 50 keys of 40 characters, values of 500.
MAX_METADATA_KEYS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 50, 40, 500
# Stripe's own limit on free text; the refund object is stored as it came.
MAX_STORED_STRING = 5000
MAX_REFUNDS_PER_CHARGE = 100


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
    except stripe.error.SignatureVerificationError as error:
        raise Rejected(str(error) or "Bad signature.")
    except UnicodeDecodeError:
        raise Rejected("Unreadable event: not UTF-8.")
    try:
        event = bodies.load(body)
    except bodies.Unreadable as error:
        raise Rejected(f"Unreadable event: {error}")
    if not isinstance(event, dict):
        raise Rejected("Unreadable event: not an object.")
    return event


def _refund(obj, payment_intent: str = "") -> StripeRefund:
    """A refund object of the event, every field read checked."""
    if not isinstance(obj, dict):
        raise bodies.Unreadable("A refund is not an object.")
    bodies.check_tree(obj, max_string=MAX_STORED_STRING)
    bodies.text(obj, "id", max_length=MAX_ID_LENGTH, pattern=STRIPE_ID)
    currency = bodies.text(obj, "currency", max_length=3, pattern=CURRENCY)
    amount = bodies.integer(obj, "amount", low=0, high=MAX_STRIPE_AMOUNT)
    if from_stripe_amount(amount, currency) >= MAX_AMOUNT:
        raise bodies.Unreadable("'amount' is out of range.")
    bodies.text(
        obj, "status", max_length=MAX_STATUS_LENGTH, pattern=STATUS, required=False
    )
    bodies.text(
        obj,
        "payment_intent",
        max_length=MAX_ID_LENGTH,
        pattern=STRIPE_ID,
        required=False,
    )
    bodies.text(
        obj, "failure_reason", max_length=MAX_FAILURE_REASON_LENGTH, required=False
    )
    metadata = bodies.mapping(obj, "metadata", required=False) or {}
    if len(metadata) > MAX_METADATA_KEYS:
        raise bodies.Unreadable("'metadata' has too many keys.")
    for key, value in metadata.items():
        bodies.check_string(key, MAX_METADATA_KEY, "A metadata key")
        if not isinstance(value, str):
            raise bodies.Unreadable("A metadata value is not a string.")
        bodies.check_string(value, MAX_METADATA_VALUE, "A metadata value")
    return StripeRefund.from_stripe(obj, payment_intent)


def _refunds_in(event: dict) -> List[StripeRefund]:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise Rejected("The event carries no object.")
    try:
        if event["type"] != CHARGE_REFUNDED:
            return [_refund(obj)]
        intent = bodies.text(
            obj,
            "payment_intent",
            max_length=MAX_ID_LENGTH,
            pattern=STRIPE_ID,
            required=False,
        )
        # Since API version 2022-11-15 a charge no longer lists its refunds.
        listed = bodies.mapping(obj, "refunds", required=False) or {}
        items = listed.get("data")
        if items is None:
            items = []
        if not isinstance(items, list) or len(items) > MAX_REFUNDS_PER_CHARGE:
            raise bodies.Unreadable("'refunds' is not a list of refunds.")
        return [_refund(item, intent) for item in items]
    except bodies.Unreadable as error:
        raise Rejected(f"Unreadable refund: {error}")


def _envelope(event: dict):
    """The event's id and type, checked."""
    try:
        event_id = bodies.text(event, "id", max_length=MAX_ID_LENGTH, pattern=EVENT_ID)
        event_type = bodies.text(
            event, "type", max_length=MAX_TYPE_LENGTH, pattern=EVENT_TYPE
        )
    except bodies.Unreadable as error:
        raise Rejected(f"Unreadable event: {error}")
    return event_id, event_type


def handle(body: bytes, header: str, secret: str) -> Outcome:
    event = verify(body, header, secret)
    event_id, event_type = _envelope(event)
    if event_type not in REFUND_EVENTS + (CHARGE_REFUNDED,):
        return Outcome("ignored", [event_type[:64]])
    found = _refunds_in(event)
    with transaction.atomic():
        try:
            with transaction.atomic():
                inbound = InboundEvent.objects.create(
                    source=SOURCE, event_id=event_id, event_type=event_type
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
