"""The port (``port.Shop``) on Saleor 3.23, reached over its GraphQL API with the
app's token. Grows operation by operation; what it doesn't provide yet, the core
can't ask of this host (the proxy raises AttributeError naming it)."""

from typing import Any, Dict

from django.conf import settings


def ref(key: Any) -> str:
    """Saleor 3's ids are global ids already: the core keeps them as they are."""
    return "" if key is None else str(key)


def shop_domain() -> str:
    return settings.APP_URL.split("://", 1)[-1]


def plugin_configuration(plugin_id: str) -> Dict[str, object]:
    """The app's settings for this shop (the defaults until the app's settings
    page stores some)."""
    return {}
