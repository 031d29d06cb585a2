"""Refunds of Stripe payments: paid by a real Celery worker through Stripe's SDK
against localstripe, across Stripe errors and a worker killed mid-refund."""

import json
from decimal import Decimal

import pytest
import stripe
from django.test.client import Client

from demo import shop
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import (
    AftersalesEvent,
    AftersalesRefund,
    WebhookSubscription,
)
from saleor_aftersales.hosts.saleor2.shop import queue_options
from saleor_aftersales.tasks import pay_due_refunds
from saleor_aftersales.webhooks.logistics import signature_header

from .conftest import STRIPE_SECRET_KEY, configure, create_return, line_input
from .queries import APPROVE, RECEIVE, REFUND
from .servers import wait_for

CARRIER_SECRET = "carrier-shared-secret"
transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def stripe_order(stripe_api, customer, staff_user, warehouse, variants):
    """2 x 25.00 + 5.00 shipping = 55.00, paid by card through Stripe, shipped."""
    order = shop.place_order(customer, [(variants[0], 2)])
    shop.pay_with_stripe(order, STRIPE_SECRET_KEY)
    return shop.fulfill(order, staff_user, warehouse)


def received_claim(customer_api, staff_api, order, quantity=2):
    line = order.lines.get()
    payload = create_return(customer_api, order, [line_input(line, quantity)])
    claim = payload["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    return claim


def stripe_refunds_of(payment):
    intent = host.stripe_payment_intent(payment)
    return stripe.Refund.list(
        payment_intent=intent, limit=100, api_key=STRIPE_SECRET_KEY
    ).data


def refund_of(claim):
    return AftersalesRefund.objects.get(request__pk=int(claim["number"][4:]))


def settled(claim):
    return wait_for(lambda: refund_of(claim).status != "pending")


@transactional
def test_the_worker_refunds_through_stripe_and_updates_saleors_payment(
    worker, stripe_api, customer_api, staff_api, stripe_order
):
    claim = received_claim(customer_api, staff_api, stripe_order)
    payload = staff_api.data(REFUND, {"id": claim["id"], "key": "desk-1"})
    answer = payload["aftersalesRequestRefund"]
    assert answer["errors"] == []
    # The mutation only commits the intent; the worker pays.
    assert answer["refund"]["status"] in ("PENDING", "SUCCESS")
    assert settled(claim)

    refund = refund_of(claim)
    assert (refund.status, refund.amount, refund.attempts) == ("success", 50, 1)
    [paid] = stripe_refunds_of(host.payment_by_ref(refund.payment_ref))
    assert paid.amount == 5000 and paid.status == "succeeded"
    assert paid.metadata == {
        "aftersales_refund": str(refund.pk),
        "aftersales_request": claim["number"],
    }
    assert refund.gateway_reference == paid.id
    [creation] = stripe_api.refund_creations()
    assert creation[2]["Idempotency-Key"] == f"saleor-aftersales-refund-{refund.pk}"

    payment = host.payment_by_ref(refund.payment_ref)
    assert payment.captured_amount == Decimal("5.00")
    assert payment.charge_status == "partially-refunded"
    txn = payment.transactions.get(kind="refund")
    assert (txn.token, txn.amount, txn.is_success) == (paid.id, 50, True)
    assert refund.transaction_ref == host.ref(txn.pk)
    assert wait_for(
        lambda: refund.request.__class__.objects.get(pk=refund.request_id).status
        == "resolved"
    )
    event = AftersalesEvent.objects.get(request_id=refund.request_id, type="refunded")
    assert event.actor_type == "staff" and event.user_ref == host.ref(staff_api.user.pk)


@transactional
def test_stripe_errors_are_retried_and_nothing_else_is_paid_meanwhile(
    worker, stripe_api, customer_api, staff_api, stripe_order
):
    claim = received_claim(customer_api, staff_api, stripe_order)
    stripe_api.refund_errors.extend([500, 503, 500])
    answer = staff_api.data(REFUND, {"id": claim["id"], "key": "first"})[
        "aftersalesRequestRefund"
    ]
    assert answer["errors"] == []
    # While the first is in flight, another refund of the claim is refused.
    second = staff_api.data(REFUND, {"id": claim["id"], "key": "second"})[
        "aftersalesRequestRefund"
    ]
    assert [e["code"] for e in second["errors"]] == ["REFUND_IN_PROGRESS"]

    assert settled(claim)
    refund = refund_of(claim)
    assert (refund.status, refund.attempts, refund.error) == ("success", 4, "")
    assert len(stripe_api.refund_creations()) == 4  # 3 answered 5xx, 1 paid
    assert len(stripe_refunds_of(host.payment_by_ref(refund.payment_ref))) == 1
    assert AftersalesRefund.objects.count() == 1


@transactional
def test_a_refusal_by_stripe_fails_the_refund_with_its_message_and_a_webhook(
    worker, stripe_api, customer_api, staff_api, stripe_order, receiver
):
    WebhookSubscription.objects.create(
        name="ERP",
        target_url=receiver.url,
        secret="s" * 20,
        event_types=["aftersales.refund.failed"],
    )
    claim = received_claim(customer_api, staff_api, stripe_order)
    # The intent is unknown to Stripe: a 404, which no retry can mend.
    host.Transaction.objects.filter(payment__order=stripe_order, kind="capture").update(
        token="pi_unknown"
    )
    staff_api.data(REFUND, {"id": claim["id"]})
    assert settled(claim)

    refund = refund_of(claim)
    assert refund.status == "failed"
    assert refund.error.startswith("Stripe refused (404)")
    assert refund.attempts == 1 and len(stripe_api.refund_creations()) == 1
    payment = host.payment_by_ref(refund.payment_ref)
    assert payment.captured_amount == Decimal("55.00")
    assert not payment.transactions.filter(kind="refund").exists()
    event = AftersalesEvent.objects.get(type="refund_failed")
    assert event.message == refund.error
    assert wait_for(lambda: receiver.delivered())
    assert receiver.delivered()[0]["headers"]["X-Saleor-Event"] == (
        "aftersales.refund.failed"
    )


@transactional
def test_a_worker_killed_between_stripe_and_the_database_never_refunds_twice(
    worker, stripe_api, customer_api, staff_api, stripe_order
):
    claim = received_claim(customer_api, staff_api, stripe_order)
    # Stripe makes the refund; the worker dies before it hears of it.
    stripe_api.after_refund = worker.kill
    staff_api.data(REFUND, {"id": claim["id"], "key": "desk-1"})
    assert wait_for(lambda: not worker.alive())

    refund = refund_of(claim)
    assert refund.status == "pending" and refund.attempts == 1
    assert len(stripe_refunds_of(host.payment_by_ref(refund.payment_ref))) == 1
    payment = host.payment_by_ref(refund.payment_ref)
    assert payment.captured_amount == Decimal("55.00")
    # The desk retrying with the same key gets the same refund, no new call.
    again = staff_api.data(REFUND, {"id": claim["id"], "key": "desk-1"})
    assert again["aftersalesRequestRefund"]["refund"]["status"] == "PENDING"
    assert len(stripe_api.refund_creations()) == 1

    # A new worker; once the dead one's lease ran out, the sweeper takes over.
    worker.start()
    assert wait_for(lambda: refunds_due(refund))
    pay_due_refunds.apply_async(**queue_options())
    assert settled(claim)

    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("success", 2)
    [paid] = stripe_refunds_of(host.payment_by_ref(refund.payment_ref))
    assert refund.gateway_reference == paid.id
    assert len(stripe_api.refund_creations()) == 1  # found, not paid again
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("5.00")
    assert payment.transactions.filter(kind="refund").count() == 1


def refunds_due(refund):
    from saleor_aftersales.refunds import due_refunds

    return refund.pk in due_refunds()


@transactional
def test_a_delivered_parcel_is_refunded_through_stripe_with_no_operator(
    worker, stripe_api, customer_api, staff_api, stripe_order
):
    configure(
        **{
            "Logistics webhook secret": CARRIER_SECRET,
            "Refund automatically on parcel delivery": True,
            "Automatic refund limit": "100",
        }
    )
    line = stripe_order.lines.get()
    claim = create_return(customer_api, stripe_order, [line_input(line, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    body = json.dumps(
        {"id": "parcel-1", "type": "return.parcel.delivered", "claim": claim["number"]}
    ).encode()
    response = Client().post(
        "/aftersales/webhooks/logistics/",
        body,
        content_type="application/json",
        HTTP_X_AFTERSALES_SIGNATURE=signature_header(body, CARRIER_SECRET),
    )
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == "received"
    assert settled(claim)

    refund = refund_of(claim)
    assert (refund.status, refund.amount, refund.actor_type) == (
        "success",
        50,
        "system",
    )
    [paid] = stripe_refunds_of(host.payment_by_ref(refund.payment_ref))
    assert paid.metadata["aftersales_refund"] == str(refund.pk)
    assert wait_for(
        lambda: refund.request.__class__.objects.get(pk=refund.request_id).status
        == "resolved"
    )
