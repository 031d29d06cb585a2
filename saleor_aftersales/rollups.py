"""Per-day rollups for the analytics page, kept in each step's transaction.

What a claim adds to the rollups is a function of its state (``contribution``).
``workflow.steps.lock_claim`` keeps the state the step started from; the step's
``record`` adds the difference between the claim's new contribution and that one
to its day's row, in one statement on the connection's shard, so steps on other
connections never wait on the same row. The order copy does the same for units
sold (each copied line remembers what it added), and a successful refund adds
itself once. ``rebuild`` recomputes every row from the claims with SQL that
follows the same definitions; the tests compare the two on random histories.

Days are in the desk's time zone, taken in SQL from ``RollupState`` so a step
reads no settings for them; a desk that changes its zone gets the rollups rebuilt
on the next read (``analytics.ensure_built``).
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import pytz
from django.db import connection, transaction
from django.utils import timezone

from .enums import Reason, RequestStatus, RequestType
from .models import (
    DURATION_BUCKETS,
    DURATION_EDGES,
    RATINGS,
    ROLLUP_SHARDS,
    AftersalesLine,
    AftersalesRefund,
    AftersalesRequest,
    ClaimDay,
    ProductDay,
    RefundDay,
    RollupState,
    ShopOrder,
    ShopOrderLine,
    claim_day_columns,
)

CLAIM_COLUMNS = claim_day_columns()
# Return and exchange claims hold goods; per product, in these columns.
HELD_COLUMN = {
    RequestType.RETURN: "units_returned",
    RequestType.EXCHANGE: "units_exchanged",
}
PRODUCT_COLUMNS = ("units_sold", "units_returned", "units_exchanged")
# The state of a claim its contribution depends on (with its lines).
SNAPSHOT_FIELDS = (
    "status",
    "rating",
    "concluded_at",
    "first_response_at",
    "sla_response_due_at",
    "sla_resolution_due_at",
    "response_business_seconds",
    "resolution_business_seconds",
)
NEW = "new"  # the snapshot of a claim being created: it contributed nothing yet
ZONE_SQL = (
    "COALESCE((SELECT time_zone FROM aftersales_rollup_state "
    "ORDER BY id LIMIT 1), 'UTC')"
)
SHARD_SQL = f"pg_backend_pid() %% {ROLLUP_SHARDS}"  # in SQL with parameters


def bucket(seconds: int) -> int:
    """The duration bucket of ``seconds`` of business time."""
    return max(0, bisect_right(DURATION_EDGES, seconds) - 1)


def grouped_median(counts: Sequence[int]) -> Optional[float]:
    """The median of durations counted per bucket, in hours: linear within the
    bucket the middle falls in (the open last bucket: its lower edge)."""
    total = sum(counts)
    if not total:
        return None
    middle = total / 2
    below = 0
    for index, count in enumerate(counts):
        if count and below + count >= middle:
            low = DURATION_EDGES[index]
            if index + 1 == DURATION_BUCKETS:
                return round(low / 3600, 2)
            width = DURATION_EDGES[index + 1] - low
            return round((low + width * (middle - below) / count) / 3600, 2)
        below += count
    return None  # pragma: no cover - counts are never negative in total


def sla_met(claim) -> bool:
    return (
        claim.first_response_at is not None
        and claim.sla_response_due_at is not None
        and claim.first_response_at <= claim.sla_response_due_at
        and claim.sla_resolution_due_at is not None
        and claim.concluded_at <= claim.sla_resolution_due_at
    )


def units_held(status: str, line) -> int:
    """As ``policies.units_held``: requested while pending, none once released,
    then approved."""
    if status in RequestStatus.PENDING:
        return line.quantity_requested
    if status in RequestStatus.RELEASED:
        return 0
    return line.quantity_approved


@dataclass
class State:
    """The fields of a claim its rollup contribution reads."""

    status: str
    rating: Optional[int]
    concluded_at: object
    first_response_at: object
    sla_response_due_at: object
    sla_resolution_due_at: object
    response_business_seconds: Optional[int]
    resolution_business_seconds: Optional[int]

    @classmethod
    def of(cls, claim: AftersalesRequest) -> "State":
        return cls(*(getattr(claim, name) for name in SNAPSHOT_FIELDS))


def claim_counters(state: State, lines: Optional[Iterable]) -> Dict[str, int]:
    """The claim's ``ClaimDay`` counters; without ``lines``, those that don't
    read them."""
    counters: Dict[str, int] = defaultdict(int)
    counters["opened"] = 1
    counters[f"status_{state.status}"] = 1
    if state.rating is not None:
        counters[f"rating_{state.rating}"] = 1
    if state.concluded_at is not None and state.sla_response_due_at is not None:
        counters["sla_decided"] = 1
        counters["sla_met"] = int(sla_met(state))
    if state.response_business_seconds is not None:
        counters[f"response_{bucket(state.response_business_seconds):02d}"] = 1
    if state.resolution_business_seconds is not None:
        counters[f"resolution_{bucket(state.resolution_business_seconds):02d}"] = 1
    for line in lines or ():
        counters[f"units_{line.reason}"] += line.quantity_requested
    return counters


def held_units(claim_type: str, state: State, lines) -> Dict[str, int]:
    """Units the claim holds per product (returns and exchanges only)."""
    held: Dict[str, int] = defaultdict(int)
    if claim_type in HELD_COLUMN:
        for line in lines:
            held[line.order_line.product_ref] += units_held(state.status, line)
    return held


def _minus(after: Dict[str, int], before: Dict[str, int]) -> Dict[str, int]:
    keys = set(after) | set(before)
    delta = {key: after.get(key, 0) - before.get(key, 0) for key in keys}
    return {key: value for key, value in delta.items() if value}


def snapshot(claim: AftersalesRequest) -> None:
    """Remember the state a step starts from (the claim is locked)."""
    claim._rollup_state = State.of(claim)


def claim_changed(claim: AftersalesRequest, lines: Optional[List] = None) -> None:
    """Add the claim's change since ``snapshot`` (or its creation: ``lines``
    given) to the rollups. Call once per step, in its transaction."""
    before = getattr(claim, "_rollup_state", None)
    if before is None:
        raise RuntimeError(
            "A step changed a claim not read through workflow.lock_claim; "
            "its rollup difference is unknown."
        )
    after = State.of(claim)
    claim._rollup_state = after
    if before is NEW:
        lines = lines if lines is not None else _lines(claim)
        counters = claim_counters(after, lines)
        held = held_units(claim.type, after, lines)
    elif before == after:
        return
    else:
        held_changed = claim.type in HELD_COLUMN and (
            _held_class(before.status) != _held_class(after.status)
        )
        # Units per reason are fixed at creation: unchanged, they cancel out.
        lines = _lines(claim) if held_changed else None
        counters = _minus(claim_counters(after, None), claim_counters(before, None))
        held = (
            _minus(
                held_units(claim.type, after, lines),
                held_units(claim.type, before, lines),
            )
            if held_changed
            else {}
        )
    order = claim.order
    if counters:
        _add_claim_day(claim.created_at, claim.type, order.channel, counters)
    held = {product: units for product, units in held.items() if units}
    if held:
        column = HELD_COLUMN[claim.type]
        _add_product_days(
            order.placed_at,
            order.channel,
            [(product, "", {column: units}) for product, units in held.items()],
        )


def _held_class(status: str) -> str:
    if status in RequestStatus.PENDING:
        return "requested"
    if status in RequestStatus.RELEASED:
        return "none"
    return "approved"


def _lines(claim: AftersalesRequest) -> List[AftersalesLine]:
    # Approval writes quantity_approved while the claim is pending, when its
    # holding reads quantity_requested: the lines as they are now serve both
    # sides of the difference.
    return list(
        AftersalesLine.objects.filter(request_id=claim.pk)
        .select_related("order_line")
        .only(
            "reason",
            "quantity_requested",
            "quantity_approved",
            "order_line__product_ref",
        )
    )


def _add_claim_day(created_at, claim_type: str, channel: str, counters) -> None:
    values = [counters.get(column, 0) for column in CLAIM_COLUMNS]
    changed = [column for column in CLAIM_COLUMNS if counters.get(column)]
    table = ClaimDay._meta.db_table
    sql = (
        f"INSERT INTO {table} AS t (day, type, channel, shard, "
        + ", ".join(CLAIM_COLUMNS)
        + f") VALUES ((%s AT TIME ZONE {ZONE_SQL})::date, %s, %s, {SHARD_SQL}, "
        + ", ".join(["%s"] * len(CLAIM_COLUMNS))
        + ") ON CONFLICT (day, type, channel, shard) DO UPDATE SET "
        + ", ".join(f"{column} = t.{column} + EXCLUDED.{column}" for column in changed)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [created_at, claim_type, channel, *values])


def _add_product_days(placed_at, channel: str, rows) -> None:
    """``rows``: (product_ref, product_name, {column: units}), one per product."""
    rows = sorted(rows, key=lambda row: row[0])  # one lock order for every step
    params: List[object] = []
    for product_ref, name, units in rows:
        params += [placed_at, product_ref, channel, name]
        params += [units.get(column, 0) for column in PRODUCT_COLUMNS]
    value = (
        f"((%s AT TIME ZONE {ZONE_SQL})::date, %s, %s, {SHARD_SQL}, %s, "
        + ", ".join(["%s"] * len(PRODUCT_COLUMNS))
        + ")"
    )
    table = ProductDay._meta.db_table
    sql = (
        f"INSERT INTO {table} AS t (day, product_ref, channel, shard, product_name, "
        + ", ".join(PRODUCT_COLUMNS)
        + ") VALUES "
        + ", ".join([value] * len(rows))
        + " ON CONFLICT (day, product_ref, channel, shard) DO UPDATE SET "
        + ", ".join(
            f"{column} = t.{column} + EXCLUDED.{column}" for column in PRODUCT_COLUMNS
        )
        + ", product_name = GREATEST(t.product_name, EXCLUDED.product_name)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refund_succeeded(claim: AftersalesRequest, refund: AftersalesRefund) -> None:
    """Count a refund once, on the day it completed (call where it becomes
    successful, in that transaction)."""
    table = RefundDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS t (day, type, channel, currency, method, shard, "
            f"refunds, amount) VALUES ((%s AT TIME ZONE {ZONE_SQL})::date, %s, %s, "
            f"%s, %s, {SHARD_SQL}, 1, %s) "
            "ON CONFLICT (day, type, channel, currency, method, shard) DO UPDATE SET "
            "refunds = t.refunds + 1, amount = t.amount + EXCLUDED.amount",
            [
                refund.completed_at,
                claim.type,
                claim.order.channel,
                refund.currency,
                refund.method,
                refund.amount,
            ],
        )


def order_lines_changed(order_pk: int) -> None:
    """After the order copy was written (in the same transaction, which holds its
    lines' locks): add each line's change in units sold since it last added."""
    lines = ShopOrderLine._meta.db_table
    orders = ShopOrder._meta.db_table
    table = ProductDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH now AS (
                SELECT l.id, l.product_ref, l.product_name, o.channel,
                       (o.placed_at AT TIME ZONE {ZONE_SQL})::date AS day,
                       CASE WHEN o.status = %s THEN 0 ELSE l.quantity_fulfilled END
                           AS units,
                       l.rolled_day, l.rolled_units
                FROM {lines} l JOIN {orders} o ON o.id = l.order_id
                WHERE l.order_id = %s
            ), changed AS (
                UPDATE {lines} l SET rolled_day = now.day, rolled_units = now.units
                FROM now
                WHERE l.id = now.id AND (
                    l.rolled_day IS DISTINCT FROM now.day
                    OR l.rolled_units <> now.units
                )
                RETURNING now.*
            ), deltas AS (
                SELECT day, product_ref, channel, product_name, units AS units
                FROM changed
                UNION ALL
                SELECT rolled_day, product_ref, channel, product_name, -rolled_units
                FROM changed WHERE rolled_day IS NOT NULL
            )
            INSERT INTO {table} AS t (day, product_ref, channel, shard,
                product_name, units_sold, units_returned, units_exchanged)
            SELECT day, product_ref, channel, {SHARD_SQL}, MAX(product_name),
                   SUM(units), 0, 0
            FROM deltas GROUP BY day, product_ref, channel
            HAVING SUM(units) <> 0
            ORDER BY day, product_ref, channel
            ON CONFLICT (day, product_ref, channel, shard) DO UPDATE SET
                units_sold = t.units_sold + EXCLUDED.units_sold,
                product_name = GREATEST(t.product_name, EXCLUDED.product_name)
            """,
            [ShopOrder.DRAFT, order_pk],
        )


