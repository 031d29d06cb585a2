"""Saleor signs each webhook body with the shop's RSA key: a JWS with a detached,
unencoded payload (RFC 7797, header ``b64: false``) in the ``Saleor-Signature``
header, verified here against the shop's published keys (its JWKS), cached and
fetched again, at most once a minute, when a signature names a key id the cache
doesn't have (Saleor rotated its key)."""

import base64
import json
import logging
from datetime import timedelta

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from jwt.algorithms import RSAAlgorithm

from .models import SaleorShop

logger = logging.getLogger(__name__)


class BadSignature(Exception):
    pass


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(shop: SaleorShop, key_id: str):
    for jwk in (shop.jwks or {}).get("keys", []):
        if jwk.get("kid") == key_id:
            return RSAAlgorithm.from_jwk(json.dumps(jwk))
    return None


def signing_key(shop: SaleorShop, key_id: str):
    """The shop's public key ``key_id``, fetching the keys again (at most once a
    minute) when the cache doesn't have it; None if the shop has no such key."""
    key = _key(shop, key_id)
    if key is None:
        try:
            refreshed = refresh_keys(shop)
        except (requests.RequestException, ValueError) as error:
            logger.warning("Could not fetch the keys of %s: %s", shop.api_url, error)
            refreshed = False
        if refreshed:
            key = _key(shop, key_id)
    return key


def refresh_keys(shop: SaleorShop, *, force: bool = False) -> bool:
    """Fetch the shop's JWKS again, unless it was fetched within the minute."""
    now = timezone.now()
    if not force:
        # Claim this minute's refresh first: concurrent or repeated requests with
        # unknown key ids (forgeries) cause one fetch a minute at most, even
        # while Saleor's key endpoint fails.
        due = Q(jwks_fetched_at__isnull=True) | Q(
            jwks_fetched_at__lt=now - timedelta(seconds=settings.JWKS_REFRESH_SECONDS)
        )
        if not SaleorShop.objects.filter(due, pk=shop.pk).update(jwks_fetched_at=now):
            return False
    response = requests.get(
        shop.jwks_url, timeout=settings.SALEOR_TIMEOUT_SECONDS, allow_redirects=False
    )
    response.raise_for_status()
    shop.jwks = response.json()
    shop.jwks_fetched_at = now
    shop.save(update_fields=["jwks", "jwks_fetched_at"])
    return True


def verify(shop: SaleorShop, body: bytes, signature: str) -> None:
    """Raise BadSignature unless ``signature`` signs ``body`` with the shop's key."""
    parts = (signature or "").split(".")
    if len(parts) != 3 or parts[1] != "":
        raise BadSignature("not a detached JWS")
    try:
        header = json.loads(_b64decode(parts[0]))
        signed = _b64decode(parts[2])
    except (ValueError, TypeError):
        raise BadSignature("unreadable JWS")
    if (
        not isinstance(header, dict)
        or header.get("alg") != "RS256"
        or header.get("b64") is not False
        or not isinstance(header.get("kid"), str)
    ):
        raise BadSignature("unexpected JWS header")
    key = signing_key(shop, header["kid"])
    if key is None:
        raise BadSignature("unknown key")
    try:
        key.verify(
            signed,
            parts[0].encode() + b"." + body,
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except InvalidSignature:
        raise BadSignature("signature does not match")
