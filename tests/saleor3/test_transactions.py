"""Refunds through Saleor 3.23's Transactions API, exactly once: the order was
charged by a payment app (the stand-in in demo/saleor3_payment_app.py, installed
with appInstall); a refund is a granted refund on the order, requested from the
payment app, and the ledger row is settled only when Saleor shows the payment
app's outcome (its webhook answer, or its later transactionEventReport), found by
the sweeper. Asserted on Saleor's granted refunds, transaction events and amounts."""

import io
import json
import urllib.error
import urllib.request
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from saleor_aftersales import refunds, workflow
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.hosts.saleor3 import shop as saleor_shop
from saleor_aftersales.hosts.saleor3 import transactions
from saleor_aftersales.models import AftersalesRefund
from saleor_aftersales.port import RefundPending

from .conftest import wait_for, desks_at_once
from .test_refunds import received_return
from .test_returns import STAFF

pytestmark = pytest.mark.django_db(transaction=True)

SALEOR_MONEY = """
query($id: ID!) { order(id: $id) {
  chargeStatus
  totalRefunded { amount }
  grantedRefunds { id reason status amount { amount } transaction { id } }
  transactions {
    id chargedAmount { amount } refundedAmount { amount }
    events { type pspReference amount { amount } }
  }
} }
"""


def money(data) -> Decimal:
    return Decimal(str(data["amount"]))


def saleor_money(saleor, order_id) -> dict:
    return saleor.graphql(SALEOR_MONEY, {"id": order_id}, token=saleor.staff_token)[
        "data"
    ]["order"]


def events(order, kind):
    return [
        event
        for txn in order["transactions"]
        for event in txn["events"]
        if event["type"] == kind
    ]


def swept_until(refund_pk, status):
    """Run the sweeper, as cron would, until the ledger row reaches ``status``."""

    def settled():
        call_command("aftersales_sweep", stdout=io.StringIO())
        return AftersalesRefund.objects.get(pk=refund_pk).status == status

    wait_for(settled, what=f"refund {refund_pk} becoming {status}")
    return AftersalesRefund.objects.get(pk=refund_pk)


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_a_refund_is_granted_requested_and_settled_once(
    saleor, charged_order, psp, mode
):
    psp.mode = mode
    request = received_return(saleor, charged_order, 1)
    refund = refunds.refund_request(
        request, by=workflow.Actor.staff(STAFF), settings=get_settings()
    )
    assert refund.amount == Decimal("40.00")
    assert transactions.is_transaction_ref(refund.payment_ref)
    refund = swept_until(refund.pk, "success")

    order = saleor_money(saleor, charged_order["id"])
    [grant] = order["grantedRefunds"]
    assert grant["status"] == "SUCCESS"
    assert money(grant["amount"]) == Decimal("40.00")
    assert grant["reason"].endswith(transactions.grant_reference(refund.pk))
    assert grant["transaction"]["id"] == charged_order["transaction"]
    assert len(events(order, "REFUND_REQUEST")) == 1
    [paid] = events(order, "REFUND_SUCCESS")
    assert money(paid["amount"]) == Decimal("40.00")
    [txn] = order["transactions"]
    assert money(txn["refundedAmount"]) == Decimal("40.00")
    assert money(txn["chargedAmount"]) == Decimal("40.00")
    assert money(order["totalRefunded"]) == Decimal("40.00")
    # Charged 40 of a total of 80 less the 40 granted back.
    assert order["chargeStatus"] == "FULL"
    assert [asked["amount"] for asked in psp.refund_requests[-1:]] == [Decimal("40.00")]
    # The row records Saleor's grant and the payment app's reference.
    assert refund.transaction_ref == grant["id"]
    assert refund.gateway_reference == paid["pspReference"] != ""
    request.refresh_from_db()
    assert request.status == "resolved"

    # Asking again pays nothing more.
    with pytest.raises(ValidationError):
        refunds.refund_request(
            request, by=workflow.Actor.staff(STAFF), settings=get_settings()
        )
    assert len(saleor_money(saleor, charged_order["id"])["grantedRefunds"]) == 1