# Rebuilding from the claims -------------------------------------------------------


def _claim_day_select() -> str:
    """One row per (day, type, channel) from the claims: the same counters as
    ``claim_counters``, in SQL."""
    statuses = [status for status, _label in RequestStatus.CHOICES]
    reasons = [reason for reason, _label in Reason.CHOICES]
    edges = "ARRAY[" + ", ".join(str(edge) for edge in DURATION_EDGES) + "]::int[]"
    met = (
        "r.first_response_at <= r.sla_response_due_at "
        "AND r.concluded_at <= r.sla_resolution_due_at"
    )
    decided = "r.concluded_at IS NOT NULL AND r.sla_response_due_at IS NOT NULL"
    parts = ["COUNT(*)"]
    parts += [f"COUNT(*) FILTER (WHERE r.status = '{status}')" for status in statuses]
    parts += [f"COALESCE(SUM(u.units_{reason}), 0)" for reason in reasons]
    parts += [f"COUNT(*) FILTER (WHERE r.rating = {rating})" for rating in RATINGS]
    parts += [
        f"COUNT(*) FILTER (WHERE {decided})",
        f"COUNT(*) FILTER (WHERE {decided} AND {met})",
    ]
    for column in ("response", "resolution"):
        parts += [
            f"COUNT(*) FILTER (WHERE width_bucket(r.{column}_business_seconds, "
            f"{edges}) = {index + 1})"
            for index in range(DURATION_BUCKETS)
        ]
    units = ", ".join(
        f"SUM(l.quantity_requested) FILTER (WHERE l.reason = '{reason}') "
        f"AS units_{reason}"
        for reason in reasons
    )
    return f"""
        SELECT (r.created_at AT TIME ZONE %(zone)s)::date, r.type, o.channel, 0,
               {', '.join(parts)}
        FROM {AftersalesRequest._meta.db_table} r
        JOIN {ShopOrder._meta.db_table} o ON o.id = r.order_id
        LEFT JOIN LATERAL (
            SELECT {units} FROM {AftersalesLine._meta.db_table} l
            WHERE l.request_id = r.id
        ) u ON true
        GROUP BY 1, 2, 3
    """


