"""Steps 2 and 3, in the worker: the row leased, the gateway called outside any
transaction, and the outcome written together with the units it settles.
"""

from datetime import timedelta
from typing import Optional

from django.conf import settings as django_settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .. import stripe_refunds, workflow
from ..port import RefundPending, host
from ..enums import RefundStatus
from ..models import AftersalesRefund


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
    return AftersalesRefund.objects.select_related("request").get(pk=refund_pk)


def actor_of(refund: AftersalesRefund) -> workflow.Actor:
    return workflow.Actor.from_refs(
        refund.actor_type, refund.created_by_ref, refund.created_by_app_ref
    )


def pay(refund_pk: int) -> Optional[float]:
    """Pay one PENDING refund (the Celery task's body).

    Returns the seconds to wait before trying again after a passing error or
    while the gateway settles, or None when there is nothing more to do here.
    """
    refund = _take_lease(refund_pk)
    if refund is None:
        return None
    payment = host.payment_by_ref(refund.payment_ref)
    if stripe_refunds.is_stripe(payment):
        return _pay_with_stripe(refund, payment)
    return _pay_with_saleor_gateway(refund, payment)


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


def _pay_with_saleor_gateway(refund: AftersalesRefund, payment) -> Optional[float]:
    if refund.attempts > 1:
        # Saleor records its transaction together with the payment: an interrupted
        # attempt that got that far is adopted, never paid again.
        txn = host.refund_transaction_since(
            payment,
            refund.first_attempt_at,
            refund.amount,
            exclude=linked_transactions(payment),
        )
        if txn is not None:
            _record_success(refund, txn)
            return None
        # A fresh read after the search: Saleor writes captured_amount back
        # from the object it is given.
        payment = host.payment_by_ref(refund.payment_ref)
    try:
        txn = host.refund_payment(payment, refund.amount)
    except RefundPending as pending:
        # The gateway settles later: a later attempt (the sweeper) looks again.
        return _postpone(refund, str(pending))
    except host.PaymentError as exc:
        fail(refund, str(exc) or "The payment gateway refused the refund.")
        return None
    _record_success(refund, txn)
    return None


def linked_transactions(payment) -> list:
    """Saleor transactions already accounted to a refund row (not to be adopted)."""
    return list(
        AftersalesRefund.objects.filter(payment_ref=host.payment_ref(payment))
        .exclude(transaction_ref="")
        .values_list("transaction_ref", flat=True)
    )


def _postpone(refund: AftersalesRefund, error: str) -> float:
    wait = retry_delay(refund.attempts)
    AftersalesRefund.objects.filter(pk=refund.pk, status=RefundStatus.PENDING).update(
        error=error[:2000],
        lease_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=wait),
    )
    return wait


def lock_pending(refund: AftersalesRefund) -> Optional[AftersalesRefund]:
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
        locked = lock_pending(refund)
        if locked is None:
            return False  # another road (webhook, rerun) recorded it first
        if txn is None:
            payment = host.lock_payment(locked.payment_ref)
            txn = host.record_gateway_refund(payment, locked.amount, reference, raw)
        _mark_succeeded(locked, txn, reference or txn.token or "")
        by = actor_of(locked)
        workflow.record_refund(locked.request, locked, by=by)
        host.order_refunded(txn.payment, locked.amount, by.staff_user)
    return True


def _mark_succeeded(refund: AftersalesRefund, txn, reference: str) -> None:
    refund.status = RefundStatus.SUCCESS
    refund.transaction_ref = host.ref(txn.pk)
    refund.gateway_reference = reference
    refund.error = ""
    refund.completed_at = timezone.now()
    refund.lease_until = None
    refund.save(
        update_fields=[
            "status",
            "transaction_ref",
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
        locked = lock_pending(refund)
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
