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

By seam: ``quote`` (what may be paid), ``reserve`` (step 1), ``worker`` (steps 2
and 3), ``reconcile`` (Stripe's word); callers use the names below.
"""

from .quote import (  # noqa: F401
    CENT,
    MAX_AMOUNT,
    MAX_KEY_LENGTH,
    REFUNDABLE_STATUSES,
    RefundOffer,
    RefundQuote,
    check_refundable,
    checked_offer,
    committed_units,
    preview,
    quote_refund,
    store_credited,
    validate_arguments,
)
from .reserve import (  # noqa: F401
    SYSTEM_KEY_PREFIX,
    refund_request,
    refund_returnless,
    reserve_refund,
    settle_exchange,
    system_key,
)
from .worker import (  # noqa: F401
    actor_of,
    apply_stripe_outcome,
    due_refunds,
    fail,
    lease,
    linked_transactions,
    lock_pending,
    pay,
    retry_delay,
    succeed,
)
from .reconcile import (  # noqa: F401
    FLAG,
    reconcile_stripe_refund,
)
