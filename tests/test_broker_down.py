"""The broker (Redis) unreachable while operators work: every step still answers,
nothing is lost, and the sweepers send and pay what was waiting once it is back.

The real Redis serves other tests at the same time, so it is not stopped; the
Celery app is pointed at a closed port instead, which fails the same way (kombu
can't connect).
"""

import socket

import pytest

from saleor_aftersales import host, tasks
from saleor_aftersales.models import AftersalesRefund, WebhookDelivery

from .conftest import create_return, line_input
from .queries import APPROVE, RECEIVE, REFUND
from .servers import wait_for
from .test_webhooks import by_type, subscribe

transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends


class Broker:
    """Points the Celery app at a closed port, and back."""

    def __init__(self):
        self.conf = host.celery_app.conf
        self.real = self.conf.broker_url

    def _use(self, url, eager):
        self.conf.broker_url = url
        self.conf.CELERY_TASK_ALWAYS_EAGER = eager
        host.celery_app._pool = None  # no connection kept from before

    def down(self):
        self._use(f"redis://127.0.0.1:{closed_port()}/0", eager=False)

    def back(self):
        self._use(self.real, eager=True)


@pytest.fixture
def broker():
    broker = Broker()
    yield broker
    broker.back()


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

    paid = AftersalesRefund.objects.get(idempotency_key="while-down")
    assert paid.status == "success"
    assert order.payments.get().captured_amount == 30  # 80.00 - 2 x 25.00
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
