"""After-sales figures and customer histories, checked against hand-computed ones."""

from decimal import Decimal

import pytest
from freezegun import freeze_time

from demo import shop

from .conftest import (
    ApiClient,
    assert_permission_denied,
    configure,
    create_return,
    gid,
    line_input,
)
from .queries import APPROVE, RATE, RECEIVE, REFUND, REJECT, REPAIR_REQUEST_CREATE

STATS = """
query Stats($period: DateRangeInput, $top: Int) {
  aftersalesStats(period: $period, topProducts: $top) {
    periodStart periodEnd claimCount
    byStatus { status count }
    byType { type count }
    byReason { reason units }
    returnRates { productId productName unitsSold unitsClaimed ratePercent }
    refundTotals { method total { amount currency } count }
    medianFirstResponseHours medianResolutionHours
    slaEvaluatedCount slaCompliancePercent averageRating ratingCount
  }
}
"""
HISTORY = """
query Queue($first: Int) {
  aftersalesRequests(first: $first) {
    edges { node { number userEmail customerHistory {
      email claimCount unitsBought unitsReturned returnRatePercent
      refunded { amount currency } isSerialReturner
    } } }
  }
}
"""
NOVEMBER = {"gte": "2026-11-01", "lte": "2026-11-30"}


@pytest.fixture
def month_of_claims(
    customer, other_customer, staff_user, warehouse, variants, customer_api, staff_api
):
    """Three claims in November 2026 (desk: UTC, 08-20, Monday to Friday):

    C1 return of 2 x P1 (defective), opened Mon 2 Nov 09:00, approved 11:00
       (2 business hours), refunded Tue 3 Nov 09:00 (12 h): resolved, rated 4.
    C2 return of 1 x P2 (changed mind), opened Mon 2 Nov 10:00, rejected Wed
       4 Nov 19:00 (33 h: answer late, conclusion in time).
    C3 repair of 1 x P2 by another customer, opened Thu 5 Nov 09:00, never
       answered: late by 20 Nov.
    Sold: P1 3 units, P2 2 units.
    """
    with freeze_time("2026-11-02 08:00:00"):
        (p2,) = shop.make_variants(1, warehouse, price=Decimal("40.00"))
        first = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variants[0], 2), (p2, 1)]
        )
        second = shop.fulfilled_paid_order(
            other_customer, staff_user, warehouse, [(variants[1], 1), (p2, 1)]
        )
    p1_line, p2_line = first.lines.order_by("pk")
    with freeze_time("2026-11-02 09:00:00"):
        c1 = create_return(customer_api, first, [line_input(p1_line, 2)])
    with freeze_time("2026-11-02 10:00:00"):
        c2 = create_return(
            customer_api, first, [line_input(p2_line, 1, "CHANGED_MIND")]
        )
    c1, c2 = c1["aftersalesRequest"]["id"], c2["aftersalesRequest"]["id"]
    with freeze_time("2026-11-02 11:00:00"):
        staff_api.data(APPROVE, {"id": c1})
        staff_api.data(RECEIVE, {"id": c1})
    with freeze_time("2026-11-03 09:00:00"):
        refund = staff_api.data(REFUND, {"id": c1})["aftersalesRequestRefund"]
        assert refund["aftersalesRequest"]["status"] == "RESOLVED"
        customer_api.data(RATE, {"id": c1, "rating": 4})
    with freeze_time("2026-11-04 19:00:00"):
        staff_api.data(REJECT, {"id": c2, "reason": "NOT_ELIGIBLE"})
    with freeze_time("2026-11-05 09:00:00"):
        other_line = second.lines.order_by("pk")[1]
        repair = ApiClient(other_customer).data(
            REPAIR_REQUEST_CREATE,
            {
                "input": {
                    "order": gid("Order", second.pk),
                    "lines": [line_input(other_line, 1)],
                }
            },
        )["repairRequestCreate"]
        assert repair["errors"] == []
    return {"p1": variants[0].product, "p2": p2.product}


