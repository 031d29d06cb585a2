"""The core's copy of the shop's orders: written from the facts a host hands over.

``save_order`` is an upsert keyed by the host's ids, so the host may send the same
order as often as it likes, in any order of events: the latest facts win, nothing
is duplicated. Facts that say when they were true (``OrderFacts.as_of``: the
host's own time of its last change) never overwrite newer ones. Inside a transaction it also
holds the order's copy under a row lock until commit, which is how claims on one
order are serialised.
"""

from typing import Dict, List

from django.db import connection, transaction
from django.utils import timezone

from . import rollups
from .models import ShopOrder, ShopOrderLine
from .port import OrderFacts

ORDER_COLUMNS = (
    ("host_id", "text"),
    ("number", "text"),
    ("status", "text"),
    ("user_email", "text"),
    ("customer_ref", "text"),
    ("guest_token", "text"),
    ("channel", "text"),
    ("currency", "text"),
    ("total_gross_amount", "numeric"),
    ("shipping_price_gross_amount", "numeric"),
    ("placed_at", "timestamptz"),
    ("copied_at", "timestamptz"),
    ("facts_at", "timestamptz"),
)
LINE_COLUMNS = (
    ("host_id", "text"),
    ("variant_ref", "text"),
    ("product_ref", "text"),
    ("product_type_ref", "text"),
    ("product_name", "text"),
    ("variant_name", "text"),
    ("sku", "text"),
    ("currency", "text"),
    ("unit_price_gross_amount", "numeric"),
    ("quantity", "integer"),
    ("quantity_fulfilled", "integer"),
    ("fulfilled_at", "timestamptz"),
)


def _order_values(facts: OrderFacts, now) -> Dict[str, object]:
    return {
        "host_id": facts.host_id,
        "number": facts.number,
        "status": facts.status,
        "user_email": facts.user_email,
        "customer_ref": facts.customer_ref,
        "guest_token": facts.guest_token,
        "channel": facts.channel,
        "currency": facts.currency,
        "total_gross_amount": facts.total_gross,
        "shipping_price_gross_amount": facts.shipping_gross,
        "placed_at": facts.placed_at,
        "copied_at": now,
        "facts_at": facts.as_of,
    }


def _line_values(facts: OrderFacts) -> List[Dict[str, object]]:
    return [
        {
            "host_id": line.host_id,
            "variant_ref": line.variant_ref,
            "product_ref": line.product_ref,
            "product_type_ref": line.product_type_ref,
            "product_name": line.product_name,
            "variant_name": line.variant_name,
            "sku": line.sku,
            "currency": facts.currency,
            "unit_price_gross_amount": line.unit_price_gross,
            "quantity": line.quantity,
            "quantity_fulfilled": line.quantity_fulfilled,
            "fulfilled_at": line.fulfilled_at,
        }
        for line in sorted(facts.lines, key=lambda line: line.host_id)
    ]


def _upsert_sql(line_count: int) -> str:
    order_table = ShopOrder._meta.db_table
    line_table = ShopOrderLine._meta.db_table
    names = [name for name, _type in ORDER_COLUMNS]
    order_sql = (
        f"INSERT INTO {order_table} ({', '.join(names)}) "
        f"VALUES ({', '.join(f'%s::{kind}' for _name, kind in ORDER_COLUMNS)}) "
        f"ON CONFLICT (host_id) DO UPDATE SET "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in names[1:])
        # Facts older than those stored change nothing (webhooks out of order).
        + f" WHERE EXCLUDED.facts_at IS NULL OR {order_table}.facts_at IS NULL"
        + f" OR {order_table}.facts_at <= EXCLUDED.facts_at"
        + " RETURNING id"
    )
    if not line_count:
        return f"WITH o AS ({order_sql}) SELECT o.id, NULL, NULL FROM o"
    line_names = [name for name, _type in LINE_COLUMNS]
    row = "(" + ", ".join(f"%s::{kind}" for _name, kind in LINE_COLUMNS) + ")"
    lines_sql = (
        # rolled_units: what the line added to the rollups, kept on updates.
        f"INSERT INTO {line_table} (order_id, {', '.join(line_names)}, rolled_units) "
        f"SELECT o.id, v.*, 0 FROM o, (VALUES {', '.join([row] * line_count)}) "
        f"AS v ({', '.join(line_names)}) "
        f"ON CONFLICT (host_id) DO UPDATE SET "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in line_names[1:])
        + " RETURNING id, host_id"
    )
    return (
        f"WITH o AS ({order_sql}), l AS ({lines_sql}) "
        "SELECT o.id, l.id, l.host_id FROM o LEFT JOIN l ON true"
    )


def save_order(facts: OrderFacts) -> ShopOrder:
    """Copy (or refresh) one order and its lines in one statement, then add what
    its lines changed in units sold to the analytics rollups in a second.

    The returned copy carries ``lines_by_host_id``: its lines keyed by the host's
    line ids, so callers map what a shopper chose without another query; and
    ``facts_were_older``: True when the stored copy was newer and stays.
    """
    now = timezone.now()
    order_values = _order_values(facts, now)
    line_values = _line_values(facts)
    params: List[object] = [order_values[name] for name, _kind in ORDER_COLUMNS]
    for values in line_values:
        params.extend(values[name] for name, _kind in LINE_COLUMNS)
    # One transaction (no savepoint inside a caller's): the lines stay locked
    # while the rollups add what their units changed.
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(len(line_values)), params)
            rows = cursor.fetchall()
        if rows and line_values:
            rollups.order_lines_changed(rows[0][0])
    if not rows:
        return _stored(facts.host_id)
    order = ShopOrder(id=rows[0][0], **order_values)
    order._state.adding = False
    line_ids = {host_id: pk for _order_pk, pk, host_id in rows if pk is not None}
    lines = []
    for values in line_values:
        line = ShopOrderLine(id=line_ids[values["host_id"]], order=order, **values)
        line._state.adding = False
        lines.append(line)
    order.lines_by_host_id = {line.host_id: line for line in lines}
    order.facts_were_older = False
    return order


def _stored(host_id: str) -> ShopOrder:
    """The copy as stored, when the facts given were older than it."""
    order = ShopOrder.objects.get(host_id=host_id)
    order.lines_by_host_id = {line.host_id: line for line in order.lines.all()}
    order.facts_were_older = True
    return order


def lock_order(pk: int) -> ShopOrder:
    """The order's copy under a row lock until commit: what serialises the steps
    that count units or money across the order's claims."""
    return ShopOrder.objects.select_for_update().get(pk=pk)
