"""Sample goods and orders in a Saleor 3.23, made through its own GraphQL API as
a staff member would (so Saleor sends its webhooks): a product sold in the default
channel from the default warehouse, orders placed from drafts, paid, fulfilled."""

from dataclasses import dataclass

ADDRESS = (
    '{firstName: "Ann", lastName: "Lee", streetAddress1: "1 Main St",'
    ' city: "New York", postalCode: "10001", country: US, countryArea: "NY"}'
)


SHOP_ADDRESS = (
    '{companyName: "Demo Outdoor", streetAddress1: "2 Harbour Rd",'
    ' city: "New York", postalCode: "10002", country: US, countryArea: "NY"}'
)


class SaleorRefused(Exception):
    pass


def _call(saleor, token, query, variables=None, field=None):
    content = saleor.graphql(query, variables, token=token)
    if content.get("errors"):
        raise SaleorRefused(content["errors"])
    data = content["data"]
    result = data[field] if field else data
    if isinstance(result, dict) and result.get("errors"):
        raise SaleorRefused(result["errors"])
    return result


@dataclass
class Goods:
    channel: str
    warehouse: str
    variant: str


def set_shop_address(saleor, token) -> None:
    """The shop's company address (where returns go)."""
    _call(
        saleor,
        token,
        f"mutation {{ shopAddressUpdate(input: {SHOP_ADDRESS})"
        " { errors { field code message } } }",
        field="shopAddressUpdate",
    )


def listed_product(saleor, token, *, name: str, type_name: str, has_variants: bool):
    """(channel, default warehouse, product): a product published and available
    in the default channel, of a new product type that ships nothing."""
    channel = _call(saleor, token, "{ channels { id slug } }")["channels"][0]["id"]
    warehouses = _call(
        saleor, token, "{ warehouses(first: 20) { edges { node { id name } } } }"
    )["warehouses"]["edges"]
    warehouse = next(
        edge["node"]["id"]
        for edge in warehouses
        if edge["node"]["name"] == "Default Warehouse"
    )
    product_type = _call(
        saleor,
        token,
        "mutation($name: String!, $variants: Boolean!) { productTypeCreate(input:"
        " {name: $name, kind: NORMAL, isShippingRequired: false,"
        " hasVariants: $variants}) { productType { id }"
        " errors { field code message } } }",
        {"name": type_name, "variants": has_variants},
        field="productTypeCreate",
    )["productType"]["id"]
    category = _call(
        saleor,
        token,
        'mutation { categoryCreate(input: {name: "Outdoor"})'
        " { category { id } errors { field code message } } }",
        field="categoryCreate",
    )["category"]["id"]
    product = _call(
        saleor,
        token,
        "mutation($type: ID!, $category: ID!, $name: String!) { productCreate("
        "input: {productType: $type, category: $category, name: $name})"
        " { product { id } errors { field code message } } }",
        {"type": product_type, "category": category, "name": name},
        field="productCreate",
    )["product"]["id"]
    _call(
        saleor,
        token,
        "mutation($id: ID!, $channel: ID!) { productChannelListingUpdate(id: $id,"
        " input: {updateChannels: [{channelId: $channel, isPublished: true,"
        " visibleInListings: true, isAvailableForPurchase: true}]})"
        " { errors { field code message } } }",
        {"id": product, "channel": channel},
        field="productChannelListingUpdate",
    )
    return channel, warehouse, product


def make_goods(saleor, token, *, sku="JACKET-M", price=25, stock=1000) -> Goods:
    """A variant on sale in the default channel, in stock in its warehouse."""
    channel, warehouse, product = listed_product(
        saleor, token, name="Rain jacket", type_name="Jackets", has_variants=False
    )
    variant = _call(
        saleor,
        token,
        "mutation($product: ID!, $sku: String!) { productVariantCreate(input:"
        " {product: $product, sku: $sku, attributes: [], trackInventory: true})"
        " { productVariant { id } errors { field code message } } }",
        {"product": product, "sku": sku},
        field="productVariantCreate",
    )["productVariant"]["id"]
    _call(
        saleor,
        token,
        "mutation($id: ID!, $channel: ID!, $price: PositiveDecimal!)"
        " { productVariantChannelListingUpdate(id: $id, input: [{channelId: $channel,"
        " price: $price}]) { errors { field code message } } }",
        {"id": variant, "channel": channel, "price": price},
        field="productVariantChannelListingUpdate",
    )
    _call(
        saleor,
        token,
        "mutation($id: ID!, $warehouse: ID!, $quantity: Int!)"
        " { productVariantStocksCreate(variantId: $id, stocks: [{warehouse:"
        " $warehouse, quantity: $quantity}]) { errors { field code message } } }",
        {"id": variant, "warehouse": warehouse, "quantity": stock},
        field="productVariantStocksCreate",
    )
    return Goods(channel=channel, warehouse=warehouse, variant=variant)


