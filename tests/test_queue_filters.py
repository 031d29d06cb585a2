"""The queue's filters behind the analytics page's click-through: reason, channel,
product, rating, refunded (days in the desk's time zone), refund method (one
refund row meeting both) and service levels met, on claims made through the
real workflow. Bad input is a clear GraphQL error."""

import json
from decimal import Decimal

import pytest
from freezegun import freeze_time

from demo import shop
from saleor_aftersales.models import AftersalesRefund, ShopOrder

from .conftest import API_PATH, ApiClient, configure, create_return, gid, line_input
from .queries import APPROVE, RATE, RECEIVE, REFUND, REJECT, STAFF_REQUESTS

QUEUE = """
query Queue($filter: AftersalesRequestFilterInput) {
  aftersalesRequests(first: 50, filter: $filter) {
    totalCount edges { node { number } }
  }
}
"""


def numbers(api, **filter_):
    """(totalCount, numbers) of the queue filtered so."""
    found = api.data(QUEUE, {"filter": filter_})["aftersalesRequests"]
    return found["totalCount"], sorted(e["node"]["number"] for e in found["edges"])


def refused(api, **filter_):
    """The error's message: a value of the wrong type is refused before the
    query runs (HTTP 400), a value the filter refuses while it runs (200)."""
    response = api.client.post(
        API_PATH,
        json.dumps({"query": QUEUE, "variables": {"filter": filter_}}),
        content_type="application/json",
        **api.headers,
    )
    assert response.status_code in (200, 400), response.content
    content = json.loads(response.content)
    assert content.get("errors"), content
    assert (content.get("data") or {}).get("aftersalesRequests") is None
    return content["errors"][0]["message"]


@pytest.fixture
def claims(
    customer, other_customer, staff_user, warehouse, variants, customer_api, staff_api
):
    """Four claims in November 2026 (desk: UTC, 08-20, Monday to Friday):

    C1 return of 2 x P1 (defective) on order A, Mon 2 Nov 09:00; approved and
       received 11:00, refunded Tue 3 Nov 19:30 (REFUND): resolved in time,
       rated 5.
    C2 return of 1 x P2 (changed mind) on order A, Mon 2 Nov 10:00; rejected Wed
       4 Nov 19:00: answered late (service levels missed).
    C3 return of P1 (wrong item) and P2 (defective) on order B of another
       customer, Thu 5 Nov 09:00; approved, P1 received 10:00 and refunded Fri
       6 Nov 09:00 (REFUND, 25.00), P2 received and credited Mon 9 Nov 09:00
       (STORE_CREDIT, 40.00): in time.
    C4 return of 1 x P1 (other) on order A, Mon 2 Nov 12:00, never answered.
    Order B's copy is in the channel "web" (Saleor 3's; 2.10's orders have none).
    """
    with freeze_time("2026-11-02 08:00:00"):
        (p2,) = shop.make_variants(1, warehouse, price=Decimal("40.00"))
        order_a = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variants[0], 3), (p2, 1)]
        )
        order_b = shop.fulfilled_paid_order(
            other_customer, staff_user, warehouse, [(variants[1], 1), (p2, 1)]
        )
    a_p1, a_p2 = order_a.lines.order_by("pk")
    b_p1, b_p2 = order_b.lines.order_by("pk")

    def opened(api, order, lines):
        payload = create_return(api, order, lines)
        assert payload["errors"] == [], payload
        return payload["aftersalesRequest"]

    def step(query, variables):
        name, payload = next(iter(staff_api.data(query, variables).items()))
        assert payload["errors"] == [], payload
        return payload

    with freeze_time("2026-11-02 09:00:00"):
        c1 = opened(customer_api, order_a, [line_input(a_p1, 2)])
    with freeze_time("2026-11-02 10:00:00"):
        c2 = opened(customer_api, order_a, [line_input(a_p2, 1, "CHANGED_MIND")])
    with freeze_time("2026-11-02 11:00:00"):
        step(APPROVE, {"id": c1["id"]})
        step(RECEIVE, {"id": c1["id"]})
    with freeze_time("2026-11-02 12:00:00"):
        c4 = opened(customer_api, order_a, [line_input(a_p1, 1, "OTHER")])
    with freeze_time("2026-11-03 19:30:00"):
        refund = step(REFUND, {"id": c1["id"]})
        assert refund["aftersalesRequest"]["status"] == "RESOLVED"
        rated = customer_api.data(RATE, {"id": c1["id"], "rating": 5})
        assert rated["aftersalesRequestRate"]["errors"] == []
    with freeze_time("2026-11-04 19:00:00"):
        step(REJECT, {"id": c2["id"], "reason": "NOT_ELIGIBLE"})
    other_api = ApiClient(other_customer)
    with freeze_time("2026-11-05 09:00:00"):
        c3 = opened(
            other_api,
            order_b,
            [line_input(b_p1, 1, "WRONG_ITEM"), line_input(b_p2, 1, "DEFECTIVE")],
        )
    c3_p1, c3_p2 = [line["id"] for line in c3["lines"]]
    with freeze_time("2026-11-05 10:00:00"):
        step(APPROVE, {"id": c3["id"]})
        step(RECEIVE, {"id": c3["id"], "lines": [{"line": c3_p1, "quantity": 1}]})
    with freeze_time("2026-11-06 09:00:00"):
        money = step(REFUND, {"id": c3["id"], "key": "c3-money"})
        assert money["aftersalesRequest"]["status"] == "RECEIVED"
    with freeze_time("2026-11-09 08:30:00"):
        step(RECEIVE, {"id": c3["id"], "lines": [{"line": c3_p2, "quantity": 1}]})
    with freeze_time("2026-11-09 09:00:00"):
        credit = step(
            REFUND, {"id": c3["id"], "method": "STORE_CREDIT", "key": "c3-credit"}
        )
        assert credit["aftersalesRequest"]["status"] == "RESOLVED"
    ShopOrder.objects.filter(host_id=str(order_b.pk)).update(channel="web")
    assert sorted(
        AftersalesRefund.objects.values_list("method", "status", "amount")
    ) == [
        ("refund", "success", Decimal("25.00")),
        ("refund", "success", Decimal("50.00")),
        ("store_credit", "success", Decimal("40.00")),
    ]
    return {
        "C1": c1["number"],
        "C2": c2["number"],
        "C3": c3["number"],
        "C4": c4["number"],
        "P1": variants[0].product,
        "P2": p2.product,
    }


