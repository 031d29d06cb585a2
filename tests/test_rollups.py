"""The analytics rollups, kept step by step, equal a full recomputation.

Random histories of claims are driven through GraphQL over several days (in a
desk zone far from UTC), with steps that succeed and steps the desk refuses; the
rows each step added are then compared with what ``rollups.rebuild`` computes
from the claims, and the page's figures with ``aftersalesStats``' direct
computation.
"""

import random
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum
from freezegun import freeze_time

from demo import shop
from saleor_aftersales import analytics, rollups, stats
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.models import (
    ROLLUP_SHARDS,
    AftersalesRequest,
    ClaimDay,
    ProductDay,
    RefundDay,
)
from saleor_aftersales.workflow import steps

from .conftest import ApiClient, configure, create_return, gid, line_input
from .queries import (
    APPEAL,
    APPROVE,
    CANCEL,
    CLOSE,
    PROVIDE_INFO,
    RATE,
    RECEIVE,
    REFUND,
    REJECT,
    REPAIR_REQUEST_CREATE,
    REQUEST_INFO,
)

ZONE = "Asia/Shanghai"  # UTC+8: a claim at 17:00 UTC belongs to the next day
START = datetime(2026, 10, 26, 6, 0)


def table_sums(model, key):
    """A rollup table summed over its shards: {key: counters}, zero rows out."""
    counters = [
        f.column
        for f in model._meta.concrete_fields
        if f.column not in (*key, "id", "shard", "product_name")
    ]
    sums = {}
    for row in (
        model.objects.order_by()
        .values(*key)
        .annotate(**{f"sum_{c}": Sum(c) for c in counters})
    ):
        values = tuple(row[f"sum_{c}"] for c in counters)
        if any(values):
            sums[tuple(row[k] for k in key)] = values
    return sums


def all_sums():
    return (
        table_sums(ClaimDay, ("day", "type", "channel")),
        table_sums(ProductDay, ("day", "product_ref", "channel")),
        table_sums(RefundDay, ("day", "type", "channel", "currency", "method")),
    )


def assert_equal_to_rebuild():
    kept = all_sums()
    rollups.rebuild(ZONE)
    rebuilt = all_sums()
    for name, mine, theirs in zip(("claims", "products", "refunds"), kept, rebuilt):
        assert mine == theirs, name
    return rebuilt


@pytest.fixture
def desk(db):
    configure(**{"Business time zone": ZONE, "Business hours": "09:00-18:00"})
    rollups.rebuild(ZONE)  # the rows start from an empty, built state


STEPS = [
    "approve",
    "reject",
    "info",
    "provide",
    "cancel",
    "receive",
    "refund",
    "credit",
    "close",
    "rate",
    "appeal",
]
LIKELY = {
    "requested": ["approve", "approve", "reject", "info", "cancel"],
    "needs_info": ["provide", "cancel"],
    "appealed": ["approve", "reject"],
    "approved": ["receive", "receive", "refund", "cancel"],
    "received": ["refund", "credit", "close"],
    "quoted": ["close"],
    "in_repair": ["close"],
    "rejected": ["appeal", "close"],
    "cancelled": ["rate"],
    "resolved": ["rate", "close"],
    "closed": ["rate"],
}


