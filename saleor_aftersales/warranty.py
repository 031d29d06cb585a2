"""Warranty cards: one per fulfilled unit, verifiable by anyone, hard to forge.

Codes are 16 characters of Crockford's base-32 alphabet, shown in groups of four:
12 random characters (60 bits) and 4 check characters, a keyed HMAC of the random
part. A mistyped or invented code fails the check before any database look-up.
"""

import hashlib
import hmac
import logging
import secrets
from datetime import datetime
from typing import Dict, Iterable, List, Optional

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .port import host
from .actors import Actor
from .enums import WarrantyEventType
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import ShopOrder, WarrantyCard, WarrantyCardEvent, WarrantyPolicy
from .orders import lock_order, save_order
from .policies import lines_of
from .port import ShippedUnits
from .settings import AftersalesSettings
from .webhooks import outgoing

logger = logging.getLogger(__name__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
RANDOM_LENGTH = 12  # 12 x 5 bits = 60 bits
CHECK_LENGTH = 4  # 20 bits
CODE_LENGTH = RANDOM_LENGTH + CHECK_LENGTH
# What people type for what they mean.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _key() -> bytes:
    # Its own setting so SECRET_KEY can rotate without voiding every card printed.
    key = getattr(settings, "AFTERSALES_WARRANTY_KEY", "") or settings.SECRET_KEY
    return hashlib.sha256(b"saleor_aftersales.warranty:" + key.encode()).digest()


def _check(body: str) -> str:
    digest = hmac.new(_key(), body.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:4], "big")
    return "".join(
        ALPHABET[(number >> (5 * index)) & 31] for index in range(CHECK_LENGTH)
    )


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + _check(body)


def parse_code(text: str) -> Optional[str]:
    """The stored form of a typed code, or None if it can't be one of ours."""
    normal = "".join((text or "").upper().split()).replace("-", "")
    normal = normal.translate(_LOOKALIKES)
    if len(normal) != CODE_LENGTH or any(char not in ALPHABET for char in normal):
        return None
    body, check = normal[:RANDOM_LENGTH], normal[RANDOM_LENGTH:]
    if not hmac.compare_digest(check, _check(body)):
        return None
    return normal


def display_code(code: str) -> str:
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))


def card_by_code(text: str, field: str = "code") -> WarrantyCard:
    code = parse_code(text)
    if code is None:
        raise _error(
            field, "This is not a valid warranty card code.", Code.INVALID_CODE
        )
    card = WarrantyCard.objects.filter(code=code).first()
    if card is None:
        raise _error(field, "No warranty card has this code.", Code.NOT_FOUND)
    return card


# Issuing ----------------------------------------------------------------------------


def _terms(product_type_ref: str, policies, settings_: AftersalesSettings):
    policy = policies.get(product_type_ref)
    if policy is None:
        return settings_.warranty_months, None, ""
    return policy.months, policy.usage_limit, policy.usage_unit


