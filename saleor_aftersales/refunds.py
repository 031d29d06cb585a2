"""Money back for a claim, exactly once.

1. Under locks on the claim, the order and the payment, the refund row is written
   PENDING with its idempotency key and committed; a Celery task is handed its id.
2. The task takes a lease on the row and calls the gateway outside any transaction:
   Stripe payments through Stripe's Refunds API (``stripe_refunds``), others
   through Saleor's gateway code.
3. The outcome is written, and on success the refunded units are settled in the
   same transaction (claim, then row, then payment locked, as in step 1): no
   moment exists in which the money is recorded paid and its units unsettled.

A call with a key already used returns that refund and pays nothing; one refund at a
time may be in flight per claim and per payment (partial unique indexes), so a
PENDING refund counts against what is refundable, and what a claim may still be
refunded for is counted from its PENDING and SUCCESS rows, never only from the
counters on its lines. Passing gateway errors (network,
429, 5xx) retry with backoff and never fail a refund whose fate is unknown; a
repeated attempt first looks for what an interrupted one paid. Amounts never exceed
what the settled units are worth (plus shipping, once per order) nor what the
payment still holds.
"""

import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, Optional, Tuple

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import dispatch, host, stripe_refunds, workflow
from .enums import (
    Action,
    Reason,
    RefundMethod,
    RefundStatus,
    RequestStatus,
    RequestType,
)
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import AftersalesRefund, AftersalesRequest
from .settings import AftersalesSettings
from .policies import policies_by_line
from .workflow.actions import starts

logger = logging.getLogger(__name__)

CENT = Decimal("0.01")
MAX_KEY_LENGTH = 255
MAX_AMOUNT = Decimal("1000000000")
REFUNDABLE_STATUSES = starts(Action.REFUND)
# Keys the plugin makes for itself; the API refuses them from callers.
SYSTEM_KEY_PREFIX = "aftersales:"


def system_key(*parts) -> str:
    return SYSTEM_KEY_PREFIX + ":".join(str(part) for part in parts)


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
                "includeShipping",
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
                "includeShipping",
                "Shipping for this order has already been refunded.",
                Code.SHIPPING_NOT_REFUNDABLE,
            )
    return RefundQuote(
        line_quantities=quantities,
        goods_amount=goods,
        restocking_fee_amount=fee.quantize(CENT, rounding=ROUND_HALF_UP),
        shipping_amount=shipping,
    )


def _check_refundable(request: AftersalesRequest) -> None:
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


