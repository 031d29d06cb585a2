"""Signed webhooks out: a real Celery worker on Redis posts to a real HTTP receiver."""

import hashlib
import hmac
import json

import pytest

from saleor_aftersales.models import (
    AftersalesRequest,
    WebhookDelivery,
    WebhookSubscription,
)

from .conftest import (
    ApiClient,
    assert_permission_denied,
    create_return,
    gid,
    line_input,
)
from .queries import APPROVE
from .servers import wait_for

SECRET = "a-long-shared-secret-for-tests"
transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def subscribe(url, event_types=()):
    return WebhookSubscription.objects.create(
        name="ERP", target_url=url, secret=SECRET, event_types=list(event_types)
    )


def by_type(receiver, event_type):
    return [
        r for r in receiver.delivered() if r["headers"]["X-Saleor-Event"] == event_type
    ]


@transactional
def test_transitions_are_posted_signed_with_a_unique_event_id(
    worker, receiver, customer_api, staff_api, order
):
    subscribe(receiver.url)
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})

    assert wait_for(lambda: by_type(receiver, "aftersales.request.approved"))
    created = by_type(receiver, "aftersales.request.created")
    approved = by_type(receiver, "aftersales.request.approved")
    assert len(created) == len(approved) == 1
    message = approved[0]
    expected = hmac.new(SECRET.encode(), message["body"], hashlib.sha256).hexdigest()
    assert message["headers"]["X-Saleor-HMAC-SHA256"] == expected
    assert message["headers"]["X-Saleor-Domain"]
    body = json.loads(message["body"])
    assert body["type"] == "aftersales.request.approved"
    assert body["id"] != json.loads(created[0]["body"])["id"]
    request = body["data"]["request"]
    assert request["number"] == claim["number"] and request["status"] == "APPROVED"
    assert request["lines"][0]["quantity_approved"] == 2
    assert body["data"]["step"]["from"] == "REQUESTED"
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(status="delivered").count() == 2
    )
    # Warranty cards of the order's fulfillment were announced too (no subscriber
    # then: the cards were issued before the subscription existed).
    assert not by_type(receiver, "warranty.card.issued")


@transactional
def test_a_receiver_that_is_down_for_a_while_loses_nothing(
    worker, receiver, customer_api, order
):
    subscribe(receiver.url, ["aftersales.request.created"])
    receiver.answers = [503, 500]  # down twice, then up
    first = order.lines.order_by("pk")[0]
    create_return(customer_api, order, [line_input(first, 1)])

    assert wait_for(lambda: receiver.delivered())
    delivery = WebhookDelivery.objects.get()
    assert wait_for(lambda: WebhookDelivery.objects.get().status == "delivered")
    delivery.refresh_from_db()
    assert delivery.attempts == 3
    assert [a.response_code for a in delivery.attempt_log.all()] == [503, 500, 200]
    # Same event each time: the receiver can dedupe on its id.
    assert len({json.loads(r["body"])["id"] for r in receiver.received}) == 1


@transactional
def test_after_the_last_attempt_the_delivery_waits_for_staff_to_redeliver(
    worker, receiver, customer_api, order, staff_user
):
    from django.contrib.auth.models import Permission

    subscribe(receiver.url, ["aftersales.request.created"])
    receiver.answers = [500, 500, 500]  # three attempts allowed in tests
    first = order.lines.order_by("pk")[0]
    create_return(customer_api, order, [line_input(first, 1)])
    assert wait_for(lambda: WebhookDelivery.objects.get().status == "failed")
    assert not receiver.delivered()

    staff_user.user_permissions.add(Permission.objects.get(codename="manage_apps"))
    delivery = WebhookDelivery.objects.get()
    result = ApiClient(staff_user).data(
        """mutation ($id: ID!) { aftersalesWebhookRedeliver(id: $id) {
            delivery { status attempts } errors { code } } }""",
        {"id": gid("AftersalesWebhookDelivery", delivery.pk)},
    )["aftersalesWebhookRedeliver"]
    assert result["delivery"] == {"status": "pending", "attempts": 0}
    assert wait_for(lambda: WebhookDelivery.objects.get().status == "delivered")
    assert len(receiver.delivered()) == 1


@transactional
def test_subscriptions_get_only_the_events_they_asked_for(
    worker, receiver, customer_api, staff_api, order, staff_user, warehouse, variants
):
    from demo import shop

    subscribe(receiver.url, ["warranty.card.issued"])
    first = order.lines.order_by("pk")[0]
    create_return(customer_api, order, [line_input(first, 1)])
    fresh = shop.fulfilled_paid_order(
        order.user, staff_user, warehouse, [(variants[2], 2)]
    )
    # The outbox is written with each change: the claim's event has no row for
    # this subscription, so nothing else can arrive later.
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "warranty.card.issued"
    ] * 2
    assert wait_for(
        lambda: WebhookDelivery.objects.filter(status="delivered").count() == 2
    )
    assert len(receiver.delivered()) == 2
    events = {r["headers"]["X-Saleor-Event"] for r in receiver.received}
    assert events == {"warranty.card.issued"}
    codes = {json.loads(r["body"])["data"]["card"]["order"] for r in receiver.received}
    assert codes == {str(fresh.pk)}
    assert AftersalesRequest.objects.count() == 1


CREATE = """
mutation ($input: AftersalesWebhookInput!) {
  aftersalesWebhookCreate(input: $input) {
    webhook { id name targetUrl eventTypes isActive } errors { field code }
  }
}
"""

