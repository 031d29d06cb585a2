"""The console's analytics view in a real browser (Chromium driven by
Playwright) against the shop under Django's live server: the numbers its charts
draw are the ones aftersalesAnalytics answers over GraphQL for the same period,
in English and in Chinese, on a laptop and on a phone; a bar opens the queue
filtered to the claims behind it; a chart's CSV is its data.

The claims are November 2026's of tests/test_stats.py (month_of_claims), made
through the real workflow: two returns (one refunded and rated 4, one rejected)
and a repair."""

import csv
import io

import pytest

from .browser import (  # noqa: F401
    DESKTOP,
    browser,
    open_page,
    pages_closed_before_flush,
    wait_until,
)
from .test_pages import PHONE, fits, shot
from .test_stats import month_of_claims  # noqa: F401

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pages_closed_before_flush"),
]

NOVEMBER = {"gte": "2026-11-01", "lte": "2026-11-30"}
ADDRESS = "#analytics?from=2026-11-01&to=2026-11-30"
ANALYTICS = """
query($period: DateRangeInput) {
  aftersalesAnalytics(period: $period) {
    periodStart periodEnd days
    current { claimCount averageRating slaCompliancePercent }
    previous { claimCount }
    openedPerDay { type counts }
    reasons { reason units previousUnits }
    returnRates { productId productName unitsSold unitsClaimed ratePercent }
    weeks { start slaCompliancePercent medianFirstResponseHours medianResolutionHours }
    refundsPerDay { currency method amounts counts }
    ratings { rating count }
  }
}
"""
CHARTS = [
    "chart-opened",
    "chart-reasons",
    "chart-return-rates",
    "chart-sla",
    "chart-first-response",
    "chart-resolution",
    "chart-refunds-USD",
    "chart-ratings",
]


def open_analytics(browser, url, locale="en-US", viewport=DESKTOP):
    """The console at November's analytics, signed in as staff."""
    page = open_page(browser, f"{url}/aftersales/console/{ADDRESS}", locale, viewport)
    page.fill("#signin-form [name=email]", "staff@example.com")
    page.fill("#signin-form [name=password]", "password")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#analytics[data-loaded] #chart-ratings svg")
    return page


def drawn(page, chart, series):
    """(data-key, data-value) of a chart's bars or points of ``series``, in order."""
    return page.evaluate(
        "(s) => [...document.querySelectorAll(s)]"
        ".map((n) => [n.dataset.key, Number(n.dataset.value)])",
        f"#{chart} .plot [data-series={series}]",
    )


def test_the_charts_draw_what_the_api_answers_in_english_and_chinese(
    browser, live_server, staff_api, month_of_claims  # noqa: F811
):
    expected = staff_api.data(ANALYTICS, {"period": NOVEMBER})["aftersalesAnalytics"]
    days = expected["days"]
    assert len(days) == 30 and expected["periodStart"] == "2026-11-01"
    page = open_analytics(browser, live_server.url)

    assert page.inner_text("h2") == "Analytics"
    assert page.input_value("#period") == "month"
    assert page.get_attribute("#tiles [data-key=claims]", "data-value") == "3"
    for series in expected["openedPerDay"]:
        assert drawn(page, "chart-opened", series["type"]) == [
            [day, count] for day, count in zip(days, series["counts"])
        ]
    assert sum(sum(s["counts"]) for s in expected["openedPerDay"]) == 3
    reasons = [[r["reason"], r["units"]] for r in expected["reasons"]]
    assert drawn(page, "chart-reasons", "units") == reasons
    assert sorted(reasons) == [["CHANGED_MIND", 1], ["DEFECTIVE", 3]]
    assert drawn(page, "chart-return-rates", "ratePercent") == [
        [p["productId"], p["ratePercent"]] for p in expected["returnRates"]
    ]
    for chart, field in [
        ("chart-sla", "slaCompliancePercent"),
        ("chart-first-response", "medianFirstResponseHours"),
        ("chart-resolution", "medianResolutionHours"),
    ]:
        points = [
            [w["start"], w[field]] for w in expected["weeks"] if w[field] is not None
        ]
        assert points and drawn(page, chart, field) == points
    (usd,) = expected["refundsPerDay"]
    assert (usd["currency"], usd["method"]) == ("USD", "REFUND")
    assert drawn(page, "chart-refunds-USD", "REFUND") == [
        [day, float(amount)] for day, amount in zip(days, usd["amounts"])
    ]
    assert sum(float(a) for a in usd["amounts"]) == 50
    assert drawn(page, "chart-ratings", "count") == [
        [str(r["rating"]), r["count"]] for r in expected["ratings"]
    ]
    # Each chart's data is also a table (for screen readers and the curious).
    page.click("#chart-reasons summary")
    assert "Changed my mind" in page.inner_text("#chart-reasons table")

    # Comparing adds October's figures beside November's, in the address too.
    page.check("#compare")
    wait_until(page, "!!document.querySelector('#tiles [data-previous]')")
    assert "compare=1" in page.url
    previous = expected["previous"]["claimCount"]
    assert page.get_attribute("#tiles [data-key=claims]", "data-previous") == str(
        previous
    )
    assert drawn(page, "chart-reasons", "previousUnits") == [
        [r["reason"], r["previousUnits"]] for r in expected["reasons"]
    ]

    # The same numbers in Chinese, with Chinese words and dates.
    page.select_option("#language", "zh-Hans")
    page.wait_for_selector("#analytics[data-loaded] #chart-ratings svg")
    assert page.inner_text("h2") == "数据分析"
    assert page.inner_text("#chart-opened h3") == "每日新增申请"
    assert page.inner_text("#chart-reasons h3") == "申请原因（件数）"
    assert "不想要了" in page.text_content("#chart-reasons .plot svg")
    assert "11月" in page.text_content("#chart-opened .plot svg")
    assert "上一周期" in page.inner_text("#tiles")
    assert drawn(page, "chart-reasons", "units") == reasons
    shot(page, "console-analytics-zh")
    assert page.problems == []


