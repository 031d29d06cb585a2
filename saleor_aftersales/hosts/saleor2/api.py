"""The GraphQL parts of the Saleor 2.10 host, loaded by ``graphql/host.py``.

Saleor 2.10 has no GraphQL extension point: the plugin builds its schema from
Saleor's Query/Mutation plus its own, with Saleor's base classes and Saleor's own
Order, OrderLine, User, ProductVariant and ProductType types, so it behaves as
Saleor does. Below them: Saleor's records behind the IDs a client sends.
"""

from typing import Dict, Iterable, Optional, Tuple

from graphene import Node
from graphene_federation import build_schema  # noqa: F401
from graphql_jwt.exceptions import PermissionDenied  # noqa: F401
from saleor.graphql.account.types import User as UserType  # noqa: F401
from saleor.graphql.api import Mutation as SaleorMutation  # noqa: F401
from saleor.graphql.api import Query as SaleorQuery  # noqa: F401
from saleor.graphql.core.connection import CountableDjangoObjectType  # noqa: F401
from saleor.graphql.core.connection import from_global_cursor  # noqa: F401
from saleor.graphql.core.dataloaders import DataLoader  # noqa: F401
from saleor.graphql.core.fields import FilterInputConnectionField  # noqa: F401
from saleor.graphql.core.fields import PrefetchingConnectionField  # noqa: F401
from saleor.graphql.core.filters import ListObjectTypeFilter  # noqa: F401
from saleor.graphql.core.filters import ObjectTypeFilter  # noqa: F401
from saleor.graphql.core.mutations import BaseMutation  # noqa: F401
from saleor.graphql.core.scalars import Decimal as DecimalScalar  # noqa: F401
from saleor.graphql.core.types import FilterInputObjectType  # noqa: F401
from saleor.graphql.core.types import SortInputObjectType  # noqa: F401
from saleor.graphql.core.types import Money as MoneyType  # noqa: F401
from saleor.graphql.core.types.common import DateRangeInput  # noqa: F401
from saleor.graphql.core.types.upload import Upload  # noqa: F401
from saleor.graphql.order.types import Order as OrderType  # noqa: F401
from saleor.graphql.order.types import OrderLine as OrderLineType  # noqa: F401
from saleor.graphql.product.types import ProductType as ProductTypeType  # noqa: F401
from saleor.graphql.product.types import ProductVariant as ProductVariantType  # noqa
from saleor.graphql.views import GraphQLView  # noqa: F401

from .shop import (  # noqa: F401
    MANAGE_APPS,
    MANAGE_ORDERS,
    Order,
    OrderLine,
    ProductType,
    ProductVariant,
    User,
    Warehouse,
    actor_of,
    gift_cards_by_ref,
    has_manage_orders,
    has_permission,
    may_see_account,
    order_by_number_and_email,
    order_facts,
    order_lines_by_ref,
    orders_by_ref,
    product_types_by_ref,
    ref,
    user_ref,
    users_by_ref,
    variants_by_ref,
)

# The records a client may name by ID, as the plugin looks them up: variants only
# of published products (the ones offered as replacements), any staff member.
LOOKUPS = {
    "Order": lambda: Order.objects.all(),
    "OrderLine": lambda: OrderLine.objects.only("pk"),
    "ProductVariant": lambda: ProductVariant.objects.filter(product__is_published=True),
    "ProductType": lambda: ProductType.objects.all(),
    "Warehouse": lambda: Warehouse.objects.all(),
    "User": lambda: User.objects.all(),
}


def product_global_id(product_ref: str) -> str:
    """The ID Saleor's API gives the product the core knows by ``product_ref``."""
    return Node.to_global_id("Product", product_ref)


def nodes_by_id(type_name: str, global_ids: Iterable[str]) -> Dict[str, object]:
    """Saleor's records of one type behind global IDs of that type (checked by
    the caller), in one query; IDs of no record are left out. A malformed key
    raises ValueError or ValidationError."""
    keys = {global_id: Node.from_global_id(global_id)[1] for global_id in global_ids}
    found = {
        str(record.pk): record
        for record in LOOKUPS[type_name]().filter(pk__in=set(keys.values()))
    }
    return {
        global_id: found[str(key)]
        for global_id, key in keys.items()
        if str(key) in found
    }


def order_by_token(token: str) -> Optional[Order]:
    return Order.objects.filter(token=str(token)).first()


def guest_order(number: str, email: str) -> Optional[Tuple[str, str]]:
    """(token, number) of the guest order with this number and e-mail."""
    order = order_by_number_and_email(number, email)
    return (order.token, str(order.pk)) if order is not None else None


def sent_to(order: Order) -> Tuple[str, str, str]:
    """(name, city, country code) a returns page names: the shipping address,
    else the billing one; blanks when there is none."""
    address = order.shipping_address or order.billing_address
    if address is None:
        return "", "", ""
    name = f"{address.first_name} {address.last_name}".strip()
    return name, address.city or "", address.country.code or ""


saleor_urls = "saleor.urls"
