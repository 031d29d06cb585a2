"""The GraphQL parts of the Saleor 3.23 app, loaded by ``graphql/host.py``.

The app serves the same API as the 2.10 plugin, standing alone: its own base
classes (``graphene_base.py``), its own view (``graphql_view.py``), and types
named as Saleor's (Order, OrderLine, User, ProductVariant, ProductType) with the
fields a returns page and the desk read, drawn from the order copy. Their IDs are
Saleor's own global IDs, so a storefront passes the IDs it has from Saleor.

Records behind IDs: orders are read from Saleor (with the app's token) when a
client names one; order lines, warehouses and staff are their IDs (the core checks
a line belongs to the order; the returns warehouse is the only one restocked).
"""

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Iterable, List, Optional, Tuple

import graphene

from ...models import ShopOrder, ShopOrderLine
from ...port import OrderFacts
from . import client
from .facts import ORDER_FIELDS, order_token
from .facts import order_facts as facts_of_order
from .graphene_base import (  # noqa: F401
    BaseMutation,
    CountableDjangoObjectType,
    DataLoader,
    DateRangeInput,
    DecimalScalar,
    FilterInputConnectionField,
    FilterInputObjectType,
    ListObjectTypeFilter,
    MoneyType,
    ObjectTypeFilter,
    PermissionDenied,
    PrefetchingConnectionField,
    SortInputObjectType,
    Upload,
    from_global_cursor,
)
from .graphql_view import GraphQLView  # noqa: F401
from .identity import MANAGE_ORDERS, Viewer, has_permission
from .shop import Warehouse, current_shop, ref, user_ref  # noqa: F401

MANAGE_APPS = "MANAGE_APPS"


# Who is asking --------------------------------------------------------------------


def actor_of(user, app) -> Tuple[Optional[Viewer], None]:
    return (user if isinstance(user, Viewer) else None), None


def has_manage_orders(user, app) -> bool:
    return has_permission(user, app, MANAGE_ORDERS)


def may_see_account(viewer: Optional[Viewer], account: Optional[Viewer]) -> bool:
    """Staff see every account; a shopper their own."""
    if viewer is None or account is None:
        return False
    return has_manage_orders(viewer, None) or viewer.user_ref == account.user_ref


# Records --------------------------------------------------------------------------


@dataclass
class OrderLineRecord:
    pk: str
    product_name: str = ""
    variant_name: str = ""
    product_sku: str = ""
    quantity: int = 0
    quantity_fulfilled: int = 0
    variant_ref: str = ""
    product_ref: str = ""


@dataclass
class OrderRecord:
    """A Saleor order as the app shows it: from the copy, or just read."""

    pk: str
    number: str
    created: datetime
    user_email: str
    status: str
    lines: List[OrderLineRecord] = field(default_factory=list)
    facts: Optional[OrderFacts] = None
    address: Tuple[str, str, str] = ("", "", "")


@dataclass
class ProductRecord:
    pk: str
    name: str = ""


@dataclass
class VariantRecord:
    """A variant as the core reads one (the port's ``variants_by_ref``): its
    ``name``, ``sku``, ``product.name``, and ``product_id``, the product's
    reference (its global ID, as the order copy's ``product_ref``)."""

    pk: str
    name: str = ""
    sku: str = ""
    product: ProductRecord = field(default_factory=lambda: ProductRecord(""))

    @property
    def product_id(self) -> str:
        return self.product.pk


@dataclass
class ProductTypeRecord:
    pk: str
    name: str = ""


def _line_record(line) -> OrderLineRecord:
    """An order line as the app shows it, from the copy's line (``ShopOrderLine``)
    or from facts just read (``LineFacts``: the same names)."""
    return OrderLineRecord(
        pk=line.host_id,
        product_name=line.product_name,
        variant_name=line.variant_name,
        product_sku=line.sku,
        quantity=line.quantity,
        quantity_fulfilled=line.quantity_fulfilled,
        variant_ref=line.variant_ref,
        product_ref=line.product_ref,
    )


def _order_record(order: ShopOrder) -> OrderRecord:
    return OrderRecord(
        pk=order.host_id,
        number=order.number,
        created=order.placed_at,
        user_email=order.user_email,
        status=order.status,
        lines=[_line_record(line) for line in order.lines.all()],
    )


def orders_by_ref(references: Iterable[str]) -> Dict[str, OrderRecord]:
    orders = ShopOrder.objects.filter(host_id__in=set(references)).prefetch_related(
        "lines"
    )
    return {order.host_id: _order_record(order) for order in orders}


def order_lines_by_ref(references: Iterable[str]) -> Dict[str, OrderLineRecord]:
    lines = ShopOrderLine.objects.filter(host_id__in=set(references))
    return {line.host_id: _line_record(line) for line in lines}


