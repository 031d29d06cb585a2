"""Fuzzing the app's /graphql/ from outside (tests/test_fuzzing.py is the 2.10
plugin's): schemathesis, in .venv-fuzz, sends generated queries and mutations for
every field of the app's API over HTTP, as the desk (the Dashboard's token of a
staff member with MANAGE_ORDERS), the customer (their Saleor access token) and
nobody, on claims in most states on real Saleor 3.23 orders.

IDs, order tokens and codes are drawn partly from the real ones (claims, their
lines, Saleor's orders, lines, variant and product type, warranty cards, a
webhook subscription, the customer's account), so the fuzzer reaches the
workflow, and the desk's steps reach Saleor (returns, restocks, refunds). A
response may refuse; it may not be a 5xx, nor fail with an exception other than
GraphQL's own errors and PermissionDenied, nor log an error. Afterwards every call
the app owed Saleor has been made, and the books balance: the core's rows among
themselves (tests/books.py) and against Saleor's order (units fulfilled, the
refunds its payment recorded).

AFTERSALES_FUZZ_EXAMPLES sets the examples per field and caller (default 20, some 50 s
on a 2-core machine; the callers' Saleor tokens live five minutes).
"""

import json
from decimal import Decimal

import graphene
import pytest
import requests
from django.db.models import Sum

from saleor_aftersales.enums import RefundMethod, RefundStatus
from saleor_aftersales.graphql.schema import schema
from saleor_aftersales.hosts.saleor3.facts import order_token
from saleor_aftersales.hosts.saleor3.models import SaleorCall
from saleor_aftersales.models import (
    AftersalesLine,
    AftersalesRefund,
    AftersalesRequest,
    ShopOrder,
    ShopOrderLine,
    WarrantyCard,
    WebhookSubscription,
)
from tests import books
from tests.graphql_probe import api_fields, examples, failures, fuzz, summary
from tests.queries import (
    APPROVE,
    EXCHANGE_REQUEST_CREATE,
    RECEIVE,
    REFUND,
    REPAIR_REQUEST_CREATE,
    RETURN_REQUEST_CREATE,
)

from .conftest import refresh_staff_token, shipped_order, user_id, wait_for
from .test_api import app_graphql
from .test_identity import dashboard_token

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = examples(20)

# The app serves the whole schema: no refusal is another server's (2.10's
# HOST_REFUSALS are Saleor's own fields'), and what its scalars can't read is
# refused as a GraphQLError.
HOST_REFUSALS = {}
SALEOR_BOOKS = """
query($id: ID!) { order(id: $id) {
  lines { id quantityFulfilled }
  payments { capturedAmount { amount } transactions { kind isSuccess amount { amount } } }
} }
"""


def asked(app_url, query, variables, token, field):
    status, answer = app_graphql(app_url, query, variables, token=token)
    payload = (answer.get("data") or {}).get(field)
    assert status == 200 and payload and payload["errors"] == [], answer
    return payload


def calls_made():
    return not SaleorCall.objects.filter(status=SaleorCall.PENDING).exists()


@pytest.fixture
def shop_with_claims(saleor, installed, boots, people, app_url):
    """Claims in most states on a customer's order and a guest's, and a webhook
    subscription."""
    buyer = people["buyer"]
    desk = dashboard_token(saleor, installed, saleor.staff_token)
    order = shipped_order(
        saleor, boots, "buyer@example.com", 5, user=user_id(people["buyer"])
    )
    guest_order = shipped_order(saleor, boots, "guest@example.com", 1)
    line = order["lines"][0]["id"]

    def claim(query, field, reason="DEFECTIVE", token=buyer, **target):
        entry = {"orderLine": target.pop("line", line), "quantity": 1}
        entry["reason"] = reason
        if field == "exchangeRequestCreate":
            entry["replacementVariant"] = boots.variant
        target = target or {"order": order["id"]}
        variables = {"input": {**target, "lines": [entry]}}
        return asked(app_url, query, variables, token, field)["aftersalesRequest"]

    requested = claim(RETURN_REQUEST_CREATE, "returnRequestCreate")
    resolved = claim(RETURN_REQUEST_CREATE, "returnRequestCreate")
    asked(app_url, APPROVE, {"id": resolved["id"]}, desk, "aftersalesRequestApprove")
    asked(app_url, RECEIVE, {"id": resolved["id"]}, desk, "aftersalesRequestReceive")
    asked(app_url, REFUND, {"id": resolved["id"]}, desk, "aftersalesRequestRefund")
    exchange = claim(EXCHANGE_REQUEST_CREATE, "exchangeRequestCreate", "SIZE_OR_FIT")
    # Approving it asks the shop for stock, which the app's host can't tell yet:
    # refused with a GraphQL error that says so, and the claim stays as it was.
    _, answer = app_graphql(app_url, APPROVE, {"id": exchange["id"]}, token=desk)
    assert answer["data"]["aftersalesRequestApprove"] is None, answer
    (error,) = answer["errors"]
    assert error["extensions"]["exception"]["code"] == "GraphQLError", answer
    assert "`available_stock`" in error["message"], answer
    assert AftersalesRequest.objects.get(
        pk=graphene.Node.from_global_id(exchange["id"])[1]
    ).status == ("requested")
    repair = claim(REPAIR_REQUEST_CREATE, "repairRequestCreate")
    guest = claim(
        RETURN_REQUEST_CREATE,
        "returnRequestCreate",
        token=None,
        line=guest_order["lines"][0]["id"],
        orderToken=order_token(guest_order["id"]),
    )
    subscription = WebhookSubscription.objects.create(
        name="Closed port",
        target_url="http://127.0.0.1:9/hooks",
        secret="s" * 32,
        event_types=["aftersales.request.created"],
    )
    wait_for(calls_made, what="the app's calls to Saleor being made")
    orders = [order, guest_order]
    ids = [c["id"] for c in (requested, resolved, exchange, repair, guest)]
    ids += [
        gid("AftersalesLine", pk)
        for pk in AftersalesLine.objects.values_list("pk", flat=True)
    ]
    ids += [o["id"] for o in orders]
    ids += [o_line["id"] for o in orders for o_line in o["lines"]]
    ids += [boots.variant, ShopOrderLine.objects.get(host_id=line).product_type_ref]
    ids += [
        gid("WarrantyCard", pk)
        for pk in WarrantyCard.objects.values_list("pk", flat=True)
    ]
    ids += [gid("AftersalesWebhookSubscription", subscription.pk)]
    ids += [user_id(people["buyer"])]
    return {
        "ids": ids,
        "tokens": [order_token(o["id"]) for o in orders],
        "codes": list(WarrantyCard.objects.values_list("code", flat=True)),
        "orders": orders,
    }


