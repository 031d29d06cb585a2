"""Money goes back exactly once, never above what was paid or is held."""

from decimal import Decimal

import graphene
import pytest
from saleor.warehouse.models import Stock

from demo import shop
from saleor_aftersales import refunds, workflow
from saleor_aftersales.models import AftersalesRefund, AftersalesRequest
from saleor_aftersales.configuration import get_settings
from saleor_aftersales.hosts.saleor2 import shop as host

from .conftest import assert_permission_denied, create_return, db_state, line_input
from .queries import APPROVE, CLOSE, RECEIVE, REFUND, REQUEST


def reserve(claim_id, staff_user, key):
    """Step 1 of a refund, committed, as if its gateway call were still running."""
    request = AftersalesRequest.objects.get(
        pk=graphene.Node.from_global_id(claim_id)[1]
    )
    refund, created = refunds.reserve_refund(
        request,
        by=workflow.Actor.staff(staff_user),
        settings=get_settings(),
        amount=None,
        include_shipping=None,
        restocking_fee_percent=None,
        idempotency_key=key,
    )
    assert created and refund.status == "pending"
    return refund


@pytest.fixture
def two_claims(customer_api, staff_api, order):
    first, second = order.lines.order_by("pk")
    claims = [
        create_return(customer_api, order, [line_input(line, line.quantity)])[
            "aftersalesRequest"
        ]
        for line in (first, second)
    ]
    for claim in claims:
        staff_api.data(APPROVE, {"id": claim["id"]})
    return claims


def test_second_refund_on_a_payment_waits_for_the_first(
    staff_api, staff_user, two_claims, order
):
    reserve(two_claims[0]["id"], staff_user, "in-flight")
    before = db_state(order)
    result = staff_api.data(REFUND, {"id": two_claims[1]["id"]})[
        "aftersalesRequestRefund"
    ]
    assert result["errors"][0]["code"] == "REFUND_IN_PROGRESS"
    assert db_state(order) == before


def test_claim_with_a_refund_in_flight_cannot_be_received_or_closed(
    staff_api, staff_user, two_claims, order
):
    claim = two_claims[0]  # 2 units approved
    line = claim["lines"][0]["id"]
    staff_api.data(
        RECEIVE, {"id": claim["id"], "lines": [{"line": line, "quantity": 1}]}
    )
    reserve(claim["id"], staff_user, "in-flight")
    before = db_state(order)
    for query, mutation in [
        (RECEIVE, "aftersalesRequestReceive"),
        (CLOSE, "aftersalesRequestClose"),
    ]:
        result = staff_api.data(query, {"id": claim["id"]})[mutation]
        assert result["errors"][0]["code"] == "REFUND_IN_PROGRESS", result
    assert db_state(order) == before


def test_refunds_of_every_claim_never_exceed_what_was_captured(
    staff_api, two_claims, order
):
    for claim in two_claims:
        result = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
        assert result["errors"] == []
    payment = order.payments.get()
    total = sum(r.amount for r in AftersalesRefund.objects.filter(status="success"))
    assert total == Decimal("75.00")  # 3 units x 25.00; shipping is not refunded
    assert payment.captured_amount == Decimal("80.00") - total


def test_voucher_discount_is_spread_over_the_refunded_units(
    customer, staff_user, warehouse, variants, customer_api, staff_api
):
    # 4 x 25.00 = 100.00 of goods, a 20.00 voucher, 5.00 shipping: 85.00 paid.
    order = shop.place_order(customer, [(variants[0], 4)])
    order.discount_amount = Decimal("20.00")
    order.total_gross_amount = order.total_net_amount = Decimal("85.00")
    order.save()
    shop.pay_with_dummy(order)
    shop.fulfill(order, staff_user, warehouse)
    line = order.lines.get()
    claim = create_return(customer_api, order, [line_input(line, 1)])[
        "aftersalesRequest"
    ]
    assert claim["lines"][0]["unitPrice"]["amount"] == 20.0
    staff_api.data(APPROVE, {"id": claim["id"]})
    refund = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert refund["refund"]["amount"]["amount"] == 20.0


def test_goods_refunded_before_receipt_can_still_be_received_and_restocked(
    staff_api, claim, order, warehouse
):
    staff_api.data(APPROVE, {"id": claim["id"]})
    refunded = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert refunded["aftersalesRequest"]["status"] == "RESOLVED"
    variant = order.lines.order_by("pk")[0].variant
    stock_before = Stock.objects.get(
        warehouse=warehouse, product_variant=variant
    ).quantity
    received = staff_api.data(RECEIVE, {"id": claim["id"]})["aftersalesRequestReceive"]
    assert received["errors"] == []
    assert received["aftersalesRequest"]["status"] == "RESOLVED"
    assert received["aftersalesRequest"]["lines"][0]["quantityReceived"] == 2
    stock = Stock.objects.get(warehouse=warehouse, product_variant=variant).quantity
    assert stock == stock_before + 2


