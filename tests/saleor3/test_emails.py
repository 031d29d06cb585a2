"""Shopper e-mails on the app: a claim filed through the app's API is confirmed to
the buyer through a real SMTP server, from the request after commit when the app
has no broker, and from the app's own Celery worker (in the claim's shop) when it
has one; the worker's SMTP conversation never holds the step up."""

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from saleor_aftersales.hosts.saleor3 import worker as app_worker
from saleor_aftersales.models import CustomerEmail

from .conftest import PATIENCE_SECONDS, wait_for
from .test_api import CREATE, app_graphql, dashboard_token

pytestmark = pytest.mark.django_db(transaction=True)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def file_return(app_url, order, token, **extra):
    status, answer = app_graphql(
        app_url,
        CREATE,
        {
            "input": {
                "order": order["id"],
                "lines": [
                    {
                        "orderLine": order["lines"][0]["id"],
                        "quantity": 1,
                        "reason": "DEFECTIVE",
                    }
                ],
                **extra,
            }
        },
        token=token,
    )
    assert status == 200, answer
    created = answer["data"]["returnRequestCreate"]
    assert created["errors"] == [], created
    return created["aftersalesRequest"]


def test_a_claim_filed_through_the_app_is_confirmed_by_e_mail(
    smtp, app_url, buyers_order, people
):
    claim = file_return(app_url, buyers_order, people["buyer"], language="zh-hans")
    [message] = smtp.wait_for(1)
    assert list(message.rcpt_tos) == ["buyer@example.com"]
    assert claim["number"] in message["Subject"]
    assert "退货" in message["Subject"]
    row = CustomerEmail.objects.get()
    assert (row.status, row.kind, row.language) == ("sent", "received", "zh-hans")


@pytest.fixture
def app_celery(smtp, settings):
    """The app's Celery worker as a process of its own on this test's database,
    sending to this test's SMTP server; the app queues e-mails for it."""
    broker = "redis://127.0.0.1:6379/" + os.environ.get("APP_TEST_BROKER_DB", "15")
    # The app's own queue, on a Redis database of the tests' own.
    queue = app_worker.app.conf.task_default_queue
    node = f"aftersales-app-test-{os.getpid()}@localhost"
    name = connection.settings_dict["NAME"]
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="saleor_aftersales.hosts.saleor3.settings",
        APP_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{name}",
        APP_CELERY_BROKER_URL=broker,
        APP_EMAIL_HOST=smtp.host,
        APP_EMAIL_PORT=str(smtp.port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "saleor_aftersales.hosts.saleor3.worker"]
        + ["worker", "--pool=solo", "--loglevel=WARNING", "-Q", queue, "-n", node],
        env=env,
        cwd=REPO,
    )
    conf = app_worker.app.conf
    before = conf.broker_url
    settings.CELERY_BROKER_URL = conf.broker_url = broker
    try:
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not app_worker.app.control.ping(destination=[node], timeout=1):
            assert process.poll() is None, "the app's worker died on start"
            assert time.monotonic() < deadline, "the app's worker did not start"
        yield process
    finally:
        conf.broker_url = before
        process.terminate()
        process.wait(timeout=60)


def test_the_apps_worker_sends_while_the_step_has_long_answered(
    app_celery, smtp, app_url, buyers_order, people
):
    hold = smtp.hold_at_rcpt()
    claim = file_return(app_url, buyers_order, people["buyer"])
    # The claim is answered while the worker is still talking to the mail server.
    assert hold.reached.wait(PATIENCE_SECONDS), "the worker never reached SMTP"
    row = CustomerEmail.objects.get()
    assert (row.status, row.attempts) == ("pending", 0)
    hold.release()
    [message] = smtp.wait_for(1)
    assert claim["number"] in message["Subject"]
    # The worker fixed the Message-ID before it began talking to the server.
    assert row.message_id and message["Message-ID"].strip() == row.message_id
    wait_for(
        lambda: CustomerEmail.objects.filter(status="sent", attempts=1).exists(),
        what="the e-mail recorded sent once",
    )
    assert len(smtp.messages) == 1


SETTINGS_UPDATE = """
mutation($input: [AftersalesSettingInput!]!) {
  aftersalesSettingsUpdate(input: $input) { errors { field code } }
}
"""


def test_the_desk_switches_a_kind_off_in_the_apps_settings(
    saleor, installed, smtp, app_url, buyers_order, people
):
    # A shopper may not; the desk (MANAGE_APPS and MANAGE_ORDERS) may.
    switch_off = {
        "input": [{"name": "Shopper e-mails switched off", "value": "received"}]
    }
    _, answer = app_graphql(app_url, SETTINGS_UPDATE, switch_off, token=people["buyer"])
    assert answer["errors"][0]["extensions"]["exception"]["code"] == "PermissionDenied"
    desk = dashboard_token(saleor, installed, saleor.staff_token)
    _, answer = app_graphql(app_url, SETTINGS_UPDATE, switch_off, token=desk)
    assert answer["data"]["aftersalesSettingsUpdate"]["errors"] == []
    file_return(app_url, buyers_order, people["buyer"])
    wait_for(
        lambda: CustomerEmail.objects.filter(status="skipped").exists(),
        what="the switched-off e-mail recorded skipped",
    )
    assert smtp.messages == []
