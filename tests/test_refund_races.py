"""Refunds racing each other over real HTTP, each caller with its own key, on
payments that hold far more than the claims are worth: every claim is paid its
worth once, whoever races it (the desk, the courier's webhook, the sweeper, a
returnless approval), with tasks run eagerly and by a real worker.

Before the fix a refund quoted between a row's SUCCESS and the settling of its
units saw them unpaid: eight desk calls on one 15.00 claim took 45.00.
"""

import threading
import time
from collections import Counter
from decimal import Decimal

import graphene
import pytest
import requests
from graphql_jwt.shortcuts import get_token
from saleor.payment.models import Transaction

from demo import shop
from saleor_aftersales import policies, refunds
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import AftersalesEvent, AftersalesRefund, AftersalesRequest
from saleor_aftersales.webhooks.logistics import signature_header

from .conftest import configure, gid
from .test_races import race

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

UNIT = Decimal("25.00")
CREATE = """
mutation Create($input: AftersalesRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    aftersalesRequest { id number } errors { code }
  }
}
"""
APPROVE = """
mutation Approve($id: ID!) {
  aftersalesRequestApprove(id: $id) { aftersalesRequest { status } errors { code } }
}
"""
REFUND = """
mutation Refund($id: ID!, $key: String) {
  aftersalesRequestRefund(id: $id, idempotencyKey: $key) {
    refund { status } errors { code }
  }
}
"""
# What a racing refund may answer besides success: someone else is paying, or
# has paid.
LOSING = {"REFUND_IN_PROGRESS", "NOTHING_TO_REFUND", "INVALID_STATUS"}


class Client:
    def __init__(self, url, user=None):
        self.url = url
        self.headers = {"Authorization": f"JWT {get_token(user)}"} if user else {}
        self.local = threading.local()

    def _session(self):
        if getattr(self.local, "session", None) is None:
            self.local.session = requests.Session()
        return self.local.session

    def graphql(self, query, variables, mutation):
        response = self._session().post(
            f"{self.url}/graphql/",
            json={"query": query, "variables": variables},
            headers=self.headers,
            timeout=120,
        )
        content = response.json()
        assert response.status_code == 200 and "errors" not in content, content
        payload = content["data"][mutation]
        return payload["errors"][0]["code"] if payload["errors"] else "ok"

    def post_json(self, path, body, headers):
        response = self._session().post(
            f"{self.url}{path}", data=body, headers=headers, timeout=120
        )
        return response.status_code


def rich_order(customer, staff_user, warehouse, variant, units=10):
    """An order whose payment holds ten times what a one-unit claim is worth."""
    return shop.fulfilled_paid_order(customer, staff_user, warehouse, [(variant, units)])


def file_claims(shopper, order, count):
    """The customer files ``count`` one-unit returns of the order's line."""
    line = gid("OrderLine", order.lines.get().pk)
    claims = []
    for _ in range(count):
        answer = shopper._session().post(
            f"{shopper.url}/graphql/",
            json={
                "query": CREATE,
                "variables": {
                    "input": {
                        "order": gid("Order", order.pk),
                        "lines": [
                            {"orderLine": line, "quantity": 1, "reason": "DEFECTIVE"}
                        ],
                    }
                },
            },
            headers=shopper.headers,
            timeout=60,
        ).json()["data"]["returnRequestCreate"]
        assert answer["errors"] == [], answer
        claims.append(answer["aftersalesRequest"])
    return claims


def open_claims(shopper, staff, order, count):
    """Filed and approved."""
    claims = file_claims(shopper, order, count)
    for claim in claims:
        assert staff.graphql(APPROVE, {"id": claim["id"]}, "aftersalesRequestApprove") == "ok"
    return claims


def wait_until_settled(timeout=120):
    """A real worker pays in the background: wait (bounded) for no PENDING row."""
    deadline = time.monotonic() + timeout
    while AftersalesRefund.objects.filter(status="pending").exists():
        assert time.monotonic() < deadline, list(
            AftersalesRefund.objects.filter(status="pending").values()
        )
        time.sleep(0.1)