def issue_cards(
    order: ShopOrder, shipped: Iterable[ShippedUnits], settings_: AftersalesSettings
) -> List[WarrantyCard]:
    """One card per unit shipped of the order (its copy, just saved); units that
    have one are skipped.

    Constant queries: existing cards, policies, one bulk insert.
    """
    lines = order.lines_by_host_id
    shipped = [units for units in shipped if units.order_line_ref in lines]
    if not shipped:
        return []
    existing = set(
        WarrantyCard.objects.filter(
            fulfillment_line_ref__in=[units.host_id for units in shipped]
        ).values_list("fulfillment_line_ref", "unit_index")
    )
    type_refs = {lines[units.order_line_ref].product_type_ref for units in shipped}
    policies = {
        policy.product_type_ref: policy
        for policy in WarrantyPolicy.objects.filter(
            product_type_ref__in=sorted(ref for ref in type_refs if ref)
        )
    }
    cards = []
    for units in shipped:
        order_line = lines[units.order_line_ref]
        months, usage_limit, usage_unit = _terms(
            order_line.product_type_ref, policies, settings_
        )
        starts = units.shipped_at
        for unit in range(1, units.quantity + 1):
            if (units.host_id, unit) in existing:
                continue
            cards.append(
                WarrantyCard(
                    code=new_code(),
                    order=order,
                    order_line=order_line,
                    fulfillment_line_ref=units.host_id,
                    unit_index=unit,
                    variant_ref=order_line.variant_ref,
                    product_name=order_line.product_name,
                    variant_name=order_line.variant_name,
                    variant_sku=order_line.sku,
                    starts_at=starts,
                    ends_at=starts + relativedelta(months=months),
                    usage_limit=usage_limit,
                    usage_unit=usage_unit or "",
                )
            )
    if not cards:
        return []
    try:
        with transaction.atomic():
            cards = WarrantyCard.objects.bulk_create(cards)
            outgoing.for_cards(cards)
            return cards
    except IntegrityError:
        # Another worker issued the same units meanwhile: keep theirs.
        WarrantyCard.objects.bulk_create(cards, ignore_conflicts=True)
        return []


def issue_cards_for_shipment(
    order: ShopOrder, shipped: List[ShippedUnits], settings_: AftersalesSettings
) -> None:
    """The host's "goods shipped" hook. Never breaks the shipment: a failure is
    logged and the backfill command issues the missing cards later."""
    try:
        with transaction.atomic():
            issue_cards(order, shipped, settings_)
    except Exception:  # noqa: BLE001 - the shop's fulfillment must go through
        logger.exception("Issuing warranty cards for order %s failed", order.number)
    apply_extended_warranty_safely(order, settings_)


def apply_extended_warranty_safely(
    order: ShopOrder, settings_: AftersalesSettings
) -> None:
    """The host's order-paid hook; like the shipment hook, it never breaks payment."""
    try:
        with transaction.atomic():
            apply_extended_warranty(order, settings_)
    except Exception:  # noqa: BLE001
        logger.exception("Applying extended warranty to order %s failed", order.number)


def backfill(settings_: AftersalesSettings, batch_size: int = 500):
    """Issue the cards missing for units fulfilled before the plugin was installed.

    Yields the number of shipment lines handled per batch (for a progress bar);
    safe to re-run: units that have a card are skipped.
    """
    lines = host.fulfillment_lines()
    last_pk = 0
    while True:
        batch = list(lines.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            return
        by_order: Dict[int, list] = {}
        for line in batch:
            by_order.setdefault(line.order_line.order_id, []).append(line)
        for order_lines in by_order.values():
            order = save_order(host.order_facts(order_lines[0].order_line.order))
            issue_cards(order, host.shipped_units(order_lines), settings_)
        last_pk = batch[-1].pk
        yield len(batch)


# Extending and voiding -------------------------------------------------------------


def _event(card, by: Actor, type_: str, message: str = "", **parameters):
    return WarrantyCardEvent(
        card=card,
        type=type_,
        actor_type=by.type,
        user_ref=by.user_ref,
        app_ref=by.app_ref,
        message=message,
        parameters=parameters,
    )


def apply_extended_warranty(order, settings_: AftersalesSettings) -> int:
    """Extend the order's cards once if it paid for an extended warranty.

    Runs when the order is paid and when its cards are issued, whichever is last.
    """
    slug = settings_.extended_warranty_product_type
    if not slug or not settings_.extended_warranty_months:
        return 0
    extension_types = host.product_type_refs(slug)
    bought = any(line.product_type_ref in extension_types for line in lines_of(order))
    if not bought or not host.is_fully_paid(order.host_id):
        return 0
    with transaction.atomic():
        # Both hooks can run at once: the order lock makes "extend once" hold.
        lock_order(order.pk)
        cards = list(
            WarrantyCard.objects.select_for_update(of=("self",))
            .filter(order=order, voided_at__isnull=True)
            .exclude(order_line__product_type_ref__in=extension_types)
            .exclude(events__parameters__extended_by_order=order.pk)
        )
        months = settings_.extended_warranty_months
        for card in cards:
            card.ends_at += relativedelta(months=months)
        WarrantyCard.objects.bulk_update(cards, ["ends_at"])
        WarrantyCardEvent.objects.bulk_create(
            [
                _event(
                    card,
                    Actor.system(),
                    WarrantyEventType.EXTENDED,
                    f"Extended warranty bought: +{months} months",
                    months=months,
                    extended_by_order=order.pk,
                )
                for card in cards
            ]
        )
    return len(cards)


def void_returned_units(quantities: Dict[int, int], *, by: Actor, reason: str) -> int:
    """Void the cards of units that came back to the shop ({order line pk: units}):
    a unit resold from stock gets a card of its own. Constant queries."""
    if not quantities:
        return 0
    left = dict(quantities)
    chosen = []
    for card in (
        WarrantyCard.objects.select_for_update(of=("self",))
        .filter(order_line_id__in=list(quantities), voided_at__isnull=True)
        .order_by("-pk")
    ):
        if left.get(card.order_line_id, 0) > 0:
            left[card.order_line_id] -= 1
            chosen.append(card)
    now = timezone.now()
    for card in chosen:
        card.voided_at, card.void_reason = now, reason
    WarrantyCard.objects.bulk_update(chosen, ["voided_at", "void_reason"])
    WarrantyCardEvent.objects.bulk_create(
        [_event(card, by, WarrantyEventType.VOIDED, reason) for card in chosen]
    )
    return len(chosen)


def extend(card: WarrantyCard, *, by: Actor, months: int) -> WarrantyCard:
    if not 1 <= months <= 120:
        raise _error("months", "Extend by 1 to 120 months.", Code.INVALID)
    with transaction.atomic():
        card = WarrantyCard.objects.select_for_update().get(pk=card.pk)
        if card.voided_at is not None:
            raise _error("code", "A void card can't be extended.", Code.INVALID_STATUS)
        card.ends_at += relativedelta(months=months)
        card.save(update_fields=["ends_at"])
        _event(
            card, by, WarrantyEventType.EXTENDED, f"+{months} months", months=months
        ).save()
    return card


def void(card: WarrantyCard, *, by: Actor, reason: str) -> WarrantyCard:
    if not reason.strip():
        raise _error("reason", "Say why the card is void.", Code.REQUIRED)
    with transaction.atomic():
        card = WarrantyCard.objects.select_for_update().get(pk=card.pk)
        if card.voided_at is not None:
            raise _error("code", "The card is already void.", Code.INVALID_STATUS)
        card.voided_at = timezone.now()
        card.void_reason = reason
        card.save(update_fields=["voided_at", "void_reason"])
        _event(card, by, WarrantyEventType.VOIDED, reason).save()
    return card


def record_serial_number(
    card: WarrantyCard, *, by: Actor, serial_number: str
) -> WarrantyCard:
    serial_number = serial_number.strip().upper()
    if not serial_number or len(serial_number) > 64:
        raise _error(
            "serial_number", "Give a serial number of 1-64 characters.", Code.INVALID
        )
    with transaction.atomic():
        card = WarrantyCard.objects.select_for_update().get(pk=card.pk)
        previous = card.serial_number
        card.serial_number = serial_number
        card.save(update_fields=["serial_number"])
        _event(
            card,
            by,
            WarrantyEventType.SERIAL_NUMBER_RECORDED,
            serial_number,
            previous=previous,
        ).save()
    return card


def cover(card: WarrantyCard, moment: datetime, meter_reading: Optional[int] = None):
    """(covered, ended_by): whether the card covers a claim at that time and reading."""
    ended_by = card.ended_by(moment, meter_reading)
    return ended_by is None, ended_by
