"""What a claim may still be refunded for: its unsettled units, counted from
the PENDING and SUCCESS refund rows, their value, fee and shipping, and every check
that caps an amount (the offer a refund and its preview share).
"""

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, ROUND_HALF_UP
from typing import Dict, Optional, Tuple

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum

from ..port import host
from ..enums import (
    Action,
    Reason,
    RefundMethod,
    RefundStatus,
    RequestStatus,
    RequestType,
)
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesRefund, AftersalesRequest
from ..orders import lock_order
from ..settings import AftersalesSettings
from ..policies import policies_by_line
from ..workflow.actions import starts


CENT = Decimal("0.01")


MAX_KEY_LENGTH = 255


MAX_AMOUNT = Decimal("1000000000")


REFUNDABLE_STATUSES = starts(Action.REFUND)


@dataclass
class RefundQuote:
    """What a refund for the claim's unsettled units is made of."""

    line_quantities: Dict[str, int]
    goods_amount: Decimal
    restocking_fee_amount: Decimal
    shipping_amount: Decimal

    @property
    def default_amount(self) -> Decimal:
        return self.goods_amount - self.restocking_fee_amount + self.shipping_amount

    @property
    def maximum_amount(self) -> Decimal:
        return self.goods_amount + self.shipping_amount


def committed_units(request: AftersalesRequest) -> Counter:
    """Units of each claim line that refund rows pay or are paying, by line pk.

    This, not ``quantity_refunded``, decides what is left: a row counts from the
    moment it is reserved.
    """
    committed: Counter = Counter()
    rows = AftersalesRefund.objects.filter(
        request=request, status__in=(RefundStatus.PENDING, RefundStatus.SUCCESS)
    ).values_list("line_quantities", flat=True)
    for quantities in rows:
        for line_pk, units in (quantities or {}).items():
            committed[str(line_pk)] += int(units)
    return committed


def _units_to_settle(request: AftersalesRequest, line, committed: int) -> int:
    """Received units not yet refunded; before receipt, approved units."""
    if request.status == RequestStatus.RECEIVED:
        return max(0, line.quantity_received - committed)
    return max(0, line.quantity_approved - committed - line.quantity_missing)


def quote_refund(
    request: AftersalesRequest,
    *,
    settings: AftersalesSettings,
    include_shipping: Optional[bool] = None,
    restocking_fee_percent: Optional[Decimal] = None,
) -> RefundQuote:
    # An explicit percentage applies to every line; otherwise each line's policy.
    fee_percent = restocking_fee_percent
    lines = list(request.lines.select_related("order_line"))
    policies = policies_by_line([line.order_line for line in lines], settings)
    committed = committed_units(request)
    quantities: Dict[str, int] = {}
    goods = fee = Decimal("0")
    for line in lines:
        units = _units_to_settle(request, line, committed[str(line.pk)])
        if units <= 0:
            continue
        quantities[str(line.pk)] = units
        value = line.unit_price_gross_amount * units
        goods += value
        if line.reason in Reason.DISCRETIONARY:
            percent = fee_percent
            if percent is None:
                percent = policies[line.order_line_id].restocking_fee_percent
            fee += value * percent / 100
    if not quantities:
        raise _error(
            None, "Nothing on this claim is left to refund.", Code.NOTHING_TO_REFUND
        )

    shipping = Decimal("0")
    # Shipping is one charge for the order: refundable only if every line's
    # policy says so.
    shipping_refundable = all(
        policies[line.order_line_id].shipping_refundable for line in lines
    )
    wants_shipping = (
        shipping_refundable if include_shipping is None else include_shipping
    )
    if wants_shipping:
        if not shipping_refundable:
            raise _error(
                "include_shipping",
                "This shop does not refund shipping.",
                Code.SHIPPING_NOT_REFUNDABLE,
            )
        already = AftersalesRefund.objects.filter(
            request__order_id=request.order_id,
            status__in=(RefundStatus.PENDING, RefundStatus.SUCCESS),
            shipping_amount__gt=0,
        ).exists()
        if not already:
            shipping = request.order.shipping_price_gross_amount
        elif include_shipping:
            raise _error(
                "include_shipping",
                "Shipping for this order has already been refunded.",
                Code.SHIPPING_NOT_REFUNDABLE,
            )
    return RefundQuote(
        line_quantities=quantities,
        goods_amount=goods,
        restocking_fee_amount=fee.quantize(CENT, rounding=ROUND_HALF_UP),
        shipping_amount=shipping,
    )


def check_refundable(request: AftersalesRequest) -> None:
    if request.status not in REFUNDABLE_STATUSES:
        raise _error(
            None,
            f"Claim {request.number} is {request.get_status_display().lower()}; "
            "only approved or received claims can be refunded.",
            Code.INVALID_STATUS,
        )


