"""Money back through an order's legacy payment in Saleor 3.23 (the Payments API:
``mirumee.payments.dummy``, manual payments from ``orderMarkAsPaid``, gateway
plugins): ``orderRefund``, and the REFUND transaction Saleor records for it,
found again by time and amount when an attempt died before recording it. The
core's refund ledger keeps it exactly once (``refunds/``)."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Iterable, List, Optional

from . import client
from .models import SaleorShop

REFUNDABLE = {"FULLY_CHARGED", "PARTIALLY_CHARGED", "PARTIALLY_REFUNDED"}

PAYMENT_FIELDS = """
fragment AftersalesPayment on Payment {
  id gateway isActive chargeStatus
  capturedAmount { amount currency }
  total { currency }
  order { id }
  transactions { id kind isSuccess created token amount { amount } }
}
"""
ORDER_PAYMENTS = (
    PAYMENT_FIELDS
    + "query($id: ID!) { order(id: $id) { payments { ...AftersalesPayment } } }"
)
PAYMENT = (
    PAYMENT_FIELDS + "query($id: ID!) { payment(id: $id) { ...AftersalesPayment } }"
)
ORDER_REFUND = """
mutation AftersalesRefund($id: ID!, $amount: PositiveDecimal!) {
  orderRefund(id: $id, amount: $amount) { errors { field code message } }
}
"""


class PaymentError(Exception):
    """Saleor or its gateway refused the refund."""


@dataclass
class Transaction:
    pk: str
    token: str
    kind: str
    is_success: bool
    amount: Decimal
    created: datetime
    payment: "Payment"


@dataclass
class Payment:
    pk: str
    order_id: str  # the order's global id
    gateway: str
    is_active: bool
    charge_status: str
    currency: str
    captured_amount: Decimal
    transactions: List[Transaction] = field(default_factory=list)


def _payment(data: dict) -> Payment:
    captured = data.get("capturedAmount") or {}
    currency = captured.get("currency") or (data.get("total") or {}).get("currency")
    payment = Payment(
        pk=data["id"],
        order_id=(data.get("order") or {}).get("id", ""),
        gateway=data["gateway"],
        is_active=data["isActive"],
        charge_status=data["chargeStatus"],
        currency=currency or "",
        captured_amount=Decimal(str(captured.get("amount") or 0)),
    )
    payment.transactions = [
        Transaction(
            pk=txn["id"],
            token=txn.get("token") or "",
            kind=txn["kind"],
            is_success=txn["isSuccess"],
            amount=Decimal(str((txn.get("amount") or {}).get("amount") or 0)),
            created=datetime.fromisoformat(txn["created"]),
            payment=payment,
        )
        for txn in data.get("transactions") or []
    ]
    return payment


def refundable_payment(shop: SaleorShop, order_ref: str) -> Optional[Payment]:
    """The order's latest active payment that still holds captured money."""
    data = client.ask(shop, ORDER_PAYMENTS, {"id": order_ref})
    payments: List[Payment] = [
        _payment(item) for item in (data.get("order") or {}).get("payments") or []
    ]
    usable = [
        p
        for p in payments
        if p.is_active and p.charge_status in REFUNDABLE and p.captured_amount > 0
    ]
    return usable[-1] if usable else None


def payment_by_ref(shop: SaleorShop, reference: str) -> Optional[Payment]:
    data = client.ask(shop, PAYMENT, {"id": reference})
    return _payment(data["payment"]) if data.get("payment") else None


def refund_transaction_since(
    payment: Payment, since, amount: Decimal, exclude: Iterable[str] = ()
) -> Optional[Transaction]:
    excluded = set(exclude)
    for txn in payment.transactions:
        if (
            txn.kind == "REFUND"
            and txn.is_success
            and txn.created >= since
            and txn.amount == amount
            and txn.pk not in excluded
        ):
            return txn
    return None


def refund(shop: SaleorShop, payment: Payment, amount: Decimal) -> Transaction:
    """``orderRefund`` on the payment's order; the REFUND transaction it made."""
    before = {txn.pk for txn in payment.transactions}
    try:
        client.mutate(
            shop,
            ORDER_REFUND,
            {"id": payment.order_id, "amount": str(amount)},
            "orderRefund",
        )
    except client.SaleorRefused as refused:
        raise PaymentError("; ".join(error["message"] for error in refused.errors))
    except client.SaleorError as error:
        raise PaymentError(str(error))
    after = payment_by_ref(shop, payment.pk)
    made = [
        txn
        for txn in (after.transactions if after else ())
        if txn.pk not in before and txn.kind == "REFUND" and txn.is_success
    ]
    if not made:
        raise PaymentError("Saleor recorded no refund.")
    return made[-1]