def gid(type_name, pk):
    return graphene.Node.to_global_id(type_name, pk)


def books_balance(saleor, order):
    """The core's books of one order, among themselves and against Saleor's."""
    reference = order["id"]
    copy = ShopOrder.objects.get(host_id=reference)
    in_saleor = saleor.graphql(
        SALEOR_BOOKS, {"id": reference}, token=saleor.staff_token
    )["data"]["order"]
    books.claims_within_worth(reference, copy.shipping_price_gross_amount)
    books.units_add_up(
        reference,
        {line["id"]: line["quantityFulfilled"] for line in in_saleor["lines"]},
    )
    books.statuses_and_events_agree(reference)
    # Saleor's payment gave back exactly what the ledger says was refunded to it;
    # nothing is left PENDING; no more went back than was captured.
    settled = AftersalesRefund.objects.filter(
        request__order__host_id=reference, status=RefundStatus.SUCCESS
    )
    paid = settled.filter(method=RefundMethod.REFUND).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0")
    given = settled.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    refunded = sum(
        (
            Decimal(str(t["amount"]["amount"]))
            for payment in in_saleor["payments"]
            for t in payment["transactions"]
            if t["kind"] == "REFUND" and t["isSuccess"]
        ),
        Decimal("0"),
    )
    captured = sum(
        (Decimal(str(p["capturedAmount"]["amount"])) for p in in_saleor["payments"]),
        Decimal("0"),
    )
    assert refunded == paid, (reference, refunded, paid)
    assert captured == copy.total_gross_amount - paid, (reference, captured, paid)
    assert given <= copy.total_gross_amount
    assert not AftersalesRefund.objects.filter(
        request__order__host_id=reference, status=RefundStatus.PENDING
    ).exists()


@pytest.mark.parametrize(
    "query",
    [
        # graphene's UUID scalar (ValueError)
        '{ aftersalesEligibility(orderToken: "not-a-token") { isReturnable } }',
        # graphene's Date scalar (IndexError, NotImplementedError)
        '{ aftersalesStats(period: {gte: ""}) { claimCount } }',
        '{ aftersalesStats(period: {gte: "-Infinity"}) { claimCount } }',
    ],
)
def test_what_its_scalars_cannot_read_is_refused_as_a_graphql_error(
    installed, app_url, query, caplog
):
    """Saleor 2.10's view answers these with the scalar's own exception (the
    2.10 suite's HOST_REFUSALS); the app says it is the caller's document."""
    response = requests.post(f"{app_url}/graphql/", json={"query": query}, timeout=60)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["extensions"]["exception"]["code"] == "GraphQLError", error
    assert error["message"], error
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_fuzzing_every_field_of_the_apps_api_finds_no_server_error(
    saleor, installed, app_url, shop_with_claims, caplog
):
    fields = sorted(name for kind in api_fields(schema) for name in kind)
    # Tokens fresh for the run: Saleor's live five minutes.
    report, seconds = fuzz(
        f"{app_url}/graphql/",
        fields,
        {
            "nobody": "",
            "customer": saleor.token("buyer@example.com", "buyer"),
            "desk": dashboard_token(saleor, installed, saleor.staff_token),
        },
        examples=EXAMPLES,
        ids=shop_with_claims["ids"],
        uuids=shop_with_claims["tokens"],
        texts=shop_with_claims["codes"],
    )
    found = failures(report, fields, HOST_REFUSALS, caplog.records)
    refresh_staff_token(saleor)
    assert found == {kind: [] for kind in found}, (
        summary(report, fields, seconds)
        + json.dumps(found, indent=1, ensure_ascii=False)
        + json.dumps(report["errors"], indent=1)
    )

    # What the desk's steps owe Saleor is made, and none of it failed.
    wait_for(calls_made, what="the app's calls to Saleor being made")
    assert not SaleorCall.objects.filter(status=SaleorCall.FAILED).exists(), list(
        SaleorCall.objects.filter(status=SaleorCall.FAILED).values("kind", "error")
    )
    for order in shop_with_claims["orders"]:
        books_balance(saleor, order)
    print("\n" + summary(report, fields, seconds))
