"""Money back through Saleor 3.23's Transactions API, for orders a payment app
charged (its TransactionItem holds the money): a granted refund on the order
(``orderGrantRefundCreate``, tied to the transaction, its reason marked with the
ledger row's reference), then ``transactionRequestRefundForGrantedRefund``, which
makes Saleor ask the payment app (TRANSACTION_REFUND_REQUESTED). The payment app
settles later (its webhook answer, or ``transactionEventReport``): Saleor's
granted refund turns SUCCESS or FAILURE, and only then is the ledger row settled.

Exactly once: the core's ledger row is PENDING before anything here runs (one per
payment at a time); each attempt looks among the order's granted refunds for the
row's reference before granting, and at that grant's status before requesting
(NONE: never requested; PENDING: the payment app is at it; SUCCESS / FAILURE: its
outcome). Outcomes Saleor doesn't tell at once leave the row PENDING
(``RefundPending``); the sweeper (``wake_settled``) makes it due when Saleor shows
the outcome, and the worker's next attempt records it."""

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Callable, Iterable, List, Optional

from django.db.models import Q
from django.utils import timezone

from ...enums import RefundStatus
from ...models import AftersalesRefund
from ...port import RefundPending
from . import client
from .models import SaleorShop
from .payments import PaymentError

# Saleor's OrderGrantedRefundStatusEnum.
NONE, PENDING, SUCCESS, FAILURE = "NONE", "PENDING", "SUCCESS", "FAILURE"

FIELDS = """
fragment AftersalesGrant on OrderGrantedRefund {
  id reason status amount { amount currency }
  transaction { id }
  transactionEvents { id type pspReference message amount { amount } createdAt }
}
fragment AftersalesTransaction on TransactionItem {
  id name pspReference actions createdAt
  chargedAmount { amount currency }
  refundedAmount { amount }
}
"""
ORDER_TRANSACTIONS = (
    FIELDS
    + """
query AftersalesOrderTransactions($id: ID!) {
  order(id: $id) {
    id
    transactions { ...AftersalesTransaction }
    grantedRefunds { ...AftersalesGrant }
  }
}
"""
)
TRANSACTION = (
    FIELDS
    + """
query AftersalesTransaction($id: ID!) {
  transaction(id: $id) {
    ...AftersalesTransaction
    order { id grantedRefunds { ...AftersalesGrant } }
  }
}
"""
)
GRANT = """
mutation AftersalesGrant($order: ID!, $amount: Decimal!, $reason: String!,
                         $transaction: ID!) {
  orderGrantRefundCreate(id: $order, input: {amount: $amount, reason: $reason,
                                             transactionId: $transaction}) {
    grantedRefund { id }
    errors { field code message }
  }
}
"""
REQUEST = """
mutation AftersalesRequestRefund($grant: ID!) {
  transactionRequestRefundForGrantedRefund(grantedRefundId: $grant) {
    errors { field code message }
  }
}
"""
# Saleor's refusals of a request that mean "it is under way or done already".
ALREADY_REQUESTED = {"REFUND_IS_PENDING", "REFUND_ALREADY_PROCESSED"}


@dataclass
class Grant:
    """A granted refund on the order, as the worker records it (``pk``,
    ``token``: the payment app's reference of the refund, ``payment``)."""

    pk: str
    reason: str
    status: str
    amount: Decimal
    currency: str
    events: List[dict]
    payment: "TransactionPayment"

    @property
    def token(self) -> str:
        for event in reversed(self.events):
            if event["type"] == "REFUND_SUCCESS":
                return event.get("pspReference") or ""
        return ""

    @property
    def failure(self) -> str:
        for event in reversed(self.events):
            if event["type"] == "REFUND_FAILURE":
                return event.get("message") or ""
        return ""


@dataclass
class TransactionPayment:
    """A payment app's transaction of the order, as the core holds a payment:
    ``captured_amount`` is what it still holds charged."""

    pk: str
    order_id: str
    gateway: str  # "transaction:" and the transaction's name
    currency: str
    captured_amount: Decimal
    refunded_amount: Decimal
    created: datetime
    is_active: bool = True
    grants: List[Grant] = field(default_factory=list)


def is_transaction_ref(reference: str) -> bool:
    """Saleor's global id of a TransactionItem (``TransactionItem:<token>``)."""
    try:
        name = base64.b64decode(reference, validate=True).decode().split(":", 1)[0]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return name == "TransactionItem"


def _money(data: Optional[dict]) -> Decimal:
    return Decimal(str((data or {}).get("amount") or 0))


def _payment(data: dict, order: dict) -> TransactionPayment:
    payment = TransactionPayment(
        pk=data["id"],
        order_id=order["id"],
        gateway=f"transaction:{data.get('name') or ''}",
        currency=(data.get("chargedAmount") or {}).get("currency") or "",
        captured_amount=_money(data.get("chargedAmount")),
        refunded_amount=_money(data.get("refundedAmount")),
        created=datetime.fromisoformat(data["createdAt"]),
    )
    payment.grants = [
        Grant(
            pk=grant["id"],
            reason=grant.get("reason") or "",
            status=grant["status"],
            amount=_money(grant.get("amount")),
            currency=(grant.get("amount") or {}).get("currency") or "",
            events=grant.get("transactionEvents") or [],
            payment=payment,
        )
        for grant in order.get("grantedRefunds") or []
        if (grant.get("transaction") or {}).get("id") == data["id"]
    ]
    return payment


