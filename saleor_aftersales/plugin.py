"""The Saleor plugin: the shop's after-sales settings, edited with ``pluginUpdate``."""

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from . import host

PLUGIN_ID = "saleor.aftersales"

RETURN_WINDOW_DAYS = "Return window days"
CHANGED_MIND_WINDOW_DAYS = "Changed-mind window days"
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


@dataclass(frozen=True)
class AftersalesSettings:
    return_window_days: int = 30
    changed_mind_window_days: int = 14
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


DEFAULTS = AftersalesSettings()


def _parse_count(name: str, value, maximum: int) -> int:
    try:
        count = int(str(value).strip())
    except (TypeError, ValueError):
        count = -1
    if count < 0 or count > maximum:
        raise ValidationError(
            {
                name: ValidationError(
                    f"{name} must be a whole number, 0-{maximum}.", code="invalid"
                )
            }
        )
    return count


def _parse_days(name: str, value) -> int:
    return _parse_count(name, value, 3650)


def _parse_percent(name: str, value) -> Decimal:
    try:
        percent = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        percent = Decimal("-1")
    if not percent.is_finite() or percent < 0 or percent > 100:
        raise ValidationError(
            {name: ValidationError(f"{name} must be 0-100.", code="invalid")}
        )
    return percent


def _parse_amount(name: str, value) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        amount = Decimal("-1")
    if not amount.is_finite() or amount < 0 or amount > 1000000:
        raise ValidationError(
            {name: ValidationError(f"{name} must be 0-1000000.", code="invalid")}
        )
    return amount


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
        settings_from_configuration(configuration)