def random_history(seed, customer, staff_user, warehouse, variants):
    rng = random.Random(seed)
    customer_api, staff_api = ApiClient(customer), ApiClient(staff_user)
    moment = START
    with freeze_time(moment):
        extra = shop.make_variants(2, warehouse, price=Decimal("25.00"))
        products = list(variants) + list(extra)
        orders = [
            shop.fulfilled_paid_order(
                customer,
                staff_user,
                warehouse,
                [(rng.choice(products), rng.randint(2, 4)) for _ in range(2)],
            )
            for _ in range(4)
        ]
    claims = []
    refused = 0
    for _ in range(90):
        moment += timedelta(hours=rng.choice([1, 3, 7, 11, 17, 26]))
        with freeze_time(moment):
            if not claims or rng.random() < 0.3:
                order = rng.choice(orders)
                line = rng.choice(list(order.lines.order_by("pk")))
                reason = rng.choice(["DEFECTIVE", "CHANGED_MIND", "WRONG_ITEM"])
                if rng.random() < 0.2:
                    payload = ApiClient(customer).data(
                        REPAIR_REQUEST_CREATE,
                        {
                            "input": {
                                "order": gid("Order", order.pk),
                                "lines": [line_input(line, 1, reason)],
                            }
                        },
                    )["repairRequestCreate"]
                else:
                    payload = create_return(
                        customer_api, order, [line_input(line, 1, reason)]
                    )
                if payload["errors"]:
                    refused += 1
                else:
                    claims.append(payload["aftersalesRequest"]["id"])
                continue
            claim = rng.choice(claims[-6:])
            status = AftersalesRequest.objects.get(pk=claim_pk(claim)).status
            if rng.random() < 0.8:  # mostly what the desk would do next
                step = rng.choice(LIKELY[status])
            else:  # and now and then anything, which may be refused
                step = rng.choice(STEPS)
            query, variables, api = {
                "approve": (APPROVE, {"id": claim}, staff_api),
                "reject": (REJECT, {"id": claim, "reason": "NOT_ELIGIBLE"}, staff_api),
                "info": (REQUEST_INFO, {"id": claim, "note": "Photo?"}, staff_api),
                "provide": (PROVIDE_INFO, {"id": claim, "note": "Here"}, customer_api),
                "cancel": (CANCEL, {"id": claim}, customer_api),
                "receive": (RECEIVE, {"id": claim}, staff_api),
                "refund": (REFUND, {"id": claim}, staff_api),
                "credit": (REFUND, {"id": claim, "method": "STORE_CREDIT"}, staff_api),
                "close": (CLOSE, {"id": claim}, staff_api),
                "rate": (
                    RATE,
                    {"id": claim, "rating": rng.randint(1, 5)},
                    customer_api,
                ),
                "appeal": (APPEAL, {"id": claim, "note": "Please"}, customer_api),
            }[step]
            content = api.post(query, variables)
            assert "errors" not in content, content
            (payload,) = content["data"].values()
            refused += bool(payload["errors"])
    return moment, refused


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_kept_by_each_step_equal_a_full_recomputation(
    seed, desk, customer, staff_user, warehouse, variants, staff_api
):
    end, refused = random_history(seed, customer, staff_user, warehouse, variants)
    assert refused, "the history also tries steps the desk refuses"
    assert AftersalesRequest.objects.exclude(status="requested").exists()
    rebuilt = assert_equal_to_rebuild()
    assert rebuilt[0] and rebuilt[1]

    # The page's figures agree with the direct computation of aftersalesStats.
    settings = get_settings()
    with freeze_time(end + timedelta(days=1)):
        period = stats.Period(date(2026, 10, 20), date(2026, 11, 30))
        page = analytics.compute(period, settings, top_products=100)
        direct = stats.compute(period, settings, top_products=100)
    assert page.current.claim_count == direct.claim_count
    assert page.current.by_status == direct.by_status
    assert page.current.by_type == direct.by_type
    assert page.current.units_by_reason == {
        reason: units for reason, units in direct.by_reason.items() if units
    }
    assert page.current.sla_evaluated == direct.sla_evaluated
    assert page.current.sla_met == direct.sla_met
    assert page.current.rating_count == direct.rating_count
    assert page.current.average_rating == direct.average_rating
    assert page.current.refunds == direct.refunds
    assert sorted(
        (r.product_id, r.units_sold, r.units_claimed) for r in page.return_rates
    ) == sorted(
        (r.product_id, r.units_sold, r.units_claimed) for r in direct.return_rates
    )
    assert sum(map(sum, page.opened_per_day.values())) == direct.claim_count
    assert sum(week.opened for week in page.weeks) == direct.claim_count
    # Medians are read within their bucket: the exact one lies in the same.
    for grouped, exact in (
        (page.current.median_first_response_hours, direct.median_first_response_hours),
        (page.current.median_resolution_hours, direct.median_resolution_hours),
    ):
        assert (grouped is None) == (exact is None)
        if exact is not None:
            assert abs(grouped - exact) <= 0.25 + 1e-9 or exact > 4


