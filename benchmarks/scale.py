"""A million claims: seed them in bulk, then time the operator queue, a year of
statistics and the analytics page's figures for a year through the real GraphQL
view, and show PostgreSQL's plans. Targets: queue p95 <= 20 ms, stats <= 500 ms,
the analytics page <= 0.5 x Saleor's orders(first: 50) in the same run.

    .venv/bin/python -m benchmarks.scale [--claims N] [--reseed]

Seeding is SQL (INSERT ... SELECT over generate_series) on top of a pool of real
Saleor orders made by Saleor's code: claims, one line each, a creation event, and
refunds for settled returns. Claims are spread evenly over two years, ids following
time as in a live shop; those opened in the last fortnight are open in realistic
proportions, older ones are settled.
"""

import argparse
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.harness import Api, Shop, gid, migrate
from benchmarks.tables import median, percentile, section, table
from saleor_aftersales import rollups, selectors
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.enums import RequestStatus
from saleor_aftersales.models import AftersalesRequest
from saleor_aftersales.orders import save_order

POOL_ORDERS = 100
CUSTOMERS = 100_000  # claims are spread over this many e-mail addresses

QUEUE = """
query Queue {
  aftersalesRequests(
    first: 50,
    filter: {status: [REQUESTED, NEEDS_INFO, APPEALED, APPROVED, RECEIVED], overdue: true},
    sortBy: {field: RESOLUTION_DUE_AT, direction: ASC}
  ) {
    edges { node {
      id number status type userEmail slaResolutionDueAt isOverdue
      assignee { email }
      lines { id quantity reason orderLine { id productName } }
    } }
  }
}
"""
STATS = """
query Stats($period: DateRangeInput) {
  aftersalesStats(period: $period) {
    claimCount byStatus { status count } byType { type count }
    byReason { reason units } returnRates { productName ratePercent }
    refundTotals { method total { amount currency } count }
    medianFirstResponseHours medianResolutionHours slaCompliancePercent
    averageRating
  }
}
"""
# Everything the analytics page asks for, a year against the year before.
ANALYTICS = """
query Analytics($period: DateRangeInput) {
  aftersalesAnalytics(period: $period) {
    periodStart periodEnd previousStart previousEnd timeZone channels days
    current { ...summary } previous { ...summary }
    openedPerDay { type counts }
    reasons { reason units previousUnits }
    returnRates { productId productName unitsSold unitsClaimed ratePercent }
    weeks { start end opened slaEvaluated slaMet slaCompliancePercent
            medianFirstResponseHours medianResolutionHours }
    targets { firstResponseHours resolutionHours slaCompliancePercent }
    refundsPerDay { currency method amounts counts }
    ratings { rating count }
  }
}
fragment summary on AftersalesAnalyticsSummary {
  claimCount byType { type count } byStatus { status count } unitsClaimed
  slaEvaluated slaMet slaCompliancePercent medianFirstResponseHours
  medianResolutionHours refunds { method total { amount currency } count }
  averageRating ratingCount
}
"""
# Saleor's own list of the same shape, on the same database, for reference.
SALEOR_ORDERS = """
query Orders {
  orders(first: 50) {
    edges { node {
      id number status userEmail created
      lines { id quantity productName }
    } }
  }
}
"""
CLAIM_PAGE = """
query Claim($id: ID!) {
  aftersalesRequest(id: $id) {
    id number status events { type } refunds { status }
    customerHistory { claimCount unitsReturned returnRatePercent isSerialReturner }
  }
}
"""

