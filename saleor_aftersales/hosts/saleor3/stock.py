"""Restocking returned units in Saleor 3.23, exactly once. Saleor's API can only
set a stock's absolute quantity, so the units go to a warehouse of the app's own
(``After-sales returns``, in no channel, so nothing is sold from it and only the
app writes its stock); staff move them on to a selling warehouse in Saleor.

Each restock is an owed call. Under one lock per shop, calls run oldest first: a
call's base and target quantities are committed before Saleor is asked, so a
later attempt that finds the target in Saleor only records it, and one that finds
the base writes it; anything else means someone else changed that stock, and the
call fails for staff to look at rather than guess."""

from typing import Dict, Optional

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
query AftersalesStocks($ids: [ID!]) {
  productVariants(first: 100, ids: $ids) {
    edges { node { id stocks { quantity warehouse { id } } } }
  }
}
"""
# Stocks the returns warehouse has already: all set in one go (Saleor's
# default error policy: every one, or none).
SET_STOCKS = """
mutation AftersalesSetStocks($stocks: [StockBulkUpdateInput!]!) {
  stockBulkUpdate(stocks: $stocks) {
    count
    errors { field code message }
    results { errors { field code message } }
  }
}
"""
# A variant's first units there: its stock is made.
CREATE_STOCK = """
mutation AftersalesCreateStock($id: ID!, $warehouse: ID!, $quantity: Int!) {
  productVariantStocksCreate(variantId: $id,
    stocks: [{warehouse: $warehouse, quantity: $quantity}]) {
    errors { field code message }
  }
}
"""
PAGE = 100  # variants read per query


def returns_warehouse(shop: SaleorShop) -> str:
    """The app's returns warehouse in this Saleor: found by its slug, else made
    (so an interrupted attempt never makes a second one)."""
    if shop.returns_warehouse_id:
        return shop.returns_warehouse_id
    warehouse_id = _found(shop)
    if not warehouse_id:
        address = _returns_address(shop)
        try:
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
        except client.SaleorError:
            # Another process (the worker, a desk) made it meanwhile: adopt it.
            warehouse_id = _found(shop)
            if not warehouse_id:
                raise
    SaleorShop.objects.filter(pk=shop.pk).update(returns_warehouse_id=warehouse_id)
    shop.returns_warehouse_id = warehouse_id
    return warehouse_id


def _found(shop: SaleorShop) -> str:
    edges = client.ask(shop, FIND, {"slug": SLUG})["warehouses"]["edges"]
    return edges[0]["node"]["id"] if edges else ""


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


def _quantities(shop: SaleorShop, variants, warehouse: str) -> Dict[str, Optional[int]]:
    """Each variant's quantity in ``warehouse``; None where it has no stock
    there yet. One query per hundred variants."""
    variants = sorted(variants)
    found: Dict[str, Optional[int]] = {variant: None for variant in variants}
    for start in range(0, len(variants), PAGE):
        data = client.ask(shop, STOCKS, {"ids": variants[start : start + PAGE]})
        for edge in data["productVariants"]["edges"]:
            for stock in edge["node"]["stocks"] or []:
                if stock["warehouse"]["id"] == warehouse:
                    found[edge["node"]["id"]] = stock["quantity"]
    return found


def _write(shop: SaleorShop, warehouse: str, targets, existing) -> None:
    """Set every target: the stocks that exist in one bulk update, a first
    stock for each variant new to the warehouse."""
    update = [
        {"variantId": variant, "warehouseId": warehouse, "quantity": quantity}
        for variant, quantity in sorted(targets.items())
        if variant in existing
    ]
    if update:
        done = client.mutate(shop, SET_STOCKS, {"stocks": update}, "stockBulkUpdate")
        refused = [e for result in done["results"] for e in result["errors"] or []]
        if refused or done["count"] != len(update):
            raise client.SaleorRefused("stockBulkUpdate", refused)
    for variant, quantity in sorted(targets.items()):
        if variant not in existing:
            client.mutate(
                shop,
                CREATE_STOCK,
                {"id": variant, "warehouse": warehouse, "quantity": quantity},
                "productVariantStocksCreate",
            )


class StockChangedElsewhere(client.SaleorError):
    pass


def _restock_one(call: SaleorCall) -> None:
    shop, warehouse = call.shop, call.payload["warehouse"]
    plan = call.payload.get("plan")
    if plan is None:
        # First attempt: base and target, committed before Saleor is asked.
        bases = _quantities(shop, call.payload["variants"], warehouse)
        plan = {
            variant: [bases[variant] or 0, (bases[variant] or 0) + units]
            for variant, units in call.payload["variants"].items()
        }
        call.payload = {**call.payload, "plan": plan}
        SaleorCall.objects.filter(pk=call.pk).update(payload=call.payload)
    written = set(call.payload.get("written", []))
    pending = {v: bounds for v, bounds in plan.items() if v not in written}
    if not pending:
        return
    # Variants set by an earlier attempt are left alone (units may have moved on
    # since); the rest must hold their base (write) or their target (adopt).
    now = _quantities(shop, pending, warehouse)
    changed = sorted(
        variant
        for variant, (base, target) in pending.items()
        if (now[variant] or 0) not in (base, target)
    )
    if changed:
        raise StockChangedElsewhere(
            "The returns warehouse holds other quantities of "
            f"{', '.join(changed)} than before or after the restock: changed "
            "outside the app."
        )
    targets = {
        variant: target
        for variant, (base, target) in pending.items()
        if (now[variant] or 0) != target
    }
    existing = {variant for variant, quantity in now.items() if quantity is not None}
    _write(shop, warehouse, targets, existing)
    # Recorded at once, all together: staff may move the units on, and a later
    # attempt finding the base again must not add them twice.
    call.payload = {**call.payload, "written": sorted(written | set(pending))}
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
