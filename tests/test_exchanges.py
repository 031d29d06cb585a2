"""Exchanges: the replacement leaves as a real Saleor order; money evens out once."""

from decimal import Decimal

import pytest
from saleor.order.models import Order
from saleor.warehouse.management import allocate_stock
from saleor.warehouse.models import Allocation, Stock

from demo import shop
from saleor_aftersales.models import AftersalesRefund

from .conftest import ApiClient, assert_permission_denied, configure, db_state, gid
from .queries import APPROVE, EXCHANGE_FULFILL, EXCHANGE_REQUEST_CREATE, RECEIVE, REFUND


def exchange_line(order_line, variant, quantity=1, reason="SIZE_OR_FIT"):
    return {
        "orderLine": gid("OrderLine", order_line.pk),
        "quantity": quantity,
        "reason": reason,
        "replacementVariant": gid("ProductVariant", variant.pk),
    }


def create_exchange(api, order, lines):
    content = api.post(
        EXCHANGE_REQUEST_CREATE,
        {"input": {"order": gid("Order", order.pk), "lines": lines}},
    )
    assert "errors" not in content, content
    return content["data"]["exchangeRequestCreate"]


@pytest.fixture
def exchange(customer_api, staff_api, order, variants):
    """1 of the 2 pairs bought (25.00) for another size, approved and received."""
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    assert claim["errors"] == []
    staff_api.data(APPROVE, {"id": claim["aftersalesRequest"]["id"]})
    staff_api.data(RECEIVE, {"id": claim["aftersalesRequest"]["id"]})
    return claim["aftersalesRequest"]


def fulfill(staff_api, claim):
    return staff_api.data(EXCHANGE_FULFILL, {"id": claim["id"]})[
        "exchangeRequestFulfill"
    ]


def test_same_price_exchange_sends_a_free_replacement_order(
    staff_api, exchange, order, variants, customer
):
    result = fulfill(staff_api, exchange)
    assert result["errors"] == [] and result["refund"] is None
    claim = result["aftersalesRequest"]
    assert (claim["status"], claim["resolution"]) == ("RESOLVED", "REPLACEMENT")
    replacement = Order.objects.get(pk=gid_pk(claim["replacementOrder"]["id"]))
    assert replacement.user == customer
    assert replacement.shipping_address.street_address_1 == "1 Analytical Way"
    line = replacement.lines.get()
    assert (line.variant, line.quantity) == (variants[1], 1)
    assert replacement.total_gross_amount == Decimal("0.00")
    assert replacement.discount_name == f"Exchange {claim['number']}"
    allocation = Allocation.objects.get(order_line=line)
    assert allocation.quantity_allocated == 1
    assert order.payments.get().captured_amount == Decimal("80.00")


def gid_pk(global_id):
    import graphene

    return graphene.Node.from_global_id(global_id)[1]


