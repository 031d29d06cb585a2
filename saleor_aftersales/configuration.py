"""The shop's settings as its host stores them (on Saleor 2.10: the plugin's
configuration), read through the table in ``settings.py``."""

from .port import host
from .settings import PLUGIN_ID, AftersalesSettings, settings_from_configuration


def get_settings() -> AftersalesSettings:
    """The shop's current settings (one query: the host's stored configuration)."""
    return settings_from_configuration(host.plugin_configuration(PLUGIN_ID))
