"""The app against a real Saleor 3.23.28: its server and Celery worker from
``demo/saleor3.py`` (a database restored from the migrated dump), and the app under
Django's live server, reached by Saleor over HTTP on 127.0.0.1. Run from
``.venv-app`` with the app's settings (``make test``)."""

import socket
import time

import pytest

from demo import saleor3

PATIENCE_SECONDS = 120  # a loaded 2-core machine; polls return as soon as it holds

STAFF_EMAIL, STAFF_PASSWORD = "admin@example.com", "admin"


def wait_for(condition, seconds=PATIENCE_SECONDS, what="the condition"):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {seconds} s")
        time.sleep(0.2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def saleor(tmp_path_factory):
    reason = saleor3.available()
    if reason:
        pytest.skip(reason)
    database = saleor3.create_database("aftersales_saleor3_test")
    with saleor3.Saleor(
        database,
        free_port(),
        redis_db=11,
        log_dir=tmp_path_factory.mktemp("saleor3"),
    ) as shop:
        shop.manage(
            "from saleor.account.models import User\n"
            f"user = User(email={STAFF_EMAIL!r}, is_staff=True, is_superuser=True,"
            " is_active=True)\n"
            f"user.set_password({STAFF_PASSWORD!r})\n"
            "user.save()\n"
        )
        data = shop.graphql(
            "mutation($e: String!, $p: String!) { tokenCreate(email: $e, password: $p)"
            " { token errors { code message } } }",
            {"e": STAFF_EMAIL, "p": STAFF_PASSWORD},
        )
        shop.staff_token = data["data"]["tokenCreate"]["token"]
        assert shop.staff_token, data
        yield shop


@pytest.fixture
def app_url(live_server, settings, saleor):
    """The app as Saleor reaches it, allowing only this Saleor to install it."""
    settings.APP_URL = live_server.url
    settings.SALEOR_API_URLS = [saleor.url]
    return live_server.url
