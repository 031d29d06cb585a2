"""The shop's after-sales settings through the API: on the app, where they live
(Saleor 2.10 also keeps them in its plugin configuration, pluginUpdate)."""

from typing import List

import graphene

from ... import settings as table
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...port import host
from ..host import api
from ..types import AftersalesSetting
from .base import AftersalesMutation, clean_text

MAX_VALUE_LENGTH = 2000


def shown() -> List[AftersalesSetting]:
    """Every setting as stored now; secrets only say whether they are set."""
    stored = host.plugin_configuration(table.PLUGIN_ID)
    rows = []
    for setting in table.SETTINGS:
        value = stored.get(setting.name, setting.default)
        if setting.kind == table.SECRET:
            value = None
        elif isinstance(value, bool):
            value = "true" if value else "false"
        rows.append(
            AftersalesSetting(
                name=setting.name,
                value=value if value is None else str(value),
                kind=setting.kind.upper(),
                help_text=setting.help_text,
            )
        )
    return rows


class AftersalesSettingInput(graphene.InputObjectType):
    name = graphene.String(required=True, description="The setting's name.")
    value = graphene.String(
        required=True, description='Its new value; switches take "true" or "false".'
    )


class AftersalesSettingsUpdate(AftersalesMutation):
    settings = graphene.List(graphene.NonNull(AftersalesSetting))

    class Arguments:
        input = graphene.List(
            graphene.NonNull(AftersalesSettingInput),
            required=True,
            description="The settings to change; the others keep their values.",
        )

    class Meta:
        description = (
            "Change the shop's after-sales settings (return windows, service "
            "levels, shopper e-mails, ...): each is checked, and none is saved "
            "unless all are good."
        )
        permissions = (api.MANAGE_APPS, api.MANAGE_ORDERS)

    @classmethod
    def perform_mutation(cls, _root, _info, input):
        by_name = {setting.name: setting for setting in table.SETTINGS}
        values = {}
        for item in input:
            setting = by_name.get(item["name"])
            if setting is None:
                raise aftersales_error(
                    "input", f"No setting is called {item['name']!r}.", Code.INVALID
                )
            value = clean_text(item, "value", max_length=MAX_VALUE_LENGTH)
            values[setting.name] = (
                table.switch(setting.name, value)
                if setting.kind == table.SWITCH
                else value
            )
        stored = host.plugin_configuration(table.PLUGIN_ID)
        # A bad value is refused by its setting's name (code INVALID).
        table.settings_from_configuration({**stored, **values})
        host.save_plugin_configuration(table.PLUGIN_ID, values)
        return cls.success(settings=shown())
