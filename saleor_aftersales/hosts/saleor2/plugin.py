"""The Saleor 2.10 plugin: the settings table (``settings.py``) as Saleor's plugin
configuration, edited with ``pluginUpdate``, and Saleor's hooks (the core's copy of
each order kept current, warranty cards on fulfillment, extended warranty once
paid)."""

import copy
import logging
from typing import Optional

from django.db import transaction

from ... import sla, warranty
from ...models import ShopOrder
from ...orders import save_order
from ...settings import (
    ESCALATION_STAFF_EMAIL,
    PLUGIN_ID,
    SECRET,
    SETTINGS,
    SWITCH,
    TEXT,
    WORKING_DAYS,
    AftersalesSettings,
    invalid,
    settings_from_configuration,
)
from . import shop as host

logger = logging.getLogger(__name__)

FIELD_TYPES = {
    TEXT: host.ConfigurationTypeField.STRING,
    SWITCH: host.ConfigurationTypeField.BOOLEAN,
    SECRET: host.ConfigurationTypeField.SECRET,
}


class AftersalesPlugin(host.BasePlugin):
    PLUGIN_ID = PLUGIN_ID
    PLUGIN_NAME = "After-sales"
    PLUGIN_DESCRIPTION = (
        "Returns, exchanges and repairs with audited review, refunds to the "
        "original payment and warranty cards."
    )
    DEFAULT_ACTIVE = True
    DEFAULT_CONFIGURATION = [
        {"name": setting.name, "value": setting.default} for setting in SETTINGS
    ]
    CONFIG_STRUCTURE = {
        setting.name: {
            "type": FIELD_TYPES[setting.kind],
            "help_text": setting.help_text,
            "label": setting.name,
        }
        for setting in SETTINGS
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

    # Saleor's hooks: they never break the shop's own operation.

    @staticmethod
    def _copy(order) -> Optional[ShopOrder]:
        """The core's copy of ``order`` brought up to date (drafts aren't copied)."""
        if order.status == host.OrderStatus.DRAFT:
            return None
        try:
            with transaction.atomic():
                copied = save_order(host.order_facts(order))
        except Exception:  # noqa: BLE001 - the next hook or claim copies it again
            logger.exception("Copying order %s failed", order.pk)
            return None
        order._aftersales_copy = copied
        return copied

    def order_created(self, order, previous_value):
        if self.active:
            self._copy(order)
        return previous_value

    def order_updated(self, order, previous_value):
        if self.active:
            self._copy(order)
        return previous_value

    def order_cancelled(self, order, previous_value):
        if self.active:
            self._copy(order)
        return previous_value

    def fulfillment_created(self, fulfillment, previous_value):
        if self.active:
            # Saleor calls order_updated on the same order just before (its
            # order_fulfilled, the only caller): that copy already holds the
            # shipment, so one orderFulfill copies the order once.
            order = getattr(fulfillment.order, "_aftersales_copy", None) or self._copy(
                fulfillment.order
            )
            if order is not None:
                shipped = host.shipped_units(host.fulfillment_lines_of(fulfillment))
                warranty.issue_cards_for_shipment(order, shipped, self.settings)
        return previous_value

    def order_fully_paid(self, order, previous_value):
        if self.active:
            copy_ = self._copy(order)
            if copy_ is not None:
                warranty.apply_extended_warranty_safely(copy_, self.settings)
        return previous_value

    @classmethod
    def validate_plugin_configuration(cls, plugin_configuration):
        configuration = {
            item["name"]: item["value"] for item in plugin_configuration.configuration
        }
        settings = settings_from_configuration(configuration)
        try:
            sla.check_calendar(settings)
        except ValueError:
            raise invalid(
                WORKING_DAYS,
                "The service levels can't be met in this calendar: add working "
                "days or hours, or lower the targets.",
            )
        email = settings.escalation_staff_email
        if email and host.staff_user_by_email(email) is None:
            raise invalid(
                ESCALATION_STAFF_EMAIL,
                f"{ESCALATION_STAFF_EMAIL}: no active staff member has this e-mail.",
            )
