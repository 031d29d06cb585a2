"""Saleor-style fixtures on a real PostgreSQL, through the real /graphql/ endpoint."""

import json
from decimal import Decimal

import graphene
import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.client import Client
from django.test.utils import CaptureQueriesContext
from graphql_jwt.shortcuts import get_token
from saleor.account.models import User
from saleor.app.models import App

from demo import shop
from saleor_aftersales.hosts.saleor2 import shop as host

from . import servers
from .smtp import SmtpCatcher

# The Saleor 3.23 app runs on Python 3.12 and Django 5.2 (make test runs it from
# .venv-app); this suite is Saleor 2.10's.
collect_ignore = ["saleor3"]

API_PATH = "/graphql/"

# The live server listens with socketserver's backlog of 5: fifty clients
# released at once (tests/test_refund_races.py) would be reset before Django
# sees them. A production server's backlog is in the hundreds.
ThreadedWSGIServer.request_queue_size = 256


# The core's copies of orders number from here in tests, far from Saleor's own
# order and line ids: code that took one id for the other fails at once.
COPY_IDS_START = 700_000


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from saleor_aftersales.models import ShopOrder, ShopOrderLine

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for model in (ShopOrder, ShopOrderLine):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "GREATEST(%s, (SELECT COALESCE(max(id), 0) FROM "
                f"{model._meta.db_table}) + 1), false)",
                [model._meta.db_table, COPY_IDS_START],
            )


class ApiClient:
    """Posts GraphQL to the shop like a storefront or dashboard would."""

    def __init__(self, user=None, app_token=None, remote_addr="127.0.0.1"):
        self.client = Client(REMOTE_ADDR=remote_addr)
        self.user = user
        self.headers = {}
        if user is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"JWT {get_token(user)}"
        elif app_token is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"Bearer {app_token}"

    def post(self, query, variables=None):
        response = self.client.post(
            API_PATH,
            json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **self.headers,
        )
        assert response.status_code == 200, response.content
        return json.loads(response.content)

    def data(self, query, variables=None):
        """Return ``data`` and fail on any GraphQL error."""
        content = self.post(query, variables)
        assert "errors" not in content, content["errors"]
        return content["data"]

    def count_queries(self, query, variables=None):
        with CaptureQueriesContext(connection) as ctx:
            content = self.post(query, variables)
        assert "errors" not in content, content
        return len(ctx.captured_queries), content["data"]


def gid(type_name, pk):
    return graphene.Node.to_global_id(type_name, pk)


def assert_permission_denied(content):
    assert content["errors"], content
    assert "permission" in content["errors"][0]["message"].lower(), content


@pytest.fixture
def warehouse(db):
    return shop.make_warehouse()


@pytest.fixture
def variants(warehouse):
    return shop.make_variants(3, warehouse, price=Decimal("25.00"))


@pytest.fixture
def customer(db):
    return shop.make_customer("customer@example.com")


@pytest.fixture
def other_customer(db):
    return shop.make_customer("other@example.com")


@pytest.fixture
def staff_user(db):
    return shop.make_staff("staff@example.com")


@pytest.fixture
def shop_owner(db):
    """A superuser: every permission, as the shop's owner has."""
    return User.objects.create_superuser("owner@example.com", "password")


@pytest.fixture
def staff_without_permission(db):
    return shop.make_staff("intern@example.com", manage_orders=False)


@pytest.fixture
def order(customer, staff_user, warehouse, variants):
    """Fulfilled and paid: 2 x 25.00 + 1 x 25.00 + 5.00 shipping = 80.00 captured."""
    return shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[0], 2), (variants[1], 1)]
    )


@pytest.fixture
def guest_order(staff_user, warehouse, variants):
    return shop.fulfilled_paid_order(
        None, staff_user, warehouse, [(variants[2], 2)], guest_email="guest@example.com"
    )


