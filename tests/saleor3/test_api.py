"""The app's own GraphQL API (/graphql/), the plugin's contract on Saleor 3.23:
a shopper files a return with their Saleor access token, the desk approves,
receives and refunds it with the Dashboard's token for the app's pages, over HTTP,
and Saleor shows the RETURNED fulfillment, the restocked units and the refund.
Strangers, clerks without MANAGE_ORDERS and bad input change nothing."""

from decimal import Decimal

import jwt
import pytest
import requests

from demo import saleor3_shop as shop

from saleor_aftersales.graphql.schema import schema
from saleor_aftersales.models import (
    AftersalesRefund,
    AftersalesRequest,
    ShopOrder,
    ShopOrderLine,
    WarrantyCard,
    WebhookDelivery,
)
from saleor_aftersales.webhooks import outgoing
from tests import contract
from tests.servers import Receiver

from .conftest import wait_for
from .test_identity import dashboard_token
from .test_returns import returns_stock

pytestmark = pytest.mark.django_db(transaction=True)

ELIGIBILITY = """
query($order: ID, $token: UUID) {
  aftersalesEligibility(order: $order, orderToken: $token) {
    orderNumber customerName city country isReturnable
    order { id number userEmail }
    lines { returnableQuantity orderLine { id productName quantity } }
  }
}
"""
CREATE = """
mutation($input: AftersalesRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    aftersalesRequest { id number status lines { id quantity } order { id } }
    errors { field code message }
  }
}
"""
CLAIM = """
query($id: ID!, $token: UUID) {
  aftersalesRequest(id: $id, orderToken: $token) { id status user { email } }
}
"""
APPROVE = """
mutation($id: ID!) {
  aftersalesRequestApprove(id: $id) {
    aftersalesRequest { status } errors { field code message }
  }
}
"""
RECEIVE = """
mutation($id: ID!, $lines: [AftersalesReceiveLineInput!]) {
  aftersalesRequestReceive(id: $id, lines: $lines) {
    aftersalesRequest { status lines { quantityReceived quantityRestocked } }
    errors { field code message }
  }
}
"""
REFUND = """
mutation($id: ID!, $key: String) {
  aftersalesRequestRefund(id: $id, idempotencyKey: $key) {
    aftersalesRequest { status refundedAmount { amount currency } }
    refund { status amount { amount } }
    errors { field code message }
  }
}
"""
QUEUE = """
{ aftersalesRequests(first: 10, sortBy: {field: CREATED_AT, direction: DESC}) {
    totalCount edges { node { id status order { number } } }
} }
"""
SALEOR_ORDER = """
query($id: ID!) { order(id: $id) {
  fulfillments { status lines { quantity } }
  payments { chargeStatus transactions { kind isSuccess amount { amount } } }
} }
"""


