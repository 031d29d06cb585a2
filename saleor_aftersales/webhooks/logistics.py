"""'Return parcel delivered' messages from the carrier: receive the goods, and
refund at once where the shop's policy allows.

Messages are JSON signed like Stripe's: header ``X-Aftersales-Signature:
t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the plugin's logistics
secret; older than five minutes is stale. Each message id counts once.
"""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Optional

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .. import refunds, workflow
from ..actors import Actor
from ..enums import Disposition, RequestType
from ..models import AftersalesRequest, InboundEvent, parse_number
from ..plugin import AftersalesSettings

SOURCE = "logistics"
PARCEL_DELIVERED = "return.parcel.delivered"
TOLERANCE_SECONDS = 300


class Rejected(Exception):
    """The message can't be trusted or read: 400, and nothing changes."""


@dataclass
class Outcome:
    status: str  # received, duplicate, ignored, refused
    detail: str = ""
    refund_status: Optional[str] = None


def signature_header(body: bytes, secret: str, timestamp: Optional[int] = None) -> str:
    """What a sender puts in X-Aftersales-Signature (used by tests and carriers)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str, secret: str) -> None:
    if not secret:
        raise Rejected("No logistics secret is configured.")
    parts = dict(
        item.split("=", 1) for item in (header or "").split(",") if "=" in item
    )
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        raise Rejected("Missing signature timestamp.")
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise Rejected("Stale signature.")
    expected = signature_header(body, secret, timestamp).split("v1=")[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise Rejected("Bad signature.")


def _received_lines(request, message_lines):
    """Match the carrier's lines (by SKU) to the claim's lines; none: all awaited."""
    if not message_lines:
        return None
    by_sku = {line.order_line.product_sku: line for line in request.lines.all()}
    result = []
    for item in message_lines:
        line = by_sku.get(str(item.get("sku")))
        if line is None:
            raise ValidationError(f"No line with SKU {item.get('sku')} on the claim.")
        result.append(
            workflow.ReceivedLineInput(
                line=line,
                quantity=int(item.get("quantity", 0)),
                disposition=Disposition.RESTOCK,
            )
        )
    return result


def handle(body: bytes, header: str, settings: AftersalesSettings) -> Outcome:
    verify(body, header, settings.logistics_secret)
    try:
        message = json.loads(body)
        event_id, event_type = str(message["id"]), str(message["type"])
    except (ValueError, KeyError, TypeError):
        raise Rejected("Unreadable message.")
    if event_type != PARCEL_DELIVERED:
        return Outcome("ignored", event_type)

    by = Actor.system()
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = InboundEvent.objects.create(
                    source=SOURCE, event_id=event_id, event_type=event_type
                )
        except IntegrityError:
            return Outcome("duplicate")
        number = parse_number(str(message.get("claim", "")))
        request = (
            AftersalesRequest.objects.filter(pk=number).first() if number else None
        )
        outcome = Outcome("refused", "Unknown claim.")
        if request is not None:
            try:
                with transaction.atomic():
                    lines = _received_lines(request, message.get("lines"))
                    workflow.receive(request, by=by, lines=lines)
                outcome = Outcome("received", request.number)
            except (ValidationError, ValueError, TypeError) as error:
                outcome = Outcome(
                    "refused", "; ".join(getattr(error, "messages", [str(error)]))
                )
        event.outcome = f"{outcome.status}: {outcome.detail}"
        event.save(update_fields=["outcome"])

    if outcome.status == "received" and _may_refund(request, settings):
        try:
            refund = refunds.refund_request(
                request,
                by=by,
                settings=settings,
                idempotency_key=f"logistics-{event_id}",
            )
            outcome.refund_status = refund.status
        except ValidationError as error:
            outcome.refund_status = f"not refunded: {error.messages[0]}"
    return outcome


def _may_refund(request, settings: AftersalesSettings) -> bool:
    if not settings.auto_refund_on_receipt or request.type != RequestType.RETURN:
        return False
    request = AftersalesRequest.objects.get(pk=request.pk)
    quote = refunds.quote_refund(request, settings=settings)
    return quote.default_amount <= settings.auto_refund_limit