def test_stats_match_the_hand_computed_figures(staff_api, month_of_claims):
    with freeze_time("2026-11-20 12:00:00"):
        stats = staff_api.data(STATS, {"period": NOVEMBER})["aftersalesStats"]
    assert stats["periodStart"] == "2026-11-01"
    assert stats["periodEnd"] == "2026-11-30"
    assert stats["claimCount"] == 3
    assert stats["byStatus"] == [
        {"status": "REJECTED", "count": 1},
        {"status": "REQUESTED", "count": 1},
        {"status": "RESOLVED", "count": 1},
    ]
    assert stats["byType"] == [
        {"type": "REPAIR", "count": 1},
        {"type": "RETURN", "count": 2},
    ]
    assert stats["byReason"] == [
        {"reason": "CHANGED_MIND", "units": 1},
        {"reason": "DEFECTIVE", "units": 3},
    ]
    p1, p2 = month_of_claims["p1"], month_of_claims["p2"]
    assert stats["returnRates"] == [
        {
            "productId": gid("Product", p1.pk),
            "productName": p1.name,
            "unitsSold": 3,
            "unitsClaimed": 2,
            "ratePercent": 66.67,
        },
        {
            "productId": gid("Product", p2.pk),
            "productName": p2.name,
            "unitsSold": 2,
            "unitsClaimed": 0,  # rejected; repairs take nothing back
            "ratePercent": 0.0,
        },
    ]
    assert stats["refundTotals"] == [
        {"method": "REFUND", "total": {"amount": 50.0, "currency": "USD"}, "count": 1}
    ]
    assert stats["medianFirstResponseHours"] == 17.5  # of 2 h and 33 h
    assert stats["medianResolutionHours"] == 22.5  # of 12 h and 33 h
    assert stats["slaEvaluatedCount"] == 3
    assert stats["slaCompliancePercent"] == 33.33
    assert stats["averageRating"] == 4.0
    assert stats["ratingCount"] == 1


def test_cancelled_claims_do_not_count_against_the_service_level(
    customer_api, staff_api, order
):
    from .queries import CANCEL

    with freeze_time("2026-11-02 09:00:00"):
        claim = create_return(customer_api, order, [line_input(order.lines.first(), 1)])
        customer_api.data(CANCEL, {"id": claim["aftersalesRequest"]["id"]})
    with freeze_time("2026-11-20 12:00:00"):
        stats = staff_api.data(STATS, {"period": NOVEMBER, "top": None})[
            "aftersalesStats"
        ]
    assert stats["claimCount"] == 1
    assert stats["slaEvaluatedCount"] == 0
    assert stats["slaCompliancePercent"] is None


def test_a_period_without_claims_has_empty_figures(staff_api, month_of_claims):
    stats = staff_api.data(
        STATS, {"period": {"gte": "2026-10-01", "lte": "2026-10-31"}}
    )["aftersalesStats"]
    assert stats["claimCount"] == 0
    assert stats["byStatus"] == stats["refundTotals"] == stats["returnRates"] == []
    assert stats["medianFirstResponseHours"] is None
    assert stats["slaCompliancePercent"] is None
    assert stats["averageRating"] is None


def test_the_period_follows_the_desks_time_zone(staff_api, month_of_claims):
    def count(day):
        period = {"gte": day, "lte": day}
        return staff_api.data(STATS, {"period": period})["aftersalesStats"][
            "claimCount"
        ]

    assert (count("2026-11-02"), count("2026-11-03")) == (2, 0)
    # At UTC+14, C1 (09:00 UTC) is opened at 23:00 on the 2nd, C2 (10:00 UTC) at
    # midnight on the 3rd.
    configure(**{"Business time zone": "Pacific/Kiritimati"})
    assert (count("2026-11-02"), count("2026-11-03")) == (1, 1)


def test_customer_history_and_the_serial_returner_flag(staff_api, month_of_claims):
    def histories():
        edges = staff_api.data(HISTORY, {"first": 10})["aftersalesRequests"]["edges"]
        return {e["node"]["userEmail"]: e["node"]["customerHistory"] for e in edges}

    customer = histories()["customer@example.com"]
    assert customer == {
        "email": "customer@example.com",
        "claimCount": 2,
        "unitsBought": 3,
        "unitsReturned": 2,
        "returnRatePercent": 66.67,
        "refunded": [{"amount": 50.0, "currency": "USD"}],
        "isSerialReturner": False,  # 2 claims: below the default minimum of 3
    }
    other = histories()["other@example.com"]
    assert other["unitsReturned"] == 0 and other["returnRatePercent"] == 0.0
    assert other["refunded"] == []

    configure(**{"Serial returner minimum claims": "2"})
    assert histories()["customer@example.com"]["isSerialReturner"] is True
    configure(
        **{
            "Serial returner minimum claims": "2",
            "Serial returner return rate percent": "70",
        }
    )
    assert histories()["customer@example.com"]["isSerialReturner"] is False


