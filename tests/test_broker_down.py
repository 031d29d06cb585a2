"""Redis down while operators work: every step still answers, nothing is lost,
and the sweepers send and pay what was waiting once it is back.

The shared Redis serves other tests at the same time, so it is not stopped. One
test points the Celery app at a closed port; the other starts a Redis server of
its own, makes it the broker and the rate-limit store, and kills it mid-work
(with whatever tasks it held), then starts it again.
"""

import socket
import subprocess

import pytest
import redis

from saleor_aftersales import tasks, throttle

from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import AftersalesRefund, CustomerEmail, WebhookDelivery

from .conftest import ApiClient, create_return, line_input
from .queries import APPROVE, RECEIVE, REFUND
from .servers import wait_for
from .test_warranty import cards_of, verify
from .test_webhooks import by_type, subscribe

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


class Broker:
    """Points the Celery app at another broker, and back.

    Saleor's app reads Django settings under the CELERY namespace, so the key to
    change is CELERY_BROKER_URL (`conf.broker_url` would not reach it).
    """

    def __init__(self):
        self.app = host.celery_app
        self.real = self.app.conf.CELERY_BROKER_URL

    def _use(self, url, eager):
        self.app.conf.CELERY_BROKER_URL = url
        self.app.conf.CELERY_TASK_ALWAYS_EAGER = eager
        # No connection or producer kept from the broker before.
        self.app._pool = None
        self.app.amqp._producer_pool = None
        assert self.app.connection_for_write().as_uri().endswith(url.split("@")[-1])

    def down(self):
        self._use(f"redis://127.0.0.1:{closed_port()}/0", eager=False)

    def back(self):
        self._use(self.real, eager=True)


@pytest.fixture
def broker():
    broker = Broker()
    yield broker
    broker.back()


def assert_paid_once_and_all_delivered(order, receiver, refund_key):
    """The refund paid once (80.00 - 2 x 25.00) and each of the claim's five
    events delivered once, nothing left waiting."""
    assert AftersalesRefund.objects.get(idempotency_key=refund_key).status == (
        "success"
    )
    assert order.payments.get().captured_amount == 30
    assert wait_for(lambda: len(receiver.delivered()) == 5)
    for event in (
        "aftersales.request.created",
        "aftersales.request.approved",
        "aftersales.request.received",
        "aftersales.request.refunded",
        "aftersales.request.resolved",
    ):
        assert len(by_type(receiver, event)) == 1, event
    assert not WebhookDelivery.objects.filter(status="pending").exists()


@transactional
def test_steps_answer_and_nothing_is_lost_while_the_broker_is_down(
    broker, receiver, customer_api, staff_api, order
):
    subscribe(receiver.url)
    broker.down()
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])
    assert claim["errors"] == []
    claim = claim["aftersalesRequest"]
    assert (
        staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"][
            "errors"
        ]
        == []
    )
    staff_api.data(RECEIVE, {"id": claim["id"]})
    refund = staff_api.data(REFUND, {"id": claim["id"], "key": "while-down"})[
        "aftersalesRequestRefund"
    ]
    # Committed, not paid: the task could not be queued.
    assert refund["errors"] == []
    assert refund["refund"]["status"] == "PENDING"
    assert receiver.delivered() == []
    waiting = WebhookDelivery.objects.filter(status="pending").count()
    assert waiting == 3  # created, approved, received

    # The broker is back: beat's sweepers find what waited.
    broker.back()
    tasks.pay_due_refunds()
    tasks.deliver_due_webhooks()

    assert_paid_once_and_all_delivered(order, receiver, "while-down")


class RedisServer:
    """A Redis server of the test's own, to kill and start again on one port."""

    def __init__(self):
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port)]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        assert wait_for(self.answers), "redis-server did not start"

    def answers(self):
        try:
            return redis.Redis.from_url(self.url).ping()
        except redis.RedisError:
            return False

    def kill(self):
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_redis(broker, settings):
    server = RedisServer()
    server.start()
    settings.AFTERSALES_REDIS_URL = server.url
    throttle._redis.cache_clear()
    yield server
    if server.process.poll() is None:
        server.kill()
    throttle._redis.cache_clear()


@transactional
def test_redis_killed_mid_work_loses_nothing_once_it_is_started_again(
    broker, own_redis, receiver, customer_api, staff_api, order, settings
):
    subscribe(receiver.url)
    broker._use(own_redis.url, eager=False)  # queued on our Redis, no worker yet
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])
    assert claim["errors"] == []
    claim = claim["aftersalesRequest"]
    queue = settings.AFTERSALES_CELERY_QUEUE
    # The "created" delivery's task and the customer's e-mail's are queued, in this
    # Redis only.
    assert redis.Redis.from_url(own_redis.url).llen(queue) == 2

    own_redis.kill()  # the queued task dies with it
    # The public check has no rate-limit store: it answers rather than fails.
    assert verify(ApiClient(), cards_of(order)[0].code)["valid"] is True
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    refund = staff_api.data(REFUND, {"id": claim["id"], "key": "redis-killed"})[
        "aftersalesRequestRefund"
    ]
    assert refund["errors"] == []
    assert refund["refund"]["status"] == "PENDING"
    assert receiver.delivered() == []

    own_redis.start()  # empty: what it held is gone
    broker._use(own_redis.url, eager=True)
    tasks.pay_due_refunds()
    tasks.deliver_due_webhooks()
    tasks.send_due_customer_emails()

    assert_paid_once_and_all_delivered(order, receiver, "redis-killed")
    # Each step's e-mail to the customer, once (the test's mail: Django's locmem).
    emails = CustomerEmail.objects.order_by("pk")
    assert [(e.kind, e.status) for e in emails] == [
        ("received", "sent"),
        ("approved", "sent"),
        ("goods_received", "sent"),
        ("refunded", "sent"),
    ]