def test_restock_goes_back_to_the_warehouse_the_goods_left_from(
    staff_api, claim, order, warehouse
):
    elsewhere = shop.make_warehouse("Another hub")
    variant = order.lines.order_by("pk")[0].variant
    Stock.objects.create(warehouse=elsewhere, product_variant=variant, quantity=7)
    staff_api.data(APPROVE, {"id": claim["id"]})
    line = claim["lines"][0]["id"]
    result = staff_api.data(
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [
                {"line": line, "quantity": 1, "disposition": "RESTOCK"},
            ],
        },
    )["aftersalesRequestReceive"]
    assert result["errors"] == []
    staff_api.data(
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [{"line": line, "quantity": 1, "disposition": "DAMAGED"}],
        },
    )
    assert Stock.objects.get(warehouse=elsewhere, product_variant=variant).quantity == 7
    detail = staff_api.data(REQUEST, {"id": claim["id"]})["aftersalesRequest"]["lines"][
        0
    ]
    assert (detail["quantityReceived"], detail["disposition"]) == (2, "DAMAGED")


def test_token_holders_and_order_staff_do_not_see_the_customers_account(
    anonymous_api, staff_api, customer_api, claim, order
):
    query = """query ($id: ID!, $token: UUID) { aftersalesRequest(id: $id, orderToken: $token) {
        user { email } events { user { email } parameters }
        refunds { idempotencyKey gatewayReference } } }"""
    # An account's order is not a guest's: its token opens nothing.
    guest = anonymous_api.post(query, {"id": claim["id"], "token": str(order.token)})
    assert_permission_denied(guest)
    assert guest["data"]["aftersalesRequest"] is None
    desk = staff_api.data(query, {"id": claim["id"]})["aftersalesRequest"]
    assert desk["user"] is None and desk["events"][0]["parameters"]
    own = customer_api.data(query, {"id": claim["id"]})["aftersalesRequest"]
    assert own["user"] == {"email": "customer@example.com"}


def test_customers_do_not_see_refund_keys_or_gateway_references(
    customer_api, staff_api, claim
):
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(REFUND, {"id": claim["id"], "key": "desk-key"})
    query = """query ($id: ID!) { aftersalesRequest(id: $id) {
        refunds { status idempotencyKey gatewayReference error } } }"""
    mine = customer_api.data(query, {"id": claim["id"]})["aftersalesRequest"]["refunds"]
    assert mine == [
        {
            "status": "SUCCESS",
            "idempotencyKey": None,
            "gatewayReference": None,
            "error": None,
        }
    ]
    desk = staff_api.data(query, {"id": claim["id"]})["aftersalesRequest"]["refunds"]
    assert desk[0]["idempotencyKey"] == "desk-key" and desk[0]["gatewayReference"]


def test_an_attempt_interrupted_after_saleors_gateway_paid_is_adopted_not_repaid(
    staff_user, two_claims, order, settings
):
    from django.utils import timezone

    from saleor_aftersales.hosts.saleor2 import shop as host

    settings.AFTERSALES_REFUND_LEASE_SECONDS = 0
    refund = reserve(two_claims[0]["id"], staff_user, "desk-1")
    # The first attempt took its lease, Saleor's gateway paid, then the worker died.
    AftersalesRefund.objects.filter(pk=refund.pk).update(
        attempts=1, first_attempt_at=timezone.now(), lease_until=timezone.now()
    )
    payment = host.payment_by_ref(refund.payment_ref)
    paid = host.refund_payment(payment, refund.amount)

    assert refunds.pay(refund.pk) is None
    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.transaction_ref) == (
        "success",
        2,
        host.ref(paid.pk),
    )
    payment.refresh_from_db()
    assert payment.transactions.filter(kind="refund").count() == 1
    assert payment.captured_amount == Decimal("80.00") - refund.amount
    assert refund.request.lines.get().quantity_refunded == 2


def test_a_leased_refund_is_left_to_its_worker(staff_user, two_claims, order):
    from datetime import timedelta

    from django.utils import timezone

    refund = reserve(two_claims[0]["id"], staff_user, "desk-1")
    AftersalesRefund.objects.filter(pk=refund.pk).update(
        attempts=1, lease_until=timezone.now() + timedelta(minutes=1)
    )
    before = db_state(order)
    assert refunds.pay(refund.pk) is None
    assert refund.pk not in refunds.due_refunds()
    assert db_state(order) == before
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("pending", 1)