def test_each_figure_counts_the_claim_once_whatever_it_went_through(
    desk, customer, staff_user, warehouse, variants, customer_api, staff_api
):
    with freeze_time("2026-11-02 01:00:00"):  # Monday 09:00 in Shanghai
        order = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variants[0], 3)]
        )
        line = order.lines.get()
        claim = create_return(customer_api, order, [line_input(line, 2)])
        claim = claim["aftersalesRequest"]["id"]
    with freeze_time("2026-11-02 03:00:00"):
        staff_api.data(REJECT, {"id": claim, "reason": "NOT_ELIGIBLE"})
    with freeze_time("2026-11-02 05:00:00"):
        customer_api.data(APPEAL, {"id": claim, "note": "Look again"})
        staff_api.data(APPROVE, {"id": claim})
        staff_api.data(RECEIVE, {"id": claim})
        staff_api.data(REFUND, {"id": claim})
        staff_api.data(CLOSE, {"id": claim})
        customer_api.data(RATE, {"id": claim, "rating": 5})
    claims, products, refunds = all_sums()
    ((key, counters),) = claims.items()
    assert key == (date(2026, 11, 2), "return", "")
    figures = dict(zip(rollups.CLAIM_COLUMNS, counters))
    assert figures["opened"] == 1
    assert figures["status_closed"] == 1
    assert sum(v for k, v in figures.items() if k.startswith("status_")) == 1
    assert figures["units_defective"] == 2
    assert figures["rating_5"] == 1
    assert figures["sla_decided"] == 1
    # Answered after 2 business hours; concluded (after the appeal) 4 h in.
    assert figures["response_08"] == 1
    assert figures["resolution_16"] == 1
    assert sum(v for k, v in figures.items() if k.startswith("response_")) == 1
    (held,) = [value for value in products.values() if value[1]]
    assert held == (3, 2, 0)  # sold, returned, exchanged
    ((refund_key, (count, amount)),) = refunds.items()
    assert refund_key[1:] == ("return", "", "USD", "refund") and count == 1
    assert_equal_to_rebuild()


def test_a_step_refused_adds_nothing(desk, claim, staff_api):
    before = all_sums()
    content = staff_api.post(RECEIVE, {"id": claim["id"]})  # not approved yet
    assert content["data"]["aftersalesRequestReceive"]["errors"]
    assert all_sums() == before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_steps_on_the_same_day_do_not_wait_for_each_other(
    customer, staff_user, warehouse, variants
):
    """Two claims opened the same day, stepped in two open transactions on two
    connections of different shards: the second doesn't wait for the first's
    row (a lock timeout would fail it)."""
    configure(**{"Business time zone": ZONE})
    rollups.rebuild(ZONE)
    with freeze_time("2026-11-02 02:00:00"):
        order = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variants[0], 2), (variants[1], 2)]
        )
        first_line, second_line = order.lines.order_by("pk")
        api = ApiClient(customer)
        first = create_return(api, order, [line_input(first_line, 1)])
        second = create_return(api, order, [line_input(second_line, 1)])
    pks = [AftersalesRequest.objects.get(pk=claim_pk(c)).pk for c in (first, second)]
    holding = threading.Event()
    release = threading.Event()
    shards, failures = [], []

    def shard_of_connection():
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT pg_backend_pid() % {ROLLUP_SHARDS}")
            return cursor.fetchone()[0]

    def step_on(pk, hold):
        try:
            if not hold:
                # Another shard than the held step's: a fresh connection until so.
                while shard_of_connection() == shards[0]:
                    connection.close()
            shards.append(shard_of_connection())
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '5s'")
                claim = steps.lock_claim(pk)
                claim.rating = 3
                claim.save(update_fields=["rating"])
                rollups.claim_changed(claim)
                if hold:
                    holding.set()
                    assert release.wait(60)
        except Exception as error:  # reported by the test
            failures.append(error)
            holding.set()
        finally:
            connection.close()

    first_thread = threading.Thread(target=step_on, args=(pks[0], True))
    first_thread.start()
    assert holding.wait(60)
    second_thread = threading.Thread(target=step_on, args=(pks[1], False))
    second_thread.start()
    second_thread.join(60)
    finished_while_held = not second_thread.is_alive() and first_thread.is_alive()
    release.set()
    first_thread.join(60)
    assert not failures, failures
    assert finished_while_held
    assert len(set(shards)) == 2
    rows = ClaimDay.objects.filter(day=date(2026, 11, 2), rating_3=1)
    assert rows.values("shard").distinct().count() == 2
    kept = all_sums()
    # Past days' shards fold into one row per key, and still add up.
    assert rollups.fold(date(2026, 11, 3)) >= 1
    assert ClaimDay.objects.filter(day=date(2026, 11, 2)).count() == 1
    assert all_sums() == kept
    assert_equal_to_rebuild()


def claim_pk(claim):
    """The pk of a claim given by its ID or a create mutation's payload."""
    from graphene import Node

    if isinstance(claim, dict):
        claim = claim["aftersalesRequest"]["id"]
    return Node.from_global_id(claim)[1]
