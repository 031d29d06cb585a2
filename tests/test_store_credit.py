"""Refunds taken as store credit: real Saleor gift cards, counted like money."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from saleor.checkout.models import Checkout
from saleor.giftcard.models import GiftCard
from saleor.giftcard.utils import add_gift_card_code_to_checkout

from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import AftersalesRefund

from .conftest import (
    assert_permission_denied,
    configure,
    create_return,
    db_state,
    line_input,
)
from .queries import APPROVE, RECEIVE, REFUND, REQUEST

STORE_CREDIT_REFUND = REFUND.replace(
    "gatewayReference error", "gatewayReference error credit { amount } giftCardCode"
)


@pytest.fixture
def received_claim(staff_api, claim):
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    return claim


def store_credit(api, claim_id, **extra):
    return api.data(
        STORE_CREDIT_REFUND, {"id": claim_id, "method": "STORE_CREDIT", **extra}
    )["aftersalesRequestRefund"]


def test_store_credit_issues_a_saleor_gift_card_with_the_bonus(
    staff_api, customer_api, received_claim, order, customer
):
    configure(**{"Store credit bonus percent": "10", "Store credit valid days": "90"})
    payment = order.payments.get()
    captured = payment.captured_amount

    result = store_credit(staff_api, received_claim["id"])

    assert result["errors"] == []
    refund = result["refund"]
    assert refund["status"] == "SUCCESS"
    assert refund["amount"] == {"amount": 50.0, "currency": "USD"}
    assert refund["credit"] == {"amount": 55.0}
    claim = result["aftersalesRequest"]
    assert claim["status"] == "RESOLVED"
    assert claim["resolution"] == "STORE_CREDIT"
    assert [line["quantityRefunded"] for line in claim["lines"]] == [2]

    card = GiftCard.objects.get(code=refund["giftCardCode"])
    assert card.user == customer
    assert card.currency == "USD"
    assert card.initial_balance_amount == card.current_balance_amount == Decimal("55")
    assert card.end_date == date.today() + timedelta(days=90)
    # The money stayed on the payment: nothing went through the gateway.
    payment.refresh_from_db()
    assert payment.captured_amount == captured
    assert payment.transactions.filter(kind="refund").count() == 0
    # Saleor itself takes the card at checkout.
    checkout = Checkout.objects.create(user=customer, email=customer.email)
    add_gift_card_code_to_checkout(checkout, card.code)
    assert list(checkout.gift_cards.all()) == [card]
    # The customer sees the code on their claim.
    mine = customer_api.data(
        REQUEST.replace("idempotencyKey }", "idempotencyKey giftCardCode }"),
        {"id": received_claim["id"]},
    )["aftersalesRequest"]
    assert mine["refunds"][0]["giftCardCode"] == card.code


def test_store_credit_retried_with_its_key_issues_one_card(
    staff_api, received_claim, order
):
    first = store_credit(staff_api, received_claim["id"], key="credit-1")
    again = store_credit(staff_api, received_claim["id"], key="credit-1")
    assert again["errors"] == []
    assert again["refund"]["id"] == first["refund"]["id"]
    assert again["refund"]["giftCardCode"] == first["refund"]["giftCardCode"]
    assert GiftCard.objects.count() == 1
    # The same key asking for money instead is another request, refused.
    other = staff_api.data(REFUND, {"id": received_claim["id"], "key": "credit-1"})[
        "aftersalesRequestRefund"
    ]
    assert other["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    # Saleor's own screens see the credit on the order.
    order.refresh_from_db()
    assert order.private_metadata["aftersales_store_credit"] == {"USD": "50.00"}


def test_keys_of_the_plugins_own_are_refused(staff_api, received_claim, order):
    before = db_state(order)
    result = staff_api.data(
        REFUND,
        {"id": received_claim["id"], "key": "aftersales:returnless:1"},
    )["aftersalesRequestRefund"]
    assert result["errors"][0]["code"] == "INVALID"
    assert result["errors"][0]["field"] == "idempotencyKey"
    assert db_state(order) == before


def test_store_credit_counts_against_what_the_payment_can_still_refund(
    customer_api, staff_api, order
):
    # 80.00 captured; 20.00 already refunded by Saleor itself (dashboard).
    payment = order.payments.get()
    host.refund_payment(payment, Decimal("20.00"))
    first, second = order.lines.order_by("pk")
    claims = []
    for line in (first, second):
        claim = create_return(customer_api, order, [line_input(line, line.quantity)])
        claims.append(claim["aftersalesRequest"]["id"])
        staff_api.data(APPROVE, {"id": claims[-1]})
    assert store_credit(staff_api, claims[0])["refund"]["amount"]["amount"] == 50.0

    # 60.00 captured, 50.00 of it given as credit: 10.00 is left, not 25.00.
    before = db_state(order)
    refused = staff_api.data(REFUND, {"id": claims[1]})["aftersalesRequestRefund"]
    assert refused["errors"][0]["code"] == "AMOUNT_EXCEEDED"
    assert "10.00" in refused["errors"][0]["message"]
    refused = store_credit(staff_api, claims[1])
    assert refused["errors"][0]["code"] == "AMOUNT_EXCEEDED"
    assert db_state(order) == before
    assert GiftCard.objects.count() == 1

    # What is left can still go back to the card.
    paid = staff_api.data(REFUND, {"id": claims[1], "amount": "10.00"})[
        "aftersalesRequestRefund"
    ]
    assert paid["errors"] == []
    assert paid["refund"]["status"] == "SUCCESS"
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("50.00")


def test_store_credit_refused_for_strangers_and_bad_amounts_changes_nothing(
    staff_api, customer_api, intern_api, anonymous_api, received_claim, order
):
    before = db_state(order)
    for api in (customer_api, intern_api, anonymous_api):
        content = api.post(
            STORE_CREDIT_REFUND, {"id": received_claim["id"], "method": "STORE_CREDIT"}
        )
        assert_permission_denied(content)
    for amount, code in (("50.01", "AMOUNT_EXCEEDED"), ("-1", "AMOUNT_NOT_POSITIVE")):
        result = store_credit(staff_api, received_claim["id"], amount=amount)
        assert result["errors"][0]["code"] == code
    assert db_state(order) == before
    assert GiftCard.objects.count() == 0
    assert AftersalesRefund.objects.count() == 0


def test_guest_store_credit_goes_to_a_card_without_an_account(
    anonymous_api, staff_api, guest_order
):
    line = guest_order.lines.get()
    claim = create_return(
        anonymous_api, guest_order, [line_input(line, 1)], token=guest_order.token
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    result = store_credit(staff_api, claim["id"])
    assert result["errors"] == []
    card = GiftCard.objects.get(code=result["refund"]["giftCardCode"])
    assert card.user is None
    seen = anonymous_api.data(
        REQUEST.replace("idempotencyKey }", "idempotencyKey giftCardCode }"),
        {"id": claim["id"], "token": str(guest_order.token)},
    )["aftersalesRequest"]
    # The full code pays at any checkout: a token holder sees its last four.
    assert seen["refunds"][0]["giftCardCode"] == "••••-••••-••••-" + card.code[-4:]
    assert card.code not in str(seen)
