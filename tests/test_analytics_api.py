"""aftersalesAnalytics: the page's figures over GraphQL, against the hand-computed
month of tests/test_stats.py, with its refusals."""

import pytest
from freezegun import freeze_time

from saleor_aftersales.models import ClaimDay

from .conftest import assert_permission_denied
from .test_stats import NOVEMBER, month_of_claims  # noqa: F401 (a fixture)

ANALYTICS = """
query Analytics($period: DateRangeInput, $types: [AftersalesRequestType!],
                $channel: String, $top: Int) {
  aftersalesAnalytics(period: $period, types: $types, channel: $channel,
                      topProducts: $top) {
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


def analytics(api, **variables):
    return api.data(ANALYTICS, variables)["aftersalesAnalytics"]


@freeze_time("2026-12-01 12:00:00")
def test_the_month_of_claims_as_the_page_reads_it(staff_api, month_of_claims):
    page = analytics(staff_api, period=NOVEMBER)
    assert (page["periodStart"], page["periodEnd"]) == ("2026-11-01", "2026-11-30")
    assert (page["previousStart"], page["previousEnd"]) == ("2026-10-02", "2026-10-31")
    assert page["timeZone"] == "UTC" and page["channels"] == []
    assert len(page["days"]) == 30 and page["days"][0] == "2026-11-01"
    current = page["current"]
    assert current["claimCount"] == 3
    assert current["byType"] == [
        {"type": "REPAIR", "count": 1},
        {"type": "RETURN", "count": 2},
    ]
    # C1 answered after 2 h, concluded after 12 h and in time; C2 answered late
    # (33 h); C3 never answered and late by now: 1 of 3 met.
    assert (current["slaEvaluated"], current["slaMet"]) == (3, 1)
    assert current["slaCompliancePercent"] == pytest.approx(33.33)
    assert current["averageRating"] == 4 and current["ratingCount"] == 1
    assert current["refunds"] == [
        {"method": "REFUND", "total": {"amount": 50.0, "currency": "USD"}, "count": 1}
    ]
    assert page["previous"]["claimCount"] == 0
    opened = {series["type"]: series["counts"] for series in page["openedPerDay"]}
    assert opened["RETURN"][1] == 2 and sum(opened["RETURN"]) == 2  # 2 Nov
    assert opened["REPAIR"][4] == 1 and sum(opened["REPAIR"]) == 1  # 5 Nov
    assert opened["EXCHANGE"] == [0] * 30
    assert page["reasons"][0] == {"reason": "DEFECTIVE", "units": 3, "previousUnits": 0}
    assert {r["reason"] for r in page["reasons"]} == {"DEFECTIVE", "CHANGED_MIND"}
    # Weeks start on Monday, the first clipped to the period: 1 Nov is a Sunday.
    assert [(w["start"], w["end"]) for w in page["weeks"][:2]] == [
        ("2026-11-01", "2026-11-01"),
        ("2026-11-02", "2026-11-08"),
    ]
    week = page["weeks"][1]
    assert (week["opened"], week["slaEvaluated"], week["slaMet"]) == (3, 3, 1)
    assert page["targets"] == {
        "firstResponseHours": 24.0,
        "resolutionHours": 36.0,
        "slaCompliancePercent": 95.0,
    }
    (refunds,) = page["refundsPerDay"]
    assert (refunds["currency"], refunds["method"]) == ("USD", "REFUND")
    assert refunds["counts"][2] == 1 and sum(refunds["counts"]) == 1  # 3 Nov
    assert [r["count"] for r in page["ratings"]] == [0, 0, 0, 1, 0]
    rates = {rate["productName"]: rate for rate in page["returnRates"]}
    assert sum(rate["unitsClaimed"] for rate in rates.values()) == 2  # C1's units


@freeze_time("2026-12-31 12:00:00")
def test_the_period_before_is_counted_once(staff_api, month_of_claims):
    november = analytics(staff_api, period=NOVEMBER)
    december = analytics(staff_api, period={"gte": "2026-12-01", "lte": "2026-12-30"})
    assert december["previousStart"] == "2026-11-01"
    assert december["current"]["claimCount"] == 0
    assert all(week["opened"] == 0 for week in december["weeks"])
    before = december["previous"]
    assert before["claimCount"] == 3
    assert before["byType"] == november["current"]["byType"]
    assert before["byStatus"] == november["current"]["byStatus"]
    assert before["unitsClaimed"] == november["current"]["unitsClaimed"]
    assert before["refunds"] == november["current"]["refunds"]
    assert [r["previousUnits"] for r in december["reasons"]] == [
        r["units"] for r in november["reasons"]
    ]


@freeze_time("2026-12-01 12:00:00")
def test_the_type_filter(staff_api, month_of_claims):
    page = analytics(staff_api, period=NOVEMBER, types=["REPAIR"])
    assert page["current"]["claimCount"] == 1
    assert [series["type"] for series in page["openedPerDay"]] == ["REPAIR"]
    assert page["current"]["refunds"] == [] and page["returnRates"] != []
    assert all(rate["unitsClaimed"] == 0 for rate in page["returnRates"])
    assert (
        analytics(staff_api, period=NOVEMBER, channel="elsewhere")["current"][
            "claimCount"
        ]
        == 0
    )


def test_customers_and_strangers_are_refused(customer_api, anonymous_api, db):
    for api in (customer_api, anonymous_api):
        assert_permission_denied(api.post(ANALYTICS, {}))


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"period": {"gte": "2026-11-30", "lte": "2026-11-01"}}, "at most"),
        ({"period": {"gte": "2020-01-01", "lte": "2026-11-01"}}, "at most"),
        ({"period": {"gte": "0999-01-01", "lte": "0999-02-01"}}, "year 1000"),
        ({"top": 0}, "topProducts"),
        ({"top": 101}, "topProducts"),
        ({"channel": "x" * 65}, "64"),
        ({"channel": "a\x00b"}, "channel"),
    ],
)
def test_bad_input_is_refused_and_builds_nothing(staff_api, variables, message):
    content = staff_api.post(ANALYTICS, variables)
    assert content["data"] is None or content["data"]["aftersalesAnalytics"] is None
    assert message in content["errors"][0]["message"]
    assert not ClaimDay.objects.exists()