LIST = "{ aftersalesWebhooks(first: 10) { edges { node { id name } } } }"
DELIVERIES = (
    "{ aftersalesWebhookDeliveries(first: 10) { edges { node { id status } } } }"
)


@pytest.fixture
def apps_admin_api(staff_user):
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="manage_apps"))
    return ApiClient(staff_user)


def test_staff_manage_subscriptions(apps_admin_api):
    created = apps_admin_api.data(
        CREATE,
        {
            "input": {
                "name": "ERP",
                "targetUrl": "https://erp.example.com/hooks",
                "secret": SECRET,
                "eventTypes": ["aftersales.request.refunded"],
            }
        },
    )["aftersalesWebhookCreate"]
    assert created["errors"] == []
    assert created["webhook"]["eventTypes"] == ["aftersales.request.refunded"]
    webhook_id = created["webhook"]["id"]
    updated = apps_admin_api.data(
        """mutation ($id: ID!) { aftersalesWebhookUpdate(id: $id, input: {isActive: false}) {
            webhook { isActive } errors { code } } }""",
        {"id": webhook_id},
    )["aftersalesWebhookUpdate"]
    assert updated["webhook"]["isActive"] is False
    listed = apps_admin_api.data(LIST)["aftersalesWebhooks"]["edges"]
    assert [e["node"]["id"] for e in listed] == [webhook_id]
    apps_admin_api.data(
        "mutation ($id: ID!) { aftersalesWebhookDelete(id: $id) { errors { code } } }",
        {"id": webhook_id},
    )
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"targetUrl": "ftp://erp.example.com"}, "targetUrl"),
        ({"targetUrl": "not a url"}, "targetUrl"),
        ({"secret": "short"}, "secret"),
        ({"eventTypes": ["order.created"]}, "eventTypes"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_subscriptions_are_refused(apps_admin_api, change, field):
    data = {"name": "ERP", "targetUrl": "https://erp.example.com", "secret": SECRET}
    result = apps_admin_api.data(CREATE, {"input": {**data, **change}})
    errors = result["aftersalesWebhookCreate"]["errors"]
    assert errors == [{"field": field, "code": "INVALID"}]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("who", ["anonymous", "customer", "order_staff", "apps_staff"])
def test_strangers_cannot_see_or_change_subscriptions(
    who, customer, staff_user, staff_without_permission
):
    from django.contrib.auth.models import Permission

    staff_without_permission.user_permissions.add(
        Permission.objects.get(codename="manage_apps")
    )
    api = {
        "anonymous": ApiClient(),
        "customer": ApiClient(customer),
        "order_staff": ApiClient(staff_user),  # MANAGE_ORDERS is not MANAGE_APPS
        # MANAGE_APPS alone would let apps staff read customers' claims in payloads.
        "apps_staff": ApiClient(staff_without_permission),
    }[who]
    data = {"name": "Spy", "targetUrl": "https://spy.example.com", "secret": SECRET}
    assert_permission_denied(api.post(CREATE, {"input": data}))
    assert_permission_denied(api.post(LIST))
    assert_permission_denied(api.post(DELIVERIES))
    assert not WebhookSubscription.objects.exists()


def test_only_failed_deliveries_are_sent_again(apps_admin_api, receiver):
    subscription = subscribe(receiver.url)
    delivery = WebhookDelivery.objects.create(
        event_type="aftersales.request.created", subscription=subscription, payload={}
    )
    result = apps_admin_api.data(
        """mutation ($id: ID!) { aftersalesWebhookRedeliver(id: $id) {
            delivery { status } errors { code } } }""",
        {"id": gid("AftersalesWebhookDelivery", delivery.pk)},
    )["aftersalesWebhookRedeliver"]
    assert result["errors"][0]["code"] == "INVALID_STATUS"


def test_update_delete_and_redeliver_refuse_strangers_and_bad_input(
    apps_admin_api, customer, receiver
):
    subscription = subscribe(receiver.url)
    delivery = WebhookDelivery.objects.create(
        event_type="aftersales.request.created",
        subscription=subscription,
        payload={},
        status=WebhookDelivery.FAILED,
    )
    webhook_id = gid("AftersalesWebhook", subscription.pk)
    update = """mutation ($id: ID!, $input: AftersalesWebhookInput!) {
        aftersalesWebhookUpdate(id: $id, input: $input) { errors { field code } } }"""
    delete = (
        "mutation ($id: ID!) { aftersalesWebhookDelete(id: $id) { errors { code } } }"
    )
    redeliver = """mutation ($id: ID!) { aftersalesWebhookRedeliver(id: $id) {
        errors { code } } }"""
    from demo import shop

    orders_only = shop.make_staff("orders-only@example.com")  # no MANAGE_APPS
    for api in (ApiClient(), ApiClient(customer), ApiClient(orders_only)):
        assert_permission_denied(
            api.post(update, {"id": webhook_id, "input": {"isActive": False}})
        )
        assert_permission_denied(api.post(delete, {"id": webhook_id}))
        assert_permission_denied(
            api.post(redeliver, {"id": gid("AftersalesWebhookDelivery", delivery.pk)})
        )
    bad = apps_admin_api.data(
        update, {"id": webhook_id, "input": {"targetUrl": "gopher://x"}}
    )["aftersalesWebhookUpdate"]
    assert bad["errors"] == [{"field": "targetUrl", "code": "INVALID"}]
    unknown = apps_admin_api.data(delete, {"id": gid("AftersalesWebhook", 999999)})
    assert unknown["aftersalesWebhookDelete"]["errors"][0]["code"] == "NOT_FOUND"
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.target_url == receiver.url
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.FAILED