def pay_the_rest(staff, claims, tag):
    """Whatever the race left unpaid is paid now, one claim after another."""
    wait_until_settled()
    for claim in claims:
        request = AftersalesRequest.objects.get(pk=pk_of(claim["id"]))
        if request.status in ("approved", "received"):
            code = staff.graphql(
                REFUND, {"id": claim["id"], "key": f"{tag}-rest-{claim['id']}"},
                "aftersalesRequestRefund",
            )
            assert code == "ok", code
            wait_until_settled()  # one refund in flight per payment


def pk_of(global_id):
    return int(graphene.Node.from_global_id(global_id)[1])


def assert_each_claim_paid_once(order, claims, captured_before):
    """Saleor's payment gave back each claim's worth exactly once; the ledger,
    the claims' units and their events say the same."""
    payment = order.payments.get()
    requests_ = AftersalesRequest.objects.filter(pk__in=[pk_of(c["id"]) for c in claims])
    assert not AftersalesRefund.objects.filter(status="pending").exists()
    paid = AftersalesRefund.objects.filter(request__in=requests_, status="success")
    per_claim = Counter(paid.values_list("request_id", flat=True))
    assert per_claim == Counter({request.pk: 1 for request in requests_}), per_claim
    assert captured_before - payment.captured_amount == UNIT * len(claims)
    saleor_refunds = Transaction.objects.filter(
        payment=payment, kind="refund", is_success=True
    )
    assert saleor_refunds.count() == len(claims)
    assert sum(t.amount for t in saleor_refunds) == UNIT * len(claims)
    for request in requests_:
        assert request.status == "resolved"
        (line,) = request.lines.all()
        assert line.quantity_refunded == 1
        assert (
            AftersalesEvent.objects.filter(request=request, type="refunded").count()
            == 1
        )


@pytest.mark.parametrize("callers", [8, 16, 50])
def test_desk_refunds_with_distinct_keys_pay_each_claim_once(
    live_server, customer, staff_user, warehouse, variants, callers
):
    staff = Client(live_server.url, staff_user)
    shopper = Client(live_server.url, customer)
    order = rich_order(customer, staff_user, warehouse, variants[0])
    captured = order.payments.get().captured_amount
    assert captured >= 10 * UNIT
    claims = open_claims(shopper, staff, order, 5)
    answers = race(
        [
            lambda n=n: staff.graphql(
                REFUND,
                {"id": claims[n % len(claims)]["id"], "key": f"desk-{n}"},
                "aftersalesRequestRefund",
            )
            for n in range(callers)
        ]
    )
    assert set(answers) <= {"ok"} | LOSING, answers
    assert "ok" in answers
    pay_the_rest(staff, claims, "desk")
    assert_each_claim_paid_once(order, claims, captured)


@pytest.mark.parametrize("callers", [8, 16, 50])
def test_desk_refunds_racing_with_a_real_worker_pay_each_claim_once(
    live_server, worker, customer, staff_user, warehouse, variants, callers
):
    staff = Client(live_server.url, staff_user)
    shopper = Client(live_server.url, customer)
    order = rich_order(customer, staff_user, warehouse, variants[0])
    captured = order.payments.get().captured_amount
    claims = open_claims(shopper, staff, order, 5)
    answers = []
    # Rounds of racing calls while the worker pays what the last round reserved.
    for round_ in range(3):
        answers += race(
            [
                lambda n=n: staff.graphql(
                    REFUND,
                    {"id": claims[n % len(claims)]["id"], "key": f"w-{round_}-{n}"},
                    "aftersalesRequestRefund",
                )
                for n in range(callers)
            ]
        )
    assert set(answers) <= {"ok"} | LOSING, answers
    wait_until_settled()
    pay_the_rest(staff, claims, "worker")
    assert_each_claim_paid_once(order, claims, captured)


