"""The authorization matrix on the app (tests/test_authorization_matrix.py is the
2.10 plugin's): every query and mutation of the app's /graphql/, read from its
schema, called over HTTP by strangers to a customer's claim on a real Saleor 3.23
order: nobody (sending a wrong order token wherever a field takes one, as a guest
who guessed), another Saleor customer with their access token, and a staff member
without MANAGE_ORDERS with the Dashboard's token for the app's pages. None of them
may change anything or see anything of the victim's claim: not the app's rows,
not the calls it owes Saleor, not the order's fulfillments, payments or timeline
in Saleor.

Arguments are filled in from their GraphQL types (tests/graphql_probe.py), aimed
at the victim's claim, order, line, product type and warranty card."""

import uuid

import pytest
import requests

from saleor_aftersales.graphql.schema import schema
from saleor_aftersales.hosts.saleor3.facts import order_token
from saleor_aftersales.hosts.saleor3.models import SaleorCall
from saleor_aftersales.models import ShopOrderLine, WarrantyCard
from tests.graphql_probe import api_fields, document, snapshot, stranger_learns_nothing

from .conftest import wait_for
from .test_api import CREATE, app_graphql
from .test_identity import dashboard_token

pytestmark = pytest.mark.django_db(transaction=True)

# What Saleor holds of the victim's order that a stranger's call could change.
SALEOR_ORDER = """
query($id: ID!) { order(id: $id) {
  status
  fulfillments { status lines { quantity } }
  payments { chargeStatus transactions { kind isSuccess amount { amount } } }
  events { type message }
} }
"""


def saleor_order(saleor, order_id):
    return saleor.graphql(SALEOR_ORDER, {"id": order_id}, token=saleor.staff_token)[
        "data"
    ]["order"]


def calls_made():
    """Every call the app owes Saleor has been made (or given up on)."""
    return not SaleorCall.objects.filter(status=SaleorCall.PENDING).exists()


@pytest.fixture
def victim(saleor, installed, buyers_order, app_url, people):
    buyer = people["buyer"]
    line = buyers_order["lines"][0]
    _, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": buyers_order["id"],
                "lines": [
                    {"orderLine": line["id"], "quantity": 1, "reason": "DEFECTIVE"}
                ],
            }
        },
        token=buyer,
    )
    created = answer["data"]["returnRequestCreate"]
    assert created["errors"] == [], created
    card = wait_for(
        lambda: WarrantyCard.objects.filter(order__host_id=buyers_order["id"]).first(),
        what="the warranty card of the victim's order",
    )
    # The claim's own note in Saleor's timeline is written before anyone probes.
    wait_for(calls_made, what="the app's calls to Saleor being made")
    return {
        "id": created["aftersalesRequest"]["id"],
        "number": str(created["aftersalesRequest"]["number"]),
        "order": buyers_order["id"],
        "orderLine": line["id"],
        "productType": ShopOrderLine.objects.get(host_id=line["id"]).product_type_ref,
        "code": card.code,
        "serialNumber": "SN-1",
        "first": 5,
        "email": "buyer@example.com",
        "wrong_token": str(uuid.uuid4()),
        # Saleor 3's order token: the UUID the order's global ID names.
        "token": order_token(buyers_order["id"]),
    }


@pytest.fixture
def strangers(saleor, installed, people):
    return {
        "nobody": None,
        "another customer": people["stranger"],
        "staff without MANAGE_ORDERS": dashboard_token(
            saleor, installed, people["packer"]
        ),
    }


def test_every_field_of_the_apps_api_refuses_every_stranger(
    saleor, installed, app_url, strangers, victim
):
    queries, mutations = api_fields(schema)
    assert len(queries) >= 10 and len(mutations) >= 25
    before = snapshot(SaleorCall)
    in_saleor = saleor_order(saleor, victim["order"])
    checked = 0
    with requests.Session() as session:
        for kind, fields in (("query", queries), ("mutation", mutations)):
            for name, field in fields.items():
                query, variables = document(kind, name, field, victim)
                for who, token in strangers.items():
                    response = session.post(
                        f"{app_url}/graphql/",
                        json={"query": query, "variables": variables},
                        headers={"Authorization": f"Bearer {token}"} if token else {},
                        timeout=60,
                    )
                    where = f"{who} calling {name}"
                    assert response.status_code == 200, (where, response.text)
                    stranger_learns_nothing(response.json(), name, victim, where)
                    checked += 1
    assert snapshot(SaleorCall) == before
    assert saleor_order(saleor, victim["order"]) == in_saleor
    print(f"\n{checked} stranger calls on {len(queries) + len(mutations)} fields")