def _offer(
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
    _check_refundable(request)
    if lock:
        host.lock_order(request.order_id)
    payment = host.refundable_payment(request.order)
    if payment is None:
        raise _error(
            None, "The order has no captured payment to refund.", Code.NO_PAYMENT
        )
    if lock:
        payment = host.lock_payment(payment.pk)
    if AftersalesRefund.objects.filter(
        Q(request=request) | Q(payment=payment), status=RefundStatus.PENDING
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
    held = payment.captured_amount - store_credited(payment)
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
    _validate_arguments(None, restocking_fee_percent, "")
    offer = _offer(
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


def _validate_arguments(
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
            "restockingFee", "The restocking fee is a percentage, 0-100.", Code.INVALID
        )
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise _error(
            "idempotencyKey",
            f"Keys are at most {MAX_KEY_LENGTH} characters.",
            Code.INVALID,
        )


def _replayed(
    existing: AftersalesRefund, request, amount, method: str
) -> AftersalesRefund:
    """The first refund made with this key, if the retry asks for the same thing."""
    if (
        existing.request_id != request.pk
        or existing.method != method
        or (amount is not None and amount != existing.amount)
    ):
        raise _error(
            "idempotencyKey",
            "This key was used for a different refund.",
            Code.IDEMPOTENCY_KEY_REUSED,
        )
    return existing


def _reserve_refund(
    request: AftersalesRequest,
    *,
    by: workflow.Actor,
    settings: AftersalesSettings,
    amount: Optional[Decimal],
    include_shipping: Optional[bool],
    restocking_fee_percent: Optional[Decimal],
    idempotency_key: str,
    quote: Optional[RefundQuote] = None,
    limit: Optional[Decimal] = None,
    method: str = RefundMethod.REFUND,
) -> Tuple[AftersalesRefund, bool]:
    """Step 1: the PENDING row, committed. Returns (refund, created).

    Locks, always in this order: claim, order (shipping is refunded once per
    order), payment (one refund in flight per payment, so Saleor's gateway code
    never works from a stale captured amount).
    """
    with transaction.atomic():
        request = (
            AftersalesRequest.objects.select_for_update(of=("self",))
            .select_related("order")
            .get(pk=request.pk)
        )
        existing = AftersalesRefund.objects.filter(
            idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return _replayed(existing, request, amount, method), False
        offer = _offer(
            request,
            settings=settings,
            include_shipping=include_shipping,
            restocking_fee_percent=restocking_fee_percent,
            quote=quote,
            lock=True,
        )
        amount = offer.amount(amount, limit)
        quote, payment = offer.quote, offer.payment
        try:
            with transaction.atomic():
                refund = AftersalesRefund.objects.create(
                    request=request,
                    payment=payment,
                    method=method,
                    amount=amount,
                    currency=payment.currency,
                    goods_amount=quote.goods_amount,
                    shipping_amount=quote.shipping_amount,
                    restocking_fee_amount=quote.restocking_fee_amount,
                    line_quantities=quote.line_quantities,
                    idempotency_key=idempotency_key,
                    created_by=by.user,
                    created_by_app=by.app,
                    actor_type=by.type,
                )
        except IntegrityError:
            # The same key, used at this very moment for another claim's refund.
            raise _error(
                "idempotencyKey",
                "This key is being used for another refund.",
                Code.IDEMPOTENCY_KEY_REUSED,
            )
        if method == RefundMethod.STORE_CREDIT:
            _issue_store_credit(refund, request, by=by, settings=settings)
        return refund, True


def store_credited(payment) -> Decimal:
    """Store credit given against a payment: it stays captured, yet is spent."""
    total = AftersalesRefund.objects.filter(
        payment=payment,
        method=RefundMethod.STORE_CREDIT,
        status=RefundStatus.SUCCESS,
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0")


def _issue_store_credit(
    refund: AftersalesRefund,
    request: AftersalesRequest,
    *,
    by: workflow.Actor,
    settings: AftersalesSettings,
) -> None:
    """Instead of money, a Saleor gift card worth the amount plus the shop's bonus;
    no gateway, so it is issued and recorded in the transaction that reserved it."""
    bonus = refund.amount * settings.store_credit_bonus_percent / 100
    credit = (refund.amount + bonus).quantize(CENT, rounding=ROUND_HALF_UP)
    end_date = None
    if settings.store_credit_valid_days:
        # Saleor compares gift card dates with the shop's local date.
        end_date = timezone.localdate() + timedelta(
            days=settings.store_credit_valid_days
        )
    refund.gift_card = host.issue_gift_card(
        request.order.user, credit, refund.currency, end_date
    )
    refund.credit_amount = credit
    refund.status = RefundStatus.SUCCESS
    refund.completed_at = timezone.now()
    refund.save(update_fields=["gift_card", "credit_amount", "status", "completed_at"])
    host.note_store_credit(request.order_id, refund.amount, refund.currency)
    host.order_changed(request.order_id)
    workflow.record_refund(request, refund, by=by)


def refund_request(
    request: AftersalesRequest,
    *,
    by: workflow.Actor,
    settings: AftersalesSettings,
    amount: Optional[Decimal] = None,
    include_shipping: Optional[bool] = None,
    restocking_fee_percent: Optional[Decimal] = None,
    method: str = RefundMethod.REFUND,
    idempotency_key: str = "",
    quote: Optional[RefundQuote] = None,
    limit: Optional[Decimal] = None,
) -> AftersalesRefund:
    """Refund the claim's unsettled units to the order's original payment.

    The refund settles those units: an amount below their value is a deduction the
    desk decided (e.g. returned worn), not a first instalment.
    """
    _validate_arguments(amount, restocking_fee_percent, idempotency_key)
    refund, created = _reserve_refund(
        request,
        by=by,
        settings=settings,
        amount=amount,
        include_shipping=include_shipping,
        restocking_fee_percent=restocking_fee_percent,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
        quote=quote,
        limit=limit,
        method=method,
    )
    if created and refund.status == RefundStatus.PENDING:
        try:
            dispatch.schedule_refund(refund.pk)
        except Exception:  # noqa: BLE001 - committed: the sweeper pays it later
            logger.exception("Could not queue refund %s", refund.pk)
        # Where tasks run eagerly, the outcome is already there.
        refund.refresh_from_db()
    return refund


def refund_returnless(
    request: AftersalesRequest, *, settings: AftersalesSettings
) -> Optional[AftersalesRefund]:
    """Approved below the returnless threshold: refund now; the customer keeps the
    goods. Where that can't happen (no payment, a refund in flight) the desk
    refunds by hand."""
    try:
        return refund_request(
            request,
            by=workflow.Actor.system(),
            settings=settings,
            idempotency_key=system_key("returnless", request.pk),
        )
    except ValidationError as error:
        logger.info("Returnless refund of %s left to the desk: %s", request, error)
        return None


# Steps 2 and 3, in the worker -------------------------------------------------------


def lease() -> timedelta:
    """How long a worker may take over one payment before another takes over."""
    return timedelta(
        seconds=getattr(django_settings, "AFTERSALES_REFUND_LEASE_SECONDS", 300)
    )


def retry_delay(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1`` after a passing gateway error."""
    base = getattr(django_settings, "AFTERSALES_REFUND_BACKOFF_SECONDS", 30)
    return min(base * 2 ** (attempts - 1), 3600)


def _take_lease(refund_pk: int) -> Optional[AftersalesRefund]:
    """The PENDING refund, leased to this worker; None when it is settled, leased
    by another worker or not yet due."""
    now = timezone.now()
    taken = (
        AftersalesRefund.objects.filter(pk=refund_pk, status=RefundStatus.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(
            lease_until=now + lease(),
            attempts=F("attempts") + 1,
            first_attempt_at=Coalesce("first_attempt_at", now),
        )
    )
    if not taken:
        return None
    return AftersalesRefund.objects.select_related("request", "payment").get(
        pk=refund_pk
    )


def actor_of(refund: AftersalesRefund) -> workflow.Actor:
    return workflow.Actor(
        refund.actor_type, user=refund.created_by, app=refund.created_by_app
    )


def pay(refund_pk: int) -> Optional[float]:
    """Pay one PENDING refund (the Celery task's body).

    Returns the seconds to wait before trying again after a passing error, or None
    when there is nothing more to do here.
    """
    refund = _take_lease(refund_pk)
    if refund is None:
        return None
    payment = refund.payment
    if stripe_refunds.is_stripe(payment):
        return _pay_with_stripe(refund, payment)
    _pay_with_saleor_gateway(refund, payment)
    return None


def _pay_with_stripe(refund: AftersalesRefund, payment) -> Optional[float]:
    paid = None
    if refund.attempts > 1:
        # An earlier attempt may have reached Stripe before it died. Not knowing
        # is never a refusal: any error here means "try again later".
        try:
            paid = stripe_refunds.find(payment, refund)
        except (stripe_refunds.Transient, stripe_refunds.Refused) as exc:
            return _postpone(refund, str(exc))
    try:
        if paid is None:
            paid = stripe_refunds.create(payment, refund)
    except stripe_refunds.Transient as exc:
        return _postpone(refund, str(exc))
    except stripe_refunds.Refused as exc:
        fail(refund, str(exc) or "Stripe refused the refund.")
        return None
    apply_stripe_outcome(refund, paid)
    return None


def apply_stripe_outcome(
    refund: AftersalesRefund, paid, release_lease: bool = True
) -> bool:
    """Bring the row in line with what Stripe says of its refund. True if it changed."""
    if paid.status == stripe_refunds.SUCCEEDED:
        return succeed(refund, reference=paid.id, raw=paid.raw)
    if paid.status in stripe_refunds.FAILED_STATUSES:
        return fail(
            refund,
            f"Stripe: refund {paid.status}"
            + (f" ({paid.failure_reason})" if paid.failure_reason else ""),
            reference=paid.id,
        )
    # Pending at Stripe: its webhook, or the sweeper, finishes it.
    if release_lease:
        AftersalesRefund.objects.filter(
            pk=refund.pk, status=RefundStatus.PENDING
        ).update(
            gateway_reference=paid.id,
            lease_until=None,
            next_attempt_at=timezone.now() + timedelta(seconds=retry_delay(1)),
        )
    return False


def _pay_with_saleor_gateway(refund: AftersalesRefund, payment) -> None:
    if refund.attempts > 1:
        # Saleor records its transaction together with the payment: an interrupted
        # attempt that got that far is adopted, never paid again.
        txn = host.refund_transaction_since(
            payment,
            refund.first_attempt_at,
            refund.amount,
            exclude=_linked_transactions(payment),
        )
        if txn is not None:
            _record_success(refund, txn)
            return
    # A fresh read of the payment: Saleor writes captured_amount back from it.
    payment = host.Payment.objects.get(pk=payment.pk)
    try:
        txn = host.refund_payment(payment, refund.amount)
    except host.PaymentError as exc:
        fail(refund, str(exc) or "The payment gateway refused the refund.")
        return
    _record_success(refund, txn)


def _linked_transactions(payment) -> list:
    """Saleor transactions already accounted to a refund row (not to be adopted)."""
    return list(
        AftersalesRefund.objects.filter(
            payment=payment, transaction__isnull=False
        ).values_list("transaction_id", flat=True)
    )


def _postpone(refund: AftersalesRefund, error: str) -> float:
    wait = retry_delay(refund.attempts)
    AftersalesRefund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        error=error[:2000],
        lease_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
    )
    return wait


def _lock_pending(refund: AftersalesRefund) -> Optional[AftersalesRefund]:
    """The row under a lock if still PENDING. Its claim is locked first: every
    writer of a refund's outcome takes claim, then row, then payment, the order
    in which the reservation takes claim, order and payment."""
    workflow.lock_claim(refund.request_id)
    locked = AftersalesRefund.objects.select_for_update().get(pk=refund.pk)
    return locked if locked.status == RefundStatus.PENDING else None


def succeed(refund: AftersalesRefund, *, reference: str, raw: dict) -> bool:
    """Money moved outside Saleor's gateway code (Stripe): Saleor's REFUND
    transaction, the row and the claim's units in one transaction."""
    return _settle(refund, reference=reference, raw=raw)


def _record_success(refund: AftersalesRefund, txn) -> None:
    """Saleor's gateway code paid and wrote its transaction: the row and the
    claim's units, in one transaction."""
    _settle(refund, txn=txn)


def _settle(refund: AftersalesRefund, *, txn=None, reference="", raw=None) -> bool:
    """SUCCESS and the units it pays for, together: a refund quoted at any moment
    sees either the row PENDING or the row and its units settled, so it can't
    pay them again. If this transaction fails, the row stays PENDING and the next
    attempt adopts what the gateway did (the sweeper, once the lease runs out)."""
    with transaction.atomic():
        locked = _lock_pending(refund)
        if locked is None:
            return False  # another road (webhook, rerun) recorded it first
        if txn is None:
            payment = host.lock_payment(locked.payment_id)
            txn = host.record_gateway_refund(payment, locked.amount, reference, raw)
        _mark_succeeded(locked, txn, reference or txn.token or "")
        by = actor_of(locked)
        workflow.record_refund(locked.request, locked, by=by)
        host.order_refunded(txn.payment, locked.amount, by.staff_user)
    return True


def _mark_succeeded(refund: AftersalesRefund, txn, reference: str) -> None:
    refund.status = RefundStatus.SUCCESS
    refund.transaction = txn
    refund.gateway_reference = reference
    refund.error = ""
    refund.completed_at = timezone.now()
    refund.lease_until = None
    refund.save(
        update_fields=[
            "status",
            "transaction",
            "gateway_reference",
            "error",
            "completed_at",
            "lease_until",
        ]
    )


def fail(refund: AftersalesRefund, error: str, reference: str = "") -> bool:
    """The gateway said no: FAILED for good (retry with a new key), with an event
    and a webhook."""
    with transaction.atomic():
        locked = _lock_pending(refund)
        if locked is None:
            return False
        locked.status = RefundStatus.FAILED
        locked.error = error[:2000]
        locked.gateway_reference = reference or locked.gateway_reference
        locked.completed_at = timezone.now()
        locked.lease_until = None
        locked.save(
            update_fields=[
                "status",
                "error",
                "gateway_reference",
                "completed_at",
                "lease_until",
            ]
        )
        workflow.record_refund_failure(locked.request, locked, by=actor_of(locked))
    return True


def reconcile_stripe_refund(paid: "stripe_refunds.StripeRefund") -> str:
    """Apply what Stripe reports of one of its refunds (webhook), once.

    Ours (named by metadata or reference) are settled or failed if still PENDING;
    a refund made in Stripe's dashboard on a claim's payment is recorded on the
    order's latest claim and on Saleor's payment. Returns what was done.
    """
    refund = _row_for_stripe_refund(paid)
    if refund is not None:
        if refund.amount != paid.amount or refund.currency != paid.currency:
            logger.warning("Stripe refund %s: amount differs from ours", paid.id)
            return "mismatch"
        if refund.status == RefundStatus.SUCCESS and (
            paid.status in stripe_refunds.FAILED_STATUSES
        ):
            return "flagged" if _flag_disagreement(refund, paid) else "unchanged"
        if refund.status == RefundStatus.FAILED and (
            paid.status == stripe_refunds.SUCCEEDED
        ):
            return "flagged" if _flag_disagreement(refund, paid) else "unchanged"
        if refund.status != RefundStatus.PENDING:
            return "unchanged"
        changed = apply_stripe_outcome(refund, paid, release_lease=False)
        return "updated" if changed else "unchanged"
    if paid.status != stripe_refunds.SUCCEEDED or paid.amount <= 0:
        return "ignored"
    payment = host.stripe_payment_by_intent(paid.payment_intent)
    request = (
        AftersalesRequest.objects.filter(order_id=payment.order_id)
        .order_by("-pk")
        .first()
        if payment is not None
        else None
    )
    if request is None:
        return "ignored"  # not a claim's payment: Saleor's business alone
    if payment.currency != paid.currency:
        return "mismatch"
    if host.saleor_recorded_stripe_refund(
        payment, paid.id, paid.amount, exclude=_linked_transactions(payment)
    ):
        return "ignored"  # refunded through Saleor itself, already on its payment
    return _record_external_refund(request, payment, paid)


FLAG = "Stripe reports this refund"


def _flag_disagreement(refund: AftersalesRefund, paid) -> bool:
    """Stripe's outcome differs from the recorded one: a refund that succeeded
    failed later (the card was closed; the money is back with the shop), or one
    recorded FAILED was paid after all. The desk is told, once; units and payment
    are left as they are, since what the customer is owed is the desk's call."""
    with transaction.atomic():
        workflow.lock_claim(refund.request_id)
        locked = AftersalesRefund.objects.select_for_update().get(pk=refund.pk)
        if locked.error.startswith(FLAG):
            return False
        if locked.status == RefundStatus.SUCCESS:
            fact = "the money is back with the shop"
        else:
            fact = "the money went to the customer although recorded failed"
        locked.error = (
            f"{FLAG} {paid.status}"
            + (f" ({paid.failure_reason})" if paid.failure_reason else "")
            + f": {fact}; review it."
        )
        locked.save(update_fields=["error"])
        workflow.record_refund_failure(locked.request, locked, by=actor_of(locked))
    return True


def _row_for_stripe_refund(paid) -> Optional[AftersalesRefund]:
    named = str(paid.metadata.get(stripe_refunds.METADATA_REFUND, ""))
    refund = None
    if re.fullmatch(r"[0-9]{1,18}", named):
        refund = (
            AftersalesRefund.objects.filter(
                pk=int(named), payment__gateway=host.STRIPE_GATEWAY
            )
            .select_related("payment", "request")
            .first()
        )
        # Metadata is only a claim: the refund must be of that row's own intent.
        if refund is not None and (
            host.stripe_payment_intent(refund.payment) != paid.payment_intent
        ):
            refund = None
    if refund is None and paid.id:
        refund = (
            AftersalesRefund.objects.filter(
                gateway_reference=paid.id, payment__gateway=host.STRIPE_GATEWAY
            )
            .select_related("payment", "request")
            .first()
        )
    return refund


def _record_external_refund(request, payment, paid) -> str:
    with transaction.atomic():
        workflow.lock_claim(request.pk)
        payment = host.lock_payment(payment.pk)
        refund, created = AftersalesRefund.objects.get_or_create(
            idempotency_key=system_key("stripe", paid.id),
            defaults={
                "request": request,
                "payment": payment,
                "amount": paid.amount,
                "currency": payment.currency,
                "status": RefundStatus.SUCCESS,
                "gateway_reference": paid.id,
                "actor_type": workflow.Actor.system().type,
                "completed_at": timezone.now(),
            },
        )
        if not created:
            return "unchanged"
        refund.transaction = host.record_gateway_refund(
            payment, paid.amount, paid.id, paid.raw
        )
        refund.save(update_fields=["transaction"])
        host.order_refunded(payment, paid.amount, None)
        workflow.record_external_refund(request, refund)
    return "recorded"


def due_refunds(limit: int = 500):
    """PENDING refunds whose task was lost or whose worker died (the sweeper's list)."""
    now = timezone.now()
    return list(
        AftersalesRefund.objects.filter(status=RefundStatus.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def settle_exchange(
    request: AftersalesRequest, *, by: workflow.Actor, settings: AftersalesSettings
) -> Tuple[AftersalesRequest, Optional[AftersalesRefund]]:
    """Send the replacement; refund the difference of a cheaper one, once.

    Each attempt at the difference has its own key; only one can succeed, since a
    success resolves the claim.
    """
    change = workflow.fulfill_exchange(request, by=by, settings=settings)
    difference = change.extra["difference"]
    if not difference:
        return change.request, None
    attempt = change.request.refunds.filter(status=RefundStatus.FAILED).count()
    refund = refund_request(
        change.request,
        by=by,
        settings=settings,
        amount=difference,
        idempotency_key=system_key("exchange", request.pk, "difference", attempt),
        quote=RefundQuote(
            line_quantities={},
            goods_amount=difference,
            restocking_fee_amount=Decimal("0"),
            shipping_amount=Decimal("0"),
        ),
    )
    return change.request, refund