def refundable_transaction(
    shop: SaleorShop, order_ref: str
) -> Optional[TransactionPayment]:
    """The order's latest transaction a refund can be requested from (the payment
    app offers REFUND) that still holds charged money; None if it has none."""
    order = client.ask(shop, ORDER_TRANSACTIONS, {"id": order_ref}).get("order")
    if not order:
        return None
    usable = [
        _payment(data, order)
        for data in order.get("transactions") or []
        if "REFUND" in (data.get("actions") or [])
        and _money(data.get("chargedAmount")) > 0
    ]
    usable.sort(key=lambda payment: payment.created)
    return usable[-1] if usable else None


def payment_by_ref(shop: SaleorShop, reference: str) -> Optional[TransactionPayment]:
    data = client.ask(shop, TRANSACTION, {"id": reference}).get("transaction")
    if not data or not data.get("order"):
        return None
    return _payment(data, data["order"])


# The ledger row a grant belongs to: the core allows one PENDING refund per
# payment, so the row in flight on this transaction is the one being paid.


def grant_reference(refund_pk: int) -> str:
    """What marks the granted refund of ledger row ``refund_pk``, to find it again."""
    return f"[aftersales refund #{refund_pk}]"


def _row_in_flight(payment: TransactionPayment) -> AftersalesRefund:
    row = (
        AftersalesRefund.objects.filter(
            payment_ref=payment.pk, status=RefundStatus.PENDING
        )
        .order_by("pk")
        .first()
    )
    if row is None:
        raise PaymentError("No refund of this transaction is in the ledger.")
    return row


def _grant_of(payment: TransactionPayment, refund_pk: int) -> Optional[Grant]:
    reference = grant_reference(refund_pk)
    for grant in payment.grants:
        if grant.reason.endswith(reference):
            return grant
    return None


def refund_transaction_since(
    payment: TransactionPayment, since, amount: Decimal, exclude: Iterable[str] = ()
) -> Optional[Grant]:
    """The ledger row's granted refund, if Saleor shows it paid (SUCCESS)."""
    grant = _grant_of(payment, _row_in_flight(payment).pk)
    if (
        grant is not None
        and grant.status == SUCCESS
        and grant.amount == amount
        and grant.pk not in set(exclude)
    ):
        return grant
    return None


def refund(shop: SaleorShop, payment: TransactionPayment, amount: Decimal) -> Grant:
    """Grant (unless an earlier attempt did) and request (unless it was) the
    ledger row's refund; the grant once Saleor shows it paid. PaymentError when
    the payment app or Saleor refused it, RefundPending while it is on its way
    or whether Saleor took a call is unknown."""
    row = _row_in_flight(payment)
    grant = _grant_of(payment, row.pk)
    if grant is None:
        _grant(shop, payment, amount, row)
        grant = _fresh_grant(shop, payment, row.pk)
    if grant.status in (NONE,):
        _request(shop, grant)
        grant = _fresh_grant(shop, payment, row.pk)
    return _outcome(grant)


def _fresh_grant(shop: SaleorShop, payment: TransactionPayment, refund_pk: int):
    fresh = payment_by_ref(shop, payment.pk)
    grant = _grant_of(fresh, refund_pk) if fresh else None
    if grant is None:
        raise RefundPending("Saleor shows no granted refund yet.")
    return grant


def _grant(shop, payment: TransactionPayment, amount: Decimal, row) -> None:
    reason = f"After-sales refund {grant_reference(row.pk)}"
    try:
        client.mutate(
            shop,
            GRANT,
            {
                "order": payment.order_id,
                "amount": str(amount),
                "reason": reason,
                "transaction": payment.pk,
            },
            "orderGrantRefundCreate",
        )
    except client.SaleorRefused as refused:
        raise PaymentError("; ".join(error["message"] for error in refused.errors))
    except client.SaleorError as error:
        # Whether Saleor granted it is unknown: the next attempt looks.
        raise RefundPending(f"Granting the refund: {error}")


def _request(shop, grant: Grant) -> None:
    try:
        client.mutate(
            shop,
            REQUEST,
            {"grant": grant.pk},
            "transactionRequestRefundForGrantedRefund",
        )
    except client.SaleorRefused as refused:
        if not {error.get("code") for error in refused.errors} <= ALREADY_REQUESTED:
            raise PaymentError("; ".join(error["message"] for error in refused.errors))
    except client.SaleorError as error:
        raise RefundPending(f"Requesting the refund: {error}")


def _outcome(grant: Grant) -> Grant:
    if grant.status == SUCCESS:
        return grant
    if grant.status == FAILURE:
        raise PaymentError(grant.failure or "The payment app refused the refund.")
    raise RefundPending(
        f"The payment app is settling granted refund {grant.pk} ({grant.status})."
    )


def wake_settled(shop_of: Callable[[], SaleorShop]) -> List[int]:
    """The sweeper's look at refunds waiting for a payment app: each whose
    granted refund Saleor shows SUCCESS or FAILURE is made due now (the worker
    records it), instead of at its next polling time. ``shop_of`` gives the
    Saleor, asked only when some refund waits."""
    now = timezone.now()
    waiting = [
        (pk, payment_ref)
        for pk, payment_ref in AftersalesRefund.objects.filter(
            status=RefundStatus.PENDING, next_attempt_at__gt=now
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .values_list("pk", "payment_ref")
        if is_transaction_ref(payment_ref)
    ]
    shop = shop_of() if waiting else None
    woken = []
    for pk, payment_ref in waiting:
        try:
            payment = payment_by_ref(shop, payment_ref)
        except client.SaleorError:
            continue
        grant = _grant_of(payment, pk) if payment else None
        if grant is not None and grant.status in (SUCCESS, FAILURE):
            if AftersalesRefund.objects.filter(
                pk=pk, status=RefundStatus.PENDING
            ).update(next_attempt_at=None):
                woken.append(pk)
    return woken
