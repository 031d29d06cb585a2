"""The port (``port.Shop``) on Saleor 3.23, reached over its GraphQL API with the
app's token. Grows operation by operation; what it doesn't provide yet, the core
can't ask of this host (the proxy raises AttributeError naming it)."""

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional

from django.conf import settings
from django.db import transaction

from ... import dispatch
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...port import OrderFacts, address_lines
from . import calls, client, payments, stock, tenancy, transactions, worker
from .facts import ORDER_QUERY, order_facts
from .identity import Viewer
from .models import SaleorCall, SaleorShop

logger = logging.getLogger(__name__)


def current_shop() -> SaleorShop:
    """The Saleor the work at hand is for (``tenancy.serving``)."""
    return tenancy.current()


def fetch_order_facts(order_id: str) -> Optional[OrderFacts]:
    """An order's facts read from Saleor now (one the webhooks haven't brought,
    or to be sure), as of Saleor's last change to it; None if Saleor has no such
    order."""
    shop = current_shop()
    data = client.ask(shop, ORDER_QUERY, {"id": order_id})
    if not data.get("order"):
        return None
    return order_facts(data["order"])


def ref(key: Any) -> str:
    """Saleor 3's ids are global ids already: the core keeps them as they are."""
    return "" if key is None else str(key)


def shop_domain() -> str:
    return settings.APP_URL.split("://", 1)[-1]


def shop_key() -> str:
    """The schema of the Saleor being served: one per Saleor, never reused."""
    return tenancy.schema_of(tenancy.current())


def gift_card_code(reference: str) -> str:
    """Store credit is not issued on this host yet: no gift cards."""
    return ""


def plugin_configuration(plugin_id: str) -> Dict[str, object]:
    """The app's settings for the shop being served, as its desk saved them
    (aftersalesSettingsUpdate); the defaults for the rest."""
    return dict(tenancy.current().configuration)


def save_plugin_configuration(plugin_id: str, values: Dict[str, object]) -> None:
    with transaction.atomic():
        shop = SaleorShop.objects.select_for_update().get(pk=tenancy.current().pk)
        shop.configuration = {**shop.configuration, **values}
        shop.save(update_fields=["configuration"])
    tenancy.current().configuration = shop.configuration


# Identity: who acted, as the core records them (Saleor's global ids).


def user_ref(user: Optional[Viewer]) -> str:
    return user.user_ref if user is not None else ""


def app_ref(app: Any) -> str:
    return getattr(app, "app_ref", "") if app is not None else ""


def user_by_ref(reference: str) -> Optional[Viewer]:
    """The account by its reference, as far as the app knows it offline."""
    return Viewer(user_ref=reference, email="", is_staff=False) if reference else None


def app_by_ref(reference: str) -> Any:
    return None


# Orders: Saleor's timeline, and what it hears on its own.


def order_timeline_note(
    order_ref: str, user: Optional[Viewer], message: str, customer_ref: str = ""
) -> None:
    """A note in Saleor's order history (``orderNoteAdd`` with the app's token),
    owed in the step's transaction and made once after it commits."""
    calls.owe(current_shop(), SaleorCall.NOTE, order_ref, {"message": message})


def order_changed(order_ref: str) -> None:
    """Nothing to do: Saleor sends its own events for what the app's mutations
    change."""


# Goods.


@dataclass(frozen=True)
class Warehouse:
    """A Saleor warehouse as the core holds it (``pk``: Saleor's global id)."""

    pk: str
    name: str = "After-sales returns"


def default_return_warehouse(order_line_refs: Iterable[str]) -> Optional[Warehouse]:
    """The app's returns warehouse (made in Saleor on first use): Saleor 3.23
    only sets absolute stock quantities, safe only where no one else writes.
    None (the core refuses to restock, NO_WAREHOUSE) when it can't be made."""
    try:
        return Warehouse(pk=stock.returns_warehouse(current_shop()))
    except client.SaleorError as error:
        logger.warning("No returns warehouse: %s", error)
        return None


WAREHOUSE_ADDRESS = """
query AftersalesReturnAddress($id: ID!) {
  warehouse(id: $id) {
    name
    address {
      companyName firstName lastName streetAddress1 streetAddress2 city cityArea
      postalCode countryArea country { country }
    }
  }
}
"""


