"""The app against a real Saleor 3.23.28: its server and Celery worker from
``demo/saleor3.py`` (a database restored from the migrated dump), and the app under
Django's live server, reached by Saleor over HTTP on 127.0.0.1. Run from
``.venv-app`` with the app's settings (``make test``)."""

import os
import contextvars
import socket
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from demo import saleor3
from demo.saleor3 import user_id, wait_for  # noqa: F401 (the tests import them here)
from demo import saleor3_payment_app
from demo import saleor3_shop as shop
from saleor_aftersales.hosts.saleor3.manifest import PERMISSIONS
from saleor_aftersales.hosts.saleor3 import tenancy
from saleor_aftersales.hosts.saleor3.models import SaleorShop
from saleor_aftersales.models import ShopOrder
from tests.smtp import SmtpCatcher

PATIENCE_SECONDS = 120  # a loaded 2-core machine; polls return as soon as it holds

STAFF_EMAIL, STAFF_PASSWORD = "admin@example.com", "admin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def saleor(tmp_path_factory):
    reason = saleor3.available()
    if reason:
        pytest.skip(reason)
    # Overridable, so that two checkouts can run their suites at once.
    database = saleor3.create_database(
        os.environ.get("SALEOR3_TEST_DB", "aftersales_saleor3_test")
    )
    with saleor3.Saleor(
        database,
        free_port(),
        redis_db=int(os.environ.get("SALEOR3_TEST_REDIS_DB", "11")),
        log_dir=tmp_path_factory.mktemp("saleor3"),
    ) as shop:
        shop.create_staff(STAFF_EMAIL, STAFF_PASSWORD)
        shop.staff_token = shop.token(STAFF_EMAIL, STAFF_PASSWORD)
        shop.staff_token_at = time.monotonic()
        yield shop


def refresh_staff_token(saleor) -> None:
    """Saleor's access tokens live five minutes and the suite runs longer: keep
    the staff token at most two minutes old."""
    if time.monotonic() - saleor.staff_token_at > 120:
        saleor.staff_token = saleor.token(STAFF_EMAIL, STAFF_PASSWORD)
        saleor.staff_token_at = time.monotonic()


@pytest.fixture(autouse=True)
def fresh_staff_token(request):
    if "saleor" in request.fixturenames:
        refresh_staff_token(request.getfixturevalue("saleor"))


@pytest.fixture
def smtp(settings):
    """A real SMTP server of its own for a test (tests/smtp.py), where the app's
    mail goes (the app's work runs in this process: its live server's threads and
    the sweeper's command)."""
    catcher = SmtpCatcher()
    catcher.serve(settings)
    yield catcher
    catcher.close()


@pytest.fixture
def app_url(live_server, settings, saleor):
    """The app as Saleor reaches it, allowing only this Saleor to install it."""
    settings.APP_URL = live_server.url
    settings.SALEOR_API_URLS = [saleor.url]
    return live_server.url


INSTALL = """
mutation Install($name: String!, $url: String!, $permissions: [PermissionEnum!]) {
  appInstall(input: {appName: $name, manifestUrl: $url, permissions: $permissions}) {
    appInstallation { id status }
    errors { field code message }
  }
}
"""
INSTALLATION = "{ appsInstallations { id status message } }"
APPS = "{ apps(first: 20) { edges { node { id name isActive } } } }"
DELETE = "mutation($id: ID!) { appDelete(id: $id) { errors { code message } } }"


def uninstall_earlier(saleor):
    """Saleor outlives each test's app database: a test starts uninstalled."""
    for edge in saleor.graphql(APPS, token=saleor.staff_token)["data"]["apps"]["edges"]:
        if edge["node"]["name"] == "After-sales":
            saleor.graphql(DELETE, {"id": edge["node"]["id"]}, token=saleor.staff_token)


def install(saleor, app_url):
    uninstall_earlier(saleor)
    data = saleor.graphql(
        INSTALL,
        {
            "name": "After-sales",
            "url": f"{app_url}/api/manifest",
            "permissions": list(PERMISSIONS),
        },
        token=saleor.staff_token,
    )
    assert data["data"]["appInstall"]["errors"] == [], data

    def installed():
        # Registered, with the keys it fetched right after.
        shop = SaleorShop.objects.filter(
            api_url=saleor.url, jwks_fetched_at__isnull=False
        ).first()
        if shop is None:
            failed = [
                job["message"]
                for job in saleor.graphql(INSTALLATION, token=saleor.staff_token)[
                    "data"
                ]["appsInstallations"]
                if job["status"] == "FAILED"
            ]
            assert not failed, failed
        return shop

    return wait_for(
        installed, what="Saleor's appInstall reaching the register endpoint"
    )


@contextmanager
def as_installed(saleor, app_url):
    """Installed, and serving the shop in the test as the app does for it; its
    rows emptied after (every test installs into the same Saleor, whose schema
    the app keeps across installations)."""
    shop = install(saleor, app_url)
    with tenancy.serving(shop):
        try:
            yield shop
        finally:
            wait_for(
                lambda: saleor.deliveries_pending(shop.app_id) == 0,
                what="Saleor's webhooks to the app being delivered",
            )
            tenancy.empty(shop)


