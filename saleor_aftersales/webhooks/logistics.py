"""'Return parcel delivered' messages from the carrier: receive the goods, and
refund at once where the shop's policy allows.

Messages are JSON signed like Stripe's: header ``X-Aftersales-Signature:
t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` with the plugin's logistics
secret; older than five minutes is stale. Each message id counts once. Every
field read is checked before anything is done (``bodies``): a message that is
not what a carrier may send gets 400 and changes nothing.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Optional

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .. import refunds, workflow
from ..actors import Actor
from ..enums import Disposition, RequestType
from ..error_codes import AftersalesErrorCode as Code
from ..models import AftersalesRequest, InboundEvent, parse_number
from ..settings import AftersalesSettings
from . import bodies

SOURCE = "logistics"
PARCEL_DELIVERED = "return.parcel.delivered"
TOLERANCE_SECONDS = 300


class Rejected(Exception):
    """The message can't be trusted or read: 400, and nothing changes."""


class TryLater(Exception):
    """A passing obstacle (a refund in flight): 409, nothing kept, send it again."""


MAX_ID_LENGTH = 200
# What a signed message may carry in the fields read here.
MESSAGE_ID = r"[A-Za-z0-9][A-Za-z0-9._:~+=/@-]*"
MESSAGE_TYPE = r"[A-Za-z0-9][A-Za-z0-9._:-]*"
MAX_TYPE_LENGTH = 64
CLAIM_NUMBER = r"(?i:RMA-)?[0-9]{1,11}"
MAX_CLAIM_LENGTH = 16
MAX_SKU_LENGTH = 255  # Saleor's ProductVariant.sku
MAX_LINES = 1000
MAX_QUANTITY = 10 ** 6
TRANSIENT_CODES = {Code.REFUND_IN_PROGRESS.value}


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
        stale = abs(time.time() - timestamp) > TOLERANCE_SECONDS
    except (KeyError, ValueError, OverflowError):
        raise Rejected("Missing signature timestamp.")
    if stale:
        raise Rejected("Stale signature.")
    expected = signature_header(body, secret, timestamp).split("v1=")[1]
    if not hmac.compare_digest(expected.encode(), parts.get("v1", "").encode()):
        raise Rejected("Bad signature.")


def _received_lines(request, message_lines):
    """Match the carrier's lines (by SKU) to the claim's lines; none: all awaited."""
    if message_lines is None or message_lines == []:
        return None
    if not isinstance(message_lines, list) or not all(
        isinstance(item, dict) for item in message_lines
    ):
        raise ValidationError("Lines are a list of {sku, quantity}.")
    by_sku = {
        line.order_line.sku: line
        for line in request.lines.select_related("order_line")
    }
    result = []
    for item in message_lines:
        line = by_sku.get(item["sku"])  # both checked by _read
        if line is None:
            raise ValidationError(f"No line with SKU {item['sku']} on the claim.")
        result.append(
            workflow.ReceivedLineInput(
                line=line,
                quantity=item["quantity"],
                disposition=Disposition.RESTOCK,
            )
        )
    return result


def _codes(error: ValidationError) -> set:
    """The codes of an error on the whole or on fields (``error_list`` is only on
    the former)."""
    if hasattr(error, "error_dict"):
        return {item.code for items in error.error_dict.values() for item in items}
    return {item.code for item in error.error_list}


def _read(body: bytes) -> dict:
    """The message, every field read checked. Lines that are not a list of objects
    are left for the claim to refuse (recorded, 200); what is in them is checked."""
    try:
        message = bodies.load(body)
    except bodies.Unreadable as error:
        raise Rejected(f"Unreadable message: {error}")
    if not isinstance(message, dict):
        raise Rejected("Unreadable message: not an object.")
    try:
        bodies.text(message, "id", max_length=MAX_ID_LENGTH, pattern=MESSAGE_ID)
        bodies.text(message, "type", max_length=MAX_TYPE_LENGTH, pattern=MESSAGE_TYPE)
        if message["type"] != PARCEL_DELIVERED:
            return message
        bodies.text(
            message, "claim", max_length=MAX_CLAIM_LENGTH, pattern=CLAIM_NUMBER
        )
        lines = message.get("lines")
        if isinstance(lines, list):
            if len(lines) > MAX_LINES:
                raise bodies.Unreadable(f"More than {MAX_LINES} lines.")
            for item in lines:
                if isinstance(item, dict):
                    bodies.text(item, "sku", max_length=MAX_SKU_LENGTH)
                    bodies.integer(item, "quantity", low=1, high=MAX_QUANTITY)
    except bodies.Unreadable as error:
        raise Rejected(str(error))
    return message


def handle(body: bytes, header: str, settings: AftersalesSettings) -> Outcome:
    verify(body, header, settings.logistics_secret)
    message = _read(body)
    event_id, event_type = message["id"], message["type"]
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
        number = parse_number(message["claim"])
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
            except ValidationError as error:
                if _codes(error) & TRANSIENT_CODES:
                    raise TryLater(error.messages[0])
                outcome = Outcome("refused", "; ".join(error.messages))
        event.outcome = f"{outcome.status}: {outcome.detail}"
        event.save(update_fields=["outcome"])

    if (
        outcome.status == "received"
        and settings.auto_refund_on_receipt
        and request.type == RequestType.RETURN
    ):
        try:
            refund = refunds.refund_request(
                request,
                by=by,
                settings=settings,
                idempotency_key=refunds.system_key("logistics", event_id),
                limit=settings.auto_refund_limit,
            )
            outcome.refund_status = refund.status
        except ValidationError:
            pass  # above the limit, nothing left, in flight: the desk decides
    return outcome