def test_cheaper_replacement_refunds_the_difference_exactly_once(
    staff_api, customer_api, order, variants
):
    variants[1].price_override_amount = Decimal("20.00")
    variants[1].save()
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1], 2)])
    claim = claim["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    result = fulfill(staff_api, claim)
    assert result["refund"] == {"status": "SUCCESS", "amount": {"amount": 10.0}}
    assert result["aftersalesRequest"]["status"] == "RESOLVED"
    payment = order.payments.get()
    assert payment.captured_amount == Decimal("70.00")

    before = db_state(order)
    again = fulfill(staff_api, claim)
    assert again["errors"][0]["code"] == "INVALID_STATUS"
    assert db_state(order) == before
    assert AftersalesRefund.objects.count() == 1


def test_dearer_replacement_leaves_the_difference_due_and_charges_nothing(
    staff_api, customer_api, order, variants
):
    variants[1].price_override_amount = Decimal("40.00")
    variants[1].save()
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    claim = claim["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    result = fulfill(staff_api, claim)
    assert result["refund"] is None
    replacement = Order.objects.get(
        pk=gid_pk(result["aftersalesRequest"]["replacementOrder"]["id"])
    )
    assert replacement.total_gross_amount == Decimal("15.00")
    assert not replacement.payments.exists()
    assert not replacement.is_fully_paid()
    assert order.payments.get().captured_amount == Decimal("80.00")


def test_exchange_needs_a_replacement_of_the_same_product(
    customer_api, order, warehouse
):
    first = order.lines.order_by("pk")[0]
    other_product = shop.make_variants(1, warehouse)[0]
    before = db_state(order)
    missing = dict(exchange_line(first, other_product))
    del missing["replacementVariant"]
    result = create_exchange(customer_api, order, [missing])
    assert result["errors"][0]["code"] == "REQUIRED"
    result = create_exchange(customer_api, order, [exchange_line(first, other_product)])
    assert result["errors"][0]["code"] == "REPLACEMENT_NOT_ALLOWED"
    assert db_state(order) == before
    configure(**{"Exchange for other products": True})
    result = create_exchange(customer_api, order, [exchange_line(first, other_product)])
    assert result["errors"] == []


def test_approval_needs_the_replacement_in_stock(
    customer_api, staff_api, order, variants
):
    Stock.objects.filter(product_variant=variants[1]).update(quantity=0)
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    before = db_state(order)
    result = staff_api.data(APPROVE, {"id": claim["aftersalesRequest"]["id"]})
    assert result["aftersalesRequestApprove"]["errors"][0]["code"] == "OUT_OF_STOCK"
    assert db_state(order) == before


def test_replacement_ships_after_receipt_unless_the_shop_ships_first(
    customer_api, staff_api, order, variants
):
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    claim = claim["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    before = db_state(order)
    assert fulfill(staff_api, claim)["errors"][0]["code"] == "INVALID_STATUS"
    assert db_state(order) == before
    configure(**{"Ship exchanges before the return arrives": True})
    result = fulfill(staff_api, claim)
    assert result["errors"] == []
    assert result["aftersalesRequest"]["status"] == "RESOLVED"


def test_exchanges_are_not_refunded_by_hand(staff_api, exchange, order):
    before = db_state(order)
    result = staff_api.data(REFUND, {"id": exchange["id"]})["aftersalesRequestRefund"]
    assert result["errors"][0]["code"] == "INVALID_STATUS"
    assert db_state(order) == before


@pytest.mark.parametrize("who", ["anonymous", "other_customer", "customer", "intern"])
def test_strangers_cannot_send_replacements(
    who, exchange, order, customer, other_customer, staff_without_permission
):
    api = {
        "anonymous": ApiClient(),
        "other_customer": ApiClient(other_customer),
        "customer": ApiClient(customer),
        "intern": ApiClient(staff_without_permission),
    }[who]
    before = db_state(order)
    assert_permission_denied(api.post(EXCHANGE_FULFILL, {"id": exchange["id"]}))
    assert db_state(order) == before


def test_hidden_products_are_not_offered_as_replacements(customer_api, order, variants):
    product = variants[1].product
    product.is_published = False
    product.save()
    first = order.lines.order_by("pk")[0]
    result = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    assert result["errors"][0]["code"] == "NOT_FOUND"


def test_a_claim_whose_replacement_went_out_cannot_be_cancelled(
    customer_api, staff_api, order, variants
):
    configure(**{"Ship exchanges before the return arrives": True})
    variants[1].price_override_amount = Decimal("40.00")
    variants[1].save()
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1])])
    claim = claim["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    fulfill(staff_api, claim)
    from .queries import CANCEL

    result = customer_api.data(CANCEL, {"id": claim["id"]})["aftersalesRequestCancel"]
    assert result["errors"][0]["code"] == "INVALID_STATUS"


def test_missing_units_are_neither_credited_nor_replaced(
    customer_api, staff_api, order, variants
):
    first = order.lines.order_by("pk")[0]
    claim = create_exchange(customer_api, order, [exchange_line(first, variants[1], 2)])
    claim = claim["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    line = claim["lines"][0]["id"]
    staff_api.data(
        RECEIVE, {"id": claim["id"], "lines": [{"line": line, "quantity": 1}]}
    )
    before = db_state(order)
    early = fulfill(staff_api, claim)
    assert early["errors"][0]["code"] == "INVALID_STATUS"  # one unit still awaited
    assert db_state(order) == before
    staff_api.data(
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [{"line": line, "quantity": 1, "disposition": "MISSING"}],
        },
    )
    result = fulfill(staff_api, claim)
    replacement = Order.objects.get(
        pk=gid_pk(result["aftersalesRequest"]["replacementOrder"]["id"])
    )
    assert replacement.lines.get().quantity == 1
    assert result["refund"] is None


def test_units_allocated_to_several_other_orders_all_count_when_shipping(
    customer, customer_api, staff_api, order, variants
):
    """Every allocation counts, not only the last row of the sum (Django 3.0
    grouped it by Allocation's Meta.ordering too, so a replacement could take
    units other orders hold)."""
    Stock.objects.filter(product_variant=variants[1]).update(quantity=3)
    first = order.lines.order_by("pk")[0]  # 2 units delivered
    claim = create_exchange(
        customer_api, order, [exchange_line(first, variants[1], quantity=2)]
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    for _ in range(2):  # meanwhile two other orders take one unit each
        other = shop.place_order(customer, [(variants[1], 1)])
        allocate_stock(other.lines.get(), "GB", 1)
    before = db_state(order)
    result = fulfill(staff_api, claim)  # 3 in stock - 2 allocated = 1 free
    assert result["errors"][0]["code"] == "OUT_OF_STOCK"
    assert db_state(order) == before
    held = Allocation.objects.filter(stock__product_variant=variants[1])
    assert sum(a.quantity_allocated for a in held) == 2
