"""The Saleor plugin: the shop's after-sales settings, edited with ``pluginUpdate``."""

import copy
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Tuple

import pytz
from django.core.exceptions import ValidationError

from . import host

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
ESCALATION_STAFF_EMAIL = "Escalate overdue claims to"
SERIAL_RETURNER_RATE = "Serial returner return rate percent"
SERIAL_RETURNER_MIN_CLAIMS = "Serial returner minimum claims"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class AftersalesSettings:
    return_window_days: int = 30
    changed_mind_window_days: int = 14
    exchange_window_days: int = 30
    # 0: every return comes back before its refund, unless staff decide otherwise.
    returnless_refund_below: Decimal = Decimal("0")
    shipping_refundable: bool = False
    restocking_fee_percent: Decimal = Decimal("0")
    warranty_months: int = 12
    # Slug of the product type whose purchase extends an order's warranty cards.
    extended_warranty_product_type: str = ""
    extended_warranty_months: int = 12
    verifications_per_minute: int = 30
    exchange_other_products: bool = False
    ship_exchange_before_receipt: bool = False
    repairs_paid_on_collection: bool = False
    logistics_secret: str = ""
    stripe_webhook_secret: str = ""
    auto_refund_on_receipt: bool = False
    auto_refund_limit: Decimal = Decimal("100")
    store_credit_bonus_percent: Decimal = Decimal("0")
    # 0: the gift card never expires.
    store_credit_valid_days: int = 365
    # Service levels, in business time: the calendar, then the targets.
    business_time_zone: str = "UTC"
    opens_at: time = time(8, 0)
    closes_at: time = time(20, 0)
    working_days: Tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday is 0
    holidays: Tuple[date, ...] = ()
    first_response_hours: int = 24
    resolution_days: int = 3
    escalation_staff_email: str = ""
    serial_returner_rate_percent: Decimal = Decimal("30")
    serial_returner_min_claims: int = 3


DEFAULTS = AftersalesSettings()
DEFAULT_HOURS = "08:00-20:00"


def _invalid(name: str, message: str) -> ValidationError:
    return ValidationError({name: ValidationError(message, code="invalid")})


def _parse_count(name: str, value, maximum: int) -> int:
    try:
        count = int(str(value).strip())
    except (TypeError, ValueError):
        count = -1
    if count < 0 or count > maximum:
        raise _invalid(name, f"{name} must be a whole number, 0-{maximum}.")
    return count


def _parse_days(name: str, value) -> int:
    return _parse_count(name, value, 3650)


def _parse_percent(name: str, value) -> Decimal:
    try:
        percent = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        percent = Decimal("-1")
    if not percent.is_finite() or percent < 0 or percent > 100:
        raise _invalid(name, f"{name} must be 0-100.")
    return percent


