"""Restocking returned units in Saleor 3.23, exactly once. Saleor's API can only
set a stock's absolute quantity, so the units go to a warehouse of the app's own
(``After-sales returns``, in no channel, so nothing is sold from it and only the
app writes its stock); staff move them on to a selling warehouse in Saleor.

Each restock is an owed call. Under one lock per shop, calls run oldest first: a
call's base and target quantities are committed before Saleor is asked, so a
later attempt that finds the target in Saleor only records it, and one that finds
the base writes it; anything else means someone else changed that stock, and the
call fails for staff to look at rather than guess."""

from django.db import connection
from django.utils import timezone

from . import client
from .models import SaleorCall, SaleorShop

SLUG = "aftersales-returns"
# The first key of the per-shop advisory lock that orders restocks (the second is
# the shop's id): a number of the app's own among the database's advisory locks.
LOCK_CLASS = 71530

FIND = """
query AftersalesReturnsWarehouse($slug: String!) {
  warehouses(first: 1, filter: {slugs: [$slug]}) { edges { node { id } } }
}
"""
ADDRESS_FIELDS = """
  companyName streetAddress1 streetAddress2 city cityArea postalCode countryArea
  country { code }
"""
ADDRESSES = f"""
query {{
  shop {{ companyAddress {{ {ADDRESS_FIELDS} }} }}
  warehouses(first: 20) {{ edges {{ node {{ address {{ {ADDRESS_FIELDS} }} }} }} }}
}}
"""
CREATE = """
mutation AftersalesCreateReturnsWarehouse($input: WarehouseCreateInput!) {
  createWarehouse(input: $input) { warehouse { id } errors { field code message } }
}
"""
STOCKS = """
query AftersalesStocks($id: ID!) {
  productVariant(id: $id) { stocks { quantity warehouse { id } } }
}
"""
SET_STOCK = """
mutation AftersalesSetStock($id: ID!, $warehouse: ID!, $quantity: Int!) {
  productVariantStocksUpdate(variantId: $id,
    stocks: [{warehouse: $warehouse, quantity: $quantity}]) {
    errors { field code message }
  }
}
"""


def returns_warehouse(shop: SaleorShop) -> str:
    """The app's returns warehouse in this Saleor: found by its slug, else made
    (so an interrupted attempt never makes a second one)."""
    if shop.returns_warehouse_id:
        return shop.returns_warehouse_id
    found = client.ask(shop, FIND, {"slug": SLUG})
    edges = found["warehouses"]["edges"]
    if edges:
        warehouse_id = edges[0]["node"]["id"]
    else:
        address = _returns_address(shop)
        created = client.mutate(
            shop,
            CREATE,
            {
                "input": {
                    "name": "After-sales returns",
                    "slug": SLUG,
                    "address": address,
                }
            },
            "createWarehouse",
        )
        warehouse_id = created["warehouse"]["id"]
    SaleorShop.objects.filter(pk=shop.pk).update(returns_warehouse_id=warehouse_id)
    shop.returns_warehouse_id = warehouse_id
    return warehouse_id


def _returns_address(shop: SaleorShop) -> dict:
    """Where returns go: the shop's company address, else a warehouse's with a
    street and a city (Saleor requires them)."""
    data = client.ask(shop, ADDRESSES)
    candidates = [(data.get("shop") or {}).get("companyAddress")] + [
        edge["node"]["address"] for edge in data["warehouses"]["edges"]
    ]
    for address in candidates:
        if address and address.get("streetAddress1") and address.get("city"):
            address = dict(address)
            address["country"] = address["country"]["code"]
            return address
    raise client.SaleorError(
        "No address for the returns warehouse: set the shop's address in Saleor."
    )


def _quantity(shop: SaleorShop, variant: str, warehouse: str) -> int:
    data = client.ask(shop, STOCKS, {"id": variant})
    stocks = (data.get("productVariant") or {}).get("stocks") or []
    return sum(s["quantity"] for s in stocks if s["warehouse"]["id"] == warehouse)


def _set(shop: SaleorShop, variant: str, warehouse: str, quantity: int) -> None:
    client.mutate(
        shop,
        SET_STOCK,
        {"id": variant, "warehouse": warehouse, "quantity": quantity},
        "productVariantStocksUpdate",
    )


class StockChangedElsewhere(client.SaleorError):
    pass


def _restock_one(call: SaleorCall) -> None:
    shop, warehouse = call.shop, call.payload["warehouse"]
    plan = call.payload.get("plan")
    if plan is None:
        # First attempt: base and target, committed before Saleor is asked.
        plan = {}
        for variant, units in call.payload["variants"].items():
            base = _quantity(shop, variant, warehouse)
            plan[variant] = [base, base + units]
        call.payload = {**call.payload, "plan": plan}
        SaleorCall.objects.filter(pk=call.pk).update(payload=call.payload)
    written = set(call.payload.get("written", []))
    for variant, (base, target) in sorted(plan.items()):
        if variant in written:
            continue  # set by an earlier attempt (units may have moved on since)
        now = _quantity(shop, variant, warehouse)
        if now != target:
            if now != base:
                raise StockChangedElsewhere(
                    f"The returns warehouse holds {now} of {variant}, neither "
                    f"{base} (before) nor {target} (after): changed outside the app."
                )
            _set(shop, variant, warehouse, target)
        # Recorded at once: staff may move the units on, and a later attempt
        # finding the base again must not add them twice.
        written.add(variant)
        call.payload = {**call.payload, "written": sorted(written)}
        SaleorCall.objects.filter(pk=call.pk).update(payload=call.payload)


def restock_in_order(call: SaleorCall) -> None:
    """Run this shop's owed restocks oldest first, up to ``call``, under the
    shop's lock (a PostgreSQL advisory lock, freed if the worker dies)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [LOCK_CLASS, call.shop_id])
    try:
        # Another worker may have finished this call while we waited.
        call.refresh_from_db()
        if call.status != SaleorCall.PENDING:
            return
        earlier = SaleorCall.objects.filter(
            shop_id=call.shop_id,
            kind=SaleorCall.RESTOCK,
            status=SaleorCall.PENDING,
            pk__lt=call.pk,
        ).order_by("pk")
        for other in earlier.select_related("shop"):
            try:
                _restock_one(other)
            except StockChangedElsewhere as error:
                # That call waits for staff; the later ones planned on their own.
                SaleorCall.objects.filter(
                    pk=other.pk, status=SaleorCall.PENDING
                ).update(
                    status=SaleorCall.FAILED, error=str(error)[:2000], lease_until=None
                )
                continue
            _done(other)
        _restock_one(call)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [LOCK_CLASS, call.shop_id]
            )


def _done(call: SaleorCall) -> None:
    SaleorCall.objects.filter(pk=call.pk, status=SaleorCall.PENDING).update(
        status=SaleorCall.DONE, done_at=timezone.now(), error="", lease_until=None
    )