def _product_day_select() -> str:
    held = (
        "CASE WHEN r.status IN ({pending}) THEN l.quantity_requested "
        "WHEN r.status IN ({released}) THEN 0 ELSE l.quantity_approved END"
    ).format(
        pending=", ".join(f"'{s}'" for s in RequestStatus.PENDING),
        released=", ".join(f"'{s}'" for s in RequestStatus.RELEASED),
    )
    orders = ShopOrder._meta.db_table
    lines = ShopOrderLine._meta.db_table
    return f"""
        SELECT day, product_ref, channel, 0, MAX(product_name),
               SUM(sold), SUM(returned), SUM(exchanged)
        FROM (
            SELECT (o.placed_at AT TIME ZONE %(zone)s)::date AS day, ol.product_ref,
                   o.channel, ol.product_name,
                   CASE WHEN o.status = %(draft)s THEN 0 ELSE ol.quantity_fulfilled END
                       AS sold,
                   0 AS returned, 0 AS exchanged
            FROM {lines} ol JOIN {orders} o ON o.id = ol.order_id
            UNION ALL
            SELECT (o.placed_at AT TIME ZONE %(zone)s)::date, ol.product_ref,
                   o.channel, '',
                   0,
                   CASE WHEN r.type = '{RequestType.RETURN}' THEN {held} ELSE 0 END,
                   CASE WHEN r.type = '{RequestType.EXCHANGE}' THEN {held} ELSE 0 END
            FROM {AftersalesLine._meta.db_table} l
            JOIN {AftersalesRequest._meta.db_table} r ON r.id = l.request_id
            JOIN {lines} ol ON ol.id = l.order_line_id
            JOIN {orders} o ON o.id = ol.order_id
            WHERE r.type IN ('{RequestType.RETURN}', '{RequestType.EXCHANGE}')
        ) facts
        GROUP BY day, product_ref, channel
        HAVING SUM(sold) <> 0 OR SUM(returned) <> 0 OR SUM(exchanged) <> 0
    """