def _parse_amount(name: str, value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        amount = Decimal("-1")
    if not amount.is_finite() or amount < 0 or amount > 1000000:
        raise _invalid(name, f"{name} must be 0-1000000.")
    return amount


def _parse_time_zone(name: str, value) -> str:
    zone = str(value or "").strip()
    try:
        pytz.timezone(zone)
    except (pytz.UnknownTimeZoneError, AttributeError):
        raise _invalid(name, f"{name}: unknown time zone, e.g. Europe/Berlin.")
    return zone


def _parse_hours(name: str, value) -> Tuple[time, time]:
    """'08:00-20:00' -> (08:00, 20:00); opening must come before closing."""
    try:
        opens, closes = (
            datetime.strptime(part.strip(), "%H:%M").time()
            for part in str(value).split("-")
        )
    except ValueError:
        raise _invalid(name, f"{name}: give them as HH:MM-HH:MM, e.g. 08:00-20:00.")
    if opens >= closes:
        raise _invalid(name, f"{name}: opening must come before closing.")
    return opens, closes


def _parse_weekdays(name: str, value) -> Tuple[int, ...]:
    days = [part.strip().lower()[:3] for part in str(value).split(",")]
    days = [day for day in days if day]
    if not days or any(day not in WEEKDAYS for day in days):
        raise _invalid(name, f"{name}: list days like Mon,Tue,Wed,Thu,Fri.")
    return tuple(sorted({WEEKDAYS.index(day) for day in days}))


def _parse_dates(name: str, value) -> Tuple[date, ...]:
    parts = [part.strip() for part in str(value or "").replace(";", ",").split(",")]
    try:
        return tuple(sorted({date.fromisoformat(part) for part in parts if part}))
    except ValueError:
        raise _invalid(name, f"{name}: list dates like 2026-12-25, 2027-01-01.")


def _format_weekdays(days) -> str:
    return ",".join(WEEKDAYS[day].capitalize() for day in days)


def _parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() == "true"


def settings_from_configuration(configuration: dict) -> AftersalesSettings:
    get = configuration.get
    return AftersalesSettings(
        return_window_days=_parse_days(
            RETURN_WINDOW_DAYS, get(RETURN_WINDOW_DAYS, DEFAULTS.return_window_days)
        ),
        changed_mind_window_days=_parse_days(
            CHANGED_MIND_WINDOW_DAYS,
            get(CHANGED_MIND_WINDOW_DAYS, DEFAULTS.changed_mind_window_days),
        ),
        exchange_window_days=_parse_days(
            EXCHANGE_WINDOW_DAYS,
            get(EXCHANGE_WINDOW_DAYS, DEFAULTS.exchange_window_days),
        ),
        returnless_refund_below=_parse_amount(
            RETURNLESS_REFUND_BELOW,
            get(RETURNLESS_REFUND_BELOW, DEFAULTS.returnless_refund_below),
        ),
        shipping_refundable=_parse_bool(
            get(SHIPPING_REFUNDABLE, DEFAULTS.shipping_refundable)
        ),
        restocking_fee_percent=_parse_percent(
            RESTOCKING_FEE_PERCENT,
            get(RESTOCKING_FEE_PERCENT, DEFAULTS.restocking_fee_percent),
        ),
        warranty_months=_parse_count(
            WARRANTY_MONTHS, get(WARRANTY_MONTHS, DEFAULTS.warranty_months), 600
        ),
        extended_warranty_product_type=str(
            get(EXTENDED_WARRANTY_PRODUCT_TYPE, "") or ""
        ).strip(),
        extended_warranty_months=_parse_count(
            EXTENDED_WARRANTY_MONTHS,
            get(EXTENDED_WARRANTY_MONTHS, DEFAULTS.extended_warranty_months),
            600,
        ),
        verifications_per_minute=_parse_count(
            VERIFICATIONS_PER_MINUTE,
            get(VERIFICATIONS_PER_MINUTE, DEFAULTS.verifications_per_minute),
            100000,
        ),
        exchange_other_products=_parse_bool(get(EXCHANGE_OTHER_PRODUCTS, False)),
        ship_exchange_before_receipt=_parse_bool(
            get(SHIP_EXCHANGE_BEFORE_RECEIPT, False)
        ),
        repairs_paid_on_collection=_parse_bool(get(REPAIRS_PAID_ON_COLLECTION, False)),
        logistics_secret=str(get(LOGISTICS_SECRET, "") or ""),
        stripe_webhook_secret=str(get(STRIPE_WEBHOOK_SECRET, "") or ""),
        auto_refund_on_receipt=_parse_bool(get(AUTO_REFUND_ON_RECEIPT, False)),
        auto_refund_limit=_parse_amount(
            AUTO_REFUND_LIMIT, get(AUTO_REFUND_LIMIT, DEFAULTS.auto_refund_limit)
        ),
        store_credit_bonus_percent=_parse_percent(
            STORE_CREDIT_BONUS_PERCENT,
            get(STORE_CREDIT_BONUS_PERCENT, DEFAULTS.store_credit_bonus_percent),
        ),
        store_credit_valid_days=_parse_days(
            STORE_CREDIT_VALID_DAYS,
            get(STORE_CREDIT_VALID_DAYS, DEFAULTS.store_credit_valid_days),
        ),
        business_time_zone=_parse_time_zone(
            BUSINESS_TIME_ZONE, get(BUSINESS_TIME_ZONE, DEFAULTS.business_time_zone)
        ),
        **dict(
            zip(
                ("opens_at", "closes_at"),
                _parse_hours(BUSINESS_HOURS, get(BUSINESS_HOURS, DEFAULT_HOURS)),
            )
        ),
        working_days=_parse_weekdays(
            WORKING_DAYS,
            get(WORKING_DAYS, _format_weekdays(DEFAULTS.working_days)),
        ),
        holidays=_parse_dates(HOLIDAYS, get(HOLIDAYS, "")),
        first_response_hours=_parse_count(
            FIRST_RESPONSE_HOURS,
            get(FIRST_RESPONSE_HOURS, DEFAULTS.first_response_hours),
            10000,
        ),
        resolution_days=_parse_count(
            RESOLUTION_DAYS, get(RESOLUTION_DAYS, DEFAULTS.resolution_days), 365
        ),
        escalation_staff_email=str(get(ESCALATION_STAFF_EMAIL, "") or "").strip(),
        serial_returner_rate_percent=_parse_percent(
            SERIAL_RETURNER_RATE,
            get(SERIAL_RETURNER_RATE, DEFAULTS.serial_returner_rate_percent),
        ),
        serial_returner_min_claims=_parse_count(
            SERIAL_RETURNER_MIN_CLAIMS,
            get(SERIAL_RETURNER_MIN_CLAIMS, DEFAULTS.serial_returner_min_claims),
            100000,
        ),
    )


def get_settings() -> AftersalesSettings:
    """The shop's current settings (one query: Saleor's plugin configuration)."""
    return settings_from_configuration(host.plugin_configuration(PLUGIN_ID))


class AftersalesPlugin(host.BasePlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = "After-sales"
    PLUGIN_DESCRIPTION = (
        "Returns, exchanges and repairs with audited review, refunds to the "
        "original payment and warranty cards."
    )
    DEFAULT_ACTIVE = True
    DEFAULT_CONFIGURATION = [
        {"name": RETURN_WINDOW_DAYS, "value": str(DEFAULTS.return_window_days)},
        {
            "name": CHANGED_MIND_WINDOW_DAYS,
            "value": str(DEFAULTS.changed_mind_window_days),
        },
        {"name": EXCHANGE_WINDOW_DAYS, "value": str(DEFAULTS.exchange_window_days)},
        {
            "name": RETURNLESS_REFUND_BELOW,
            "value": str(DEFAULTS.returnless_refund_below),
        },
        {"name": SHIPPING_REFUNDABLE, "value": DEFAULTS.shipping_refundable},
        {
            "name": RESTOCKING_FEE_PERCENT,
            "value": str(DEFAULTS.restocking_fee_percent),
        },
        {"name": WARRANTY_MONTHS, "value": str(DEFAULTS.warranty_months)},
        {"name": EXTENDED_WARRANTY_PRODUCT_TYPE, "value": ""},
        {
            "name": EXTENDED_WARRANTY_MONTHS,
            "value": str(DEFAULTS.extended_warranty_months),
        },
        {
            "name": VERIFICATIONS_PER_MINUTE,
            "value": str(DEFAULTS.verifications_per_minute),
        },
        {"name": EXCHANGE_OTHER_PRODUCTS, "value": False},
        {"name": SHIP_EXCHANGE_BEFORE_RECEIPT, "value": False},
        {"name": REPAIRS_PAID_ON_COLLECTION, "value": False},
        {"name": LOGISTICS_SECRET, "value": ""},
        {"name": STRIPE_WEBHOOK_SECRET, "value": ""},
        {"name": AUTO_REFUND_ON_RECEIPT, "value": False},
        {"name": AUTO_REFUND_LIMIT, "value": str(DEFAULTS.auto_refund_limit)},
        {
            "name": STORE_CREDIT_BONUS_PERCENT,
            "value": str(DEFAULTS.store_credit_bonus_percent),
        },
        {
            "name": STORE_CREDIT_VALID_DAYS,
            "value": str(DEFAULTS.store_credit_valid_days),
        },
        {"name": BUSINESS_TIME_ZONE, "value": DEFAULTS.business_time_zone},
        {"name": BUSINESS_HOURS, "value": DEFAULT_HOURS},
        {"name": WORKING_DAYS, "value": _format_weekdays(DEFAULTS.working_days)},
        {"name": HOLIDAYS, "value": ""},
        {
            "name": FIRST_RESPONSE_HOURS,
            "value": str(DEFAULTS.first_response_hours),
        },
        {"name": RESOLUTION_DAYS, "value": str(DEFAULTS.resolution_days)},
        {"name": ESCALATION_STAFF_EMAIL, "value": ""},
        {
            "name": SERIAL_RETURNER_RATE,
            "value": str(DEFAULTS.serial_returner_rate_percent),
        },
        {
            "name": SERIAL_RETURNER_MIN_CLAIMS,
            "value": str(DEFAULTS.serial_returner_min_claims),
        },
    ]
    CONFIG_STRUCTURE = {
        RETURN_WINDOW_DAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Days after fulfillment during which items can be returned.",
            "label": RETURN_WINDOW_DAYS,
        },
        CHANGED_MIND_WINDOW_DAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": (
                "Days after fulfillment for returns where nothing is wrong with the "
                "item (changed mind, size or fit)."
            ),
            "label": CHANGED_MIND_WINDOW_DAYS,
        },
        EXCHANGE_WINDOW_DAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Days after fulfillment during which items can be exchanged.",
            "label": EXCHANGE_WINDOW_DAYS,
        },
        RETURNLESS_REFUND_BELOW: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": (
                "Returns worth less than this are refunded on approval and the "
                "customer keeps the goods; 0: never."
            ),
            "label": RETURNLESS_REFUND_BELOW,
        },
        SHIPPING_REFUNDABLE: {
            "type": host.ConfigurationTypeField.BOOLEAN,
            "help_text": "Whether refunds include the order's shipping (once per order).",
            "label": SHIPPING_REFUNDABLE,
        },
        RESTOCKING_FEE_PERCENT: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": (
                "Percent of the goods' value kept on changed-mind and size returns."
            ),
            "label": RESTOCKING_FEE_PERCENT,
        },
        WARRANTY_MONTHS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Warranty of product types without their own terms.",
            "label": WARRANTY_MONTHS,
        },
        EXTENDED_WARRANTY_PRODUCT_TYPE: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": (
                "Slug of the product type sold as extended warranty: paying for an "
                "order with it extends that order's cards."
            ),
            "label": EXTENDED_WARRANTY_PRODUCT_TYPE,
        },
        EXTENDED_WARRANTY_MONTHS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Months an extended warranty adds.",
            "label": EXTENDED_WARRANTY_MONTHS,
        },
        VERIFICATIONS_PER_MINUTE: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Public warranty checks allowed per client and minute.",
            "label": VERIFICATIONS_PER_MINUTE,
        },
        EXCHANGE_OTHER_PRODUCTS: {
            "type": host.ConfigurationTypeField.BOOLEAN,
            "help_text": "Allow exchanges for variants of other products.",
            "label": EXCHANGE_OTHER_PRODUCTS,
        },
        SHIP_EXCHANGE_BEFORE_RECEIPT: {
            "type": host.ConfigurationTypeField.BOOLEAN,
            "help_text": "Send replacements once approved, before the return arrives.",
            "label": SHIP_EXCHANGE_BEFORE_RECEIPT,
        },
        REPAIRS_PAID_ON_COLLECTION: {
            "type": host.ConfigurationTypeField.BOOLEAN,
            "help_text": "Hand repaired items back before their quote is paid.",
            "label": REPAIRS_PAID_ON_COLLECTION,
        },
        LOGISTICS_SECRET: {
            "type": host.ConfigurationTypeField.SECRET,
            "help_text": "Key the carrier signs 'return parcel delivered' messages with.",
            "label": LOGISTICS_SECRET,
        },
        STRIPE_WEBHOOK_SECRET: {
            "type": host.ConfigurationTypeField.SECRET,
            "help_text": (
                "The whsec_... secret of the Stripe endpoint pointing at "
                "/aftersales/webhooks/stripe/."
            ),
            "label": STRIPE_WEBHOOK_SECRET,
        },
        AUTO_REFUND_ON_RECEIPT: {
            "type": host.ConfigurationTypeField.BOOLEAN,
            "help_text": "Refund returns when the carrier reports the parcel delivered.",
            "label": AUTO_REFUND_ON_RECEIPT,
        },
        AUTO_REFUND_LIMIT: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Automatic refunds only up to this amount; above it, staff.",
            "label": AUTO_REFUND_LIMIT,
        },
        STORE_CREDIT_BONUS_PERCENT: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": (
                "Percent added on top when a refund is taken as store credit (a "
                "Saleor gift card)."
            ),
            "label": STORE_CREDIT_BONUS_PERCENT,
        },
        STORE_CREDIT_VALID_DAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Days a store-credit gift card can be spent; 0: no expiry.",
            "label": STORE_CREDIT_VALID_DAYS,
        },
        BUSINESS_TIME_ZONE: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Time zone of the after-sales desk, e.g. Europe/Berlin.",
            "label": BUSINESS_TIME_ZONE,
        },
        BUSINESS_HOURS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Opening hours each working day, HH:MM-HH:MM.",
            "label": BUSINESS_HOURS,
        },
        WORKING_DAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Days the desk works, e.g. Mon,Tue,Wed,Thu,Fri.",
            "label": WORKING_DAYS,
        },
        HOLIDAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Closed dates, e.g. 2026-12-25, 2027-01-01.",
            "label": HOLIDAYS,
        },
        FIRST_RESPONSE_HOURS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Business hours within which staff first answer a claim.",
            "label": FIRST_RESPONSE_HOURS,
        },
        RESOLUTION_DAYS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Working days within which a claim is settled.",
            "label": RESOLUTION_DAYS,
        },
        ESCALATION_STAFF_EMAIL: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Staff member given overdue claims; empty: nobody.",
            "label": ESCALATION_STAFF_EMAIL,
        },
        SERIAL_RETURNER_RATE: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Return rate (units returned / bought) flagging a customer to staff.",
            "label": SERIAL_RETURNER_RATE,
        },
        SERIAL_RETURNER_MIN_CLAIMS: {
            "type": host.ConfigurationTypeField.STRING,
            "help_text": "Claims a customer must have made before the flag applies.",
            "label": SERIAL_RETURNER_MIN_CLAIMS,
        },
    }

    def __init__(self, *, configuration, active):
        # Saleor 2.10 updates configuration dicts in place when saving; without a
        # copy, a refused update would corrupt DEFAULT_CONFIGURATION for the process.
        super().__init__(configuration=copy.deepcopy(configuration), active=active)

    @property
    def settings(self) -> AftersalesSettings:
        return settings_from_configuration(
            {item["name"]: item["value"] for item in self.configuration}
        )

    # Saleor's hooks. ``warranty`` imports this module, hence the local imports.

    def fulfillment_created(self, fulfillment, previous_value):
        if self.active:
            from .warranty import issue_cards_for_fulfillment

            issue_cards_for_fulfillment(fulfillment, self.settings)
        return previous_value

    def order_fully_paid(self, order, previous_value):
        if self.active:
            from .warranty import apply_extended_warranty_safely

            apply_extended_warranty_safely(order, self.settings)
        return previous_value

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration):
        configuration = {
            item["name"]: item["value"] for item in plugin_configuration.configuration
        }
        settings = settings_from_configuration(configuration)
        from .sla import check_calendar

        try:
            check_calendar(settings)
        except ValueError:
            raise _invalid(
                WORKING_DAYS,
                "The service levels can't be met in this calendar: add working "
                "days or hours, or lower the targets.",
            )
        email = settings.escalation_staff_email
        if email and host.staff_user_by_email(email) is None:
            raise _invalid(
                ESCALATION_STAFF_EMAIL,
                f"{ESCALATION_STAFF_EMAIL}: no active staff member has this e-mail.",
            )