@pytest.fixture
def customer_api(customer):
    return ApiClient(customer)


@pytest.fixture
def other_customer_api(other_customer):
    return ApiClient(other_customer)


@pytest.fixture
def staff_api(staff_user):
    return ApiClient(staff_user)


@pytest.fixture
def intern_api(staff_without_permission):
    return ApiClient(staff_without_permission)


@pytest.fixture
def anonymous_api(db):
    return ApiClient()


@pytest.fixture
def app_api(db):
    app = App.objects.create(name="Returns robot", is_active=True)
    app.permissions.add(
        Permission.objects.get(
            codename="manage_orders", content_type__app_label="order"
        )
    )
    token = app.tokens.create(name="default")
    return ApiClient(app_token=token.auth_token)


def line_input(order_line, quantity, reason="DEFECTIVE", comment=None):
    data = {
        "orderLine": gid("OrderLine", order_line.pk),
        "quantity": quantity,
        "reason": reason,
    }
    if comment:
        data["comment"] = comment
    return data


def create_return(api, order, lines, token=None, **extra):
    """Open a claim through GraphQL; returns the mutation's payload."""
    from tests.queries import RETURN_REQUEST_CREATE

    data = {"lines": lines, **extra}
    if token:
        data["orderToken"] = str(token)
    else:
        data["order"] = gid("Order", order.pk)
    content = api.post(RETURN_REQUEST_CREATE, {"input": data})
    assert "errors" not in content, content
    return content["data"]["returnRequestCreate"]


@pytest.fixture
def claim(customer_api, order):
    """A REQUESTED return of both units of the order's first line (defective)."""
    first = order.lines.order_by("pk")[0]
    payload = create_return(customer_api, order, [line_input(first, 2)])
    assert payload["errors"] == [], payload
    return payload["aftersalesRequest"]


def db_state(order):
    """Everything a refused call must leave untouched, for before/after checks."""
    from saleor.order.models import OrderEvent
    from saleor.warehouse.models import Stock

    from saleor_aftersales.models import (
        AftersalesEvent,
        AftersalesLine,
        AftersalesRefund,
        AftersalesRequest,
    )

    payment = order.payments.order_by("pk").last()
    return {
        "requests": list(
            AftersalesRequest.objects.order_by("pk").values_list(
                "pk", "status", "appealed_at", "reject_reason", "assignee_ref"
            )
        ),
        "lines": list(
            AftersalesLine.objects.order_by("pk").values_list(
                "pk",
                "quantity_requested",
                "quantity_approved",
                "quantity_received",
                "quantity_missing",
                "quantity_refunded",
                "disposition",
            )
        ),
        "events": AftersalesEvent.objects.count(),
        "refunds": list(AftersalesRefund.objects.values_list("pk", "status")),
        "order_events": OrderEvent.objects.filter(order=order).count(),
        "captured": payment.captured_amount if payment else None,
        "transactions": payment.transactions.count() if payment else 0,
        "stock": list(Stock.objects.order_by("pk").values_list("pk", "quantity")),
    }


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Each test starts with empty rate-limit windows in the real Redis."""
    import redis as redis_lib

    client = redis_lib.Redis.from_url("redis://127.0.0.1:6379/0")
    for key in client.scan_iter(f"{settings.AFTERSALES_THROTTLE_PREFIX}:*"):
        client.delete(key)


def configure(**values):
    """Save the plugin's settings as pluginUpdate would."""
    from saleor.plugins.models import PluginConfiguration

    from saleor_aftersales.hosts.saleor2.plugin import PLUGIN_ID, AftersalesPlugin

    configuration = [dict(item) for item in AftersalesPlugin.DEFAULT_CONFIGURATION]
    for item in configuration:
        if item["name"] in values:
            item["value"] = values[item["name"]]
    PluginConfiguration.objects.update_or_create(
        identifier=PLUGIN_ID, defaults={"configuration": configuration, "active": True}
    )