def _refund_day_select() -> str:
    return f"""
        SELECT (f.completed_at AT TIME ZONE %(zone)s)::date, r.type, o.channel,
               f.currency, f.method, 0, COUNT(*), SUM(f.amount)
        FROM {AftersalesRefund._meta.db_table} f
        JOIN {AftersalesRequest._meta.db_table} r ON r.id = f.request_id
        JOIN {ShopOrder._meta.db_table} o ON o.id = r.order_id
        WHERE f.status = 'success' AND f.completed_at IS NOT NULL
        GROUP BY 1, 2, 3, 4, 5
    """


def rebuild(zone_name: str) -> None:
    """Recompute every rollup row from the claims, refunds and order copies, with
    days in ``zone_name``. Steps wait while it runs (a few seconds per hundred
    thousand claims) and then add their own change on top."""
    claim_days = ClaimDay._meta.db_table
    product_days = ProductDay._meta.db_table
    refund_days = RefundDay._meta.db_table
    lines = ShopOrderLine._meta.db_table
    orders = ShopOrder._meta.db_table
    params = {"zone": zone_name, "draft": ShopOrder.DRAFT}
    with transaction.atomic(), connection.cursor() as cursor:
        # The order copy's writers first, as they lock: lines, then rollups.
        cursor.execute(f"LOCK TABLE {lines} IN EXCLUSIVE MODE")
        cursor.execute(
            f"LOCK TABLE {claim_days}, {product_days}, {refund_days}, "
            f"{RollupState._meta.db_table} IN EXCLUSIVE MODE"
        )
        cursor.execute(f"DELETE FROM {claim_days}")
        cursor.execute(f"DELETE FROM {product_days}")
        cursor.execute(f"DELETE FROM {refund_days}")
        cursor.execute(
            f"INSERT INTO {claim_days} (day, type, channel, shard, "
            + ", ".join(CLAIM_COLUMNS)
            + ") "
            + _claim_day_select(),
            params,
        )
        cursor.execute(
            f"INSERT INTO {product_days} (day, product_ref, channel, shard, "
            "product_name, units_sold, units_returned, units_exchanged) "
            + _product_day_select(),
            params,
        )
        cursor.execute(
            f"INSERT INTO {refund_days} (day, type, channel, currency, method, "
            "shard, refunds, amount) " + _refund_day_select(),
            params,
        )
        cursor.execute(
            f"UPDATE {lines} l SET "
            "rolled_day = (o.placed_at AT TIME ZONE %(zone)s)::date, "
            "rolled_units = CASE WHEN o.status = %(draft)s THEN 0 "
            "ELSE l.quantity_fulfilled END "
            f"FROM {orders} o WHERE o.id = l.order_id",
            params,
        )
        RollupState.objects.all().delete()
        RollupState.objects.create(time_zone=zone_name, rebuilt_at=timezone.now())


