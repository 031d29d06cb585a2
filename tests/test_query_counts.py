"""An operation's SQL count does not grow with its lines or with the page size."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from demo import shop
from saleor_aftersales import workflow
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.configuration import get_settings

from .conftest import ApiClient, gid, line_input, returns_on_one_order
from .queries import (
    APPROVE,
    ELIGIBILITY,
    MY_REQUESTS,
    RECEIVE,
    REFUND,
    RETURN_REQUEST_CREATE,
    STAFF_REQUESTS,
)


@pytest.fixture
def wide_orders(customer, staff_user, warehouse):
    """Two fulfilled, paid orders: one with 1 line, one with 20 lines."""
    variants = shop.make_variants(20, warehouse, price=Decimal("9.99"))
    narrow = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 2)]
    )
    wide = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variant, 2) for variant in variants]
    )
    return narrow, wide


def create_counts(api, order):
    lines = [line_input(line, 2) for line in order.lines.order_by("pk")]
    count, data = api.count_queries(
        RETURN_REQUEST_CREATE,
        {"input": {"order": gid("Order", order.pk), "lines": lines}},
    )
    payload = data["returnRequestCreate"]
    assert payload["errors"] == [], payload
    assert len(payload["aftersalesRequest"]["lines"]) == len(lines)
    return count, payload["aftersalesRequest"]


def test_create_approve_receive_refund_cost_the_same_for_1_and_20_lines(
    customer_api, staff_api, wide_orders
):
    narrow, wide = wide_orders
    counts = {}
    for name, order in (("narrow", narrow), ("wide", wide)):
        create, claim = create_counts(customer_api, order)
        approve, data = staff_api.count_queries(APPROVE, {"id": claim["id"]})
        assert data["aftersalesRequestApprove"]["errors"] == []
        receive, data = staff_api.count_queries(RECEIVE, {"id": claim["id"]})
        assert data["aftersalesRequestReceive"]["errors"] == []
        refund, data = staff_api.count_queries(REFUND, {"id": claim["id"]})
        assert data["aftersalesRequestRefund"]["errors"] == []
        assert (
            data["aftersalesRequestRefund"]["aftersalesRequest"]["status"] == "RESOLVED"
        )
        counts[name] = {
            "create": create,
            "approve": approve,
            "receive": receive,
            "refund": refund,
        }
    assert counts["narrow"] == counts["wide"], counts


def test_staff_list_costs_the_same_for_10_and_100_rows(
    staff_api, customer, staff_user, warehouse
):
    claims = returns_on_one_order(customer, staff_user, warehouse)
    for index, request in enumerate(claims):
        if index % 2:
            workflow.approve(request, by=workflow.Actor.staff(staff_user))

    small, data = staff_api.count_queries(STAFF_REQUESTS, {"first": 10})
    assert len(data["aftersalesRequests"]["edges"]) == 10
    large, data = staff_api.count_queries(STAFF_REQUESTS, {"first": 100})
    assert len(data["aftersalesRequests"]["edges"]) == 100
    assert small == large, (small, large)

    # The desk's queue as the console asks for it: overdue first, with the SLA
    # fields and each customer's history.
    queue = STAFF_REQUESTS.replace(
        "userEmail",
        "userEmail isOverdue slaResolutionDueAt customerHistory "
        "{ claimCount returnRatePercent isSerialReturner }",
    )
    sort = {"field": "RESOLUTION_DUE_AT", "direction": "ASC"}
    small, _ = staff_api.count_queries(queue, {"first": 10, "sortBy": sort})
    large, _ = staff_api.count_queries(queue, {"first": 100, "sortBy": sort})
    assert small == large, (small, large)

    # The customer's own list.
    mine = ApiClient(customer)
    small, data = mine.count_queries(MY_REQUESTS, {"first": 10})
    assert len(data["myAftersalesRequests"]["edges"]) == 10
    large, data = mine.count_queries(MY_REQUESTS, {"first": 100})
    assert len(data["myAftersalesRequests"]["edges"]) == 100
    assert small == large, (small, large)


def test_eligibility_costs_the_same_for_1_and_20_lines(customer_api, wide_orders):
    narrow, wide = wide_orders
    counts = [
        customer_api.count_queries(ELIGIBILITY, {"order": gid("Order", order.pk)})[0]
        for order in (narrow, wide)
    ]
    assert counts[0] == counts[1], counts


def test_stats_cost_the_same_for_few_and_many_claims(
    customer_api, staff_api, wide_orders
):
    narrow, wide = wide_orders
    query = """{ aftersalesStats { claimCount returnRates { ratePercent }
                 byReason { units } refundTotals { count } } }"""
    create_counts(customer_api, narrow)
    few, data = staff_api.count_queries(query)
    assert data["aftersalesStats"]["claimCount"] == 1
    for line in wide.lines.all():
        customer_api.data(
            RETURN_REQUEST_CREATE,
            {
                "input": {
                    "order": gid("Order", wide.pk),
                    "lines": [line_input(line, 1, "CHANGED_MIND")],
                }
            },
        )
    many, data = staff_api.count_queries(query)
    assert data["aftersalesStats"]["claimCount"] == 21
    assert few == many, (few, many)


def test_issuing_cards_costs_the_same_for_1_and_20_lines(wide_orders):
    from saleor.order.models import FulfillmentLine

    from saleor_aftersales import warranty
    from saleor_aftersales.models import WarrantyCard

    from saleor_aftersales.orders import save_order

    counts = []
    for order in wide_orders:
        WarrantyCard.objects.filter(order__host_id=host.ref(order.pk)).delete()
        lines = FulfillmentLine.objects.filter(fulfillment__order=order).select_related(
            "fulfillment"
        )
        shipped = host.shipped_units(lines)
        copy = save_order(host.order_facts(order))
        with CaptureQueriesContext(connection) as ctx:
            issued = warranty.issue_cards(copy, shipped, get_settings())
        assert len(issued) == 2 * order.lines.count()
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_card_lists_cost_the_same_for_5_and_40_cards(
    staff_api, customer_api, wide_orders
):
    query = """query ($first: Int) { warrantyCards(first: $first) { edges { node {
        code status productName orderLine { id } order { id } events { type } } } } }"""
    small, data = staff_api.count_queries(query, {"first": 5})
    assert len(data["warrantyCards"]["edges"]) == 5
    large, data = staff_api.count_queries(query, {"first": 40})
    assert len(data["warrantyCards"]["edges"]) == 40
    assert small == large, (small, large)


def test_exchange_and_quote_cost_the_same_for_1_and_20_lines(
    customer_api, staff_api, wide_orders, warehouse
):
    from .queries import EXCHANGE_FULFILL, EXCHANGE_REQUEST_CREATE

    counts = []
    for order in wide_orders:
        lines = [
            {
                **line_input(line, 1),
                "replacementVariant": gid("ProductVariant", line.variant_id),
            }
            for line in order.lines.order_by("pk")
        ]
        create, data = customer_api.count_queries(
            EXCHANGE_REQUEST_CREATE,
            {"input": {"order": gid("Order", order.pk), "lines": lines}},
        )
        claim = data["exchangeRequestCreate"]["aftersalesRequest"]
        approve, _ = staff_api.count_queries(APPROVE, {"id": claim["id"]})
        receive, _ = staff_api.count_queries(RECEIVE, {"id": claim["id"]})
        fulfill, data = staff_api.count_queries(EXCHANGE_FULFILL, {"id": claim["id"]})
        assert (
            data["exchangeRequestFulfill"]["aftersalesRequest"]["status"] == "RESOLVED"
        )
        counts.append((create, approve, receive, fulfill))
    assert counts[0] == counts[1], counts


def test_repair_quote_costs_the_same_for_1_and_20_quote_lines(
    customer_api, staff_api, order
):
    from .queries import QUOTE_CREATE, RECEIVE, REPAIR_REQUEST_CREATE

    counts = []
    for size in (1, 20):
        line = order.lines.order_by("pk")[0]
        data = customer_api.data(
            REPAIR_REQUEST_CREATE,
            {
                "input": {
                    "order": gid("Order", order.pk),
                    "lines": [line_input(line, 1)],
                }
            },
        )
        claim = data["repairRequestCreate"]["aftersalesRequest"]
        staff_api.data(APPROVE, {"id": claim["id"]})
        staff_api.data(RECEIVE, {"id": claim["id"]})
        quote_lines = [
            {
                "kind": "PART",
                "description": f"Part {i}",
                "quantity": 1,
                "unitPrice": "1.00",
            }
            for i in range(size)
        ]
        count, data = staff_api.count_queries(
            QUOTE_CREATE, {"id": claim["id"], "lines": quote_lines}
        )
        assert data["repairQuoteCreate"]["errors"] == []
        counts.append(count)
    assert counts[0] == counts[1], counts


def test_transitions_cost_the_same_for_1_and_5_webhook_subscriptions(
    customer_api, staff_api, order
):
    from saleor_aftersales.models import WebhookDelivery, WebhookSubscription

    counts = []
    for subscriptions in (1, 5):
        WebhookSubscription.objects.all().delete()
        WebhookSubscription.objects.bulk_create(
            [
                WebhookSubscription(
                    name=f"s{i}", target_url="https://example.com", secret="s" * 20
                )
                for i in range(subscriptions)
            ]
        )
        line = order.lines.order_by("pk")[1]
        count, data = customer_api.count_queries(
            RETURN_REQUEST_CREATE,
            {
                "input": {
                    "order": gid("Order", order.pk),
                    "lines": [line_input(line, 1)],
                }
            },
        )
        claim = data["returnRequestCreate"]["aftersalesRequest"]
        assert WebhookDelivery.objects.filter(
            event_type__endswith="created"
        ).count() >= (subscriptions)
        counts.append(count)
        from .queries import CANCEL

        customer_api.data(CANCEL, {"id": claim["id"]})
    assert counts[0] == counts[1], counts


INTROSPECT_CLAIM = """
{ __type(name: "AftersalesRequest") { fields { name args { name }
  type { kind ofType { kind ofType { kind ofType { kind } } } } } } }