SEED_REQUESTS = """
INSERT INTO saleor_aftersales_aftersalesrequest (
    type, status, order_id, customer_ref, assignee_ref, user_email, customer_note,
    reject_reason,
    resolution, currency, idempotency_key, created_at, updated_at, approved_at,
    received_at, resolved_at, closed_at, hand_back_method, hand_back_tracking_number,
    rating, rating_comment, received_accessories, received_condition, under_warranty,
    warranty_note, first_response_at, concluded_at, response_business_seconds,
    resolution_business_seconds, sla_response_due_at, sla_resolution_due_at,
    sla_paused_at, sla_paused_seconds, returnless, language
)
SELECT
    kind, status, pool.order_id, '', '',
    'customer' || (g %% %(customers)s) || '@bench.example',
    '', CASE WHEN status = 'rejected' THEN 'not_eligible' ELSE '' END,
    CASE WHEN status IN ('resolved', 'closed') THEN 'refund' ELSE '' END,
    'USD', '', created, created, answered, NULL, concluded, concluded,
    '', '', CASE WHEN status IN ('resolved', 'closed') AND r3 < 0.4
                 THEN 1 + floor(r2 * 5)::int END,
    '', '', '', false, '',
    CASE WHEN status <> 'requested' THEN answered END,
    CASE WHEN status IN ('resolved', 'closed', 'rejected') THEN concluded END,
    CASE WHEN status <> 'requested' THEN floor(r2 * 90000)::int END,
    CASE WHEN status IN ('resolved', 'closed', 'rejected')
         THEN floor(r3 * 200000)::int END,
    created + interval '1 day', created + interval '3 days',
    CASE WHEN status IN ('needs_info', 'approved') THEN answered END, 0, false, ''
FROM (
    SELECT g, r2, r3, created,
        created + r2 * interval '2 days' AS answered,
        created + (1 + r3 * 6) * interval '1 day' AS concluded,
        CASE WHEN r1 < 0.7 THEN 'return' WHEN r1 < 0.9 THEN 'exchange'
             ELSE 'repair' END AS kind,
        CASE
            WHEN created > now() - interval '14 days' THEN
                CASE WHEN r4 < 0.30 THEN 'requested' WHEN r4 < 0.40 THEN 'needs_info'
                     WHEN r4 < 0.42 THEN 'appealed' WHEN r4 < 0.62 THEN 'approved'
                     WHEN r4 < 0.72 THEN 'received' WHEN r4 < 0.85 THEN 'resolved'
                     WHEN r4 < 0.93 THEN 'rejected' ELSE 'cancelled' END
            ELSE
                CASE WHEN r4 < 0.60 THEN 'closed' WHEN r4 < 0.82 THEN 'resolved'
                     WHEN r4 < 0.92 THEN 'rejected' ELSE 'cancelled' END
        END AS status
    FROM (
        SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4,
               -- ids follow time, as they do in a live shop
               now() - (%(claims)s - g + random()) / %(claims)s * interval '730 days'
                   AS created
        FROM generate_series(1, %(claims)s) AS g
    ) AS draws
) AS claims
JOIN bench_pool AS pool ON pool.slot = claims.g %% %(pool)s
ORDER BY claims.g
"""
SEED_LINES = """
INSERT INTO saleor_aftersales_aftersalesline (
    request_id, order_line_id, quantity_requested, quantity_approved,
    quantity_received, quantity_restocked, quantity_missing, quantity_refunded,
    reason, comment, disposition, unit_price_gross_amount, serial_number,
    policy_exception, created_at, replacement_variant_ref
)
SELECT r.id, pool.line_id, 1, approved, received, received, 0,
    CASE WHEN r.status IN ('resolved', 'closed') THEN approved ELSE 0 END,
    (ARRAY['defective', 'damaged_in_transit', 'wrong_item', 'not_as_described',
           'size_or_fit', 'changed_mind', 'missing_parts', 'other'])[1 + r.id %% 8],
    '', '', 19.99, '', '', r.created_at, ''
FROM (
    SELECT id, order_id, status, created_at,
        CASE WHEN status IN ('requested', 'needs_info', 'appealed', 'rejected',
                             'cancelled') THEN 0 ELSE 1 END AS approved,
        CASE WHEN status IN ('received', 'resolved', 'closed') THEN 1 ELSE 0 END
            AS received
    FROM saleor_aftersales_aftersalesrequest WHERE id > %(after)s
) AS r
JOIN bench_pool AS pool ON pool.order_id = r.order_id
"""
SEED_EVENTS = """
INSERT INTO saleor_aftersales_aftersalesevent (
    request_id, type, actor_type, from_status, to_status, message, parameters,
    created_at, user_ref, app_ref
)
SELECT id, 'created', 'customer', '', 'requested', '', '{}', created_at, '', ''
FROM saleor_aftersales_aftersalesrequest WHERE id > %(after)s
"""
SEED_REFUNDS = """
INSERT INTO saleor_aftersales_aftersalesrefund (
    request_id, payment_ref, method, status, amount, currency, goods_amount,
    shipping_amount, restocking_fee_amount, line_quantities, idempotency_key,
    gateway_reference, error, created_at, completed_at, actor_type, attempts,
    transaction_ref, gift_card_ref, created_by_ref, created_by_app_ref
)
SELECT r.id, pool.payment_id::text,
    CASE WHEN r.id %% 10 = 0 THEN 'store_credit' ELSE 'refund' END,
    'success', 19.99, 'USD', 19.99, 0, 0, '{}', 'bench-' || r.id, '', '',
    r.concluded_at, r.concluded_at, 'staff', 1, '', '', '', ''
FROM saleor_aftersales_aftersalesrequest AS r
JOIN bench_pool AS pool ON pool.order_id = r.order_id
WHERE r.id > %(after)s AND r.type = 'return' AND r.status IN ('resolved', 'closed')
"""