@pytest.fixture
def installed(saleor, app_url, transactional_db):
    """The app, installed into this Saleor through appInstall. Before the test's
    tables are emptied, Saleor's webhooks still on their way to the app (a test
    waits only for the ones it needs) are let in: emptying the tables under a
    webhook's transaction would deadlock."""
    with as_installed(saleor, app_url) as shop:
        yield shop


@pytest.fixture(scope="session")
def boots(saleor):
    shop.set_shop_address(saleor, saleor.staff_token)
    return shop.make_goods(saleor, saleor.staff_token, sku="BOOTS-42", price=40)


@pytest.fixture
def fulfilled_order(saleor, installed, boots):
    token = saleor.staff_token
    order = shop.place_order(saleor, token, boots, "customer@example.com", 2)
    shop.mark_paid(saleor, token, order["id"])
    shop.fulfill(saleor, token, boots, order)
    wait_for(
        lambda: ShopOrder.objects.filter(
            host_id=order["id"], lines__quantity_fulfilled=2
        ).exists(),
        what="the fulfilled order reaching the app",
    )
    return order


@pytest.fixture(scope="session")
def payment_app(saleor):
    """The stand-in payment app, installed into this Saleor (appInstall)."""
    app = saleor3_payment_app.PaymentApp(saleor.url).start()
    try:
        app.install(saleor.staff_token, patience=PATIENCE_SECONDS)
        yield app
    finally:
        app.stop()


@pytest.fixture
def psp(payment_app):
    """The payment app as each test starts with it: settling asynchronously
    (``transactionEventReport``), refusing nothing."""
    payment_app.mode, payment_app.refuse = "async", False
    yield payment_app
    payment_app.mode, payment_app.refuse = "async", False


ORDER_TOTAL = (
    "query($id: ID!) { order(id: $id) { total { gross { amount currency } } } }"
)


@pytest.fixture
def charged_order(saleor, installed, boots, psp):
    """Two boots, paid through the Transactions API: the payment app's
    transaction charged with the order's total; then shipped."""
    token = saleor.staff_token
    order = shop.place_order(saleor, token, boots, "customer@example.com", 2)
    total = saleor.graphql(ORDER_TOTAL, {"id": order["id"]}, token=token)["data"][
        "order"
    ]["total"]["gross"]
    order["transaction"] = psp.charge(
        order["id"], Decimal(str(total["amount"])), total["currency"]
    )
    shop.fulfill(saleor, token, boots, order)
    wait_for(
        lambda: ShopOrder.objects.filter(
            host_id=order["id"], lines__quantity_fulfilled=2
        ).exists(),
        what="the fulfilled order reaching the app",
    )
    return order


@pytest.fixture(scope="session")
def accounts_of_people(saleor):
    saleor.create_customer("buyer@example.com", "buyer")
    saleor.create_customer("stranger@example.com", "stranger")
    saleor.create_staff("packer@example.com", "packer", permissions=["manage_products"])


@pytest.fixture
def people(saleor, accounts_of_people):
    """Access tokens of a customer, another one, and a staff member without
    MANAGE_ORDERS: fresh for each test (Saleor's live five minutes)."""
    return {
        "buyer": saleor.token("buyer@example.com", "buyer"),
        "stranger": saleor.token("stranger@example.com", "stranger"),
        "packer": saleor.token("packer@example.com", "packer"),
    }


def shipped_order(saleor, goods, email: str, quantity: int, user: str = None):
    """An order placed, marked paid and shipped in Saleor, once the app has its
    copy (an account's with ``user``, a guest's without)."""
    token = saleor.staff_token
    order = shop.place_order(saleor, token, goods, email, quantity, user=user)
    shop.mark_paid(saleor, token, order["id"])
    shop.fulfill(saleor, token, goods, order)
    wait_for(
        lambda: ShopOrder.objects.filter(
            host_id=order["id"], lines__quantity_fulfilled=quantity
        ).exists(),
        what="the fulfilled order reaching the app",
    )
    return order


@pytest.fixture
def buyers_order(saleor, installed, boots, people):
    return shipped_order(
        saleor, boots, "buyer@example.com", 2, user=user_id(people["buyer"])
    )


def desks_at_once(request, keys, staff) -> list:
    """Desks refunding ``request`` at the same moment, each with its own
    idempotency key, each in a thread of its own (serving this test's Saleor):
    the refunds they got, or the refusals' messages."""
    from saleor_aftersales import refunds, workflow
    from saleor_aftersales.configuration import get_settings

    outcomes = []
    barrier = threading.Barrier(len(keys))

    def desk(key):
        try:
            barrier.wait(timeout=30)
            outcomes.append(
                refunds.refund_request(
                    request,
                    by=workflow.Actor.staff(staff),
                    settings=get_settings(),
                    idempotency_key=key,
                )
            )
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [
        threading.Thread(target=contextvars.copy_context().run, args=(desk, key))
        for key in keys
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes
