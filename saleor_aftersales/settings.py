"""The shop's after-sales settings, each declared once in ``SETTINGS``.

A row names the setting as the shop's staff see it, the ``AftersalesSettings``
field(s) it fills, how it is edited (text, switch or secret), its default as
stored, how a stored value is read (refusing bad ones with the setting's name) and
its help text. The host shows the table for editing (on Saleor 2.10: the plugin's
configuration, ``plugin.py``) and hands the stored values back to
``settings_from_configuration`` (``configuration.get_settings``). Pure: no host.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Callable, Dict, FrozenSet, Tuple

import pytz
from django.core.exceptions import ValidationError

PLUGIN_ID = "saleor.aftersales"

RETURN_WINDOW_DAYS = "Return window days"
CHANGED_MIND_WINDOW_DAYS = "Changed-mind window days"
EXCHANGE_WINDOW_DAYS = "Exchange window days"
RETURNLESS_REFUND_BELOW = "Refund without return below"
SHIPPING_REFUNDABLE = "Refund shipping"
RESTOCKING_FEE_PERCENT = "Default restocking fee percent"
WARRANTY_MONTHS = "Default warranty months"
EXTENDED_WARRANTY_PRODUCT_TYPE = "Extended warranty product type"
EXTENDED_WARRANTY_MONTHS = "Extended warranty months"
VERIFICATIONS_PER_MINUTE = "Warranty verifications per minute"
EXCHANGE_OTHER_PRODUCTS = "Exchange for other products"
SHIP_EXCHANGE_BEFORE_RECEIPT = "Ship exchanges before the return arrives"
REPAIRS_PAID_ON_COLLECTION = "Repairs paid on collection"
LOGISTICS_SECRET = "Logistics webhook secret"
STRIPE_WEBHOOK_SECRET = "Stripe webhook signing secret"
AUTO_REFUND_ON_RECEIPT = "Refund automatically on parcel delivery"
AUTO_REFUND_LIMIT = "Automatic refund limit"
STORE_CREDIT_BONUS_PERCENT = "Store credit bonus percent"
STORE_CREDIT_VALID_DAYS = "Store credit valid days"
BUSINESS_TIME_ZONE = "Business time zone"
BUSINESS_HOURS = "Business hours"
WORKING_DAYS = "Working days"
HOLIDAYS = "Holidays"
FIRST_RESPONSE_HOURS = "First response within business hours"
RESOLUTION_DAYS = "Resolution within working days"
SLA_TARGET_PERCENT = "Service level target percent"
ESCALATION_STAFF_EMAIL = "Escalate overdue claims to"
SERIAL_RETURNER_RATE = "Serial returner return rate percent"
SERIAL_RETURNER_MIN_CLAIMS = "Serial returner minimum claims"
RETURN_SEND_DAYS = "Days to send a return"
APPEAL_DAYS = "Days to appeal a rejection"
SHOPPER_EMAIL_LANGUAGE = "Shopper e-mail language"
SHOPPER_EMAILS_OFF = "Shopper e-mails switched off"
PORTAL_ADDRESS = "Portal address"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("en", "zh-hans")
# The shopper e-mails the desk may switch off (a guest's sign-in link can't be).
EMAIL_KINDS = (
    "received",
    "info_requested",
    "approved",
    "rejected",
    "goods_received",
    "refunded",
    "quote_ready",
    "repair_finished",
    "closed",
)

# How a setting is edited.
TEXT, SWITCH, SECRET = "text", "switch", "secret"


@dataclass(frozen=True)
class AftersalesSettings:
    return_window_days: int
    changed_mind_window_days: int
    exchange_window_days: int
    # 0: every return comes back before its refund, unless staff decide otherwise.
    returnless_refund_below: Decimal
    shipping_refundable: bool
    restocking_fee_percent: Decimal
    warranty_months: int
    # Slug of the product type whose purchase extends an order's warranty cards.
    extended_warranty_product_type: str
    extended_warranty_months: int
    verifications_per_minute: int
    exchange_other_products: bool
    ship_exchange_before_receipt: bool
    repairs_paid_on_collection: bool
    logistics_secret: str
    stripe_webhook_secret: str
    auto_refund_on_receipt: bool
    auto_refund_limit: Decimal
    store_credit_bonus_percent: Decimal
    # 0: the gift card never expires.
    store_credit_valid_days: int
    # Service levels, in business time: the calendar, then the targets.
    business_time_zone: str
    opens_at: time
    closes_at: time
    working_days: Tuple[int, ...]  # Monday is 0
    holidays: Tuple[date, ...]
    first_response_hours: int
    resolution_days: int
    sla_target_percent: Decimal
    escalation_staff_email: str
    serial_returner_rate_percent: Decimal
    serial_returner_min_claims: int
    # Shopper e-mails: the send-back deadline after approval, the appeal window
    # after a rejection, the default language, the kinds not sent, and where
    # links in them point (empty: the pages on this server).
    return_send_days: int
    appeal_days: int
    shopper_email_language: str
    shopper_emails_off: FrozenSet[str]
    portal_address: str


# Readers of stored values: (setting's name, stored value) -> value(s).


def invalid(name: str, message: str) -> ValidationError:
    return ValidationError({name: ValidationError(message, code="invalid")})


def count(maximum: int) -> Callable[[str, object], int]:
    def read(name: str, value) -> int:
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            number = -1
        if number < 0 or number > maximum:
            raise invalid(name, f"{name} must be a whole number, 0-{maximum}.")
        return number

    return read


days = count(3650)


def percent(name: str, value) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        number = Decimal("-1")
    if not number.is_finite() or number < 0 or number > 100:
        raise invalid(name, f"{name} must be 0-100.")
    return number


def amount(name: str, value) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        number = Decimal("-1")
    if not number.is_finite() or number < 0 or number > 1000000:
        raise invalid(name, f"{name} must be 0-1000000.")
    return number


def switch(_name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def text(_name: str, value) -> str:
    return str(value or "")


def stripped(_name: str, value) -> str:
    return str(value or "").strip()


def time_zone(name: str, value) -> str:
    zone = str(value or "").strip()
    try:
        pytz.timezone(zone)
    except (pytz.UnknownTimeZoneError, AttributeError):
        raise invalid(name, f"{name}: unknown time zone, e.g. Europe/Berlin.")
    return zone


def hours(name: str, value) -> Tuple[time, time]:
    """'08:00-20:00' -> (08:00, 20:00); opening must come before closing."""
    try:
        opens, closes = (
            datetime.strptime(part.strip(), "%H:%M").time()
            for part in str(value).split("-")
        )
    except ValueError:
        raise invalid(name, f"{name}: give them as HH:MM-HH:MM, e.g. 08:00-20:00.")
    if opens >= closes:
        raise invalid(name, f"{name}: opening must come before closing.")
    return opens, closes


def weekdays(name: str, value) -> Tuple[int, ...]:
    found = [part.strip().lower()[:3] for part in str(value).split(",")]
    found = [day for day in found if day]
    if not found or any(day not in WEEKDAYS for day in found):
        raise invalid(name, f"{name}: list days like Mon,Tue,Wed,Thu,Fri.")
    return tuple(sorted({WEEKDAYS.index(day) for day in found}))


def language(name: str, value) -> str:
    chosen = str(value or "").strip().lower().replace("_", "-")
    if chosen not in LANGUAGES:
        raise invalid(name, f"{name}: one of {', '.join(LANGUAGES)}.")
    return chosen


def email_kinds(name: str, value) -> FrozenSet[str]:
    found = {part.strip().lower() for part in str(value or "").split(",")}
    found.discard("")
    unknown = sorted(found - set(EMAIL_KINDS))
    if unknown:
        raise invalid(
            name, f"{name}: unknown {', '.join(unknown)}; use {', '.join(EMAIL_KINDS)}."
        )
    return frozenset(found)


def web_address(name: str, value) -> str:
    address = str(value or "").strip()
    if address and not address.startswith(("https://", "http://")):
        raise invalid(name, f"{name}: a whole address, e.g. https://shop.example/.")
    return address


def dates(name: str, value) -> Tuple[date, ...]:
    parts = [part.strip() for part in str(value or "").replace(";", ",").split(",")]
    try:
        return tuple(sorted({date.fromisoformat(part) for part in parts if part}))
    except ValueError:
        raise invalid(name, f"{name}: list dates like 2026-12-25, 2027-01-01.")


@dataclass(frozen=True)
class Setting:
    name: str
    fields: Tuple[str, ...]  # of AftersalesSettings, filled in this order
    kind: str
    default: object  # as stored: text, or a bool for switches
    read: Callable[[str, object], object]
    help_text: str

    def values(self, stored) -> Dict[str, object]:
        value = self.read(self.name, stored)
        if len(self.fields) == 1:
            return {self.fields[0]: value}
        return dict(zip(self.fields, value))


def _row(name, field, kind, default, read, help_text) -> Setting:
    fields = field if isinstance(field, tuple) else (field,)
    return Setting(name, fields, kind, default, read, help_text)


SETTINGS: Tuple[Setting, ...] = (
    _row(
        RETURN_WINDOW_DAYS, "return_window_days", TEXT, "30", days,
        "Days after fulfillment during which items can be returned.",
    ),
    _row(
        CHANGED_MIND_WINDOW_DAYS, "changed_mind_window_days", TEXT, "14", days,
        "Days after fulfillment for returns where nothing is wrong with the item "
        "(changed mind, size or fit).",
    ),
    _row(
        EXCHANGE_WINDOW_DAYS, "exchange_window_days", TEXT, "30", days,
        "Days after fulfillment during which items can be exchanged.",
    ),
    _row(
        RETURNLESS_REFUND_BELOW, "returnless_refund_below", TEXT, "0", amount,
        "Returns worth less than this are refunded on approval and the customer "
        "keeps the goods; 0: never.",
    ),
    _row(
        SHIPPING_REFUNDABLE, "shipping_refundable", SWITCH, False, switch,
        "Whether refunds include the order's shipping (once per order).",
    ),
    _row(
        RESTOCKING_FEE_PERCENT, "restocking_fee_percent", TEXT, "0", percent,
        "Percent of the goods' value kept on changed-mind and size returns.",
    ),
    _row(
        WARRANTY_MONTHS, "warranty_months", TEXT, "12", count(600),
        "Warranty of product types without their own terms.",
    ),
    _row(
        EXTENDED_WARRANTY_PRODUCT_TYPE, "extended_warranty_product_type", TEXT, "",
        stripped,
        "Slug of the product type sold as extended warranty: paying for an order "
        "with it extends that order's cards.",
    ),
    _row(
        EXTENDED_WARRANTY_MONTHS, "extended_warranty_months", TEXT, "12", count(600),
        "Months an extended warranty adds.",
    ),
    _row(
        VERIFICATIONS_PER_MINUTE, "verifications_per_minute", TEXT, "30",
        count(100000), "Public warranty checks allowed per client and minute.",
    ),
    _row(
        EXCHANGE_OTHER_PRODUCTS, "exchange_other_products", SWITCH, False, switch,
        "Allow exchanges for variants of other products.",
    ),
    _row(
        SHIP_EXCHANGE_BEFORE_RECEIPT, "ship_exchange_before_receipt", SWITCH, False,
        switch, "Send replacements once approved, before the return arrives.",
    ),
    _row(
        REPAIRS_PAID_ON_COLLECTION, "repairs_paid_on_collection", SWITCH, False,
        switch, "Hand repaired items back before their quote is paid.",
    ),
    _row(
        LOGISTICS_SECRET, "logistics_secret", SECRET, "", text,
        "Key the carrier signs 'return parcel delivered' messages with.",
    ),
    _row(
        STRIPE_WEBHOOK_SECRET, "stripe_webhook_secret", SECRET, "", text,
        "The whsec_... secret of the Stripe endpoint pointing at "
        "/aftersales/webhooks/stripe/.",
    ),
    _row(
        AUTO_REFUND_ON_RECEIPT, "auto_refund_on_receipt", SWITCH, False, switch,
        "Refund returns when the carrier reports the parcel delivered.",
    ),
    _row(
        AUTO_REFUND_LIMIT, "auto_refund_limit", TEXT, "100", amount,
        "Automatic refunds only up to this amount; above it, staff.",
    ),
    _row(
        STORE_CREDIT_BONUS_PERCENT, "store_credit_bonus_percent", TEXT, "0", percent,
        "Percent added on top when a refund is taken as store credit (a Saleor "
        "gift card).",
    ),
    _row(
        STORE_CREDIT_VALID_DAYS, "store_credit_valid_days", TEXT, "365", days,
        "Days a store-credit gift card can be spent; 0: no expiry.",
    ),
    _row(
        BUSINESS_TIME_ZONE, "business_time_zone", TEXT, "UTC", time_zone,
        "Time zone of the after-sales desk, e.g. Europe/Berlin.",
    ),
    _row(
        BUSINESS_HOURS, ("opens_at", "closes_at"), TEXT, "08:00-20:00", hours,
        "Opening hours each working day, HH:MM-HH:MM.",
    ),
    _row(
        WORKING_DAYS, "working_days", TEXT, "Mon,Tue,Wed,Thu,Fri", weekdays,
        "Days the desk works, e.g. Mon,Tue,Wed,Thu,Fri.",
    ),
    _row(
        HOLIDAYS, "holidays", TEXT, "", dates,
        "Closed dates, e.g. 2026-12-25, 2027-01-01.",
    ),
    _row(
        FIRST_RESPONSE_HOURS, "first_response_hours", TEXT, "24", count(10000),
        "Business hours within which staff first answer a claim.",
    ),
    _row(
        RESOLUTION_DAYS, "resolution_days", TEXT, "3", count(365),
        "Working days within which a claim is settled.",
    ),
    _row(
        SLA_TARGET_PERCENT, "sla_target_percent", TEXT, "95", percent,
        "Share of claims the desk aims to answer and settle in time (the "
        "analytics page draws it).",
    ),
    _row(
        ESCALATION_STAFF_EMAIL, "escalation_staff_email", TEXT, "", stripped,
        "Staff member given overdue claims; empty: nobody.",
    ),
    _row(
        SERIAL_RETURNER_RATE, "serial_returner_rate_percent", TEXT, "30", percent,
        "Return rate (units returned / bought) flagging a customer to staff.",
    ),
    _row(
        SERIAL_RETURNER_MIN_CLAIMS, "serial_returner_min_claims", TEXT, "3",
        count(100000), "Claims a customer must have made before the flag applies.",
    ),
    _row(
        RETURN_SEND_DAYS, "return_send_days", TEXT, "14", count(365),
        "Days the customer has to send approved goods back (on the return slip).",
    ),
    _row(
        APPEAL_DAYS, "appeal_days", TEXT, "14", count(365),
        "Days after a rejection during which the customer may appeal it; 0: no limit.",
    ),
    _row(
        SHOPPER_EMAIL_LANGUAGE, "shopper_email_language", TEXT, "en", language,
        "Language of shopper e-mails when the customer chose none: en or zh-hans.",
    ),
    _row(
        SHOPPER_EMAILS_OFF, "shopper_emails_off", TEXT, "", email_kinds,
        "Shopper e-mails not sent, e.g. goods_received, closed; of "
        + ", ".join(EMAIL_KINDS) + ".",
    ),
    _row(
        PORTAL_ADDRESS, "portal_address", TEXT, "", web_address,
        "Address of the shoppers' after-sales page that e-mails link to; empty: "
        "this server's /aftersales/portal/.",
    ),
)


def settings_from_configuration(configuration: dict) -> AftersalesSettings:
    """The settings from stored values by name; a missing one takes its default,
    a bad one is refused with its name (``ValidationError``, code ``invalid``)."""
    values: Dict[str, object] = {}
    for setting in SETTINGS:
        values.update(setting.values(configuration.get(setting.name, setting.default)))
    return AftersalesSettings(**values)


DEFAULTS = settings_from_configuration({})
