"""Saleor 3.23's orders as the core copies them: the GraphQL selection the app
subscribes to (webhooks) and fetches on demand, and its translation into the
port's ``OrderFacts``. Ids stay Saleor's global ids (orders are UUIDs in 3.x)."""

import base64
import binascii
from datetime import datetime
from decimal import Decimal
from typing import List, Optional

from ...port import LineFacts, OrderFacts, ShippedUnits

ORDER_FIELDS = """
fragment AftersalesOrder on Order {
  id number status userEmail created updatedAt
  user { id }
  channel { slug }
  total { gross { amount currency } }
  shippingPrice { gross { amount } }
  lines {
    id productName variantName productSku quantity quantityFulfilled
    unitPrice { gross { amount } }
    variant { id product { id productType { id } } }
  }
  fulfillments { status created lines { id quantity orderLine { id } } }
}
"""

ORDER_QUERY = (
    ORDER_FIELDS
    + """
query AftersalesOrder($id: ID!) { order(id: $id) { ...AftersalesOrder } }
"""
)

# Fulfillments whose units reached the customer: still with them, or since
# returned, refunded or replaced (Saleor moves returned units out of FULFILLED).
DELIVERED = {"FULFILLED", "RETURNED", "REFUNDED", "REFUNDED_AND_RETURNED", "REPLACED"}
# Shipment lines that carry warranty cards: those still FULFILLED (a return moves
# units to new lines, whose cards were issued for the original ones).
SHIPPED = {"FULFILLED"}


def order_token(global_id: str) -> str:
    """An order's token in Saleor 3: the UUID its global ID names (what a guest
    holds from the order confirmation)."""
    try:
        type_name, _, key = base64.b64decode(global_id).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return key if type_name == "Order" else ""


def _moment(value: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(value) if value else None


def order_facts(order: dict) -> OrderFacts:
    """The facts of one order from the ``AftersalesOrder`` selection."""
    shipped_at = {}
    for fulfillment in order.get("fulfillments") or []:
        if fulfillment["status"] not in DELIVERED:
            continue
        created = _moment(fulfillment["created"])
        for line in fulfillment["lines"] or []:
            line_id = line["orderLine"]["id"] if line.get("orderLine") else None
            if line_id and (line_id not in shipped_at or created > shipped_at[line_id]):
                shipped_at[line_id] = created
    currency = order["total"]["gross"]["currency"]
    lines = []
    for line in order.get("lines") or []:
        variant = line.get("variant") or {}
        product = variant.get("product") or {}
        lines.append(
            LineFacts(
                host_id=line["id"],
                variant_ref=variant.get("id") or "",
                product_ref=product.get("id") or "",
                product_type_ref=(product.get("productType") or {}).get("id") or "",
                product_name=line["productName"],
                variant_name=line.get("variantName") or "",
                sku=line.get("productSku") or "",
                unit_price_gross=Decimal(str(line["unitPrice"]["gross"]["amount"])),
                quantity=line["quantity"],
                quantity_fulfilled=line["quantityFulfilled"],
                fulfilled_at=shipped_at.get(line["id"]),
            )
        )
    return OrderFacts(
        host_id=order["id"],
        number=str(order["number"]),
        status=order["status"].lower(),
        user_email=order.get("userEmail") or "",
        currency=currency,
        total_gross=Decimal(str(order["total"]["gross"]["amount"])),
        shipping_gross=Decimal(str(order["shippingPrice"]["gross"]["amount"])),
        placed_at=_moment(order["created"]),
        lines=tuple(lines),
        customer_ref=(order.get("user") or {}).get("id") or "",
        # A guest proves the order theirs with its token; an account signs in.
        guest_token="" if order.get("user") else order_token(order["id"]),
        channel=order["channel"]["slug"],
        # Saleor's own clock orders webhooks and live reads alike.
        as_of=_moment(order.get("updatedAt")),
    )


def shipped_units(order: dict) -> List[ShippedUnits]:
    """Units of the order that left in its fulfilled shipments, per shipment line
    (one warranty card each)."""
    return [
        ShippedUnits(
            host_id=line["id"],
            order_line_ref=line["orderLine"]["id"],
            quantity=line["quantity"],
            shipped_at=_moment(fulfillment["created"]),
        )
        for fulfillment in order.get("fulfillments") or []
        if fulfillment["status"] in SHIPPED
        for line in fulfillment["lines"] or []
        if line.get("orderLine")
    ]