"""


def _is_composite(type_):
    while type_ is not None:
        if type_["kind"] in ("OBJECT", "INTERFACE", "UNION"):
            return True
        type_ = type_.get("ofType")
    return False


def test_every_field_of_a_claim_costs_the_same_on_10_and_100_claims(
    staff_api, customer, staff_user, warehouse
):
    """A page prefetches only the relations its fields read: whichever single
    field a query asks of each claim, a page of 100 costs what a page of 10 does
    (a field whose resolver read an unprefetched relation would cost a query per
    claim)."""
    claims = returns_on_one_order(customer, staff_user, warehouse)
    for request in claims[::2]:
        workflow.approve(request, by=workflow.Actor.staff(staff_user))
    fields = staff_api.post(INTROSPECT_CLAIM)["data"]["__type"]["fields"]
    assert len(fields) > 30
    uneven = {}
    for field in fields:
        selection = field["name"] + (
            " { __typename }" if _is_composite(field["type"]) else ""
        )
        query = (
            "query Page($first: Int) { aftersalesRequests(first: $first) "
            f"{{ edges {{ node {{ {selection} }} }} }} }}"
        )
        small, _ = staff_api.count_queries(query, {"first": 10})
        large, _ = staff_api.count_queries(query, {"first": 100})
        if small != large:
            uneven[field["name"]] = (small, large)
    assert uneven == {}