def app_graphql(app_url, query, variables=None, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.post(
        f"{app_url}/graphql/",
        json={"query": query, "variables": variables or {}},
        headers=headers,
        timeout=60,
    )
    return response.status_code, response.json()


def test_the_app_serves_the_plugins_contract():
    """Every type, field, argument and enum value of the 2.10 plugin's API, by
    the same names (tests/contract.json is written from the 2.10 schema)."""
    assert contract.of_api(schema) == contract.written()


def test_a_return_filed_and_settled_over_the_apps_api(
    saleor, installed, buyers_order, people, app_url, boots
):
    stock_before = returns_stock(saleor, boots.variant)
    order_id = buyers_order["id"]
    line_id = buyers_order["lines"][0]["id"]
    status, answer = app_graphql(
        app_url, ELIGIBILITY, {"order": order_id}, token=people["buyer"]
    )
    assert status == 200, answer
    eligibility = answer["data"]["aftersalesEligibility"]
    assert eligibility["isReturnable"] and eligibility["city"] == "NEW YORK"
    assert eligibility["order"]["id"] == order_id
    assert eligibility["lines"][0]["returnableQuantity"] == 2

    # Bad input: a clear code, and no claim.
    _, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": order_id,
                "lines": [{"orderLine": line_id, "quantity": 9, "reason": "DEFECTIVE"}],
            }
        },
        token=people["buyer"],
    )
    assert (
        answer["data"]["returnRequestCreate"]["errors"][0]["code"]
        == "QUANTITY_EXCEEDED"
    )
    assert not AftersalesRequest.objects.exists()

    _, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": order_id,
                "lines": [{"orderLine": line_id, "quantity": 1, "reason": "DEFECTIVE"}],
                "idempotencyKey": "first",
            }
        },
        token=people["buyer"],
    )
    created = answer["data"]["returnRequestCreate"]
    assert created["errors"] == [], created
    claim = created["aftersalesRequest"]
    assert claim["status"] == "REQUESTED" and claim["order"]["id"] == order_id

    # The owner sees it; a stranger and a caller without a token learn nothing.
    _, answer = app_graphql(app_url, CLAIM, {"id": claim["id"]}, token=people["buyer"])
    assert answer["data"]["aftersalesRequest"]["user"]["email"] == "buyer@example.com"
    for token in (people["stranger"], None):
        _, answer = app_graphql(app_url, CLAIM, {"id": claim["id"]}, token=token)
        assert answer["data"]["aftersalesRequest"] is None
        assert answer["errors"][0]["extensions"]["exception"]["code"] == (
            "PermissionDenied"
        )
    # A forged token is refused outright.
    status, answer = app_graphql(app_url, CLAIM, {"id": claim["id"]}, token="x.y.z")
    assert status == 401 and answer["errors"][0]["message"]
    # So is a token of a Saleor the app doesn't serve.
    foreign = jwt.encode({"iss": "http://evil.example/graphql/"}, "k" * 32)
    status, answer = app_graphql(app_url, CLAIM, {"id": claim["id"]}, token=foreign)
    assert status == 401
    assert answer["errors"][0]["extensions"]["exception"]["code"] == (
        "InvalidTokenError"
    )

    # Staff without MANAGE_ORDERS can't approve; the desk can.
    packer = dashboard_token(saleor, installed, people["packer"])
    _, answer = app_graphql(app_url, APPROVE, {"id": claim["id"]}, token=packer)
    assert answer["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    assert AftersalesRequest.objects.get().status == "requested"
    desk = dashboard_token(saleor, installed, saleor.staff_token)
    _, answer = app_graphql(app_url, APPROVE, {"id": claim["id"]}, token=desk)
    assert answer["data"]["aftersalesRequestApprove"]["errors"] == [], answer
    assert answer["data"]["aftersalesRequestApprove"]["aftersalesRequest"][
        "status"
    ] == ("APPROVED")

    _, answer = app_graphql(app_url, QUEUE, token=desk)
    queue = answer["data"]["aftersalesRequests"]
    assert queue["totalCount"] == 1
    assert queue["edges"][0]["node"]["order"]["number"] == buyers_order["number"]

    claimed_line = claim["lines"][0]["id"]
    _, answer = app_graphql(
        app_url,
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [{"line": claimed_line, "quantity": 1, "disposition": "RESTOCK"}],
        },
        token=desk,
    )
    received = answer["data"]["aftersalesRequestReceive"]
    assert received["errors"] == [], received
    assert received["aftersalesRequest"]["lines"][0]["quantityRestocked"] == 1

    _, answer = app_graphql(
        app_url, REFUND, {"id": claim["id"], "key": "r1"}, token=desk
    )
    refunded = answer["data"]["aftersalesRequestRefund"]
    assert refunded["errors"] == [], refunded
    assert Decimal(str(refunded["refund"]["amount"]["amount"])) == Decimal("40")

    # Saleor's own records: the RETURNED fulfillment, the units restocked in the
    # returns warehouse, the refund through the order's payment, once.
    def settled():
        data = saleor.graphql(SALEOR_ORDER, {"id": order_id}, token=saleor.staff_token)
        order = data["data"]["order"]
        returned = [f for f in order["fulfillments"] if f["status"] == "RETURNED"]
        refunds = [
            t
            for p in order["payments"]
            for t in p["transactions"]
            if t["kind"] == "REFUND" and t["isSuccess"]
        ]
        return (returned and refunds) and (returned, refunds)

    returned, saleor_refunds = wait_for(settled, what="Saleor recording the return")
    assert [line["quantity"] for line in returned[0]["lines"]] == [1]
    assert [Decimal(str(t["amount"]["amount"])) for t in saleor_refunds] == [
        Decimal("40")
    ]
    assert AftersalesRefund.objects.get().status == "success"
    wait_for(
        lambda: returns_stock(saleor, boots.variant) == stock_before + 1,
        what="the unit restocked in the returns warehouse",
    )


DUMMY_PAYMENTS = """
query($id: ID!) { order(id: $id) { payments {
  gateway chargeStatus transactions { kind isSuccess amount { amount } }
} } }
"""


