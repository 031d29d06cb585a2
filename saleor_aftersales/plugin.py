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


@dataclass(frozen=True)
class AftersalesSettings:
    return_window_days: int = 30
    changed_mind_window_days: int = 14
    shipping_refundable: bool = False
    restocking_fee_percent: Decimal = Decimal("0")


DEFAULTS = AftersalesSettings()


def _parse_days(name: str, value) -> int:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        days = -1
    if days < 0 or days > 3650:
        raise ValidationError(
            {
                name: ValidationError(
                    f"{name} must be a whole number of days, 0-3650.", code="invalid"
                )
            }
        )
    return days


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
    }

    def __init__(self, *, configuration, active):
        # Saleor 2.10 updates configuration dicts in place when saving; without a
        # copy, a refused update would corrupt DEFAULT_CONFIGURATION for the process.
        super().__init__(configuration=copy.deepcopy(configuration), active=active)

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration):
        configuration = {
            item["name"]: item["value"] for item in plugin_configuration.configuration
        }
        settings_from_configuration(configuration)
