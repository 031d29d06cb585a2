"""A guest opens their order by a one-time link sent to the order's e-mail.

Asking for a link answers the same whatever the order (found, not found, an
account's, another e-mail): only the order's own mailbox learns anything. The
link's token is traded once for the order's guest proof (its token).
"""

import hashlib

import graphene
from django.core.exceptions import ValidationError
from django.db import transaction

from ... import order_links, throttle
from ...configuration import get_settings
from ...emails import outbox
from ...error_codes import AftersalesErrorCode as Code
from ...error_codes import aftersales_error
from ...orders import save_order
from ..authorize import sees_whole_order
from ..host import api
from .base import AftersalesMutation, clean_language, storable

TOO_MANY = "Too many attempts; try again in a minute."
INVALID_LINK = "This link has expired or was already used; ask for a new one."


def email_key(email: str) -> str:
    """One rate-limit bucket per mailbox however it is written (case, spaces);
    hashed, so Redis holds no addresses."""
    # Upper case first, as PostgreSQL compares them (iexact): "ı" is "I" there,
    # so it must share the bucket of "i".
    folded = (email or "").strip().upper().casefold()
    return hashlib.sha256(folded.encode()).hexdigest()[:32]


def send_link(info, number: str, email: str, language: str = "") -> None:
    """E-mail a sign-in link if ``number`` and ``email`` match a guest order;
    raise THROTTLED over the budget (per client, per mailbox); otherwise say
    nothing either way."""
    limit = get_settings().verifications_per_minute
    client = throttle.client_id(info.context)
    if not throttle.allow(throttle.ORDER_LOOKUP, client, limit):
        raise aftersales_error(None, TOO_MANY, Code.THROTTLED)
    # Per mailbox too: many clients guessing one customer's order numbers.
    if not throttle.allow(throttle.ORDER_LOOKUP_EMAIL, email_key(email), limit):
        raise aftersales_error(None, TOO_MANY, Code.THROTTLED)
    # Accounts' orders are found by signing in: for them this does nothing, as
    # for no order at all.
    found = api.guest_order(number, email)
    if found is None:
        return
    order = api.order_by_token(str(found[0]))
    if order is None:
        return
    facts = api.order_facts(order)
    if facts.customer_ref or not facts.guest_token or not facts.user_email:
        return
    with transaction.atomic():
        link = order_links.create(save_order(facts))
        # The order's own address, never the one typed: they match but for case.
        outbox.for_order_link(link, facts.user_email, language)


def clean_lookup(data) -> None:
    for name in ("number", "email"):
        value = data.get(name) or ""
        if "\x00" in value or len(value) > 254 or not storable(value):
            raise aftersales_error(
                name, "At most 254 characters, without NUL bytes.", Code.INVALID
            )


class AftersalesOrderLinkSend(AftersalesMutation):
    class Arguments:
        number = graphene.String(required=True, description="The order's number.")
        email = graphene.String(required=True, description="The order's e-mail.")
        language = graphene.String(
            description="The e-mail's language: en or zh-hans; default: the shop's."
        )

    class Meta:
        description = (
            "E-mail a one-time sign-in link to a guest order's address if the "
            "number and e-mail match one (throttled per client and per e-mail). "
            "The answer is the same whether or not they do."
        )

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        clean_lookup(data)
        language = clean_language(data)
        send_link(info, data["number"], data["email"], language)
        return cls.success()


class AftersalesOrderLinkRedeem(AftersalesMutation):
    order_token = graphene.UUID(description="The order's token, to act as its guest.")
    order_number = graphene.String(description="The order's number.")
    order = graphene.Field(
        api.OrderType,
        description="The order as Saleor shows it, to staff; null to a guest (see "
        "aftersalesEligibility with the token).",
    )

    class Arguments:
        token = graphene.String(required=True, description="The link's token.")

    class Meta:
        description = (
            "Trade a sign-in link's token for its order's guest token, once and "
            "before it expires; INVALID_LINK otherwise."
        )

    @classmethod
    def perform_mutation(cls, _root, info, **data):
        value = data.get("token") or ""
        copy = None
        if len(value) <= 512 and storable(value) and "\x00" not in value:
            copy = order_links.redeem(value)
        if copy is None or not copy.guest_token or copy.customer_ref:
            raise ValidationError(INVALID_LINK, code=Code.INVALID_LINK.value)
        host_order = api.order_by_token(copy.guest_token)
        return cls.success(
            order_token=copy.guest_token,
            order_number=copy.number,
            order=host_order if sees_whole_order(info, copy) else None,
        )
