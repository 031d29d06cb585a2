"""Refunds of Stripe payments through Stripe's Refunds API.

Saleor 2.10's Stripe gateway refunds with ``Charge.refund``, with no idempotency key
and no metadata: a worker that dies after Stripe paid and before the database
recorded it would pay again on its next run. Here each refund names its row in its
metadata and carries an idempotency key derived from the row; a repeated attempt
first looks among the payment intent's refunds for the one an earlier attempt made
and adopts it. Stripe forgets idempotency keys after a day; the metadata it keeps.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import stripe
from django.conf import settings

from .port import host

METADATA_REFUND = "aftersales_refund"
METADATA_REQUEST = "aftersales_request"

SUCCEEDED = "succeeded"
PENDING = "pending"
FAILED_STATUSES = ("failed", "canceled")


# Stripe counts amounts in a currency's smallest unit: hundredths, except in these
# currencies, which it counts in whole units (as Saleor's Stripe gateway does).
ZERO_DECIMAL_CURRENCIES = frozenset(
    "BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)


def _units_per_whole(currency: str) -> int:
    return 1 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 100


def to_stripe_amount(amount: Decimal, currency: str) -> int:
    """``amount`` (a Decimal in ``currency``) as Stripe's integer."""
    return int((amount * _units_per_whole(currency)).to_integral_value())


def from_stripe_amount(amount: int, currency: str) -> Decimal:
    """Stripe's integer ``amount`` as a Decimal in ``currency``."""
    return Decimal(amount) / _units_per_whole(currency)


class Transient(Exception):
    """Stripe could not be reached or answered 429/5xx: whether the refund was made
    is unknown, so the same refund is tried again later, never failed."""


class Refused(Exception):
    """Stripe's definite no (invalid request, card error, authentication)."""


@dataclass
class StripeRefund:
    id: str
    status: str
    amount: Decimal
    currency: str
    payment_intent: str
    failure_reason: str
    metadata: dict
    raw: dict

    @classmethod
    def from_stripe(cls, obj, payment_intent: str = "") -> "StripeRefund":
        currency = str(obj.get("currency") or "").upper()
        return cls(
            id=str(obj.get("id") or ""),
            status=str(obj.get("status") or ""),
            amount=from_stripe_amount(int(obj.get("amount") or 0), currency),
            currency=currency,
            payment_intent=str(obj.get("payment_intent") or payment_intent or ""),
            failure_reason=str(obj.get("failure_reason") or ""),
            metadata=dict(obj.get("metadata") or {}),
            raw=_plain(obj),
        )


def _plain(obj) -> dict:
    to_dict = getattr(obj, "to_dict_recursive", None)
    return to_dict() if to_dict else dict(obj)


def is_stripe(payment) -> bool:
    return payment.gateway == host.STRIPE_GATEWAY


@contextmanager
def _sorted_errors():
    """Stripe's errors sorted into passing (Transient) and final (Refused)."""
    try:
        yield
    except (stripe.error.APIConnectionError, stripe.error.RateLimitError) as exc:
        raise Transient(str(exc) or type(exc).__name__) from exc
    except stripe.error.IdempotencyError as exc:
        # Our keys are fixed per row: a conflict means another attempt is in flight.
        raise Transient(f"Stripe: {exc}") from exc
    except stripe.error.StripeError as exc:
        # 409: a request with the same idempotency key is still running at Stripe.
        if exc.http_status is None or exc.http_status >= 500 or exc.http_status == 409:
            raise Transient(f"Stripe answered {exc.http_status}: {exc}") from exc
        message = exc.user_message or str(exc) or type(exc).__name__
        raise Refused(f"Stripe refused ({exc.http_status}): {message}") from exc


def _call(method, **params):
    """One Stripe API call with the shop's key."""
    api_base = getattr(settings, "AFTERSALES_STRIPE_API_BASE", None)
    if api_base:
        stripe.api_base = api_base
    with _sorted_errors():
        return method(api_key=host.stripe_secret_key(), **params)


def find(payment, refund) -> Optional[StripeRefund]:
    """The Stripe refund an earlier attempt made for ``refund``, if any."""
    intent = host.stripe_payment_intent(payment)
    listing = _call(stripe.Refund.list, payment_intent=intent, limit=100)
    with _sorted_errors():  # later pages are fetched while iterating
        for item in listing.auto_paging_iter():
            if (item.get("metadata") or {}).get(METADATA_REFUND) == str(refund.pk):
                return StripeRefund.from_stripe(item, intent)
    return None


def create(payment, refund) -> StripeRefund:
    intent = host.stripe_payment_intent(payment)
    if not intent:
        raise Refused("The payment has no captured Stripe payment intent.")
    item = _call(
        stripe.Refund.create,
        payment_intent=intent,
        amount=to_stripe_amount(refund.amount, refund.currency),
        metadata={
            METADATA_REFUND: str(refund.pk),
            METADATA_REQUEST: refund.request.number,
        },
        idempotency_key=f"saleor-aftersales-refund-{refund.pk}",
    )
    return StripeRefund.from_stripe(item, intent)