def test_a_return_on_an_order_paid_through_the_dummy_gateway(
    saleor, installed, boots, people, app_url
):
    """Bought at the storefront's checkout with Saleor's Dummy gateway (a legacy
    payment plugin): the refund goes back through that payment, once."""
    order = shop.bought_with_dummy(
        saleor, people["buyer"], boots, "buyer@example.com", 1
    )
    shop.fulfill(saleor, saleor.staff_token, boots, order)
    wait_for(
        lambda: ShopOrder.objects.filter(
            host_id=order["id"], lines__quantity_fulfilled=1
        ).exists(),
        what="the fulfilled order reaching the app",
    )
    _, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": order["id"],
                "lines": [
                    {
                        "orderLine": order["lines"][0]["id"],
                        "quantity": 1,
                        "reason": "CHANGED_MIND",
                    }
                ],
            }
        },
        token=people["buyer"],
    )
    claim = answer["data"]["returnRequestCreate"]["aftersalesRequest"]
    desk = dashboard_token(saleor, installed, saleor.staff_token)
    for query, variables in (
        (APPROVE, {"id": claim["id"]}),
        (RECEIVE, {"id": claim["id"]}),
        (REFUND, {"id": claim["id"], "key": "dummy"}),
    ):
        _, answer = app_graphql(app_url, query, variables, token=desk)
        (payload,) = answer["data"].values()
        assert payload["errors"] == [], answer

    def refunded():
        data = saleor.graphql(
            DUMMY_PAYMENTS, {"id": order["id"]}, token=saleor.staff_token
        )
        (payment,) = data["data"]["order"]["payments"]
        return payment if payment["chargeStatus"] == "FULLY_REFUNDED" else None

    payment = wait_for(refunded, what="the Dummy payment refunded")
    assert payment["gateway"] == "mirumee.payments.dummy"
    assert [
        Decimal(str(t["amount"]["amount"]))
        for t in payment["transactions"]
        if t["kind"] == "REFUND" and t["isSuccess"]
    ] == [Decimal("40")]


WEBHOOKS = "{ aftersalesWebhooks(first: 5) { totalCount } }"


def test_outgoing_webhooks_are_managed_by_staff_who_manage_apps_in_saleor(
    saleor, installed, people, app_url
):
    """The app never asks Saleor for MANAGE_APPS; staff who hold it in Saleor
    themselves (and MANAGE_ORDERS through the app) manage its webhooks."""
    desk = dashboard_token(saleor, installed, saleor.staff_token)
    _, answer = app_graphql(app_url, WEBHOOKS, token=desk)
    assert answer["data"]["aftersalesWebhooks"]["totalCount"] == 0, answer
    packer = dashboard_token(saleor, installed, people["packer"])
    _, answer = app_graphql(app_url, WEBHOOKS, token=packer)
    assert answer["errors"][0]["extensions"]["exception"]["code"] == (
        "PermissionDenied"
    )


WEBHOOK_CREATE = """
mutation($url: String!) {
  aftersalesWebhookCreate(input: {name: "Probe", targetUrl: $url,
                                  secret: "a-secret-of-16-chars"}) {
    webhook { id } errors { field code message }
  }
}
"""


def test_a_shops_webhooks_do_not_reach_into_the_apps_network(
    saleor, installed, buyers_order, people, app_url, settings
):
    """One app serves many shops: a subscription aimed at a loopback or private
    address is refused at delivery, before any request; allowed (a one-shop
    deployment), the same delivery goes through."""
    # The order's warranty cards are issued from Saleor's webhooks, which may
    # still be arriving: their warranty.card.issued would join the claim's event.
    wait_for(
        lambda: WarrantyCard.objects.filter(order__host_id=buyers_order["id"]).count()
        == 2,
        what="the order's two warranty cards",
    )
    receiver = Receiver()
    try:
        desk = dashboard_token(saleor, installed, saleor.staff_token)
        _, answer = app_graphql(app_url, WEBHOOK_CREATE, {"url": receiver.url}, desk)
        assert answer["data"]["aftersalesWebhookCreate"]["errors"] == [], answer
        _, answer = app_graphql(
            app_url,
            CREATE,
            {
                "input": {
                    "order": buyers_order["id"],
                    "lines": [
                        {
                            "orderLine": buyers_order["lines"][0]["id"],
                            "quantity": 1,
                            "reason": "DEFECTIVE",
                        }
                    ],
                }
            },
            token=people["buyer"],
        )
        assert answer["data"]["returnRequestCreate"]["errors"] == [], answer
        delivery = WebhookDelivery.objects.get(event_type="aftersales.request.created")
        assert WebhookDelivery.objects.count() == 1
        assert (delivery.attempts, delivery.status) == (1, "failed")  # once, at once
        assert delivery.last_error == "The target is not a public address."
        assert receiver.received == []

        settings.AFTERSALES_WEBHOOKS_TO_PRIVATE_ADDRESSES = True
        outgoing.redeliver(delivery)
        wait_for(receiver.delivered, what="the allowed delivery")
        delivery.refresh_from_db()
        assert delivery.status == "delivered"
    finally:
        receiver.close()