def test_a_reason_bar_opens_the_queue_of_its_claims(
    browser, live_server, staff_api, month_of_claims  # noqa: F811
):
    page = open_analytics(browser, live_server.url)
    bar = "#chart-reasons [data-series=units][data-key=CHANGED_MIND]"
    units = int(page.get_attribute(bar, "data-value"))
    assert units == 1  # one claim of one unit
    page.click(bar)
    page.wait_for_selector("#queue-count")
    assert page.url.split("#")[1].startswith("queue?filter=")
    assert int(page.get_attribute("#queue-count", "data-count")) == units
    assert page.locator("#queue tbody tr").count() == units
    chips = page.inner_text("#active-filters")
    assert "Reason: Changed my mind" in chips and "Created: " in chips
    # Without the reason, November's three claims.
    page.click("#active-filters [data-filter=reason] button")
    wait_until(
        page,
        "!document.querySelector('[data-filter=reason]')"
        " && document.querySelector('#queue-count')?.dataset.count === '3'",
    )
    # The address kept the filter: a reload shows the same queue.
    page.reload()
    page.wait_for_selector("#queue-count")
    assert page.get_attribute("#queue-count", "data-count") == "3"
    assert page.locator("[data-filter=created]").count() == 1
    assert page.problems == []


def test_a_days_and_a_products_bars_open_the_queue_of_their_claims(
    browser, live_server, staff_api, month_of_claims  # noqa: F811
):
    page = open_analytics(browser, live_server.url)
    # Returns opened on 2 November: C1 and C2.
    bar = "#chart-opened .plot [data-series=RETURN][data-key='2026-11-02']"
    assert page.get_attribute(bar, "data-value") == "2"
    page.click(bar)
    page.wait_for_selector("#queue-count")
    assert page.get_attribute("#queue-count", "data-count") == "2"
    chips = page.inner_text("#active-filters")
    assert "Type: Return" in chips and "Created: 2 Nov 2026" in chips

    # The product two units of which came back (C1): one claim.
    page.click("#nav-analytics")
    page.wait_for_selector("#analytics[data-loaded] #chart-return-rates svg")
    p1 = month_of_claims["p1"]
    bars = page.locator("#chart-return-rates .plot [data-series=ratePercent]")
    assert bars.count() == 2
    product = bars.first.get_attribute("data-key")
    assert float(bars.first.get_attribute("data-value")) == 66.67
    page.click(f"#chart-return-rates .plot [data-key='{product}']")
    page.wait_for_selector("#queue-count")
    assert page.get_attribute("#queue-count", "data-count") == "1"
    assert f"Product: {p1.name}" in page.inner_text("#active-filters")
    # A reload keeps the filter and the product's name on its chip.
    page.reload()
    page.wait_for_selector("#queue-count")
    assert page.get_attribute("#queue-count", "data-count") == "1"
    assert f"Product: {p1.name}" in page.inner_text("#active-filters")

    # C1's refund on 3 November, and C1's rating of 4.
    for bar, chip in [
        (
            "#chart-refunds-USD .plot [data-series=REFUND][data-key='2026-11-03']",
            "Refund method: Original payment",
        ),
        ("#chart-ratings .plot [data-key='4']", "Rating: 4"),
    ]:
        page.click("#nav-analytics")
        page.wait_for_selector("#analytics[data-loaded] #chart-ratings svg")
        page.click(bar)
        page.wait_for_selector("#queue-count")
        assert page.get_attribute("#queue-count", "data-count") == "1"
        assert chip in page.inner_text("#active-filters")
    assert page.problems == []


