"""Who calls the app: Saleor's own tokens, verified offline against the shop's
keys. Shoppers by their access token; staff by the token the Dashboard hands to
the app's pages, with MANAGE_ORDERS for the desk; nothing else."""

import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from saleor_aftersales.hosts.saleor3.identity import NotAuthenticated, viewer_from_token

from .test_install import b64

pytestmark = pytest.mark.django_db(transaction=True)

APP_TOKEN = "query($id: ID!) { app(id: $id) { accessToken } }"


def hs256_with_public_key(claims, kid, private_key) -> str:
    """The algorithm-confusion forgery: an HMAC keyed with the public key's PEM,
    which anyone can fetch from the JWKS."""
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(
        public_pem, f"{header}.{payload}".encode(), hashlib.sha256
    ).digest()
    return f"{header}.{payload}.{b64(signature)}"


@pytest.fixture(scope="session")
def accounts(saleor):
    saleor.create_customer("shopper@example.com", "shopper")
    saleor.create_staff("clerk@example.com", "clerk", permissions=["manage_products"])
    return {
        "customer": saleor.token("shopper@example.com", "shopper"),
        "clerk": saleor.token("clerk@example.com", "clerk"),
    }


def dashboard_token(saleor, shop, staff_token):
    """What the Dashboard hands to the app's pages for the signed-in staff."""
    data = saleor.graphql(APP_TOKEN, {"id": shop.app_id}, token=staff_token)
    token = ((data.get("data") or {}).get("app") or {}).get("accessToken")
    assert token, data
    return token


def test_a_shopper_is_who_their_access_token_names(installed, accounts):
    viewer = viewer_from_token(installed, accounts["customer"])
    assert viewer.email == "shopper@example.com" and viewer.user_ref
    assert not viewer.is_staff and not viewer.may_manage_orders
    # A staff member's storefront token is a shopper's too.
    assert not viewer_from_token(installed, accounts["clerk"]).is_staff


def test_staff_on_the_apps_pages_need_manage_orders(saleor, installed, accounts):
    admin = viewer_from_token(
        installed, dashboard_token(saleor, installed, saleor.staff_token)
    )
    assert admin.is_staff and admin.may_manage_orders
    assert admin.email == "admin@example.com"
    clerk = viewer_from_token(
        installed, dashboard_token(saleor, installed, accounts["clerk"])
    )
    assert clerk.is_staff and "MANAGE_PRODUCTS" in clerk.permissions
    assert not clerk.may_manage_orders


def test_forged_expired_and_foreign_tokens_are_refused(saleor, installed, accounts):
    key = serialization.load_pem_private_key(
        saleor.env["RSA_PRIVATE_KEY"].encode(), password=None
    )
    kid = installed.jwks["keys"][0]["kid"]
    now = int(time.time())
    claims = {
        "type": "access",
        "user_id": "VXNlcjox",
        "email": "admin@example.com",
        "is_staff": True,
        "iat": now,
        "exp": now + 300,
        "iss": saleor.url,
    }

    def signed(changes=(), signing_key=key, headers=None, algorithm="RS256"):
        return jwt.encode(
            {**claims, **dict(changes)},
            signing_key,
            algorithm=algorithm,
            headers=headers or {"kid": kid},
        )

    # The same claims, signed by Saleor's key: accepted (the control).
    assert viewer_from_token(installed, signed()).email == "admin@example.com"
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    customer = accounts["customer"]
    head, body, signature = customer.split(".")
    forged = {
        "another key": signed(signing_key=other_key),
        "another issuer": signed({"iss": "http://127.0.0.1:9/graphql/"}),
        "expired": signed({"iat": now - 600, "exp": now - 300}),
        "a refresh token": signed({"type": "refresh"}),
        "another app's page token": signed({"type": "thirdparty", "app": "QXBwOjk5"}),
        "HS256 keyed with Saleor's public key": hs256_with_public_key(claims, kid, key),
        "no signature": f"{head}.{body}.",
        "garbage": "not.a.token",
        "empty": "",
        "tampered payload": f"{head}.{body[:-4]}AAAA.{signature}",
    }
    for name, token in forged.items():
        with pytest.raises(NotAuthenticated):
            viewer_from_token(installed, token)
            pytest.fail(name)