def test_the_desk_racing_the_courier_webhook_pays_once(
    live_server, customer, staff_user, warehouse, variants
):
    secret = "carrier-shared-secret"
    configure(
        **{
            "Logistics webhook secret": secret,
            "Refund automatically on parcel delivery": True,
            "Automatic refund limit": "1000",
        }
    )
    staff = Client(live_server.url, staff_user)
    shopper = Client(live_server.url, customer)
    courier = Client(live_server.url)
    order = rich_order(customer, staff_user, warehouse, variants[0])
    captured = order.payments.get().captured_amount
    claims = open_claims(shopper, staff, order, 3)
    calls = []
    for index, claim in enumerate(claims):
        body = (
            '{"id": "parcel-%d", "type": "return.parcel.delivered", "claim": "%s"}'
            % (index, claim["number"])
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Aftersales-Signature": signature_header(body, secret),
        }
        calls.append(lambda body=body, headers=headers: courier.post_json(
            "/aftersales/webhooks/logistics/", body, headers
        ))
        for n in range(4):
            calls.append(
                lambda claim=claim, n=n: staff.graphql(
                    REFUND, {"id": claim["id"], "key": f"c-{claim['id']}-{n}"},
                    "aftersalesRequestRefund",
                )
            )
    answers = race(calls)
    # The courier is told to retry (409) while a desk refund is in flight.
    assert all(a in ({"ok", 200, 409} | LOSING) for a in answers), answers
    pay_the_rest(staff, claims, "courier")
    assert_each_claim_paid_once(order, claims, captured)


def test_the_desk_racing_the_sweeper_pays_once(
    live_server, customer, staff_user, warehouse, variants, settings
):
    staff = Client(live_server.url, staff_user)
    shopper = Client(live_server.url, customer)
    order = rich_order(customer, staff_user, warehouse, variants[0])
    captured = order.payments.get().captured_amount
    claims = open_claims(shopper, staff, order, 3)
    # A refund whose task was lost: reserved, never handed to a worker (one may
    # be in flight per payment).
    from saleor_aftersales import workflow
    from saleor_aftersales.configuration import get_settings

    lost, _ = refunds.reserve_refund(
        AftersalesRequest.objects.get(pk=pk_of(claims[0]["id"])),
        by=workflow.Actor.staff(staff_user),
        settings=get_settings(),
        amount=None,
        include_shipping=None,
        restocking_fee_percent=None,
        idempotency_key="lost",
    )
    calls = [lambda: refunds.pay(lost.pk)] * 4  # the sweeper and reruns
    for claim in claims:
        calls += [
            lambda claim=claim, n=n: staff.graphql(
                REFUND, {"id": claim["id"], "key": f"s-{claim['id']}-{n}"},
                "aftersalesRequestRefund",
            )
            for n in range(3)
        ]
    answers = race(calls)
    assert {a for a in answers if isinstance(a, str)} <= {"ok"} | LOSING, answers
    pay_the_rest(staff, claims, "sweeper")
    assert_each_claim_paid_once(order, claims, captured)
    lost.refresh_from_db()
    assert lost.status == "success"


def test_the_desk_racing_a_returnless_approval_pays_once(
    live_server, customer, staff_user, warehouse, variants
):
    policies.save_policy(
        host.ref(variants[0].product.product_type_id),
        {"returnless_refund_below": Decimal("30")},
    )
    staff = Client(live_server.url, staff_user)
    shopper = Client(live_server.url, customer)
    order = rich_order(customer, staff_user, warehouse, variants[0])
    captured = order.payments.get().captured_amount
    claims = file_claims(shopper, order, 3)
    calls = []
    for claim in claims:
        calls += [
            lambda claim=claim: staff.graphql(
                APPROVE, {"id": claim["id"]}, "aftersalesRequestApprove"
            )
        ] * 2
        calls += [
            lambda claim=claim, n=n: staff.graphql(
                REFUND, {"id": claim["id"], "key": f"r-{claim['id']}-{n}"},
                "aftersalesRequestRefund",
            )
            for n in range(4)
        ]
    answers = race(calls)
    assert set(answers) <= {"ok"} | LOSING, answers
    pay_the_rest(staff, claims, "returnless")
    assert_each_claim_paid_once(order, claims, captured)