def seed(claims: int) -> None:
    shop = Shop()
    print(f"Seeding: {POOL_ORDERS} real orders through Saleor's code…", flush=True)
    pool = [shop.order(1, quantity=1000) for _ in range(POOL_ORDERS)]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_pool (slot int, order_id int, line_id int, "
            "payment_id int)"
        )
        # Claims point at the plugin's copies of the orders (made by Saleor's hooks).
        copies = [save_order(host.order_facts(order)) for order in pool]
        cursor.executemany(
            "INSERT INTO bench_pool VALUES (%s, %s, %s, %s)",
            [
                (
                    slot,
                    copy.pk,
                    next(iter(copy.lines_by_host_id.values())).pk,
                    order.payments.get().pk,
                )
                for slot, (order, copy) in enumerate(zip(pool, copies))
            ],
        )
        cursor.execute(
            "SELECT coalesce(max(id), 0) FROM saleor_aftersales_aftersalesrequest"
        )
        (after,) = cursor.fetchone()
        for name, sql in (
            ("claims", SEED_REQUESTS),
            ("lines", SEED_LINES),
            ("events", SEED_EVENTS),
            ("refunds", SEED_REFUNDS),
        ):
            step = time.perf_counter()
            cursor.execute(
                sql,
                {
                    "claims": claims,
                    "customers": CUSTOMERS,
                    "pool": POOL_ORDERS,
                    "after": after,
                },
            )
            print(
                f"  {name}: {cursor.rowcount:,} rows in "
                f"{time.perf_counter() - step:.1f} s",
                flush=True,
            )
        step = time.perf_counter()
        for table_name in (
            "aftersalesrequest",
            "aftersalesline",
            "aftersalesevent",
            "aftersalesrefund",
            "shoporder",
            "shoporderline",
        ):
            cursor.execute(f"VACUUM ANALYZE saleor_aftersales_{table_name}")
        print(f"  vacuum analyze: {time.perf_counter() - step:.1f} s")
    print(f"Seeded in {time.perf_counter() - started:.0f} s.", flush=True)
    step = time.perf_counter()
    rollups.rebuild(get_settings().business_time_zone)
    print(f"  analytics rollups rebuilt: {time.perf_counter() - step:.1f} s")


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main_query(api: Api, document: str, variables, table_name: str) -> str:
    """The SQL of the heaviest query on ``table_name`` one call runs."""
    with CaptureQueriesContext(connection) as queries:
        api.post(document, variables)
    candidates = [q for q in queries.captured_queries if table_name in q["sql"]]
    return max(candidates, key=lambda q: float(q["time"]))["sql"]


