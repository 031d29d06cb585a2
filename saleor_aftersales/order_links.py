"""Sign-in links for guests: a one-time, expiring, signed link to one order.

The link carries the row's nonce and the order, signed with the shop's secret
(``django.core.signing``, its own salt); the row says when it expires and whether
it was used. Redeeming marks it used in the same UPDATE that checks it, so two
clicks at once open the order once. Links point at the portal with the token in
the fragment (``#signin=…``): browsers send fragments neither to servers (their
logs) nor in ``Referer`` headers; the portal trades it for the order's guest
proof with a POST and drops it from the address bar.
"""

from datetime import timedelta
from typing import Optional
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from .models import OrderLink, ShopOrder
from .port import host

SALT = "saleor_aftersales.order_link"


def lifetime() -> timedelta:
    return timedelta(minutes=getattr(settings, "AFTERSALES_ORDER_LINK_MINUTES", 60))


def create(order: ShopOrder, *, valid_for: Optional[timedelta] = None) -> OrderLink:
    return OrderLink.objects.create(
        order=order, expires_at=timezone.now() + (valid_for or lifetime())
    )


def token(link: OrderLink) -> str:
    return signing.dumps({"n": str(link.nonce), "o": link.order_id}, salt=SALT)


def portal_url(portal_address: str = "") -> str:
    """The shoppers' page e-mails link to: the shop's own address for it, else
    this server's."""
    if portal_address:
        return portal_address
    base = (
        getattr(settings, "AFTERSALES_PUBLIC_URL", "") or f"http://{host.shop_domain()}"
    )
    return urljoin(base.rstrip("/") + "/", reverse("aftersales-portal").lstrip("/"))


def url(link: OrderLink, portal_address: str = "") -> str:
    return f"{portal_url(portal_address)}#signin={token(link)}"


def redeem(value: str) -> Optional[ShopOrder]:
    """The order a valid, unused, unexpired link opens, marking it used; None
    otherwise (whatever the reason: the answer tells a guesser nothing)."""
    try:
        payload = signing.loads(value, salt=SALT)
        nonce, order_pk = payload["n"], int(payload["o"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    try:
        used = OrderLink.objects.filter(
            nonce=nonce,
            order_id=order_pk,
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).update(used_at=timezone.now())
    except ValidationError:
        return None
    if not used:
        return None
    return ShopOrder.objects.filter(pk=order_pk).first()