def return_address(order_line_refs: Iterable[str]) -> List[str]:
    """The address of the app's returns warehouse as Saleor has it (one query;
    every return goes there); none when there is no such warehouse."""
    warehouse = default_return_warehouse(order_line_refs)
    if warehouse is None:
        return []
    found = client.ask(current_shop(), WAREHOUSE_ADDRESS, {"id": warehouse.pk})
    node = found.get("warehouse") or {}
    address = node.get("address") or {}
    person = " ".join(
        p for p in (address.get("firstName"), address.get("lastName")) if p
    )
    return address_lines(
        name=address.get("companyName") or node.get("name") or "",
        person=person,
        street=(address.get("streetAddress1", ""), address.get("streetAddress2", "")),
        postal_code=address.get("postalCode", ""),
        city=address.get("city", ""),
        city_area=address.get("cityArea", ""),
        country_area=address.get("countryArea", ""),
        country=(address.get("country") or {}).get("country", ""),
    )


def goods_received(
    order_ref: str,
    *,
    returned: Dict[str, int],
    restock: Dict[str, int],
    warehouse: Any,
    user: Optional[Viewer] = None,
) -> None:
    """A RETURNED fulfillment in Saleor for the units that came back
    (``orderFulfillmentReturnProducts``), and the restocked ones added to the
    returns warehouse's stock; both owed in the step's transaction."""
    shop = current_shop()
    if restock and getattr(warehouse, "pk", None) != stock.returns_warehouse(shop):
        raise aftersales_error(
            "warehouse",
            "On Saleor 3.23 returned units are restocked into the app's returns "
            "warehouse only; move them on in Saleor.",
            Code.NO_WAREHOUSE,
        )
    if returned:
        calls.owe(shop, SaleorCall.RETURN, order_ref, {"lines": returned})
    if restock:
        calls.owe(
            shop,
            SaleorCall.RESTOCK,
            order_ref,
            {"warehouse": warehouse.pk, "variants": restock},
        )


# Money: through the Transactions API where a payment app charged the order
# (transactions.py: a granted refund, requested from the payment app, settled
# when Saleor shows its outcome), else through its legacy payment (payments.py:
# orderRefund). The order copy's row lock serialises the refunds of one order in
# the app; Saleor's payment is never locked from here.
PaymentError = payments.PaymentError
STRIPE_GATEWAY = "saleor.payments.stripe"


def refundable_payment(order_ref: str, *, lock: bool = False):
    shop = current_shop()
    return transactions.refundable_transaction(
        shop, order_ref
    ) or payments.refundable_payment(shop, order_ref)


def payment_ref(payment) -> str:
    return payment.pk


def payment_by_ref(reference: str):
    if transactions.is_transaction_ref(reference):
        return transactions.payment_by_ref(current_shop(), reference)
    return payments.payment_by_ref(current_shop(), reference)


def lock_payment(payment_ref: str):
    return payment_by_ref(payment_ref)


def refund_payment(payment, amount: Decimal):
    if isinstance(payment, transactions.TransactionPayment):
        return transactions.refund(current_shop(), payment, amount)
    return payments.refund(current_shop(), payment, amount)


def refund_transaction_since(payment, since, amount: Decimal, exclude=()):
    if isinstance(payment, transactions.TransactionPayment):
        return transactions.refund_transaction_since(payment, since, amount, exclude)
    return payments.refund_transaction_since(payment, since, amount, exclude)


PRODUCTS = """
query AftersalesProducts($ids: [ID!], $first: Int) {
  products(first: $first, filter: {ids: $ids}) { edges { node { id } } }
}
"""


def existing_product_refs(product_refs: Iterable[str]) -> set:
    """Which of these products still exist (a hundred per call to Saleor)."""
    references = sorted({reference for reference in product_refs if reference})
    found = set()
    for start in range(0, len(references), 100):
        chunk = references[start : start + 100]
        data = client.ask(current_shop(), PRODUCTS, {"ids": chunk, "first": len(chunk)})
        found |= {edge["node"]["id"] for edge in data["products"]["edges"]}
    return found


def order_refunded(payment, amount: Decimal, user) -> None:
    """Nothing to add: Saleor records and announces the refund itself (orderRefund;
    the payment app's report on the granted refund)."""


# Tasks: shopper e-mails go to the app's Celery worker (worker.py) when it has a
# broker, in the shop they belong to. Other work due now (refunds, webhooks)
# runs in this process once the caller's transaction has committed, and so do
# e-mails without a broker; work due later is left to the sweeper (manage.py
# aftersales_sweep) unless the worker takes it.
TO_THE_WORKER = {dispatch.SEND_CUSTOMER_EMAIL}


def send_task(name: str, args: tuple, countdown: float = 0) -> None:
    if name in TO_THE_WORKER and settings.CELERY_BROKER_URL:
        shop = tenancy.current().pk
        task = worker.app.tasks[name]
        transaction.on_commit(
            lambda: task.apply_async(
                args, {worker.SHOP_KWARG: shop}, countdown=countdown
            )
        )
        return
    if countdown:
        return
    task = worker.app.tasks[name]
    transaction.on_commit(lambda: task.apply(args=args))