PREVIEW = """
query Preview($id: ID!) {
  aftersalesRefundPreview(id: $id) {
    amount { amount } maximum { amount } errors { field code message }
  }
}
"""
SALEOR_ORDER_REFUND = """
mutation Refund($id: ID!, $amount: Decimal!) {
  orderRefund(id: $id, amount: $amount) { orderErrors { code } }
}
"""


def test_the_preview_offers_what_the_refund_allows_after_saleors_own_refund(
    customer_api, staff_api, order
):
    """Saleor's own orderRefund gave 60.00 of 80.00 back: a claim worth 50.00 can
    only be refunded 20.00, and the preview says so, refusing its default as the
    refund does."""
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    answer = staff_api.data(
        SALEOR_ORDER_REFUND,
        {"id": graphene.Node.to_global_id("Order", order.pk), "amount": "60.00"},
    )
    assert answer["orderRefund"]["orderErrors"] == []
    assert order.payments.get().captured_amount == Decimal("20.00")

    preview = staff_api.data(PREVIEW, {"id": claim["id"]})["aftersalesRefundPreview"]
    assert preview["maximum"]["amount"] == 20.0
    before = db_state(order)
    by_default = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert by_default["errors"] == preview["errors"] != []
    assert preview["errors"][0]["code"] == "AMOUNT_EXCEEDED"
    over = staff_api.data(REFUND, {"id": claim["id"], "amount": "20.01"})[
        "aftersalesRequestRefund"
    ]
    assert over["errors"][0]["code"] == "AMOUNT_EXCEEDED"
    assert db_state(order) == before

    paid = staff_api.data(
        REFUND, {"id": claim["id"], "amount": str(preview["maximum"]["amount"])}
    )["aftersalesRequestRefund"]
    assert paid["errors"] == [] and paid["refund"]["status"] == "SUCCESS"
    assert order.payments.get().captured_amount == Decimal("0.00")


def test_the_preview_and_the_refund_agree_on_an_untouched_payment(
    customer_api, staff_api, order
):
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    preview = staff_api.data(PREVIEW, {"id": claim["id"]})["aftersalesRefundPreview"]
    assert preview["errors"] == []
    paid = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert paid["refund"]["amount"]["amount"] == preview["amount"]["amount"] == 50.0


def test_a_settlement_that_fails_leaves_the_refund_pending_and_the_sweeper_adopts_it(
    customer_api, staff_api, order
):
    """The success and the units it pays are one transaction: when settling the
    units fails after the gateway paid (here PostgreSQL refuses the line update),
    nothing says SUCCESS, no other refund can start, and the sweeper later
    records the gateway's refund once, without paying again."""
    from django.db import connection
    from saleor.payment.models import Transaction

    from saleor_aftersales.models import AftersalesEvent, AftersalesLine
    from saleor_aftersales.tasks import pay_due_refunds

    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    table = AftersalesLine._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION aftersales_test_refuse() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'settlement refused by the test'; END $$ "
            "LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER aftersales_test_refuse BEFORE UPDATE OF "
            f"quantity_refunded ON {table} FOR EACH ROW "
            "EXECUTE PROCEDURE aftersales_test_refuse()"
        )
    payment = order.payments.get()
    answer = staff_api.data(REFUND, {"id": claim["id"], "key": "first"})[
        "aftersalesRequestRefund"
    ]
    assert answer["refund"]["status"] == "PENDING"
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("30.00")  # the gateway paid
    refunds_in_saleor = Transaction.objects.filter(payment=payment, kind="refund")
    assert refunds_in_saleor.count() == 1
    assert (
        AftersalesLine.objects.get(
            order_line__host_id=host.ref(first.pk)
        ).quantity_refunded
        == 0
    )
    assert not AftersalesEvent.objects.filter(type="refunded").exists()
    # Half done counts as in flight: no second refund of these units.
    again = staff_api.data(REFUND, {"id": claim["id"], "key": "second"})[
        "aftersalesRequestRefund"
    ]
    assert again["errors"][0]["code"] == "REFUND_IN_PROGRESS"

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER aftersales_test_refuse ON {table}")
    AftersalesRefund.objects.update(lease_until=None)  # the worker's lease ran out
    pay_due_refunds()
    refund = AftersalesRefund.objects.get(idempotency_key="first")
    assert refund.status == "success"
    assert refund.transaction_ref == host.ref(refunds_in_saleor.get().pk)  # adopted
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("30.00")
    assert (
        AftersalesLine.objects.get(
            order_line__host_id=host.ref(first.pk)
        ).quantity_refunded
        == 2
    )
    assert AftersalesRequest.objects.get().status == "resolved"
    assert AftersalesEvent.objects.filter(type="refunded").count() == 1