def fold(before: date) -> int:
    """Merge the shards of days before ``before`` into one row per key, so old
    periods read few rows; returns how many keys were merged. Steps on those
    days wait for the moment it takes."""
    merged = 0
    for model, key in (
        (ClaimDay, ("day", "type", "channel")),
        (ProductDay, ("day", "product_ref", "channel")),
        (RefundDay, ("day", "type", "channel", "currency", "method")),
    ):
        merged += _fold(model, key, before)
    return merged


def _fold(model, key: Tuple[str, ...], before: date) -> int:
    table = model._meta.db_table
    counters = [
        field.column
        for field in model._meta.concrete_fields
        if field.column not in key + ("id", "shard", "product_name")
    ]
    names = ", ".join(key)
    name_column = ", product_name" if model is ProductDay else ""
    name_value = ", MAX(product_name)" if model is ProductDay else ""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH spread AS (
                SELECT {names} FROM {table} WHERE day < %s
                GROUP BY {names} HAVING COUNT(*) > 1
            ), gone AS (
                DELETE FROM {table} t USING spread
                WHERE {' AND '.join(f't.{k} = spread.{k}' for k in key)}
                RETURNING t.*
            )
            INSERT INTO {table} AS t ({names}, shard{name_column},
                {', '.join(counters)})
            SELECT {names}, 0{name_value}, {', '.join(f'SUM({c})' for c in counters)}
            FROM gone GROUP BY {names}
            """,
            [before],
        )
        return cursor.rowcount


def today_in(zone_name: str) -> date:
    return timezone.now().astimezone(pytz.timezone(zone_name)).date()
