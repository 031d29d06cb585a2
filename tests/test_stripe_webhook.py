"""Stripe's refund events, signed as Stripe signs them, reconcile refund rows."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
import stripe
from django.test.client import Client

from demo import shop
from saleor_aftersales import refunds, stripe_refunds
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.actors import Actor
from saleor_aftersales.models import AftersalesEvent, AftersalesRefund, InboundEvent
from saleor_aftersales.configuration import get_settings

from .conftest import STRIPE_SECRET_KEY, configure, create_return, db_state, line_input
from .queries import APPROVE, RECEIVE

URL = "/aftersales/webhooks/stripe/"
ENDPOINT_SECRET = "whsec_aftersales_tests"


def stripe_signature(payload: bytes, secret=ENDPOINT_SECRET, timestamp=None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signed}"


def event(event_type, obj, event_id="evt_1"):
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def post(message, secret=ENDPOINT_SECRET, timestamp=None, signature=None):
    body = json.dumps(message).encode() if isinstance(message, dict) else message
    header = (
        signature
        if signature is not None
        else stripe_signature(body, secret, timestamp)
    )
    response = Client().post(
        URL, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    return response.status_code, json.loads(response.content)


def charge_of(payment) -> dict:
    """The charge as Stripe would send it in charge.refunded, refunds included."""
    intent = host.stripe_payment_intent(payment)
    latest = stripe.PaymentIntent.retrieve(intent, api_key=STRIPE_SECRET_KEY)[
        "latest_charge"
    ]
    charge_id = latest if isinstance(latest, str) else latest["id"]
    return stripe.Charge.retrieve(
        charge_id, api_key=STRIPE_SECRET_KEY
    ).to_dict_recursive()


@pytest.fixture
def stripe_order(stripe_api, customer, staff_user, warehouse, variants):
    configure(**{"Stripe webhook signing secret": ENDPOINT_SECRET})
    order = shop.place_order(customer, [(variants[0], 2)])
    shop.pay_with_stripe(order, STRIPE_SECRET_KEY)
    return shop.fulfill(order, staff_user, warehouse)


def received_claim(customer_api, staff_api, stripe_order):
    """Both units of the Stripe order returned, approved and received."""
    line = stripe_order.lines.get()
    payload = create_return(customer_api, stripe_order, [line_input(line, 2)])
    claim = payload["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    return claim


def strand_refund(claim, staff_user):
    """A refund Stripe made whose worker died before writing it down."""
    request = AftersalesRequestFor(claim)
    refund, _ = refunds.reserve_refund(
        request,
        by=Actor.staff(staff_user),
        settings=get_settings(),
        amount=None,
        include_shipping=None,
        restocking_fee_percent=None,
        idempotency_key="desk-1",
    )
    paid = stripe_refunds.create(host.payment_by_ref(refund.payment_ref), refund)
    return refund, paid


@pytest.fixture
def claim(customer_api, staff_api, stripe_order):
    return received_claim(customer_api, staff_api, stripe_order)


@pytest.fixture
def stranded_refund(claim, staff_user):
    return strand_refund(claim, staff_user)


def AftersalesRequestFor(claim):
    from saleor_aftersales.models import AftersalesRequest

    return AftersalesRequest.objects.get(pk=int(claim["number"][4:]))


def test_charge_refunded_settles_a_stranded_refund_once(stranded_refund, stripe_order):
    refund, paid = stranded_refund
    message = event(
        "charge.refunded", charge_of(host.payment_by_ref(refund.payment_ref))
    )
    status, answer = post(message)
    assert (status, answer["status"]) == (200, "processed")
    assert answer["refunds"] == [f"{paid.id}: updated"]

    refund.refresh_from_db()
    assert (refund.status, refund.gateway_reference) == ("success", paid.id)
    payment = host.payment_by_ref(refund.payment_ref)
    assert payment.captured_amount == Decimal("5.00")
    assert refund.request.status == "resolved"
    before = db_state(stripe_order)

    # Stripe sends events more than once: the second changes nothing.
    status, answer = post(message)
    assert (status, answer["status"]) == (200, "duplicate")
    # A new event about the same refund finds it settled.
    status, answer = post(event("refund.updated", paid.raw, "evt_2"))
    assert answer["refunds"] == [f"{paid.id}: unchanged"]
    assert db_state(stripe_order) == before
    assert payment.transactions.filter(kind="refund").count() == 1
    # The worker, running again, finds nothing left to pay.
    assert refunds.pay(refund.pk) is None
    intent = host.stripe_payment_intent(payment)
    assert (
        len(stripe.Refund.list(payment_intent=intent, api_key=STRIPE_SECRET_KEY)) == 1
    )


def test_refund_failed_fails_a_pending_refund(stranded_refund):
    refund, paid = stranded_refund
    failed = dict(paid.raw, status="failed", failure_reason="expired_or_canceled_card")
    status, answer = post(event("refund.failed", failed))
    assert (status, answer["refunds"]) == (200, [f"{paid.id}: updated"])
    refund.refresh_from_db()
    assert refund.status == "failed"
    assert "expired_or_canceled_card" in refund.error
    assert AftersalesEvent.objects.filter(type="refund_failed").count() == 1
    assert host.payment_by_ref(refund.payment_ref).captured_amount == 55


def test_a_dashboard_refund_is_recorded_on_the_claim_and_the_payment(
    claim, stripe_order
):
    payment = stripe_order.payments.get()
    made = stripe.Refund.create(
        payment_intent=host.stripe_payment_intent(payment),
        amount=700,
        api_key=STRIPE_SECRET_KEY,
    )
    status, answer = post(event("charge.refunded", charge_of(payment)))
    assert (status, answer["refunds"]) == (200, [f"{made.id}: recorded"])

    refund = AftersalesRefund.objects.get()
    assert (refund.status, refund.amount, refund.gateway_reference) == (
        "success",
        Decimal("7.00"),
        made.id,
    )
    assert refund.line_quantities == {}
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("48.00")
    assert payment.charge_status == "partially-refunded"
    assert payment.transactions.get(kind="refund").token == made.id
    event_ = AftersalesEvent.objects.get(type="refunded")
    assert event_.actor_type == "system" and "outside" in event_.message
    request = refund.request
    assert request.status == "received"  # the desk decides what it covers
    assert request.lines.get().quantity_refunded == 0

    # Reported again under another event: recorded once.
    post(event("charge.refund.updated", made.to_dict_recursive(), "evt_2"))
    assert AftersalesRefund.objects.count() == 1
    assert payment.transactions.filter(kind="refund").count() == 1


def test_refunds_of_orders_without_claims_are_left_to_saleor(stripe_order):
    payment = stripe_order.payments.get()
    stripe.Refund.create(
        payment_intent=host.stripe_payment_intent(payment),
        amount=700,
        api_key=STRIPE_SECRET_KEY,
    )
    status, answer = post(event("charge.refunded", charge_of(payment)))
    assert status == 200 and answer["refunds"][0].endswith("ignored")
    assert not AftersalesRefund.objects.exists()
    payment.refresh_from_db()
    assert payment.captured_amount == 55


def test_unknown_event_types_are_acknowledged_and_ignored(claim, stripe_order):
    before = db_state(stripe_order)
    status, answer = post(event("customer.created", {"id": "cus_1"}))
    assert (status, answer["status"]) == (200, "ignored")
    assert db_state(stripe_order) == before


@pytest.mark.parametrize(
    "how",
    ["wrong secret", "stale", "no signature", "tampered", "not json", "no object"],
)
def test_forged_stale_or_unreadable_events_change_nothing(
    stranded_refund, stripe_order, how
):
    refund, _ = stranded_refund
    message = event(
        "charge.refunded", charge_of(host.payment_by_ref(refund.payment_ref))
    )
    body = json.dumps(message).encode()
    kwargs = {}
    if how == "wrong secret":
        kwargs["secret"] = "whsec_someone_else"
    elif how == "stale":
        kwargs["timestamp"] = int(time.time()) - 600
    elif how == "no signature":
        kwargs["signature"] = ""
    elif how == "tampered":
        kwargs["signature"] = stripe_signature(body)
        body = body.replace(b'"evt_1"', b'"evt_9"')
    elif how == "not json":
        body = b"\xff{not json"
    elif how == "no object":
        body = json.dumps(event("charge.refunded", "nope")).encode()
    before = db_state(stripe_order)
    status, answer = post(body, **kwargs)
    assert status == 400 and answer["error"]
    assert db_state(stripe_order) == before
    refund.refresh_from_db()
    assert refund.status == "pending"
    assert not InboundEvent.objects.exists()


def test_without_a_configured_secret_every_event_is_refused(stranded_refund):
    configure()
    status, answer = post(event("charge.refunded", {}))
    assert status == 400 and "secret" in answer["error"]


def test_a_refund_failing_after_it_succeeded_alerts_the_desk_once(
    stranded_refund, stripe_order
):
    refund, paid = stranded_refund
    post(event("charge.refunded", charge_of(host.payment_by_ref(refund.payment_ref))))
    failed = dict(paid.raw, status="failed", failure_reason="lost_or_stolen_card")
    status, answer = post(event("refund.failed", failed, "evt_2"))
    assert answer["refunds"] == [f"{paid.id}: flagged"]
    status, answer = post(event("charge.refund.updated", failed, "evt_3"))
    assert answer["refunds"] == [f"{paid.id}: unchanged"]

    refund.refresh_from_db()
    assert refund.status == "success" and "lost_or_stolen_card" in refund.error
    [alert] = AftersalesEvent.objects.filter(type="refund_failed")
    assert "back with the shop" in alert.message
    assert host.payment_by_ref(refund.payment_ref).captured_amount == 5


def test_refunds_saleor_itself_recorded_are_not_counted_twice(claim, stripe_order):
    payment = stripe_order.payments.get()
    intent = host.stripe_payment_intent(payment)
    made = stripe.Refund.create(
        payment_intent=intent, amount=700, api_key=STRIPE_SECRET_KEY
    )
    # As Saleor's Stripe gateway records its own refunds: the intent as token.
    host.record_gateway_refund(payment, Decimal("7.00"), intent, {})
    status, answer = post(event("charge.refunded", charge_of(payment)))
    assert (status, answer["refunds"]) == (200, [f"{made.id}: ignored"])
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("48.00")
    assert not AftersalesRefund.objects.exists()


@pytest.mark.parametrize("named", ["²", "9" * 30, "-1", "12abc"])
def test_odd_metadata_in_a_signed_event_is_not_a_crash(stranded_refund, named):
    refund, paid = stranded_refund
    odd = dict(paid.raw, id="re_other", metadata={"aftersales_refund": named})
    status, answer = post(event("refund.updated", odd))
    assert status == 200
    refund.refresh_from_db()
    assert refund.status == "pending"


# Signed but insane: every value read is range checked (hardening 4b) ----------------

RAW = "__raw_json__"


def with_raw(message: dict, raw: str) -> bytes:
    """The message as JSON with the RAW marker replaced by ``raw`` verbatim, so that
    texts json.dumps would never write (1e309, NaN, a 40-digit integer) are sent."""
    return json.dumps(message).replace(json.dumps(RAW), raw).encode()


def refund_event_with(event_type, refund, field, value):
    """A refund.* event about ``refund`` or a charge.refunded event listing it, with
    ``field`` set to ``value``; a field of the event itself when it starts with '.'."""
    obj = dict(refund)
    if not field.startswith("."):
        obj[field] = value
    if event_type == "charge.refunded":
        obj = {
            "id": "ch_1",
            "object": "charge",
            "payment_intent": refund.get("payment_intent"),
            "refunds": {"object": "list", "data": [obj], "has_more": False},
        }
    message = event(event_type, obj)
    if field.startswith("."):
        message[field[1:]] = value
    return message


INSANE_REFUND_FIELDS = [
    ("amount", "1e309"),  # the report: OverflowError, HTTP 500
    ("amount", "-1e309"),
    ("amount", "NaN"),
    ("amount", "Infinity"),
    ("amount", "-1"),
    ("amount", str(10**12)),
    ("amount", "9" * 40),
    ("amount", "5000.0"),
    ("amount", '"5000"'),
    ("amount", "true"),
    ("amount", "null"),
    ("currency", '"usdollar"'),
    ("currency", "840"),
    ("currency", '"u\\u0000d"'),
    ("id", '"re_\\u0000"'),
    ("id", json.dumps("re_" + "x" * 300)),
    ("id", "12345"),
    ("id", '"re 1; drop"'),
    ("status", "1"),
    ("status", json.dumps("s" * 100)),
    ("payment_intent", '{"id": "pi_1"}'),
    ("failure_reason", json.dumps("x" * 201)),
    ("failure_reason", '"\\ud800"'),
    ("metadata", '{"aftersales_refund": 1}'),
    ("metadata", '{"aftersales_refund": "1\\u0000"}'),
    ("metadata", json.dumps({"aftersales_refund": "1" * 501})),
    ("metadata", '"aftersales_refund"'),
    ("description", json.dumps("x" * 5001)),  # not read, but kept with the row
    ("nested", "[" * 40 + "]" * 40),
    (".id", '"evt_\\u0000"'),
    (".id", json.dumps("evt_" + "1" * 300)),
    (".id", "1"),
    (".type", "null"),
    (".created", "1e309"),
    (".created", "NaN"),
]


@pytest.mark.parametrize("event_type", ["refund.updated", "charge.refunded"])
@pytest.mark.parametrize("field,raw", INSANE_REFUND_FIELDS)
def test_a_signed_event_with_an_insane_value_is_refused_and_changes_nothing(
    stranded_refund, stripe_order, event_type, field, raw
):
    refund, paid = stranded_refund
    body = with_raw(refund_event_with(event_type, paid.raw, field, RAW), raw)
    before = db_state(stripe_order)
    status, answer = post(body)
    assert status == 400 and answer["error"]
    assert db_state(stripe_order) == before
    refund.refresh_from_db()
    assert (refund.status, refund.error) == ("pending", "")
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize("event_type", ["refund.updated", "charge.refunded"])
def test_the_same_event_with_sane_values_settles_the_refund(
    stranded_refund, event_type
):
    """The control for the test above: only the insane value made the difference."""
    refund, paid = stranded_refund
    body = with_raw(refund_event_with(event_type, paid.raw, "amount", RAW), "5000")
    status, answer = post(body)
    assert (status, answer["refunds"]) == (200, [f"{paid.id}: updated"])
    refund.refresh_from_db()
    assert refund.status == "success"


def test_unknown_types_are_refused_only_for_insane_values(stranded_refund):
    status, answer = post(event("customer.created", {"id": "cus_1", "balance": 0}))
    assert (status, answer["status"]) == (200, "ignored")
    message = event("customer.created", {"id": "cus_1", "balance": RAW})
    status, answer = post(with_raw(message, "1e309"))
    assert status == 400
    assert not InboundEvent.objects.exists()