def expect(claims, *names):
    return len(names), sorted(claims[name] for name in names)


def test_reason_finds_claims_with_a_line_of_it_once(staff_api, claims):
    assert numbers(staff_api, reason=["DEFECTIVE"]) == expect(claims, "C1", "C3")
    assert numbers(staff_api, reason=["CHANGED_MIND", "WRONG_ITEM"]) == expect(
        claims, "C2", "C3"
    )
    # C3 has a line of each: listed once.
    assert numbers(staff_api, reason=["DEFECTIVE", "WRONG_ITEM"]) == expect(
        claims, "C1", "C3"
    )
    assert numbers(staff_api, reason=["MISSING_PARTS"]) == (0, [])
    assert numbers(staff_api, reason=[]) == expect(claims, "C1", "C2", "C3", "C4")
    assert "AftersalesReason" in refused(staff_api, reason=["BROKEN"])
    assert refused(staff_api, reason=[None])


def test_channel_is_the_orders_and_empty_means_none(staff_api, claims):
    assert numbers(staff_api, channel="web") == expect(claims, "C3")
    assert numbers(staff_api, channel="") == expect(claims, "C1", "C2", "C4")
    assert numbers(staff_api, channel="Web") == (0, [])
    assert numbers(staff_api, channel=None) == expect(claims, "C1", "C2", "C3", "C4")
    assert "NUL" in refused(staff_api, channel="w\x00eb")


def test_product_finds_claims_with_a_line_of_it_once(staff_api, claims):
    p1, p2 = gid("Product", claims["P1"].pk), gid("Product", claims["P2"].pk)
    assert numbers(staff_api, product=p1) == expect(claims, "C1", "C3", "C4")
    assert numbers(staff_api, product=p2) == expect(claims, "C2", "C3")
    assert numbers(staff_api, product=gid("Product", 10**9)) == (0, [])
    for wrong in ["not-an-id", gid("Order", claims["P1"].pk), "", gid("Product", "")]:
        assert "`product` must be a Product ID" in refused(staff_api, product=wrong)


def test_rating_takes_one_to_five(staff_api, claims):
    assert numbers(staff_api, rating=[5]) == expect(claims, "C1")
    assert numbers(staff_api, rating=[4, 5]) == expect(claims, "C1")
    assert numbers(staff_api, rating=[1, 2, 3]) == (0, [])
    for wrong in [[0], [6], [5, -1]]:
        assert "from 1 to 5" in refused(staff_api, rating=wrong)
    assert refused(staff_api, rating=["five"])