def test_export_claims_downloads_the_views_claims(
    browser, live_server, staff_api, month_of_claims  # noqa: F811
):
    page = open_analytics(browser, live_server.url)
    # Returns only: the file holds November's two returns, not the repair.
    page.uncheck("#analytics-types input[value=REPAIR]")
    page.uncheck("#analytics-types input[value=EXCHANGE]")
    page.wait_for_selector("#analytics[data-loaded] #chart-ratings svg")
    assert "types=RETURN" in page.url
    assert page.is_disabled("#analytics-types input[value=RETURN]")  # the last one
    with page.expect_download() as download:
        page.click("#export-claims")
    content = open(download.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(content)))
    assert sorted(r["type"] for r in rows) == ["RETURN", "RETURN"]
    assert page.get_attribute("#tiles [data-key=claims]", "data-value") == "2"
    assert page.problems == []


def test_a_charts_csv_is_its_data(
    browser, live_server, staff_api, month_of_claims  # noqa: F811
):
    expected = staff_api.data(ANALYTICS, {"period": NOVEMBER})["aftersalesAnalytics"]
    page = open_analytics(browser, live_server.url)
    with page.expect_download() as download:
        page.click("#chart-reasons .csv")
    assert download.value.suggested_filename == (
        "aftersales-reasons-2026-11-01-2026-11-30.csv"
    )
    content = open(download.value.path(), "rb").read()
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets read UTF-8
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    names = {"DEFECTIVE": "Defective", "CHANGED_MIND": "Changed my mind"}
    assert rows == [["Reason", "Units"]] + [
        [names[r["reason"]], str(r["units"])] for r in expected["reasons"]
    ]

    with page.expect_download() as download:
        page.click("#chart-opened .csv")
    rows = list(
        csv.reader(
            io.StringIO(open(download.value.path(), encoding="utf-8-sig").read())
        )
    )
    series = {s["type"]: s["counts"] for s in expected["openedPerDay"]}
    assert rows[0] == ["Day", "Return", "Exchange", "Repair"]
    assert rows[1:] == [
        [day, *(str(series[t][i]) for t in ("RETURN", "EXCHANGE", "REPAIR"))]
        for i, day in enumerate(expected["days"])
    ]
    # A cell a spreadsheet would run as a formula is written as text.
    assert page.evaluate("csvCell('=HYPERLINK(\"x\")')") == '"\'=HYPERLINK(""x"")"'
    assert page.evaluate("csvCell('-2+3')") == "'-2+3"
    assert page.evaluate("csvCell(-2)") == "-2"
    assert page.problems == []


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_analytics_fit_a_laptop_and_a_phone(
    browser, live_server, month_of_claims, viewport, name  # noqa: F811
):
    page = open_analytics(browser, live_server.url, viewport=viewport)
    for chart in CHARTS:
        page.wait_for_selector(f"#{chart} .plot svg")
    assert fits(page)
    width = page.evaluate("innerWidth")
    for chart in CHARTS:
        box = page.locator(f"#{chart} .plot svg").bounding_box()
        assert box["width"] > 150 and box["height"] > 40, chart
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, chart
    if name == "phone":  # one chart a row
        boxes = [page.locator(f"#{c}").bounding_box() for c in CHARTS[:2]]
        assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"]
    else:  # two abreast
        boxes = [page.locator(f"#{c}").bounding_box() for c in CHARTS[:2]]
        assert boxes[1]["y"] == boxes[0]["y"] and boxes[1]["x"] > boxes[0]["x"]
    shot(page, f"console-analytics-{name}")
    assert page.problems == []