def users_by_ref(references: Iterable[str]) -> Dict[str, Viewer]:
    """Accounts as the app knows them offline: the e-mail of their latest order."""
    references = set(references)
    emails = dict(
        ShopOrder.objects.filter(customer_ref__in=references)
        .order_by("customer_ref", "-placed_at")
        .distinct("customer_ref")
        .values_list("customer_ref", "user_email")
    )
    return {
        reference: Viewer(
            user_ref=reference, email=emails.get(reference, ""), is_staff=False
        )
        for reference in references
    }


def variants_by_ref(references: Iterable[str]) -> Dict[str, VariantRecord]:
    lines = ShopOrderLine.objects.filter(variant_ref__in=set(references))
    return {
        line.variant_ref: VariantRecord(
            line.variant_ref,
            line.variant_name,
            line.sku,
            ProductRecord(line.product_ref, line.product_name),
        )
        for line in lines
    }


PRODUCT_TYPES = """
query AftersalesProductTypes($ids: [ID!]) {
  productTypes(first: 100, filter: {ids: $ids}) { edges { node { id name } } }
}
"""


def product_types_by_ref(references: Iterable[str]) -> Dict[str, ProductTypeRecord]:
    references = sorted(set(r for r in references if r))
    if not references:
        return {}
    data = client.ask(current_shop(), PRODUCT_TYPES, {"ids": references})
    return {
        edge["node"]["id"]: ProductTypeRecord(edge["node"]["id"], edge["node"]["name"])
        for edge in data["productTypes"]["edges"]
    }


def gift_cards_by_ref(references: Iterable[str]) -> dict:
    """Store credit is not issued on this host yet: no gift cards to show."""
    return {}


# Orders named by a client -------------------------------------------------------

ORDER_WITH_ADDRESS = (
    ORDER_FIELDS
    + """
query AftersalesOrderShown($id: ID!) {
  order(id: $id) {
    ...AftersalesOrder
    shippingAddress { firstName lastName city country { code } }
    billingAddress { firstName lastName city country { code } }
  }
}
"""
)


def _address(data: dict) -> Tuple[str, str, str]:
    address = data.get("shippingAddress") or data.get("billingAddress")
    if not address:
        return "", "", ""
    name = f"{address.get('firstName') or ''} {address.get('lastName') or ''}"
    country = (address.get("country") or {}).get("code") or ""
    return name.strip(), address.get("city") or "", country


def read_order(global_id: str) -> Optional[OrderRecord]:
    """The order as Saleor has it now; None if Saleor has no such order (or it
    is a draft, which no one claims)."""
    data = client.ask(current_shop(), ORDER_WITH_ADDRESS, {"id": global_id})
    order = data.get("order")
    if not order or order["status"] == "DRAFT":
        return None
    facts = facts_of_order(order)
    return OrderRecord(
        pk=facts.host_id,
        number=facts.number,
        created=facts.placed_at,
        user_email=facts.user_email,
        status=facts.status,
        facts=facts,
        address=_address(order),
    )


def order_facts(order: OrderRecord) -> OrderFacts:
    return order.facts


def product_global_id(product_ref: str) -> str:
    """The core keeps Saleor 3's product IDs as they are."""
    return product_ref


def order_global_id(token: str) -> str:
    """Saleor 3's order token is its UUID: the order's global ID names it."""
    return base64.b64encode(f"Order:{token}".encode()).decode()


def order_by_token(token: str) -> Optional[OrderRecord]:
    return read_order(order_global_id(token))


GUEST_ORDERS = """
query AftersalesGuestOrder($number: [String!], $email: String) {
  orders(first: 2, filter: {numbers: $number, search: $email}) {
    edges { node { id number status userEmail user { id } } }
  }
}
"""


def guest_order(number: str, email: str) -> Optional[Tuple[str, str]]:
    """(token, number) of the guest order with this number and e-mail, as the
    2.10 plugin's "find my order": accounts' orders are found by signing in."""
    number = (number or "").strip().lstrip("#")
    email = (email or "").strip()
    if not (number.isascii() and number.isdigit()) or len(number) > 12 or not email:
        return None
    data = client.ask(
        current_shop(), GUEST_ORDERS, {"number": [str(int(number))], "email": email}
    )
    for edge in data["orders"]["edges"]:
        order = edge["node"]
        if (
            order["user"] is None
            and order["status"] != "DRAFT"
            and (order["userEmail"] or "").lower() == email.lower()
            and order["number"] == str(int(number))
        ):
            return order_token(order["id"]), order["number"]
    return None


def sent_to(order: OrderRecord) -> Tuple[str, str, str]:
    return order.address


def _variants(global_ids: List[str]) -> Dict[str, VariantRecord]:
    data = client.ask(
        current_shop(),
        "query($ids: [ID!]) { productVariants(first: 100, ids: $ids) "
        "{ edges { node { id name sku product { id name } } } } }",
        {"ids": global_ids},
    )
    return {
        edge["node"]["id"]: VariantRecord(
            edge["node"]["id"],
            edge["node"]["name"],
            edge["node"]["sku"] or "",
            ProductRecord(
                edge["node"]["product"]["id"], edge["node"]["product"]["name"]
            ),
        )
        for edge in data["productVariants"]["edges"]
    }


