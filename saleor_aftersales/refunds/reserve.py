"""Step 1: the PENDING row, committed under locks on the claim, the order and
the payment before any outside call (or, for store credit, the gift card issued in
the same transaction); then the task is queued.
"""

import logging
import uuid
from datetime import timedelta
from decimal import Decimal, ROUND_HALF_UP
from typing import Optional, Tuple

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import dispatch, workflow
from ..port import host
from ..enums import RefundMethod, RefundStatus
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesRefund, AftersalesRequest
from ..settings import AftersalesSettings
from .quote import CENT, RefundQuote, checked_offer, validate_arguments

logger = logging.getLogger(__name__)


# Keys the plugin makes for itself; the API refuses them from callers.
SYSTEM_KEY_PREFIX = "aftersales:"


def system_key(*parts) -> str:
    return SYSTEM_KEY_PREFIX + ":".join(str(part) for part in parts)


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
            "idempotency_key",
            "This key was used for a different refund.",
            Code.IDEMPOTENCY_KEY_REUSED,
        )
    return existing


def reserve_refund(
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
        offer = checked_offer(
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
                    payment_ref=host.payment_ref(payment),
                    method=method,
                    amount=amount,
                    currency=payment.currency,
                    goods_amount=quote.goods_amount,
                    shipping_amount=quote.shipping_amount,
                    restocking_fee_amount=quote.restocking_fee_amount,
                    line_quantities=quote.line_quantities,
                    idempotency_key=idempotency_key,
                    created_by_ref=by.user_ref,
                    created_by_app_ref=by.app_ref,
                    actor_type=by.type,
                )
        except IntegrityError:
            # The same key, used at this very moment for another claim's refund.
            raise _error(
                "idempotency_key",
                "This key is being used for another refund.",
                Code.IDEMPOTENCY_KEY_REUSED,
            )
        if method == RefundMethod.STORE_CREDIT:
            _issue_store_credit(refund, request, by=by, settings=settings)
        return refund, True


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
    card = host.issue_gift_card(
        host.user_by_ref(request.customer_ref), credit, refund.currency, end_date
    )
    refund.gift_card_ref = host.ref(card.pk)
    refund.credit_amount = credit
    refund.status = RefundStatus.SUCCESS
    refund.completed_at = timezone.now()
    refund.save(
        update_fields=["gift_card_ref", "credit_amount", "status", "completed_at"]
    )
    host.note_store_credit(request.order.host_id, refund.amount, refund.currency)
    host.order_changed(request.order.host_id)
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
    validate_arguments(amount, restocking_fee_percent, idempotency_key)
    refund, created = reserve_refund(
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