def timings(api: Api, document: str, variables, runs: int):
    """Wall-clock ms per call, and the database's share of each."""
    times, sql = [], []
    for _ in range(runs):
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            api.post(document, variables)
            times.append((time.perf_counter() - start) * 1000)
        sql.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    return times, sql


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    migrate()
    existing = AftersalesRequest.objects.count()
    if args.reseed or existing < args.claims:
        seed(args.claims - (0 if args.reseed else existing))
    total = AftersalesRequest.objects.count()
    now = timezone.now()
    open_claims = AftersalesRequest.objects.exclude(
        status__in=RequestStatus.FINISHED
    ).count()
    overdue = AftersalesRequest.objects.filter(selectors.overdue(now)).count()
    print(f"\n{total:,} claims, {open_claims:,} open, {overdue:,} overdue.")

    shop = Shop()
    staff = Api(shop.staff)
    today = timezone.localdate()
    year = {"gte": str(today - timedelta(days=364)), "lte": str(today)}
    claim_id = gid("AftersalesRequest", AftersalesRequest.objects.order_by("-pk")[0].pk)

    for document, variables in (
        (QUEUE, {}),
        (STATS, {"period": year}),
        (ANALYTICS, {"period": year}),
    ):
        staff.post(document, variables)  # warm caches
    staff.post(SALEOR_ORDERS)
    measured = [
        ("queue: open + overdue, by resolution due, first 50", QUEUE, {}, 100),
        ("aftersalesStats over a year", STATS, {"period": year}, 15),
        (
            "analytics page: aftersalesAnalytics over a year",
            ANALYTICS,
            {"period": year},
            50,
        ),
        ("one claim with the customer's history", CLAIM_PAGE, {"id": claim_id}, 100),
        ("Saleor orders(first: 50) with lines, same database", SALEOR_ORDERS, {}, 100),
    ]
    rows = []
    for name, document, variables, runs in measured:
        times, sql = timings(staff, document, variables, runs)
        rows.append(
            [
                name,
                runs,
                f"{median(times):.1f}",
                f"{percentile(times, 0.95):.1f}",
                f"{median(sql):.1f}",
                f"{percentile(sql, 0.95):.1f}",
            ]
        )
    with section(f"{total:,} claims, through the GraphQL view"):
        table(
            ["operation", "runs", "p50 ms", "p95 ms", "SQL p50 ms", "SQL p95 ms"],
            rows,
        )
    # The ratio from calls taken in turns, so a busy moment of the machine weighs
    # on both sides alike.
    page_times, saleor_times = [], []
    for _ in range(40):
        for document, variables, times in (
            (ANALYTICS, {"period": year}, page_times),
            (SALEOR_ORDERS, {}, saleor_times),
        ):
            start = time.perf_counter()
            staff.post(document, variables)
            times.append((time.perf_counter() - start) * 1000)
    saleor, page = median(saleor_times), median(page_times)
    with CaptureQueriesContext(connection) as queries:
        staff.post(ANALYTICS, {"period": year})
    with section("The analytics page against Saleor's orders(first: 50), in turns"):
        table(
            ["operation", "p50 ms", "x orders(first: 50)", "SQL queries"],
            [
                [
                    "aftersalesAnalytics, a year and the year before",
                    f"{page:.1f}",
                    f"**{page / saleor:.2f}**",
                    len(queries.captured_queries),
                ],
                ["Saleor orders(first: 50)", f"{saleor:.1f}", "1.00", ""],
            ],
        )
        for query in queries.captured_queries:
            print(f"- {float(query['time']) * 1000:.1f} ms: {query['sql'][:140]}…")
    with section("Plan of the queue's main query"):
        print("```\n" + explain(main_query(staff, QUEUE, {}, "LIMIT")) + "\n```")
    with section("Plans of the statistics' queries"):
        with CaptureQueriesContext(connection) as queries:
            staff.post(STATS, {"period": year})
        for query in queries.captured_queries:
            if "aftersales" in query["sql"] and "SELECT" in query["sql"][:20]:
                print(f"{float(query['time']) * 1000:.0f} ms: {query['sql'][:160]}…")
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        print("\nSlowest:\n```\n" + explain(slowest["sql"]) + "\n```")


if __name__ == "__main__":
    main()
