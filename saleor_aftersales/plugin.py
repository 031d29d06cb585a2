"""The Saleor 2.10 plugin: the settings table (``settings.py``) as Saleor's plugin
configuration, edited with ``pluginUpdate``, and Saleor's hooks (warranty cards on
fulfillment, extended warranty once paid)."""

import copy

from . import host, sla, warranty
from .settings import (
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

    # Saleor's hooks.

    def fulfillment_created(self, fulfillment, previous_value):
        if self.active:
            warranty.issue_cards_for_fulfillment(fulfillment, self.settings)
        return previous_value

    def order_fully_paid(self, order, previous_value):
        if self.active:
            warranty.apply_extended_warranty_safely(order, self.settings)
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
