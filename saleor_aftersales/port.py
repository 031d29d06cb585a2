"""The port: what the core asks of the shop it runs in (``Shop``), and the plain
facts a shop tells the core about its orders, the same on every host.

A host (the Saleor 2.10 plugin, the Saleor 3.23 app) reads its own records and
hands the core these values; the core keeps them as its copy of the order
(``orders.py``) and never reads the host's tables. Ids are the host's own, as text
(Saleor 2.10: the primary key; Saleor 3.23: the GraphQL id); references to
variants, products and product types likewise.
"""

import importlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple, Type, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

try:  # Python 3.8 has it; the name is the same on 3.12
    from typing import Protocol
except ImportError:  # pragma: no cover
    from typing_extensions import Protocol  # type: ignore


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
    # When these facts were true, if the host knows (Saleor 3's updatedAt of
    # the order, in webhooks and live reads): older facts arriving later change
    # nothing.
    # None: always the latest (a host that reads its own database in-process).
    as_of: Optional[datetime] = None


@dataclass(frozen=True)
class ShippedUnits:
    """Units of one order line that left in one shipment (a fulfillment line)."""

    host_id: str  # the shipment line's id: one warranty card per unit of it
    order_line_ref: str
    quantity: int
    shipped_at: datetime


@dataclass(frozen=True)
class NewOrderLine:
    """A line of an order the core asks the shop to create (``variant``: one the
    shop handed over, or None for a service such as repair labour)."""

    product_name: str
    sku: str
    quantity: int
    unit_price: Decimal
    variant: Any = None
    variant_name: str = ""


def address_lines(
    *,
    name: str = "",
    person: str = "",
    street: Iterable[str] = (),
    postal_code: str = "",
    city: str = "",
    city_area: str = "",
    country_area: str = "",
    country: str = "",
) -> List[str]:
    """An address as the lines of a label, empty parts left out: who (a company
    or warehouse, a person), the street, the postal code with the city, the
    district and region, the country."""
    lines = [name, person, *street, " ".join(p for p in (postal_code, city) if p)]
    lines += [city_area, country_area, country]
    return [line.strip() for line in lines if line and line.strip()]


class RefundPending(Exception):
    """Raised by a host's ``refund_payment`` when the gateway took the refund (or
    may have) and tells its outcome later (a payment app settling a granted
    refund): the ledger row stays PENDING, and a later attempt finds the outcome
    (``refund_transaction_since``, or ``refund_payment`` again, which must then
    look before paying)."""


# The port: what the core asks of the shop it runs in -------------------------------
#
# Records the host hands over (accounts, apps, payments, variants, gift cards,
# warehouses) are opaque to the core: it keeps their references (``ref``), passes
# them back, and reads nothing of them but what a docstring below promises.