EXPORT_URL = """
query($filter: AftersalesRequestFilterInput) { aftersalesExportUrl(filter: $filter) }
"""


def test_the_desk_downloads_the_claims_in_view_from_the_app(
    saleor, installed, buyers_order, people, app_url
):
    """The export's signed link, asked for at the app with the Dashboard's
    token, downloads the CSV of the shop's claims from the app, in the shop's
    schema, under the queue's filter; shoppers get no link."""
    import codecs
    import csv
    import io
    import warnings
    from urllib.parse import urlparse

    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    order_id = buyers_order["id"]
    line_id = buyers_order["lines"][0]["id"]
    _, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": order_id,
                "lines": [{"orderLine": line_id, "quantity": 1, "reason": "DEFECTIVE"}],
            }
        },
        token=people["buyer"],
    )
    claim = answer["data"]["returnRequestCreate"]["aftersalesRequest"]
    desk = dashboard_token(saleor, installed, saleor.staff_token)

    def export(filter_):
        status, answer = app_graphql(
            app_url, EXPORT_URL, {"filter": filter_}, token=desk
        )
        assert status == 200 and "errors" not in answer, answer
        url = answer["data"]["aftersalesExportUrl"]
        assert url.startswith(f"{app_url}/aftersales/exports/claims/"), url
        response = requests.get(url, timeout=60)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.headers["Content-Disposition"].startswith(
            'attachment; filename="claims-'
        )
        assert response.content.startswith(codecs.BOM_UTF8)
        text = response.content[len(codecs.BOM_UTF8) :].decode("utf-8")
        return url, list(csv.reader(io.StringIO(text)))

    url, rows = export({})
    copy = ShopOrder.objects.get(host_id=order_id)
    assert rows[0][:3] == ["number", "type", "status"]
    assert [row[:9] for row in rows[1:]] == [
        [
            claim["number"],
            "RETURN",
            "REQUESTED",
            AftersalesRequest.objects.get().created_at.isoformat(),
            buyers_order["number"],
            copy.channel,
            "buyer@example.com",
            "DEFECTIVE",
            "1",
        ]
    ]
    assert copy.channel  # Saleor 3's orders are in a channel
    _, rows = export({"reason": ["DEFECTIVE"], "channel": copy.channel})
    assert [row[0] for row in rows[1:]] == [claim["number"]]
    _, rows = export({"reason": ["CHANGED_MIND"]})
    assert rows[1:] == []
    # Saleor 3's own product ID, as the order copy keeps it.
    product = ShopOrderLine.objects.get(host_id=line_id).product_ref
    _, rows = export({"product": product})
    assert [row[0] for row in rows[1:]] == [claim["number"]]

    # Under ASGI (uvicorn, as deployed) the file goes out piece by piece too:
    # Django would otherwise warn and read a synchronous stream whole first.
    async def through_asgi(path):
        response = await AsyncClient().get(path)
        return response, b"".join([piece async for piece in response.streaming_content])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response, body = async_to_sync(through_asgi)(urlparse(url).path)
    assert response.status_code == 200
    assert not [w for w in caught if "synchronous iterators" in str(w.message)]
    assert body.startswith(codecs.BOM_UTF8) and claim["number"].encode() in body
    # A tampered link is no file.
    assert (
        requests.get(url.replace("/claims/", "/claims/x"), timeout=60).status_code
        == 404
    )
    # Shoppers get no link.
    _, answer = app_graphql(app_url, EXPORT_URL, {"filter": {}}, token=people["buyer"])
    assert answer["data"] is None or answer["data"]["aftersalesExportUrl"] is None
    assert answer["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
