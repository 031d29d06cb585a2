"""Saleor hears what the plugin did to its orders: refunds, restocks and follow-up
orders are written as Saleor's own order events, and Saleor's plugins (here its
webhook plugin, posting to a real HTTP receiver) get `order_updated` and
`order_created` once the step has committed, as after Saleor's own mutations."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from saleor.app.models import App
from saleor.order import OrderEvents
from saleor.order.models import Order
from saleor.webhook.event_types import WebhookEventType
from saleor.webhook.models import Webhook, WebhookEvent

from .conftest import create_return, gid, line_input
from .queries import APPROVE, RECEIVE, REFUND

# Saleor's webhook plugin sends in Celery tasks, run eagerly here; they read the
# committed order, so the steps must really commit.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def saleor_webhook(receiver):
    """An app subscribed, through Saleor's own webhooks, to order changes."""
    app = App.objects.create(name="Order follower", is_active=True)
    app.permissions.add(
        Permission.objects.get(codename="manage_orders", content_type__app_label="order")
    )
    webhook = Webhook.objects.create(
        app=app, target_url=receiver.url, is_active=True, secret_key="s3cret"
    )
    for event_type in (WebhookEventType.ORDER_UPDATED, WebhookEventType.ORDER_CREATED):
        WebhookEvent.objects.create(webhook=webhook, event_type=event_type)
    return receiver


def heard(receiver, event_type, order):
    """Saleor's webhook deliveries of ``event_type`` about ``order``."""
    order_id = gid("Order", order.pk)
    found = []
    for delivery in receiver.received:
        if delivery["headers"].get("X-Saleor-Event") != event_type:
            continue
        payload = json.loads(delivery["body"])
        if any(item.get("id") == order_id for item in payload):
            found.append(payload)
    return found


def test_a_return_received_and_refunded_is_heard_by_saleors_webhooks(
    saleor_webhook, customer_api, staff_api, staff_user, order
):
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    # Paying and shipping the order told Saleor's webhooks already.
    before = len(heard(saleor_webhook, "order_updated", order))

    staff_api.data(RECEIVE, {"id": claim["id"]})
    restocked = order.events.get(type=OrderEvents.FULFILLMENT_RESTOCKED_ITEMS)
    assert restocked.parameters["quantity"] == 2
    assert restocked.user == staff_user
    assert len(heard(saleor_webhook, "order_updated", order)) == before + 1

    paid = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert paid["refund"]["status"] == "SUCCESS"
    refunded = order.events.get(type=OrderEvents.PAYMENT_REFUNDED)
    assert Decimal(refunded.parameters["amount"]) == Decimal("50.00")
    assert refunded.user == staff_user
    (payload,) = heard(saleor_webhook, "order_updated", order)[before + 1 :]
    # What Saleor sends is the order as it stands after the step committed.
    (sent,) = [item for item in payload if item.get("id") == gid("Order", order.pk)]
    (payment,) = sent["payments"]
    assert Decimal(str(payment["captured_amount"])) == Decimal("30.00")


def test_an_exchanges_replacement_order_is_heard_as_created(
    saleor_webhook, customer_api, staff_api, order, variants
):
    from .queries import EXCHANGE_FULFILL, EXCHANGE_REQUEST_CREATE

    first = order.lines.order_by("pk")[0]
    line = line_input(first, 1)
    line["replacementVariant"] = gid("ProductVariant", variants[0].pk)
    created = customer_api.data(
        EXCHANGE_REQUEST_CREATE,
        {"input": {"order": gid("Order", order.pk), "lines": [line]}},
    )["exchangeRequestCreate"]
    assert created["errors"] == [], created
    claim = created["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    sent = staff_api.data(EXCHANGE_FULFILL, {"id": claim["id"]})[
        "exchangeRequestFulfill"
    ]
    assert sent["errors"] == [], sent
    replacement = Order.objects.exclude(pk=order.pk).get()
    assert replacement.events.filter(type=OrderEvents.PLACED_FROM_DRAFT).exists()
    assert len(heard(saleor_webhook, "order_created", replacement)) == 1