def test_refunded_counts_days_in_the_desks_time_zone(staff_api, claims):
    """C1's refund is Tue 3 Nov 19:30 UTC: the 3rd at a UTC desk, the 4th in
    Shanghai (03:30)."""
    day = lambda d: {"gte": d, "lte": d}  # noqa: E731
    assert numbers(staff_api, refunded=day("2026-11-03")) == expect(claims, "C1")
    assert numbers(staff_api, refunded=day("2026-11-04")) == (0, [])
    assert numbers(staff_api, refunded={"gte": "2026-11-06"}) == expect(claims, "C3")
    assert numbers(staff_api, refunded={"lte": "2026-11-30"}) == expect(
        claims, "C1", "C3"
    )
    configure(**{"Business time zone": "Asia/Shanghai"})
    assert numbers(staff_api, refunded=day("2026-11-03")) == (0, [])
    assert numbers(staff_api, refunded=day("2026-11-04")) == expect(claims, "C1")
    assert refused(staff_api, refunded={"gte": "3 Nov"})


def test_refund_method_with_refunded_is_one_refund_meeting_both(staff_api, claims):
    day = lambda d: {"gte": d, "lte": d}  # noqa: E731
    assert numbers(staff_api, refundMethod="REFUND") == expect(claims, "C1", "C3")
    assert numbers(staff_api, refundMethod="STORE_CREDIT") == expect(claims, "C3")
    # C3 was refunded on the 6th and credited on the 9th: no credit on the 6th.
    assert numbers(
        staff_api, refunded=day("2026-11-06"), refundMethod="STORE_CREDIT"
    ) == (0, [])
    assert numbers(
        staff_api, refunded=day("2026-11-09"), refundMethod="STORE_CREDIT"
    ) == expect(claims, "C3")
    assert numbers(
        staff_api, refunded=day("2026-11-06"), refundMethod="REFUND"
    ) == expect(claims, "C3")
    assert "AftersalesRefundMethod" in refused(staff_api, refundMethod="CASH")


def test_failed_and_pending_refunds_are_not_refunded(staff_api, claims):
    """Only successful refunds count: the same rows, no longer successful."""
    AftersalesRefund.objects.filter(method="store_credit").update(status="failed")
    assert numbers(staff_api, refundMethod="STORE_CREDIT") == (0, [])
    AftersalesRefund.objects.filter(amount=Decimal("50.00")).update(status="pending")
    assert numbers(staff_api, refunded={"lte": "2026-11-30"}) == expect(claims, "C3")


def test_sla_met_splits_concluded_claims(staff_api, claims):
    assert numbers(staff_api, slaMet=True) == expect(claims, "C1", "C3")
    assert numbers(staff_api, slaMet=False) == expect(claims, "C2")
    assert numbers(staff_api, slaMet=None) == expect(claims, "C1", "C2", "C3", "C4")


def test_filters_combine(staff_api, claims):
    assert numbers(
        staff_api,
        reason=["DEFECTIVE"],
        product=gid("Product", claims["P2"].pk),
        channel="web",
        slaMet=True,
        refundMethod="STORE_CREDIT",
        status=["RESOLVED"],
    ) == expect(claims, "C3")
    assert numbers(staff_api, reason=["DEFECTIVE"], rating=[5], channel="web") == (
        0,
        [],
    )


def test_customers_cant_filter_the_queue(customer_api, claims):
    content = customer_api.post(QUEUE, {"filter": {"reason": ["DEFECTIVE"]}})
    assert "permission" in content["errors"][0]["message"].lower()


def test_the_filters_cost_no_query(staff_api, claims):
    """The page of claims costs the same queries filtered by all of them, but
    for reading the desk's time zone once for `refunded` (as for `created`)."""
    plain, data = staff_api.count_queries(STAFF_REQUESTS, {"first": 10})
    assert data["aftersalesRequests"]["totalCount"] == 4
    every = {
        "reason": ["DEFECTIVE", "WRONG_ITEM"],
        "product": gid("Product", claims["P1"].pk),
        "channel": "web",
        "refundMethod": "REFUND",
        "slaMet": True,
        "rating": [1, 2, 3, 4, 5],
    }
    _, data = staff_api.count_queries(STAFF_REQUESTS, {"first": 10, "filter": every})
    assert data["aftersalesRequests"]["totalCount"] == 0
    del every["rating"]
    filtered, data = staff_api.count_queries(
        STAFF_REQUESTS, {"first": 10, "filter": every}
    )
    assert data["aftersalesRequests"]["totalCount"] == 1
    assert filtered == plain
    dated, data = staff_api.count_queries(
        STAFF_REQUESTS,
        {"first": 10, "filter": {**every, "refunded": {"gte": "2026-11-01"}}},
    )
    assert data["aftersalesRequests"]["totalCount"] == 1
    created, _ = staff_api.count_queries(
        STAFF_REQUESTS,
        {"first": 10, "filter": {**every, "created": {"gte": "2026-11-01"}}},
    )
    assert dated == created == plain + 1
