"""The whole return, as a shopper and the desk do it through /graphql/."""

from decimal import Decimal

from saleor.order.models import OrderEvent
from saleor.payment import ChargeStatus, TransactionKind
from saleor.warehouse.models import Stock

from saleor_aftersales.models import AftersalesEvent, AftersalesRequest

from .conftest import create_return, line_input
from .queries import APPROVE, CLOSE, RECEIVE, REFUND


def test_return_from_request_to_close_refunds_restocks_and_audits(
    customer_api, staff_api, order, warehouse, staff_user
):
    first, second = order.lines.order_by("pk")
    stock = Stock.objects.get(warehouse=warehouse, product_variant=first.variant)
    stock_before = stock.quantity
    payment = order.payments.get()
    assert payment.captured_amount == Decimal("80.00")

    created = create_return(
        customer_api,
        order,
        [line_input(first, 2, comment="Sole came off"), line_input(second, 1)],
        customerNote="Both pairs are faulty",
    )
    assert created["errors"] == []
    claim = created["aftersalesRequest"]
    assert claim["status"] == "REQUESTED"
    assert claim["type"] == "RETURN"
    assert claim["number"] == f"RMA-{AftersalesRequest.objects.get().pk:06d}"
    assert [l["quantity"] for l in claim["lines"]] == [2, 1]
    assert claim["lines"][0]["unitPrice"] == {"amount": 25.0, "currency": "USD"}

    # Approve one unit of the first line and all of the second.
    approved = staff_api.data(
        APPROVE,
        {
            "id": claim["id"],
            "lines": [{"line": claim["lines"][0]["id"], "quantity": 1}],
            "note": "One pair is fine, we keep it",
        },
    )["aftersalesRequestApprove"]
    assert approved["errors"] == []
    claim = approved["aftersalesRequest"]
    assert claim["status"] == "APPROVED"
    assert [l["quantityApproved"] for l in claim["lines"]] == [1, 1]

    received = staff_api.data(
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [
                {
                    "line": claim["lines"][0]["id"],
                    "quantity": 1,
                    "disposition": "RESTOCK",
                },
                {
                    "line": claim["lines"][1]["id"],
                    "quantity": 1,
                    "disposition": "DAMAGED",
                },
            ],
        },
    )["aftersalesRequestReceive"]
    assert received["errors"] == []
    claim = received["aftersalesRequest"]
    assert claim["status"] == "RECEIVED"
    assert [l["disposition"] for l in claim["lines"]] == ["RESTOCK", "DAMAGED"]
    stock.refresh_from_db()
    assert stock.quantity == stock_before + 1  # the damaged pair is not restocked

    refunded = staff_api.data(REFUND, {"id": claim["id"], "key": "refund-1"})[
        "aftersalesRequestRefund"
    ]
    assert refunded["errors"] == []
    assert refunded["refund"]["status"] == "SUCCESS"
    assert refunded["refund"]["amount"] == {"amount": 50.0, "currency": "USD"}
    claim = refunded["aftersalesRequest"]
    assert claim["status"] == "RESOLVED"
    assert claim["resolution"] == "REFUND"
    assert claim["refundedAmount"] == {"amount": 50.0}

    # Saleor's own payment records show the refund.
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("30.00")
    assert payment.charge_status == ChargeStatus.PARTIALLY_REFUNDED
    refund_txn = payment.transactions.get(kind=TransactionKind.REFUND)
    assert refund_txn.is_success and refund_txn.amount == Decimal("50.00")

    closed = staff_api.data(CLOSE, {"id": claim["id"]})["aftersalesRequestClose"]
    assert closed["errors"] == []
    assert closed["aftersalesRequest"]["status"] == "CLOSED"

    # The audit trail, in order, and its mirror in Saleor's order timeline.
    trail = list(
        AftersalesEvent.objects.values_list(
            "type", "actor_type", "from_status", "to_status"
        )
    )
    assert trail == [
        ("created", "customer", "", "requested"),
        ("approved", "staff", "requested", "approved"),
        ("received", "staff", "approved", "received"),
        ("refunded", "staff", "received", "resolved"),
        ("closed", "staff", "resolved", "closed"),
    ]
    notes = list(
        OrderEvent.objects.filter(order=order, type="note_added")
        .order_by("pk")
        .values_list("parameters__message", flat=True)
    )
    assert len(notes) == 5
    assert notes[0].startswith(f"Return {claim['number']} created by customer")
    assert notes[1].endswith(
        "approved by staff@example.com: One pair is fine, we keep it"
    )
    assert "50.00 USD refunded" in notes[3]


def test_refund_before_receipt_settles_approved_units(staff_api, claim, order):
    staff_api.data(APPROVE, {"id": claim["id"]})
    refunded = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert refunded["errors"] == []
    assert refunded["refund"]["amount"]["amount"] == 50.0
    assert refunded["aftersalesRequest"]["status"] == "RESOLVED"
    assert order.payments.get().captured_amount == Decimal("30.00")


def test_audit_events_cannot_be_changed_or_deleted(claim):
    import pytest

    event = AftersalesEvent.objects.get()
    event.message = "rewritten history"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        AftersalesEvent.objects.update(message="x")
    with pytest.raises(TypeError):
        AftersalesEvent.objects.all().delete()
    with pytest.raises(TypeError):
        event.delete()
    assert AftersalesEvent.objects.get().message == ""
