"""The port (``port.Shop``) on Saleor 3.23, reached over its GraphQL API with the
app's token. Grows operation by operation; what it doesn't provide yet, the core
can't ask of this host (the proxy raises AttributeError naming it)."""

from dataclasses import replace
from typing import Any, Dict, Optional

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from ...port import OrderFacts
from . import client
from .facts import ORDER_FIELDS, order_facts
from .models import SaleorShop

ORDER_QUERY = (
    ORDER_FIELDS
    + """
query AftersalesOrder($id: ID!) { order(id: $id) { ...AftersalesOrder } }
"""
)


def current_shop() -> SaleorShop:
    """The Saleor this app works for. One for now: serving several from one
    database needs the core's rows to name their shop (see docs/ARCHITECTURE.md)."""
    shops = list(SaleorShop.objects.all()[:2])
    if len(shops) != 1:
        raise ImproperlyConfigured(
            "The app must be installed in exactly one Saleor "
            f"(installed in {len(shops)})."
        )
    return shops[0]


def fetch_order_facts(order_id: str) -> Optional[OrderFacts]:
    """An order's facts read from Saleor now (one the webhooks haven't brought,
    or to be sure), as of the moment of reading; None if Saleor has no such
    order."""
    shop = current_shop()
    now = timezone.now()
    data = client.graphql(shop.api_url, shop.token, ORDER_QUERY, {"id": order_id})
    if not data.get("order"):
        return None
    facts = order_facts(data["order"])
    return replace(facts, as_of=now)


def ref(key: Any) -> str:
    """Saleor 3's ids are global ids already: the core keeps them as they are."""
    return "" if key is None else str(key)


def shop_domain() -> str:
    return settings.APP_URL.split("://", 1)[-1]


def plugin_configuration(plugin_id: str) -> Dict[str, object]:
    """The app's settings for this shop (the defaults until the app's settings
    page stores some)."""
    return {}
