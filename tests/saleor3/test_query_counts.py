"""What a step of a return costs the app, counted inside the app's process per
request to its /graphql/ (tests/saleor3/counting.py): its SQL queries and its
calls to Saleor, the calls owed after the step commits included. They must not
grow with the claim's lines, except where noted. No timings here
(benchmarks/saleor3.py measures those)."""

import pytest
import requests

from demo import saleor3_shop as shop
from saleor_aftersales.models import ShopOrder

from . import counting
from .conftest import wait_for
from .orders import fulfill, make_variants, place_paid_order
from .conftest import user_id
from .test_api import APPROVE, CREATE, REFUND
from .test_identity import dashboard_token

pytestmark = pytest.mark.django_db(transaction=True)

RECEIVE = """
mutation($id: ID!) {
  aftersalesRequestReceive(id: $id) {
    aftersalesRequest { status lines { quantityReceived quantityRestocked } }
    errors { field code message }
  }
}
"""
WIDE = 10


@pytest.fixture(scope="session")
def counted_customer(saleor):
    saleor.create_customer("counted@example.com", "counted")
    return "counted@example.com", "counted"


@pytest.fixture(scope="session")
def socks(saleor):
    shop.set_shop_address(saleor, saleor.staff_token)  # the returns warehouse's
    return make_variants(saleor, saleor.staff_token, WIDE, sku="COUNTED")


@pytest.fixture
def counted(installed):
    counting.install()


def counted_call(app_url, query, variables, token):
    key = counting.new_key()
    response = requests.post(
        f"{app_url}/graphql/",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}", counting.HEADER: key},
        timeout=120,
    )
    content = response.json()
    assert response.status_code == 200 and not content.get("errors"), content
    for payload in content["data"].values():
        assert not payload.get("errors"), payload
    return counting.counts_of(key), content["data"]


def steps_counted(saleor, app_url, socks, customer, desk, lines):
    """A return of every unit of a ``lines``-line order, filed, approved,
    received (each unit restocked) and refunded: each step's counts."""
    email, password = customer
    shopper = saleor.token(email, password)
    order = place_paid_order(
        saleor, saleor.staff_token, socks, lines, email, user_id(shopper)
    )
    fulfill(saleor, saleor.staff_token, socks, order)
    wait_for(
        lambda: ShopOrder.objects.filter(
            host_id=order["id"], lines__quantity_fulfilled=1
        ).count()
        == lines,
        what="the fulfilled order reaching the app",
    )
    counts = {}
    counts["create"], data = counted_call(
        app_url,
        CREATE,
        {
            "input": {
                "order": order["id"],
                "lines": [
                    {"orderLine": line["id"], "quantity": 1, "reason": "DEFECTIVE"}
                    for line in order["lines"]
                ],
            }
        },
        shopper,
    )
    claim = data["returnRequestCreate"]["aftersalesRequest"]["id"]
    counts["approve"], _ = counted_call(app_url, APPROVE, {"id": claim}, desk)
    counts["receive"], data = counted_call(app_url, RECEIVE, {"id": claim}, desk)
    restocked = data["aftersalesRequestReceive"]["aftersalesRequest"]["lines"]
    assert [line["quantityRestocked"] for line in restocked] == [1] * lines
    counts["refund"], data = counted_call(
        app_url, REFUND, {"id": claim, "key": claim}, desk
    )
    assert data["aftersalesRequestRefund"]["refund"]["status"] == "SUCCESS"
    return counts


def test_a_returns_steps_cost_the_same_for_1_and_10_lines_but_the_restock(
    saleor, installed, app_url, counted, socks, counted_customer
):
    desk = dashboard_token(saleor, installed, saleor.staff_token)
    # The first receipt finds the returns warehouse in Saleor: not a step's cost.
    steps_counted(saleor, app_url, socks, counted_customer, desk, 1)
    narrow = steps_counted(saleor, app_url, socks, counted_customer, desk, 1)
    wide = steps_counted(saleor, app_url, socks, counted_customer, desk, WIDE)

    for step in ("create", "approve", "refund"):
        assert (wide[step].sql, wide[step].saleor) == (
            narrow[step].sql,
            narrow[step].saleor,
        ), step
        assert wide[step].saleor_operations == narrow[step].saleor_operations, step
    # Filing reads the order once from Saleor and notes the timeline once;
    # approving notes it once, and its e-mail (sent in the request here, where
    # the app has no broker; by the app's worker in a deployment) reads the
    # return slip's address once.
    assert narrow["create"].saleor == 2
    assert sorted(narrow["approve"].saleor_operations) == [
        "AftersalesNote",
        "AftersalesReturnAddress",
    ]

    # The receipt's SQL is flat: the restock (stock.py) plans and records its
    # variants together. Its Saleor calls are flat but for each variant's first
    # units in the returns warehouse, whose stock is made
    # (productVariantStocksCreate); the rest are read twice (for the plan, and
    # before the write) and set in one stockBulkUpdate. One RETURNED fulfillment
    # and one note, whatever the lines.
    new_variants = WIDE - 1  # the narrow rounds restocked the first one
    assert wide["receive"].sql == narrow["receive"].sql
    assert wide["receive"].saleor == narrow["receive"].saleor + new_variants
    for kind in ("AftersalesFulfillments", "AftersalesReturn", "AftersalesNote"):
        assert wide["receive"].saleor_operations.count(kind) == 1, kind
    assert wide["receive"].saleor_operations.count("AftersalesStocks") == 2
    assert wide["receive"].saleor_operations.count("AftersalesSetStocks") == 1
    assert (
        wide["receive"].saleor_operations.count("AftersalesCreateStock") == new_variants
    )