# Real peers: a Celery worker process, localstripe behind a breakable proxy, and
# an HTTP receiver. Started once per session, on demand.


@pytest.fixture(scope="session")
def localstripe():
    server = servers.Localstripe()
    yield server
    server.close()


@pytest.fixture(scope="session")
def stripe_proxy(localstripe):
    proxy = servers.StripeProxy(localstripe.url)
    yield proxy
    proxy.close()


@pytest.fixture(scope="session")
def smtp_server():
    """The run's SMTP server (tests/smtp.py), on one port for the whole session,
    which the Celery worker's settings name too. Tests take ``smtp``."""
    catcher = SmtpCatcher()
    yield catcher
    catcher.close()


@pytest.fixture
def smtp(smtp_server, settings):
    """A real SMTP server, empty, that Django's mail of this process (and of the
    Celery worker) goes to for the duration of a test."""
    smtp_server.reset()
    smtp_server.serve(settings)
    yield smtp_server
    smtp_server.reset()


@pytest.fixture(scope="session")
def celery_worker_process(
    django_db_setup, django_db_blocker, stripe_proxy, smtp_server
):
    name = connection.settings_dict["NAME"]
    worker = servers.CeleryWorker(
        host.celery_app,
        env={
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
            "AFTERSALES_CELERY_QUEUE": django_settings.AFTERSALES_CELERY_QUEUE,
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "AFTERSALES_CELERY_WORKER": "1",
            "AFTERSALES_STRIPE_API_BASE": stripe_proxy.url,
            # The worker's mail goes to the run's SMTP server (tests/settings.py).
            "AFTERSALES_TEST_SMTP_PORT": str(smtp_server.port),
        },
        queue=django_settings.AFTERSALES_CELERY_QUEUE,
    )
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker_process):
    """Tasks go to the real worker for the duration of a test."""
    if not celery_worker_process.alive():
        celery_worker_process.start()
    # Saleor's app reads Django settings under the CELERY namespace: set it there.
    host.celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    assert not host.celery_app.conf.task_always_eager
    yield celery_worker_process
    host.celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def receiver():
    receiver = servers.Receiver()
    yield receiver
    receiver.close()


STRIPE_SECRET_KEY = "sk_test_aftersales"


@pytest.fixture
def stripe_api(db, stripe_proxy, settings):
    """Saleor's Stripe plugin active with a test key; Stripe calls of this process
    and of the worker go through the proxy to localstripe."""
    import stripe
    from saleor.plugins.models import PluginConfiguration

    PluginConfiguration.objects.update_or_create(
        identifier=shop.STRIPE_GATEWAY,
        defaults={
            "active": True,
            "configuration": [
                {"name": "Public API key", "value": "pk_test_aftersales"},
                {"name": "Secret API key", "value": STRIPE_SECRET_KEY},
                {"name": "Store customers card", "value": False},
                {"name": "Automatic payment capture", "value": True},
            ],
        },
    )
    settings.AFTERSALES_STRIPE_API_BASE = stripe_proxy.url
    stripe.api_base = stripe_proxy.url
    stripe_proxy.reset()
    yield stripe_proxy
    stripe_proxy.reset()


def returns_on_one_order(customer, staff_user, warehouse, count=100):
    """``count`` one-unit returns of one order, as the customer files them (for
    lists whose cost must not grow with the page)."""
    from saleor_aftersales import workflow
    from saleor_aftersales.configuration import get_settings

    variant = shop.make_variants(1, warehouse)[0]
    order = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variant, count)]
    )
    line = order.lines.get()
    settings = get_settings()
    return [
        workflow.create_request(
            host.order_facts(order),
            type="return",
            lines=[workflow.ClaimLineInput(host.ref(line.pk), 1, "defective")],
            by=workflow.Actor.customer(customer),
            settings=settings,
        )
        for _ in range(count)
    ]
