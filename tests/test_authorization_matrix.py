"""Every query and mutation the plugin adds, read from the schema itself, called by
strangers: nobody signed in (sending a wrong order token wherever a field takes
one, as a guest who guessed), another customer, and staff without MANAGE_ORDERS. None of them may change anything or
see anything of the victim's claim.

Arguments are filled in from their GraphQL types, aimed at the victim's claim and
order, so a new field is covered the day it is added.
"""

import uuid

import pytest

from saleor_aftersales import models
from saleor_aftersales.hosts.saleor2 import shop as host

from .conftest import ApiClient, create_return, gid, line_input
from .graphql_probe import api_fields, document, snapshot, stranger_learns_nothing


@pytest.fixture
def victim(customer_api, order):
    claim = create_return(customer_api, order, [line_input(order.lines.first(), 1)])[
        "aftersalesRequest"
    ]
    card = models.WarrantyCard.objects.filter(order__host_id=host.ref(order.pk)).first()
    return {
        "id": claim["id"],
        "number": claim["number"],
        "order": gid("Order", order.pk),
        "orderLine": gid("OrderLine", order.lines.first().pk),
        "productType": gid(
            "ProductType", order.lines.first().variant.product.product_type_id
        ),
        "code": card.code,
        "serialNumber": "SN-1",
        "first": 5,
        "email": order.user_email,
        "wrong_token": str(uuid.uuid4()),
        "token": str(order.token),
    }


@pytest.fixture
def strangers(other_customer, staff_without_permission):
    return {
        "anonymous": ApiClient(),
        "another customer": ApiClient(other_customer),
        "staff without MANAGE_ORDERS": ApiClient(staff_without_permission),
    }


def test_every_plugin_field_refuses_every_stranger(strangers, victim):
    from saleor_aftersales.graphql.schema import schema

    queries, mutations = api_fields(schema)
    assert len(queries) >= 10 and len(mutations) >= 25
    before = snapshot()
    checked = 0
    for kind, fields in (("query", queries), ("mutation", mutations)):
        for name, field in fields.items():
            query, variables = document(kind, name, field, victim)
            for who, api in strangers.items():
                content = api.post(query, variables)
                stranger_learns_nothing(content, name, victim, f"{who} calling {name}")
                checked += 1
    assert snapshot() == before
    print(f"\n{checked} stranger calls on {len(queries) + len(mutations)} fields")
