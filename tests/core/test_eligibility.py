"""What may be claimed, until when, read from the core's copy of an order and its
own policy and claim rows: the same code on both stacks, no host."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from saleor_aftersales.enums import Ineligibility, Reason, RequestStatus, RequestType
from saleor_aftersales.models import AftersalesLine, AftersalesRequest, ReturnPolicy
from saleor_aftersales.orders import save_order
from saleor_aftersales.policies import order_eligibility, paid_unit_prices
from saleor_aftersales.settings import settings_from_configuration

from .test_order_copy import line, order_facts

pytestmark = pytest.mark.django_db

SETTINGS = settings_from_configuration({})


def shipped(days_ago, **changes):
    return line(fulfilled_at=timezone.now() - timedelta(days=days_ago), **changes)


def claim(copy, order_line, quantity, status, type=RequestType.RETURN, approved=0):
    request = AftersalesRequest.objects.create(
        type=type, status=status, order_id=copy.pk, currency="EUR"
    )
    AftersalesLine.objects.create(
        request=request,
        order_line_id=order_line.pk,
        quantity_requested=quantity,
        quantity_approved=approved,
        reason=Reason.DEFECTIVE,
        unit_price_gross_amount=order_line.unit_price_gross_amount,
    )
    return request


def eligibility(copy):
    return {e.order_line.host_id: e for e in order_eligibility(copy, SETTINGS)}


def test_windows_count_from_the_shipment_and_close():
    recent = shipped(1, quantity=2, fulfilled=2)
    old = shipped(SETTINGS.return_window_days + 1, quantity=1, fulfilled=1)
    unshipped = line(quantity=3, fulfilled=0)
    copy = save_order(order_facts(recent, old, unshipped))
    now = timezone.now()
    lines = eligibility(copy)
    assert lines[recent.host_id].returnable_quantity(now) == 2
    assert lines[recent.host_id].return_deadline == recent.fulfilled_at + timedelta(
        days=SETTINGS.return_window_days
    )
    assert lines[old.host_id].returnable_quantity(now) == 0
    assert (
        lines[old.host_id].refusal(RequestType.RETURN, Reason.DEFECTIVE, now)
        == Ineligibility.WINDOW_CLOSED
    )
    # A repair is never refused by the window: warranty decides who pays.
    assert lines[old.host_id].refusal(RequestType.REPAIR, Reason.DEFECTIVE, now) is None
    assert (
        lines[unshipped.host_id].refusal(RequestType.RETURN, Reason.DEFECTIVE, now)
        == Ineligibility.NOT_FULFILLED
    )


def test_a_product_types_policy_overrides_the_shops():
    final, longer, plain = shipped(1), shipped(40), shipped(40)
    ReturnPolicy.objects.create(
        product_type_ref=final.product_type_ref, final_sale=True
    )
    ReturnPolicy.objects.create(
        product_type_ref=longer.product_type_ref, return_window_days=60
    )
    copy = save_order(order_facts(final, longer, plain))
    now = timezone.now()
    lines = eligibility(copy)
    assert (
        lines[final.host_id].refusal(RequestType.RETURN, Reason.DEFECTIVE, now)
        == Ineligibility.FINAL_SALE
    )
    assert lines[longer.host_id].returnable_quantity(now) == 2
    assert lines[plain.host_id].returnable_quantity(now) == (
        2 if SETTINGS.return_window_days >= 40 else 0
    )


def test_live_claims_hold_units_and_released_ones_give_them_back():
    facts = order_facts(shipped(1, quantity=5, fulfilled=5))
    copy = save_order(facts)
    order_line = copy.lines_by_host_id[facts.lines[0].host_id]
    claim(copy, order_line, 2, RequestStatus.REQUESTED)  # holds what it asks
    claim(copy, order_line, 2, RequestStatus.APPROVED, approved=1)  # what was approved
    claim(copy, order_line, 2, RequestStatus.REJECTED)  # nothing
    claim(copy, order_line, 2, RequestStatus.REQUESTED, type=RequestType.REPAIR)
    held = eligibility(copy)[order_line.host_id]
    assert held.quantity_claimed == 3
    assert held.returnable_quantity(timezone.now()) == 2


def test_an_order_discount_is_spread_over_the_lines_and_rounded_down():
    first = shipped(1, quantity=1, price="10.00")
    second = shipped(1, quantity=2, price="5.00")
    # 20.00 of goods, 15.00 paid for them after a voucher, 4.99 shipping.
    copy = save_order(
        order_facts(
            first,
            second,
            total_gross=Decimal("19.99"),
            shipping_gross=Decimal("4.99"),
        )
    )
    lines = list(copy.lines_by_host_id.values())
    prices = paid_unit_prices(copy, lines)
    assert prices[copy.lines_by_host_id[first.host_id].pk] == Decimal("7.50")
    assert prices[copy.lines_by_host_id[second.host_id].pk] == Decimal("3.75")
