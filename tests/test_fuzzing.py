"""GraphQL fuzzing from outside: schemathesis, in its own Python 3.11 environment
(.venv-fuzz), sends generated queries and mutations for every field the plugin adds
to the shop served over real HTTP, as the shop's owner, the customer and nobody.

Arguments are drawn from the schema; IDs and order tokens partly from real claims,
lines, orders, cards and subscriptions, so the fuzzer reaches the workflow and not
only the id parser. A response may refuse; it may not be a 5xx, nor fail with an
exception other than GraphQL's own errors and PermissionDenied, unless Saleor's
own fields fail the same way for the same input (HOST_REFUSALS, each proven against
a Saleor field below). Afterwards the books of every order must still balance.

AFTERSALES_FUZZ_EXAMPLES sets the examples per field and caller (default 12; the
figures in docs/RELIABILITY.md come from 60).
"""

import json

import pytest
from django.contrib.sites.models import Site
from graphql_jwt.shortcuts import get_token
from saleor.site.models import SiteSettings

from saleor_aftersales import models

from .conftest import ApiClient, create_return, gid, line_input
from .graphql_probe import api_fields, examples, failures, fuzz, report_key, summary
from .queries import APPROVE, RECEIVE, REFUND, REPAIR_REQUEST_CREATE
from .test_exchanges import create_exchange, exchange_line
from .test_invariants import (
    claims_within_worth,
    money_balances,
    statuses_and_events_agree,
    units_add_up,
)

EXAMPLES = examples(12)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# What Saleor 2.10 (graphene 2, graphql-core 2) answers for some malformed input
# on any field, its own included: a refusal with the library's exception, never a
# 5xx. Each is keyed as the fuzz report keys it and proven on a Saleor field.
HOST_REFUSALS = {
    # graphene's UUID scalar
    "400 ValueError: badly formed hexadecimal UUID string": (
        '{ orderByToken(token: "not-a-token") { id } }'
    ),
    "400 ValueError: invalid literal for int() with base N: '…'": (
        '{ orderByToken(token: "' + "z" * 32 + '") { id } }'
    ),
    # Saleor's own connections, reached inside the plugin's types (a claim's
    # order, its customer's orders): page size and cursors. The plugin's own
    # lists check these first (graphql/fields.py).
    "200 AssertionError: Requesting N records on the `orders` connection exceeds "
    "the `first` limit of N records.": "{ orders(first: 101) { totalCount } }",
    "200 AssertionError: Requesting N records on the `orders` connection exceeds "
    "the `last` limit of N records.": "{ orders(last: 101) { totalCount } }",
    "200 ValueError: string argument should contain only ASCII characters": (
        '{ orders(first: 1, after: "é") { totalCount } }'
    ),
    "200 Error: Incorrect padding": '{ orders(first: 1, after: "abc") { totalCount } }',
    "200 UnicodeDecodeError: '…' codec can't decode byte <byte> in position N: "
    "invalid start byte": (
        '{ orders(first: 1, after: "JASQJRCQ81D0DZ8J") { totalCount } }'
    ),
    # graphene's Date scalar
    "400 IndexError: string index out of range": (
        '{ orders(first: 1, filter: {created: {gte: ""}}) { totalCount } }'
    ),
    "400 NotImplementedError: ISO N extended year representation not supported.": (
        '{ orders(first: 1, filter: {created: {gte: "-Infinity"}}) { totalCount } }'
    ),
}


def test_saleor_refuses_that_input_the_same_way_on_its_own_fields(shop_owner):
    api = ApiClient(shop_owner)
    for key, probe in HOST_REFUSALS.items():
        response = api.client.post(
            "/graphql/",
            json.dumps({"query": probe}),
            content_type="application/json",
            **api.headers,
        )
        error = response.json()["errors"][0]
        code = error["extensions"]["exception"]["code"]
        assert report_key(response.status_code, code, error["message"]) == key


@pytest.fixture
def shop_with_claims(customer, customer_api, staff_api, order, guest_order, variants):
    """Claims in most states on two orders and a webhook subscription, in a shop
    with its site settings (Saleor's order fields read them; a flushed test
    database has none)."""
    SiteSettings.objects.get_or_create(site=Site.objects.get_current())
    first, second = order.lines.order_by("pk")
    requested = create_return(customer_api, order, [line_input(first, 1)])
    resolved = create_return(customer_api, order, [line_input(second, 1)])
    resolved_id = resolved["aftersalesRequest"]["id"]
    staff_api.data(APPROVE, {"id": resolved_id})
    staff_api.data(RECEIVE, {"id": resolved_id})
    staff_api.data(REFUND, {"id": resolved_id})
    exchange = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    staff_api.data(APPROVE, {"id": exchange["aftersalesRequest"]["id"]})
    repair = customer_api.post(
        REPAIR_REQUEST_CREATE,
        {
            "input": {
                "order": gid("Order", order.pk),
                "lines": [line_input(first, 1, reason="DEFECTIVE")],
            }
        },
    )["data"]["repairRequestCreate"]
    guest_line = guest_order.lines.get()
    guest = create_return(
        ApiClient(), guest_order, [line_input(guest_line, 1)], token=guest_order.token
    )
    subscription = models.WebhookSubscription.objects.create(
        name="Closed port",
        target_url="http://127.0.0.1:9/hooks",
        secret="s" * 32,
        event_types=["aftersales.request.created"],
    )
    claims = [requested, resolved, exchange, repair, guest]
    assert all(claim["errors"] == [] for claim in claims), claims
    ids = [claim["aftersalesRequest"]["id"] for claim in claims]
    ids += [
        gid("AftersalesLine", pk)
        for pk in models.AftersalesLine.objects.values_list("pk", flat=True)
    ]
    ids += [gid("Order", o.pk) for o in (order, guest_order)]
    ids += [gid("OrderLine", line.pk) for line in (first, second, guest_line)]
    ids += [gid("ProductVariant", variant.pk) for variant in variants]
    ids += [gid("ProductType", variants[0].product.product_type_id)]
    ids += [
        gid("WarrantyCard", pk)
        for pk in models.WarrantyCard.objects.values_list("pk", flat=True)
    ]
    ids += [gid("AftersalesWebhookSubscription", subscription.pk)]
    ids += [gid("User", customer.pk)]
    return {
        "ids": ids,
        "tokens": [str(order.token), str(guest_order.token)],
        "codes": list(models.WarrantyCard.objects.values_list("code", flat=True)),
        "orders": [order, guest_order],
    }


def test_fuzzing_every_plugin_field_finds_no_server_error(
    live_server, shop_with_claims, customer, shop_owner, caplog
):
    from saleor_aftersales.graphql.schema import schema

    fields = sorted(name for kind in api_fields(schema) for name in kind)
    orders = shop_with_claims["orders"]
    report, seconds = fuzz(
        f"{live_server.url}/graphql/",
        fields,
        {
            "nobody": "",
            "customer": get_token(customer),
            "owner": get_token(shop_owner),
        },
        examples=EXAMPLES,
        ids=shop_with_claims["ids"],
        uuids=shop_with_claims["tokens"],
        texts=shop_with_claims["codes"],
    )
    found = failures(report, fields, HOST_REFUSALS, caplog.records)
    assert found == {kind: [] for kind in found}, json.dumps(
        found, indent=1, ensure_ascii=False
    )

    for order in orders:
        order.refresh_from_db()
        money_balances(order, order.total_gross_amount)  # all of it was captured
        claims_within_worth(order)
        units_add_up(order)
        statuses_and_events_agree(order)
    print("\n" + summary(report, fields, seconds))
