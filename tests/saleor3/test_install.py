"""Installing the app into a real Saleor 3.23, and the doors Saleor knocks on:
registration keeps a token only if it works, webhooks count only when the shop's
key signed them, uninstalling forgets the shop."""

import base64
import json
import logging
from datetime import datetime, timezone

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.management import call_command

from saleor_aftersales.hosts.saleor3.manifest import PERMISSIONS
from saleor_aftersales.hosts.saleor3 import tenancy
from saleor_aftersales.hosts.saleor3.models import SaleorShop

from .conftest import APPS, DELETE, install, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(body: bytes, key, kid: str) -> str:
    header = b64(
        json.dumps({"alg": "RS256", "b64": False, "crit": ["b64"], "kid": kid}).encode()
    )
    signature = key.sign(
        header.encode() + b"." + body, padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{header}..{b64(signature)}"


def test_the_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_the_manifest_names_what_saleor_needs(client, app_url):
    manifest = client.get("/api/manifest").json()
    assert manifest["tokenTargetUrl"] == f"{app_url}/api/register"
    assert set(manifest["permissions"]) == set(PERMISSIONS)
    events = {event for hook in manifest["webhooks"] for event in hook["asyncEvents"]}
    assert {
        "ORDER_UPDATED",
        "ORDER_FULLY_PAID",
        "ORDER_FULFILLED",
        "APP_DELETED",
    } <= events
    assert all(
        hook["targetUrl"] == f"{app_url}/api/webhooks" for hook in manifest["webhooks"]
    )


def test_saleor_installs_the_app_and_the_token_stays_server_side(
    saleor, app_url, caplog
):
    caplog.set_level(logging.DEBUG)
    shop = install(saleor, app_url)
    apps = saleor.graphql(APPS, token=saleor.staff_token)["data"]["apps"]["edges"]
    assert shop.app_id in {edge["node"]["id"] for edge in apps}
    # The token works against that Saleor and nowhere shows up.
    assert (
        saleor.graphql("{ app { id } }", token=shop.token)["data"]["app"]["id"]
        == shop.app_id
    )
    assert shop.token not in caplog.text
    assert shop.token not in repr(shop) and shop.token not in str(shop)
    assert shop.token not in requests.get(f"{app_url}/api/manifest").text
    # The keys to check webhooks with are fetched on registration.
    assert shop.jwks["keys"] and shop.jwks_fetched_at is not None


def test_a_registration_with_a_token_saleor_does_not_know_is_refused(saleor, app_url):
    response = requests.post(
        f"{app_url}/api/register",
        json={"auth_token": "not-a-token-of-this-saleor"},
        headers={"Saleor-Api-Url": saleor.url},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "INVALID_TOKEN"
    assert not SaleorShop.objects.exists()


def test_a_registration_from_another_saleor_is_refused(app_url):
    response = requests.post(
        f"{app_url}/api/register",
        json={"auth_token": "anything"},
        headers={"Saleor-Api-Url": "http://127.0.0.1:9/graphql/"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "SALEOR_NOT_ALLOWED"
    assert not SaleorShop.objects.exists()


def test_unsigned_forged_and_strangers_webhooks_change_nothing(saleor, app_url):
    shop = install(saleor, app_url)
    kid = shop.jwks["keys"][0]["kid"]
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Fresh and well formed: only the signature decides.
    body = json.dumps(
        {
            "__typename": "AppDeleted",
            "issuedAt": datetime.now(timezone.utc).isoformat(),
            "app": {"id": shop.app_id},
        }
    ).encode()
    url = f"{app_url}/api/webhooks"
    cases = {
        "unsigned": ({"Saleor-Api-Url": saleor.url}, 401, "INVALID_SIGNATURE"),
        "forged with Saleor's key id": (
            {
                "Saleor-Api-Url": saleor.url,
                "Saleor-Signature": sign(body, other_key, kid),
            },
            401,
            "INVALID_SIGNATURE",
        ),
        "forged with an unknown key id": (
            {
                "Saleor-Api-Url": saleor.url,
                "Saleor-Signature": sign(body, other_key, "nope"),
            },
            401,
            "INVALID_SIGNATURE",
        ),
        "from a Saleor that never installed it": (
            {
                "Saleor-Api-Url": "http://127.0.0.1:9/graphql/",
                "Saleor-Signature": sign(body, other_key, kid),
            },
            401,
            "UNKNOWN_SALEOR",
        ),
    }
    for name, (headers, status, code) in cases.items():
        response = requests.post(url, data=body, headers=headers)
        assert (response.status_code, response.json()["error"]["code"]) == (
            status,
            code,
        ), name
    # Still installed: the forged AppDeleted removed nothing.
    assert SaleorShop.objects.filter(pk=shop.pk).exists()


def test_uninstalling_in_saleor_forgets_the_shop(saleor, app_url):
    shop = install(saleor, app_url)
    data = saleor.graphql(DELETE, {"id": shop.app_id}, token=saleor.staff_token)
    assert data["data"]["appDelete"]["errors"] == [], data
    # Saleor's signed APP_DELETED, through its worker.
    wait_for(
        lambda: not SaleorShop.objects.filter(pk=shop.pk).exists(),
        what="APP_DELETED reaching the app",
    )


def test_signed_but_stale_or_future_events_change_nothing(saleor, app_url):
    """Signed with the shop's own key (the test holds Saleor's private key), but
    issued too long ago or in the future: refused, the shop stays installed."""
    shop = install(saleor, app_url)
    key = serialization.load_pem_private_key(
        saleor.env["RSA_PRIVATE_KEY"].encode(), password=None
    )
    kid = shop.jwks["keys"][0]["kid"]
    for issued in ("2020-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00", None):
        body = json.dumps({"__typename": "AppDeleted", "issuedAt": issued}).encode()
        response = requests.post(
            f"{app_url}/api/webhooks",
            data=body,
            headers={
                "Saleor-Api-Url": saleor.url,
                "Saleor-Signature": sign(body, key, kid),
            },
        )
        expected = "STALE" if issued else "INVALID_PAYLOAD"
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            expected,
        ), issued
    assert SaleorShop.objects.filter(pk=shop.pk).exists()


def saleor_key(saleor):
    return serialization.load_pem_private_key(
        saleor.env["RSA_PRIVATE_KEY"].encode(), password=None
    )


def post_signed(saleor, app_url, shop, body: bytes):
    return requests.post(
        f"{app_url}/api/webhooks",
        data=body,
        headers={
            "Saleor-Api-Url": saleor.url,
            "Saleor-Signature": sign(
                body, saleor_key(saleor), shop.jwks["keys"][0]["kid"]
            ),
        },
    )


def test_hostile_webhook_bodies_get_clear_errors_and_change_nothing(saleor, app_url):
    """Signed with the shop's key, so only the body's content is wrong."""
    from datetime import datetime, timezone as tz

    from saleor_aftersales.models import ShopOrder

    shop = install(saleor, app_url)
    now = datetime.now(tz.utc).isoformat()
    bodies = {
        b"not json": "INVALID_PAYLOAD",
        b"[1, 2, 3]": "INVALID_PAYLOAD",
        json.dumps({"__typename": "OrderUpdated"}).encode(): "INVALID_PAYLOAD",
        json.dumps(
            {"__typename": "OrderUpdated", "issuedAt": "yesterday"}
        ).encode(): "INVALID_PAYLOAD",
        json.dumps(
            {"__typename": "OrderUpdated", "issuedAt": "2026-12-01T10:00:00"}
        ).encode(): "INVALID_PAYLOAD",
        json.dumps(
            {"__typename": "OrderUpdated", "issuedAt": now, "order": None}
        ).encode(): "INVALID_PAYLOAD",
        json.dumps(
            {"__typename": "OrderUpdated", "issuedAt": now, "order": {"id": "x"}}
        ).encode(): "INVALID_PAYLOAD",
        json.dumps(
            {"__typename": "CheckoutCreated", "issuedAt": now}
        ).encode(): "UNKNOWN_EVENT",
        # A whole order whose shipment line lacks its id: refused before any
        # of it is copied.
        json.dumps(
            {
                "__typename": "OrderFulfilled",
                "issuedAt": now,
                "order": {
                    "id": "T3JkZXI6eA==",
                    "number": "9",
                    "status": "FULFILLED",
                    "userEmail": "",
                    "created": now,
                    "updatedAt": now,
                    "user": None,
                    "channel": {"slug": "default-channel"},
                    "total": {"gross": {"amount": 1, "currency": "USD"}},
                    "shippingPrice": {"gross": {"amount": 0}},
                    "lines": [],
                    "fulfillments": [
                        {
                            "status": "FULFILLED",
                            "created": now,
                            "lines": [{"quantity": 1, "orderLine": {"id": "x"}}],
                        }
                    ],
                },
            }
        ).encode(): "INVALID_PAYLOAD",
    }
    for body, code in bodies.items():
        response = post_signed(saleor, app_url, shop, body)
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            code,
        ), body
    with tenancy.serving(shop):
        assert not ShopOrder.objects.exists()
    assert SaleorShop.objects.filter(pk=shop.pk).exists()
    # Signatures that are not JWS at all.
    for signature in ("", "..", "a.b.c", "!!!..!!!", "e30..AAAA", "x" * 10000):
        response = requests.post(
            f"{app_url}/api/webhooks",
            data=b"{}",
            headers={"Saleor-Api-Url": saleor.url, "Saleor-Signature": signature},
        )
        assert (response.status_code, response.json()["error"]["code"]) == (
            401,
            "INVALID_SIGNATURE",
        ), signature


def test_hostile_registrations_are_refused(saleor, app_url):
    for body in (
        b"not json",
        b"[]",
        b'{"auth_token": 5}',
        b'{"auth_token": ""}',
        json.dumps({"auth_token": "x" * 300}).encode(),
    ):
        response = requests.post(
            f"{app_url}/api/register",
            data=body,
            headers={"Saleor-Api-Url": saleor.url, "Content-Type": "application/json"},
        )
        assert (response.status_code, response.json()["error"]["code"]) == (
            400,
            "INVALID_TOKEN",
        ), body
    assert requests.get(f"{app_url}/api/register").status_code == 405
    assert not SaleorShop.objects.exists()


def test_registration_needs_a_named_saleor_and_this_apps_own_token(
    saleor, app_url, settings
):
    settings.SALEOR_API_URLS = []  # nobody named: nobody may install
    response = requests.post(
        f"{app_url}/api/register",
        json={"auth_token": "anything"},
        headers={"Saleor-Api-Url": saleor.url},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "SALEOR_NOT_ALLOWED",
    )
    settings.SALEOR_API_URLS = [saleor.url]
    # Another app's token works on that Saleor, but it is not this app's.
    other = saleor.graphql(
        'mutation { appCreate(input: {name: "Other", permissions: []})'
        " { authToken errors { code message } } }",
        token=saleor.staff_token,
    )["data"]["appCreate"]["authToken"]
    response = requests.post(
        f"{app_url}/api/register",
        json={"auth_token": other},
        headers={"Saleor-Api-Url": saleor.url},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "INVALID_TOKEN",
    )
    assert not SaleorShop.objects.exists()


def test_a_late_uninstall_of_an_earlier_installation_changes_nothing(saleor, app_url):
    shop = install(saleor, app_url)
    body = json.dumps(
        {
            "__typename": "AppDeleted",
            "issuedAt": datetime.now(timezone.utc).isoformat(),
            "app": {"id": "QXBwOjE="},  # an earlier installation's id
        }
    ).encode()
    response = post_signed(saleor, app_url, shop, body)
    assert response.status_code == 200
    assert SaleorShop.objects.filter(pk=shop.pk).exists()


def test_a_signed_appdeleted_while_the_app_still_works_changes_nothing(saleor, app_url):
    """Saleor signs every app's webhooks with one key: another app could shape a
    body naming this app. The app is gone only when its token stops working."""
    shop = install(saleor, app_url)
    body = json.dumps(
        {
            "__typename": "AppDeleted",
            "issuedAt": datetime.now(timezone.utc).isoformat(),
            "app": {"id": shop.app_id},
        }
    ).encode()
    response = post_signed(saleor, app_url, shop, body)
    assert response.status_code == 200
    assert SaleorShop.objects.filter(pk=shop.pk, token=shop.token).exists()


def test_a_second_app_under_this_apps_identifier_takes_nothing_over(saleor, app_url):
    """Anyone who may create apps in Saleor may give one this app's identifier;
    its token doesn't replace the working installation's."""
    shop = install(saleor, app_url)
    created = saleor.graphql(
        'mutation { appCreate(input: {name: "Impostor", identifier:'
        ' "saleor.aftersales", permissions: []})'
        " { authToken app { id } errors { message } } }",
        token=saleor.staff_token,
    )["data"]["appCreate"]
    try:
        response = requests.post(
            f"{app_url}/api/register",
            json={"auth_token": created["authToken"]},
            headers={"Saleor-Api-Url": saleor.url},
        )
        assert (response.status_code, response.json()["error"]["code"]) == (
            409,
            "ALREADY_INSTALLED",
        )
        assert SaleorShop.objects.get().token == shop.token
    finally:  # Saleor installs no app under an identifier another app holds
        saleor.graphql(DELETE, {"id": created["app"]["id"]}, token=saleor.staff_token)