def nodes_by_id(type_name: str, global_ids: Iterable[str]) -> Dict[str, object]:
    """The records behind global IDs of ``type_name`` (checked by the caller)."""
    global_ids = list(global_ids)
    if type_name == "Order":
        found = {gid: read_order(gid) for gid in global_ids}
        return {gid: record for gid, record in found.items() if record is not None}
    if type_name == "OrderLine":
        return {gid: OrderLineRecord(pk=gid) for gid in global_ids}
    if type_name == "ProductVariant":
        return _variants(global_ids)
    if type_name == "ProductType":
        return product_types_by_ref(global_ids)
    if type_name == "Warehouse":
        return {gid: Warehouse(pk=gid) for gid in global_ids}
    if type_name == "User":
        return {
            gid: Viewer(user_ref=gid, email="", is_staff=True) for gid in global_ids
        }
    raise KeyError(type_name)


# Saleor's types, as far as the app shows them ----------------------------------


class SaleorNode(graphene.ObjectType):
    """A record of Saleor's, shown by Saleor's own global ID."""

    id = graphene.ID(required=True)

    class Meta:
        abstract = True

    @staticmethod
    def resolve_id(root, _info):
        return root if isinstance(root, str) else root.pk


PRODUCT_VARIANTS = """
query AftersalesProductVariants($ids: [ID!]) {
  products(first: 100, filter: {ids: $ids}) {
    edges { node { id variants { id name sku } } }
  }
}
"""


def variants_of_products(references: Iterable[str]) -> Dict[str, List[VariantRecord]]:
    """The variants Saleor offers of each product (exchanges pick from them)."""
    references = sorted(set(r for r in references if r))
    if not references:
        return {}
    data = client.ask(current_shop(), PRODUCT_VARIANTS, {"ids": references})
    return {
        edge["node"]["id"]: [
            VariantRecord(
                v["id"], v["name"], v["sku"] or "", ProductRecord(edge["node"]["id"])
            )
            for v in edge["node"]["variants"] or []
        ]
        for edge in data["products"]["edges"]
    }


class VariantsOfProduct(DataLoader):
    context_key = "aftersales_app_variants_of_product"

    def batch_load(self, keys):
        found = variants_of_products(keys)
        return [found.get(key, []) for key in keys]


class ProductObjectType(SaleorNode):
    variants = graphene.List(lambda: ProductVariantType)

    class Meta:
        name = "Product"
        description = "A product, in Saleor."

    @staticmethod
    def resolve_variants(root: str, info):
        return VariantsOfProduct(info.context).load(root)


class ProductVariantType(SaleorNode):
    name = graphene.String(required=True)
    sku = graphene.String(required=True)
    product = graphene.Field(ProductObjectType, required=True)

    class Meta:
        name = "ProductVariant"
        description = "A variant of a product, in Saleor."

    @staticmethod
    def resolve_product(root: VariantRecord, _info):
        return root.product.pk or None


class ProductTypeType(SaleorNode):
    name = graphene.String(required=True)

    class Meta:
        name = "ProductType"
        description = "A product type, in Saleor."


class OrderLineType(SaleorNode):
    product_name = graphene.String(required=True)
    variant_name = graphene.String(required=True)
    product_sku = graphene.String(required=True)
    quantity = graphene.Int(required=True)
    quantity_fulfilled = graphene.Int(required=True)
    variant = graphene.Field(ProductVariantType)

    class Meta:
        name = "OrderLine"
        description = "A line of a Saleor order, as the app copied it."

    @staticmethod
    def resolve_variant(root: OrderLineRecord, _info):
        if not root.variant_ref:
            return None
        return VariantRecord(
            root.variant_ref,
            root.variant_name,
            root.product_sku,
            ProductRecord(root.product_ref, root.product_name),
        )


class OrderType(SaleorNode):
    number = graphene.String()
    created = graphene.DateTime(required=True)
    user_email = graphene.String()
    status = graphene.String(required=True)
    lines = graphene.List(OrderLineType, required=True)

    class Meta:
        name = "Order"
        description = "A Saleor order, as the app copied it."

    @staticmethod
    def resolve_status(root: OrderRecord, _info):
        return root.status.upper()

    @staticmethod
    def resolve_lines(root: OrderRecord, _info):
        if root.lines or root.facts is None:
            return root.lines
        # The order's lines as Saleor has them now (named like the copy's).
        return [_line_record(line) for line in root.facts.lines]


class UserType(graphene.ObjectType):
    id = graphene.ID(required=True)
    email = graphene.String(required=True)

    class Meta:
        name = "User"
        description = "A Saleor account."

    @staticmethod
    def resolve_id(root: Viewer, _info):
        return root.user_ref


# The schema stands alone: nothing of Saleor's to extend.


class SaleorQuery(graphene.ObjectType):
    pass


class SaleorMutation(graphene.ObjectType):
    pass


def build_schema(query, mutation):
    return graphene.Schema(query=query, mutation=mutation)