class Shop(Protocol):
    """The operations a host provides, by purpose. The Saleor 2.10 host implements
    them in ``hosts/saleor2/shop.py`` on Saleor's models and gateway, in the
    caller's database transaction."""

    # Errors the core catches.
    InsufficientStock: Type[Exception]
    PaymentError: Type[Exception]

    # Identity: references to the host's records, and the records behind them.
    def ref(self, key: Any) -> str:
        """The core's text reference for one of the host's own keys ("" for none)."""

    def user_ref(self, user: Any) -> str:
        """An account's reference, a customer's or staff's ("" for none)."""

    def app_ref(self, app: Any) -> str:
        ...

    def user_by_ref(self, reference: str) -> Any:
        ...

    def app_by_ref(self, reference: str) -> Any:
        ...

    # Orders: their facts for the core's copy, and orders the core makes.
    def order_facts(self, order: Any) -> OrderFacts:
        ...

    def shipped_units(self, shipment_lines: Iterable[Any]) -> List[ShippedUnits]:
        ...

    def fulfillment_lines(self) -> Any:
        """Every shipped line, oldest first, as a queryset (the cards' backfill)."""

    def is_fully_paid(self, order_ref: str) -> bool:
        ...

    def product_type_refs(self, slug: str) -> List[str]:
        ...

    def existing_product_refs(self, product_refs: Iterable[str]) -> Set[str]:
        ...

    def variants_by_ref(self, references: Iterable[str]) -> Dict[str, Any]:
        """Variants with ``name``, ``sku`` and ``product.name``."""

    def variant_unit_price(self, variant: Any) -> Decimal:
        ...

    def available_stock(self, variant_refs: Iterable[str]) -> Dict[str, int]:
        ...

    def create_follow_up_order(
        self,
        source_ref: str,
        lines: List["NewOrderLine"],
        *,
        discount: Decimal = Decimal("0"),
        discount_name: str = "",
        note: str = "",
        allocate: bool = True,
    ) -> OrderFacts:
        """An unpaid order for the same customer: a replacement or a repair bill."""

    def order_timeline_note(
        self, order_ref: str, user: Any, message: str, customer_ref: str = ""
    ) -> None:
        ...

    def order_changed(self, order_ref: str) -> None:
        """Tell the shop's other listeners, after commit."""

    # Goods.
    def goods_received(
        self,
        order_ref: str,
        *,
        returned: Dict[str, int],
        restock: Dict[str, int],
        warehouse: Any,
        user: Any = None,
    ) -> None:
        """Units of the order came back: ``returned`` maps order line references
        to units back in the shop's hands, whatever their state; ``restock`` maps
        variant references to those of them that go back into ``warehouse``'s
        stock (``warehouse`` is None when nothing does)."""

    def default_return_warehouse(self, order_line_refs: Iterable[str]) -> Any:
        ...

    def return_address(self, order_line_refs: Iterable[str]) -> List[str]:
        """The postal address, line by line (``address_lines``), of the warehouse
        goods of these order lines are sent back to: what a return slip shows."""

    # Money: refunds started and found again, store credit.
    def refundable_payment(self, order_ref: str, *, lock: bool = False) -> Any:
        """The payment a refund goes back through (``currency``,
        ``captured_amount``, ``gateway``), or None; with ``lock``, under a row
        lock until commit, as ``lock_payment``."""

    def payment_ref(self, payment: Any) -> str:
        ...

    def payment_by_ref(self, reference: str) -> Any:
        ...

    def lock_payment(self, payment_ref: str) -> Any:
        ...

    def refund_payment(self, payment: Any, amount: Decimal) -> Any:
        """Refund through the payment's own gateway; a refusal raises PaymentError,
        an outcome the gateway tells later RefundPending."""

    def refund_transaction_since(
        self,
        payment: Any,
        since: datetime,
        amount: Decimal,
        exclude: Iterable[str] = (),
    ) -> Any:
        """A refund the gateway recorded after ``since`` and no row accounts for."""

    def record_gateway_refund(
        self, payment: Any, amount: Decimal, reference: str, raw: dict
    ) -> Any:
        ...

    def order_refunded(self, payment: Any, amount: Decimal, user: Any) -> None:
        ...

    def note_store_credit(self, order_ref: str, amount: Decimal, currency: str) -> None:
        ...

    def issue_gift_card(
        self, user: Any, amount: Decimal, currency: str, end_date: Optional[date] = None
    ) -> Any:
        ...

    def gift_card_code(self, reference: str) -> str:
        """The whole code of a gift card the desk issued ("" if unknown)."""

    # Money through Stripe's own API, for payments the shop took with Stripe.
    STRIPE_GATEWAY: str

    def stripe_secret_key(self) -> str:
        ...

    def stripe_payment_intent(self, payment: Any) -> str:
        ...

    def stripe_payment_by_intent(self, intent_id: str) -> Any:
        ...

    def saleor_recorded_stripe_refund(
        self, payment: Any, refund_id: str, amount: Decimal, exclude: Iterable[str] = ()
    ) -> bool:
        ...

    # The shop itself: its domain, its settings for the plugin, its task queue.
    def shop_domain(self) -> str:
        ...

    def shop_key(self) -> str:
        """Names the shop served now among those this process serves ("" where
        it serves one): a signed link bound to one shop carries it."""

    def save_plugin_configuration(
        self, plugin_id: str, values: Dict[str, object]
    ) -> None:
        """Store settings by name (checked already), keeping the others."""

    def plugin_configuration(self, plugin_id: str) -> Dict[str, object]:
        ...

    def send_task(self, name: str, args: tuple, countdown: float = 0) -> None:
        ...


# The host this process runs in: named by the Django setting AFTERSALES_HOST (a
# module implementing Shop), loaded on first use, or when Django starts (``apps.py``)
# so that a worker knows the host's own task bodies. The core reaches the shop only
# through ``host``; no core module imports a host. An empty AFTERSALES_HOST runs
# the core with no shop at all (the core's own tests): asking it anything raises.
DEFAULT_HOST = "saleor_aftersales.hosts.saleor2.shop"


def host_name() -> str:
    return getattr(settings, "AFTERSALES_HOST", DEFAULT_HOST)


def load_host() -> Any:
    name = host_name()
    if not name:
        raise ImproperlyConfigured(
            "The core asked its shop, but AFTERSALES_HOST names no host."
        )
    module = importlib.import_module(name)
    _Registered._module = module
    return module


class _Registered:
    _module: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(_Registered._module or load_host(), name)


host = cast(Shop, _Registered())