def place_order(
    saleor, token, goods: Goods, email: str, quantity: int, user: str = None
) -> dict:
    """An order placed from a draft (unpaid, unfulfilled): its id and line ids.
    ``user``: the account's global id, for an account's order; a guest's without."""
    draft = _call(
        saleor,
        token,
        "mutation($channel: ID!, $variant: ID!, $email: String!, $quantity: Int!,"
        " $user: ID) { draftOrderCreate(input: {channelId: $channel, user: $user,"
        " userEmail: $email, lines: [{variantId: $variant, quantity: $quantity}],"
        f" billingAddress: {ADDRESS}}}) {{ order {{ id }}"
        " errors { field code message } } }",
        {
            "channel": goods.channel,
            "variant": goods.variant,
            "email": email,
            "quantity": quantity,
            "user": user,
        },
        field="draftOrderCreate",
    )["order"]["id"]
    return _call(
        saleor,
        token,
        "mutation($id: ID!) { draftOrderComplete(id: $id) { order { id number"
        " lines { id quantity } } errors { field code message } } }",
        {"id": draft},
        field="draftOrderComplete",
    )["order"]


def mark_paid(saleor, token, order_id: str) -> None:
    _call(
        saleor,
        token,
        "mutation($id: ID!) { orderMarkAsPaid(id: $id)"
        " { errors { field code message } } }",
        {"id": order_id},
        field="orderMarkAsPaid",
    )


def fulfill(saleor, token, goods: Goods, order: dict) -> None:
    """Ship every line of ``order`` from the goods' warehouse."""
    lines = [
        {
            "orderLineId": line["id"],
            "stocks": [{"quantity": line["quantity"], "warehouse": goods.warehouse}],
        }
        for line in order["lines"]
    ]
    _call(
        saleor,
        token,
        "mutation($id: ID!, $lines: [OrderFulfillLineInput!]!) { orderFulfill("
        "order: $id, input: {lines: $lines, notifyCustomer: false})"
        " { errors { field code message } } }",
        {"id": order["id"], "lines": lines},
        field="orderFulfill",
    )


CHECKOUT_CREATE = (
    "mutation($variant: ID!, $quantity: Int!, $email: String!) {"
    ' checkoutCreate(input: {channel: "default-channel", email: $email,'
    " lines: [{variantId: $variant, quantity: $quantity}],"
    f" billingAddress: {ADDRESS}}})"
    " { checkout { id totalPrice { gross { amount } } }"
    " errors { field code message } } }"
)
CHECKOUT_PAY = (
    "mutation($id: ID!, $amount: PositiveDecimal!) {"
    ' checkoutPaymentCreate(id: $id, input: {gateway: "mirumee.payments.dummy",'
    ' token: "charged", amount: $amount}) { errors { field code message } } }'
)
CHECKOUT_COMPLETE = (
    "mutation($id: ID!) { checkoutComplete(id: $id) {"
    " order { id number lines { id quantity } } errors { field code message } } }"
)


def bought_with_dummy(saleor, token, goods: Goods, email: str, quantity: int) -> dict:
    """An order a shopper placed at the storefront's checkout (``token``: theirs;
    empty for a guest) and paid through Saleor's Dummy gateway (a legacy payment
    plugin, captured at once): its id, number and line ids."""
    checkout = _call(
        saleor,
        token,
        CHECKOUT_CREATE,
        {"variant": goods.variant, "quantity": quantity, "email": email},
        field="checkoutCreate",
    )["checkout"]
    _call(
        saleor,
        token,
        CHECKOUT_PAY,
        {"id": checkout["id"], "amount": checkout["totalPrice"]["gross"]["amount"]},
        field="checkoutPaymentCreate",
    )
    return _call(
        saleor,
        token,
        CHECKOUT_COMPLETE,
        {"id": checkout["id"]},
        field="checkoutComplete",
    )["order"]