def test_two_desks_refunding_at_once_pay_once(saleor, charged_order, psp):
    request = received_return(saleor, charged_order, 2)
    asked_before = len(psp.refund_requests)
    outcomes = [
        getattr(outcome, "pk", outcome)
        for outcome in desks_at_once(request, ("a", "b"), STAFF)
    ]
    made = [outcome for outcome in outcomes if isinstance(outcome, int)]
    assert len(made) == 1, outcomes
    swept_until(made[0], "success")

    order = saleor_money(saleor, charged_order["id"])
    [grant] = order["grantedRefunds"]
    assert grant["status"] == "SUCCESS" and money(grant["amount"]) == Decimal("80.00")
    paid = sum(money(event["amount"]) for event in events(order, "REFUND_SUCCESS"))
    assert paid == Decimal("80.00")  # all of what was charged, once
    [txn] = order["transactions"]
    assert money(txn["refundedAmount"]) == Decimal("80.00")
    assert money(txn["chargedAmount"]) == Decimal("0")
    assert money(order["totalRefunded"]) == Decimal("80.00")
    assert len(psp.refund_requests) - asked_before == 1
    assert AftersalesRefund.objects.filter(status="success").count() == 1


@pytest.mark.parametrize("died_after", ["granting", "requesting"])
def test_a_worker_that_died_after_saleor_granted_is_adopted(
    saleor, charged_order, psp, died_after
):
    """The ledger row was PENDING and Saleor had the grant (and, later, the
    request): the sweeper finds the grant by its reference, requests it only if
    that never happened, and records the payment app's outcome. One grant, one
    request, one refund."""
    request = received_return(saleor, charged_order, 1)
    refund, created = refunds.reserve_refund(
        request,
        by=workflow.Actor.staff(STAFF),
        settings=get_settings(),
        amount=None,
        include_shipping=None,
        restocking_fee_percent=None,
        idempotency_key=f"died-after-{died_after}",
    )
    assert created and refund.status == "pending"
    asked_before = len(psp.refund_requests)
    # What the dead attempt did: took the lease, and Saleor acted.
    AftersalesRefund.objects.filter(pk=refund.pk).update(
        attempts=1, first_attempt_at=timezone.now()
    )
    payment = saleor_shop.payment_by_ref(refund.payment_ref)
    if died_after == "granting":
        transactions._grant(saleor_shop.current_shop(), payment, refund.amount, refund)
        [grant] = saleor_money(saleor, charged_order["id"])["grantedRefunds"]
        assert grant["status"] == "NONE"
    else:
        with pytest.raises(RefundPending):
            saleor_shop.refund_payment(payment, refund.amount)

    refund = swept_until(refund.pk, "success")
    assert refund.attempts >= 2  # the dead one, then the sweeper's
    order = saleor_money(saleor, charged_order["id"])
    [grant] = order["grantedRefunds"]
    assert grant["status"] == "SUCCESS" and refund.transaction_ref == grant["id"]
    assert len(events(order, "REFUND_REQUEST")) == 1
    assert [money(e["amount"]) for e in events(order, "REFUND_SUCCESS")] == [
        Decimal("40.00")
    ]
    assert money(order["transactions"][0]["refundedAmount"]) == Decimal("40.00")
    assert len(psp.refund_requests) - asked_before == 1


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_a_refund_the_payment_app_refuses_fails_and_pays_nothing(
    saleor, charged_order, psp, mode
):
    psp.mode, psp.refuse = mode, True
    request = received_return(saleor, charged_order, 1)
    refund = refunds.refund_request(
        request, by=workflow.Actor.staff(STAFF), settings=get_settings()
    )
    refund = swept_until(refund.pk, "failed")
    assert "Refused by the card issuer." in refund.error

    order = saleor_money(saleor, charged_order["id"])
    [grant] = order["grantedRefunds"]
    assert grant["status"] == "FAILURE"
    assert len(events(order, "REFUND_FAILURE")) == 1
    assert events(order, "REFUND_SUCCESS") == []
    [txn] = order["transactions"]
    assert money(txn["refundedAmount"]) == Decimal("0")
    assert money(txn["chargedAmount"]) == Decimal("80.00")
    assert money(order["totalRefunded"]) == Decimal("0")
    request.refresh_from_db()
    assert request.status == "received"


def test_the_payment_app_answers_only_saleors_signed_requests(saleor, psp):
    """The stand-in checks Saleor's signature as a real payment app must: a
    forged refund request is refused and asks nothing of anyone."""
    asked_before = len(psp.refund_requests)
    body = json.dumps(
        {
            "transaction": {"id": "VHJhbnNhY3Rpb25JdGVtOjE="},
            "action": {"amount": 40, "currency": "USD"},
        }
    ).encode()
    for signature in ("", "e30..c2ln", "not-a-jws"):
        request = urllib.request.Request(
            f"{psp.url}/api/webhooks/refund",
            data=body,
            headers={"Saleor-Api-Url": saleor.url, "Saleor-Signature": signature},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401
    assert len(psp.refund_requests) == asked_before
