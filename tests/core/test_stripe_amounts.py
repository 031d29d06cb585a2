"""Stripe's integer amounts: the core converts them itself, on both stacks."""

from decimal import Decimal

import pytest

from saleor_aftersales.stripe_refunds import from_stripe_amount, to_stripe_amount


@pytest.mark.parametrize(
    "amount, currency, stripe",
    [
        (Decimal("25.00"), "USD", 2500),
        (Decimal("0.01"), "eur", 1),
        (Decimal("19.99"), "CNY", 1999),
        (Decimal("1500"), "JPY", 1500),
        (Decimal("1500"), "krw", 1500),
        (Decimal("999999.99"), "USD", 99999999),
    ],
)
def test_amounts_go_to_stripe_in_its_smallest_unit_and_come_back_exactly(
    amount, currency, stripe
):
    assert to_stripe_amount(amount, currency) == stripe
    back = from_stripe_amount(stripe, currency)
    assert back == amount and isinstance(back, Decimal)
