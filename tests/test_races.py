"""Races over real HTTP: many clients at once against the shop served by Django's
threaded live server (one thread and one database connection per request).

AFTERSALES_RACE_ROUNDS sets how many claims each race is run on (the figures in
docs/RELIABILITY.md come from a run with 50 rounds: over 1,000 racing attempts).
"""

import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from graphql_jwt.shortcuts import get_token

from demo import shop
from saleor_aftersales.models import AftersalesRefund, AftersalesRequest
from saleor_aftersales.hosts.saleor2 import shop as host

from .conftest import gid

ROUNDS = int(os.environ.get("AFTERSALES_RACE_ROUNDS", "6"))
CLIENTS = 12

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CREATE = """
mutation Create($input: AftersalesRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    aftersalesRequest { id } errors { code }
  }
}
"""
APPROVE = """
mutation Approve($id: ID!) {
  aftersalesRequestApprove(id: $id) { aftersalesRequest { status } errors { code } }
}
"""
RECEIVE = """
mutation Receive($id: ID!) {
  aftersalesRequestReceive(id: $id) { aftersalesRequest { status } errors { code } }
}
"""
REFUND = """
mutation Refund($id: ID!, $key: String, $amount: Decimal) {
  aftersalesRequestRefund(id: $id, idempotencyKey: $key, amount: $amount) {
    refund { id status amount { amount } } errors { code }
  }
}
"""


class Client:
    def __init__(self, url, user):
        self.url = f"{url}/graphql/"
        self.headers = {"Authorization": f"JWT {get_token(user)}"}
        self.local = threading.local()

    def post(self, query, variables):
        session = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        response = session.post(
            self.url,
            json={"query": query, "variables": variables},
            headers=self.headers,
            timeout=60,
        )
        return response.status_code, response.json()


def outcome(status, content, mutation):
    """What one racing call got: 'ok', an error code, or the failure."""
    if status != 200 or "errors" in content:
        return f"HTTP {status}: {content.get('errors')}"
    errors = content["data"][mutation]["errors"]
    return errors[0]["code"] if errors else "ok"


def race(calls):
    """Start every call at once (a barrier), return their outcomes."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_racing_refunds_and_steps_pay_each_claim_exactly_once(
    live_server, customer, staff_user, warehouse, variants
):
    staff = Client(live_server.url, staff_user)
    shopper = Client(live_server.url, customer)
    seen = Counter()
    for round_ in range(ROUNDS):
        order = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variants[0], 2)]
        )
        line = gid("OrderLine", order.lines.get().pk)
        _, content = shopper.post(
            CREATE,
            {
                "input": {
                    "order": gid("Order", order.pk),
                    "lines": [
                        {"orderLine": line, "quantity": 2, "reason": "DEFECTIVE"}
                    ],
                }
            },
        )
        claim = content["data"]["returnRequestCreate"]["aftersalesRequest"]["id"]
        # Approvals, receipts and refunds with different keys and amounts, all at
        # once on one claim.
        calls = []
        for n in range(CLIENTS):
            if n % 4 == 0:
                calls.append(lambda: ("approve", staff.post(APPROVE, {"id": claim})))
            elif n % 4 == 1:
                calls.append(lambda: ("receive", staff.post(RECEIVE, {"id": claim})))
            else:
                amount = None if n % 2 else "30.00"
                calls.append(
                    lambda n=n, amount=amount: (
                        "refund",
                        staff.post(
                            REFUND,
                            {
                                "id": claim,
                                "key": f"race-{round_}-{n}",
                                "amount": amount,
                            },
                        ),
                    )
                )
        for kind, (status, content) in race(calls):
            mutation = {
                "approve": "aftersalesRequestApprove",
                "receive": "aftersalesRequestReceive",
                "refund": "aftersalesRequestRefund",
            }[kind]
            seen[(kind, outcome(status, content, mutation))] += 1
        # Whatever the interleaving, the claim can then be finished, once.
        for query, mutation, variables in (
            (APPROVE, "aftersalesRequestApprove", {"id": claim}),
            (RECEIVE, "aftersalesRequestReceive", {"id": claim}),
            (REFUND, "aftersalesRequestRefund", {"id": claim, "key": f"end-{round_}"}),
        ):
            seen[("then", outcome(*staff.post(query, variables), mutation))] += 1

        request = AftersalesRequest.objects.get(pk=_pk(claim))
        paid = list(AftersalesRefund.objects.filter(request=request, status="success"))
        payment = order.payments.get()
        assert len(paid) == 1, paid
        assert sum(r.amount for r in paid) <= Decimal("50.00")
        assert payment.captured_amount + paid[0].amount == Decimal("55.00")
        assert request.status == "resolved"
        assert not AftersalesRefund.objects.filter(status="pending").exists()

    assert not [key for key in seen if key[1].startswith("HTTP")], seen
    # Every call answered with success or a clear code.
    allowed = {
        "ok",
        "INVALID_STATUS",
        "REFUND_IN_PROGRESS",
        "NOTHING_TO_REFUND",
        "AMOUNT_EXCEEDED",
        "REQUIRED",  # receiving when nothing is awaited any more
    }
    assert {code for _, code in seen} <= allowed, seen
    print(f"\n{sum(seen.values())} racing calls on {ROUNDS} claims: {dict(seen)}")


def _pk(global_id):
    import graphene

    return graphene.Node.from_global_id(global_id)[1]


def test_the_same_create_from_many_clients_makes_one_claim(
    live_server, customer, staff_user, warehouse, variants
):
    shopper = Client(live_server.url, customer)
    attempts = 0
    for round_ in range(ROUNDS):
        order = shop.fulfilled_paid_order(
            customer, staff_user, warehouse, [(variants[1], 1)]
        )
        variables = {
            "input": {
                "order": gid("Order", order.pk),
                "idempotencyKey": f"checkout-retry-{round_}",
                "lines": [
                    {
                        "orderLine": gid("OrderLine", order.lines.get().pk),
                        "quantity": 1,
                        "reason": "DEFECTIVE",
                    }
                ],
            }
        }
        results = race([lambda: shopper.post(CREATE, variables)] * CLIENTS)
        attempts += len(results)
        ids = set()
        for status, content in results:
            assert status == 200 and "errors" not in content, content
            payload = content["data"]["returnRequestCreate"]
            assert payload["errors"] == [], payload
            ids.add(payload["aftersalesRequest"]["id"])
        assert len(ids) == 1
        assert (
            AftersalesRequest.objects.filter(order__host_id=host.ref(order.pk)).count()
            == 1
        )
    print(f"\n{attempts} racing creates on {ROUNDS} orders: one claim each")