@dataclass
class RefundOffer:
    """What may be refunded now, after every check a refund makes."""

    quote: RefundQuote
    payment: object
    held: Decimal  # what the payment holds, less store credit already given

    @property
    def maximum_amount(self) -> Decimal:
        return min(self.quote.maximum_amount, self.held)

    def amount(self, asked: Optional[Decimal], limit: Optional[Decimal]) -> Decimal:
        """The amount a refund asking for ``asked`` (None: the default) pays, or
        the refusal."""
        quote, currency = self.quote, self.payment.currency
        amount = quote.default_amount if asked is None else asked
        if asked is None and amount <= 0:
            raise _error(
                "amount",
                "After the restocking fee nothing is left to refund.",
                Code.AMOUNT_NOT_POSITIVE,
            )
        if amount > quote.maximum_amount:
            raise _error(
                "amount",
                f"At most {quote.maximum_amount} {currency} can be refunded "
                "for this claim now.",
                Code.AMOUNT_EXCEEDED,
            )
        if limit is not None and amount > limit:
            raise _error(
                "amount",
                f"{amount} {currency} is above the automatic limit of {limit}.",
                Code.AMOUNT_EXCEEDED,
            )
        if amount > self.held:
            raise _error(
                "amount",
                f"The payment holds only {self.held} {currency} that was not "
                "already refunded or given as store credit.",
                Code.AMOUNT_EXCEEDED,
            )
        return amount


def checked_offer(
    request: AftersalesRequest,
    *,
    settings: AftersalesSettings,
    include_shipping: Optional[bool],
    restocking_fee_percent: Optional[Decimal],
    quote: Optional[RefundQuote] = None,
    lock: bool = False,
) -> RefundOffer:
    """Every check that decides what the claim may still be refunded for; under
    the reservation's locks when ``lock`` (the claim is already locked then)."""
    if quote is None and request.type != RequestType.RETURN:
        raise _error(
            None,
            "Exchanges are settled by their replacement and repairs by their "
            "quote; only returns are refunded by hand.",
            Code.INVALID_STATUS,
        )
    check_refundable(request)
    if lock:
        lock_order(request.order_id)
    payment = host.refundable_payment(request.order.host_id, lock=lock)
    if payment is None:
        raise _error(
            None, "The order has no captured payment to refund.", Code.NO_PAYMENT
        )
    if AftersalesRefund.objects.filter(
        Q(request=request) | Q(payment_ref=host.payment_ref(payment)),
        status=RefundStatus.PENDING,
    ).exists():
        raise _error(
            None,
            "A refund for this claim or payment is in progress.",
            Code.REFUND_IN_PROGRESS,
        )
    if quote is None:
        quote = quote_refund(
            request,
            settings=settings,
            include_shipping=include_shipping,
            restocking_fee_percent=restocking_fee_percent,
        )
    # Store credit may exceed what is still captured (Saleor's own refunds).
    held = max(payment.captured_amount - store_credited(payment), Decimal("0"))
    return RefundOffer(quote=quote, payment=payment, held=held)


def preview(
    request: AftersalesRequest,
    settings: AftersalesSettings,
    include_shipping: Optional[bool] = None,
    restocking_fee_percent: Optional[Decimal] = None,
) -> Tuple[RefundOffer, Optional[ValidationError]]:
    """What a refund of the claim would pay now: the same checks as the refund.

    Returns the offer and the refusal a refund without an amount would get (e.g.
    the payment holds less than the default); other refusals are raised.
    """
    validate_arguments(None, restocking_fee_percent, "")
    offer = checked_offer(
        request,
        settings=settings,
        include_shipping=include_shipping,
        restocking_fee_percent=restocking_fee_percent,
    )
    try:
        offer.amount(None, None)
    except ValidationError as refusal:
        return offer, refusal
    return offer, None


def validate_arguments(
    amount: Optional[Decimal],
    restocking_fee_percent: Optional[Decimal],
    idempotency_key: str,
) -> None:
    if amount is not None:
        if (
            not amount.is_finite()
            or abs(amount) > MAX_AMOUNT
            or amount != amount.quantize(CENT)
        ):
            raise _error(
                "amount", "Give the amount in cents, e.g. 12.50.", Code.INVALID
            )
        if amount <= 0:
            raise _error(
                "amount", "The amount must be positive.", Code.AMOUNT_NOT_POSITIVE
            )
    if restocking_fee_percent is not None and not (
        restocking_fee_percent.is_finite()
        and Decimal("0") <= restocking_fee_percent <= Decimal("100")
    ):
        raise _error(
            "restocking_fee", "The restocking fee is a percentage, 0-100.", Code.INVALID
        )
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise _error(
            "idempotency_key",
            f"Keys are at most {MAX_KEY_LENGTH} characters.",
            Code.INVALID,
        )


def store_credited(payment) -> Decimal:
    """Store credit given against a payment: it stays captured, yet is spent."""
    total = AftersalesRefund.objects.filter(
        payment_ref=host.payment_ref(payment),
        method=RefundMethod.STORE_CREDIT,
        status=RefundStatus.SUCCESS,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")
