"""Orders of many lines in a Saleor 3.23, made through its GraphQL API as staff
would (so Saleor sends its webhooks): one product with many variants, in stock
and on sale in the default channel, and orders of one unit per variant, placed
from a draft and marked paid (a legacy payment, refunded with ``orderRefund``).
For the query count tests and the benchmarks."""

from dataclasses import dataclass
from typing import List

from demo import saleor3_shop as shop

call = shop._call


@dataclass
class ManyGoods:
    channel: str
    warehouse: str  # Saleor's default warehouse, where the variants are in stock
    variants: List[str]


def make_variants(saleor, token: str, count: int, sku: str = "SOCKS") -> ManyGoods:
    """``count`` variants of one product (one ``productVariantBulkCreate``)."""
    channel, warehouse, product = shop.listed_product(
        saleor, token, name="Socks", type_name="Socks", has_variants=True
    )
    variants = [
        {
            "sku": f"{sku}-{index:02d}",
            "attributes": [],
            "trackInventory": True,
            "channelListings": [{"channelId": channel, "price": 10}],
            "stocks": [{"warehouse": warehouse, "quantity": 1_000_000}],
        }
        for index in range(count)
    ]
    created = call(
        saleor,
        token,
        "mutation($product: ID!, $variants: [ProductVariantBulkCreateInput!]!)"
        " { productVariantBulkCreate(product: $product, variants: $variants)"
        " { productVariants { id } errors { field code message } } }",
        {"product": product, "variants": variants},
        field="productVariantBulkCreate",
    )["productVariants"]
    return ManyGoods(channel, warehouse, [variant["id"] for variant in created])


def place_paid_order(
    saleor, token: str, goods: ManyGoods, lines: int, email: str, user: str = None
) -> dict:
    """An order of one unit of each of the first ``lines`` variants, placed from a
    draft and marked paid: its id, number and line ids. ``user``: the account's
    global id (a guest's order without)."""
    draft = call(
        saleor,
        token,
        "mutation($channel: ID!, $email: String!, $user: ID,"
        " $lines: [OrderLineCreateInput!]!) { draftOrderCreate(input: {channelId:"
        " $channel, user: $user, userEmail: $email, lines: $lines,"
        f" billingAddress: {shop.ADDRESS}}}) {{ order {{ id }}"
        " errors { field code message } } }",
        {
            "channel": goods.channel,
            "email": email,
            "user": user,
            "lines": [
                {"variantId": variant, "quantity": 1}
                for variant in goods.variants[:lines]
            ],
        },
        field="draftOrderCreate",
    )["order"]["id"]
    order = call(
        saleor,
        token,
        "mutation($id: ID!) { draftOrderComplete(id: $id) { order { id number"
        " lines { id quantity } } errors { field code message } } }",
        {"id": draft},
        field="draftOrderComplete",
    )["order"]
    shop.mark_paid(saleor, token, order["id"])
    return order


def fulfill(saleor, token: str, goods: ManyGoods, order: dict) -> None:
    """Ship every line of ``order`` from the default warehouse."""
    shop.fulfill(saleor, token, goods, order)
