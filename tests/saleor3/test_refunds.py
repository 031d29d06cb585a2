"""Refunds through the order's own (legacy) payment on Saleor 3.23, exactly once:
the core's ledger row first, then Saleor's orderRefund; a worker that died after
Saleor refunded is found out by the REFUND transaction Saleor recorded; two desks
refunding at once pay once. Asserted on Saleor's payment and transactions."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from saleor_aftersales import refunds, workflow
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.models import AftersalesRefund

from .conftest import desks_at_once
from .test_returns import STAFF, approved_return

pytestmark = pytest.mark.django_db(transaction=True)

PAYMENTS = """
query($id: ID!) { order(id: $id) {
  payments { chargeStatus capturedAmount { amount }
             transactions { kind isSuccess amount { amount } } }
  events { type }
} }
"""


def saleor_refunds(saleor, order_id):
    order = saleor.graphql(PAYMENTS, {"id": order_id}, token=saleor.staff_token)[
        "data"
    ]["order"]
    transactions = [
        Decimal(str(txn["amount"]["amount"]))
        for payment in order["payments"]
        for txn in payment["transactions"] or []
        if txn["kind"] == "REFUND" and txn["isSuccess"]
    ]
    return transactions, order


def received_return(saleor, order, quantity):
    request = approved_return(saleor, order, quantity)
    workflow.receive(request, by=workflow.Actor.staff(STAFF))
    return request


def test_a_refund_goes_back_through_the_orders_payment_once(saleor, fulfilled_order):
    request = received_return(saleor, fulfilled_order, 1)
    refund = refunds.refund_request(
        request, by=workflow.Actor.staff(STAFF), settings=get_settings()
    )
    assert refund.status == "success" and refund.amount == Decimal("40.00")
    assert refund.transaction_ref and refund.payment_ref
    request.refresh_from_db()
    assert request.status == "resolved"
    paid, order = saleor_refunds(saleor, fulfilled_order["id"])
    assert paid == [Decimal("40.00")]
    assert order["payments"][0]["chargeStatus"] == "PARTIALLY_REFUNDED"
    assert Decimal(str(order["payments"][0]["capturedAmount"]["amount"])) == Decimal(
        "40.00"
    )
    # Asking again pays nothing more.
    with pytest.raises(ValidationError):
        refunds.refund_request(
            request, by=workflow.Actor.staff(STAFF), settings=get_settings()
        )
    assert saleor_refunds(saleor, fulfilled_order["id"])[0] == [Decimal("40.00")]


def test_a_worker_that_died_after_saleor_refunded_is_adopted(saleor, fulfilled_order):
    """The ledger row was PENDING and Saleor had refunded: the sweeper finds the
    REFUND transaction and records it, instead of refunding again."""
    from saleor_aftersales.hosts.saleor3 import shop as saleor_shop

    request = received_return(saleor, fulfilled_order, 1)
    refund, created = refunds.reserve_refund(
        request,
        by=workflow.Actor.staff(STAFF),
        settings=get_settings(),
        amount=None,
        include_shipping=None,
        restocking_fee_percent=None,
        idempotency_key="died-after-saleor",
    )
    assert created and refund.status == "pending"
    # What the dead attempt did: took the lease, and Saleor refunded.
    started = timezone.now()
    AftersalesRefund.objects.filter(pk=refund.pk).update(
        attempts=1, first_attempt_at=started
    )
    payment = saleor_shop.payment_by_ref(refund.payment_ref)
    saleor_shop.refund_payment(payment, refund.amount)
    out = io.StringIO()
    call_command("aftersales_sweep", stdout=out)  # as cron runs it
    assert "1 refund(s)" in out.getvalue()
    refund.refresh_from_db()
    assert refund.status == "success" and refund.transaction_ref
    assert saleor_refunds(saleor, fulfilled_order["id"])[0] == [refund.amount]


def test_two_desks_refunding_at_once_pay_once(saleor, fulfilled_order):
    request = received_return(saleor, fulfilled_order, 2)
    outcomes = [
        getattr(outcome, "status", outcome)
        for outcome in desks_at_once(request, ("a", "b"), STAFF)
    ]
    assert outcomes.count("success") == 1, outcomes
    assert saleor_refunds(saleor, fulfilled_order["id"])[0] == [Decimal("80.00")]
    assert AftersalesRefund.objects.filter(status="success").count() == 1
