"""What Stripe reports of its refunds (the webhook): our rows settled or failed,
disagreements flagged to the desk, refunds made in Stripe's dashboard recorded.
"""

import logging
import re
from typing import Optional

from django.db import transaction
from django.utils import timezone

from .. import stripe_refunds, workflow
from ..port import host
from ..enums import RefundStatus
from ..models import AftersalesRefund, AftersalesRequest
from .reserve import system_key
from .worker import actor_of, apply_stripe_outcome, linked_transactions

logger = logging.getLogger(__name__)


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
        AftersalesRequest.objects.filter(order__host_id=host.ref(payment.order_id))
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
        payment, paid.id, paid.amount, exclude=linked_transactions(payment)
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
            AftersalesRefund.objects.filter(pk=int(named))
            .select_related("request")
            .first()
        )
        # Metadata is only a claim: the refund must be of that row's own intent.
        payment = _stripe_payment_of(refund)
        if (
            payment is None
            or host.stripe_payment_intent(payment) != paid.payment_intent
        ):
            refund = None
    if refund is None and paid.id:
        refund = (
            AftersalesRefund.objects.filter(gateway_reference=paid.id)
            .select_related("request")
            .first()
        )
        if _stripe_payment_of(refund) is None:
            refund = None
    return refund


def _stripe_payment_of(refund: Optional[AftersalesRefund]):
    """The refund's payment, if it is a Stripe payment."""
    if refund is None or not refund.payment_ref:
        return None
    payment = host.payment_by_ref(refund.payment_ref)
    return (
        payment if payment is not None and stripe_refunds.is_stripe(payment) else None
    )


def _record_external_refund(request, payment, paid) -> str:
    with transaction.atomic():
        workflow.lock_claim(request.pk)
        payment = host.lock_payment(host.payment_ref(payment))
        refund, created = AftersalesRefund.objects.get_or_create(
            idempotency_key=system_key("stripe", paid.id),
            defaults={
                "request": request,
                "payment_ref": host.payment_ref(payment),
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
        recorded = host.record_gateway_refund(payment, paid.amount, paid.id, paid.raw)
        refund.transaction_ref = host.ref(recorded.pk)
        refund.save(update_fields=["transaction_ref"])
        host.order_refunded(payment, paid.amount, None)
        workflow.record_external_refund(request, refund)
    return "recorded"
