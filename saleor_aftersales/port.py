"""What a shop tells the core about its orders: plain facts, the same on every host.

A host (the Saleor 2.10 plugin, the Saleor 3.23 app) reads its own records and
hands the core these values; the core keeps them as its copy of the order
(``orders.py``) and never reads the host's tables. Ids are the host's own, as text
(Saleor 2.10: the primary key; Saleor 3.23: the GraphQL id); references to
variants, products and product types likewise.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Optional, Tuple


@dataclass(frozen=True)
class LineFacts:
    """One order line: what was sold, at what price, how much of it went out."""

    host_id: str
    product_name: str
    variant_name: str
    sku: str
    quantity: int
    quantity_fulfilled: int
    # What one unit cost, taxes included, before order-level discounts.
    unit_price_gross: Decimal
    variant_ref: str = ""
    product_ref: str = ""
    product_type_ref: str = ""
    # The latest shipment that delivered units of the line: windows start there.
    fulfilled_at: Optional[datetime] = None


@dataclass(frozen=True)
class OrderFacts:
    """One order as the core needs it: who, in what currency, what was paid."""

    host_id: str
    number: str
    status: str  # the host's word for it; DRAFT orders are never claimed
    user_email: str
    currency: str
    total_gross: Decimal
    shipping_gross: Decimal
    placed_at: datetime
    lines: Tuple[LineFacts, ...] = ()
    # The account that placed it (the host's user id), empty for a guest.
    customer_ref: str = ""
    # What a guest shows to prove the order is theirs.
    guest_token: str = ""
    channel: str = ""


@dataclass(frozen=True)
class ShippedUnits:
    """Units of one order line that left in one shipment (a fulfillment line)."""

    host_id: str  # the shipment line's id: one warranty card per unit of it
    order_line_ref: str
    quantity: int
    shipped_at: datetime