def test_customer_history_costs_the_same_for_one_claim_or_a_page(
    customer_api, staff_api, order, other_customer, staff_user, warehouse, variants
):
    line = order.lines.order_by("pk")[0]
    create_return(customer_api, order, [line_input(line, 1)])
    one, _ = staff_api.count_queries(HISTORY, {"first": 20})
    other_order = shop.fulfilled_paid_order(
        other_customer, staff_user, warehouse, [(variants[2], 3)]
    )
    other_api = ApiClient(other_customer)
    for _ in range(3):
        create_return(other_api, other_order, [line_input(other_order.lines.get(), 1)])
    create_return(customer_api, order, [line_input(line, 1)])
    many, data = staff_api.count_queries(HISTORY, {"first": 20})
    assert len(data["aftersalesRequests"]["edges"]) == 5
    assert many == one


def test_customers_never_see_histories_or_stats(
    customer_api, intern_api, anonymous_api, claim
):
    from .queries import REQUEST

    mine = customer_api.data(
        REQUEST.replace("assignee { email }", "customerHistory { claimCount }"),
        {"id": claim["id"]},
    )["aftersalesRequest"]
    assert mine["customerHistory"] is None
    for api in (customer_api, intern_api, anonymous_api):
        assert_permission_denied(api.post(STATS, {"period": NOVEMBER}))


@pytest.mark.parametrize(
    "variables",
    [
        {"period": {"gte": "2026-11-30", "lte": "2026-11-01"}},
        {"period": {"gte": "2020-01-01", "lte": "2026-11-01"}},
        {"period": {"gte": "9999-12-30", "lte": "9999-12-31"}},
        {"top": 0},
        {"top": 1000},
    ],
)
def test_bad_periods_are_refused_clearly(staff_api, variables):
    content = staff_api.post(STATS, variables)
    assert content["data"] is None
    (error,) = content["errors"]
    assert "period" in error["message"] or "topProducts" in error["message"]


QUEUE_CREATED = """
query Queue($created: DateRangeInput) {
  aftersalesRequests(first: 10, filter: {created: $created}) {
    totalCount edges { node { number } }
  }
}
"""


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Pacific/Auckland"])
def test_the_created_filter_counts_days_like_the_statistics(
    staff_api, customer_api, order, zone
):
    """One day is one day in the desk's time zone, for the queue's `created`
    filter as for aftersalesStats: 23:30 UTC on the 2nd is the 3rd in Shanghai
    (07:30) and in Auckland (12:30)."""
    configure(**{"Business time zone": zone})
    with freeze_time("2026-11-02 23:30:00"):
        claim = create_return(customer_api, order, [line_input(order.lines.first(), 1)])
    number = claim["aftersalesRequest"]["number"]
    local_day, utc_day = "2026-11-03", "2026-11-02"

    def queue(gte, lte):
        found = staff_api.data(QUEUE_CREATED, {"created": {"gte": gte, "lte": lte}})
        return [e["node"]["number"] for e in found["aftersalesRequests"]["edges"]]

    def stats(day):
        period = {"gte": day, "lte": day}
        return staff_api.data(STATS, {"period": period})["aftersalesStats"][
            "claimCount"
        ]

    assert queue(local_day, local_day) == [number]
    assert stats(local_day) == 1
    assert queue(utc_day, utc_day) == []
    assert stats(utc_day) == 0
    # Open ends, and the calendar's ends, stay answerable.
    for created, count in [({"gte": local_day}, 1), ({"lte": utc_day}, 0)]:
        found = staff_api.data(QUEUE_CREATED, {"created": created})
        assert found["aftersalesRequests"]["totalCount"] == count
    assert queue("0001-01-01", "9999-12-31") == [number]
    assert queue("9999-12-31", "9999-12-31") == []
    assert queue("0001-01-01", "0001-01-01") == []
