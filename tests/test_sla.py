"""Service levels in business time: due dates, breaches, escalation, the queue."""

import hashlib
import hmac
import json
from datetime import datetime

import pytest
import pytz
from freezegun import freeze_time

from saleor_aftersales.models import AftersalesEvent, AftersalesRequest, WebhookDelivery
from saleor_aftersales.tasks import find_sla_breaches

from .conftest import assert_permission_denied, configure, create_return, line_input
from .queries import (
    APPEAL,
    APPROVE,
    CANCEL,
    PROVIDE_INFO,
    RECEIVE,
    REFUND,
    REJECT,
    REQUEST,
    REQUEST_INFO,
    STAFF_REQUESTS,
)
from .servers import wait_for
from .test_webhooks import SECRET, by_type, subscribe

UTC = pytz.utc

SLA_FIELDS = "slaResponseDueAt slaResolutionDueAt firstResponseAt isOverdue"
CLAIM_SLA = REQUEST.replace("assignee { email }", f"assignee {{ email }} {SLA_FIELDS}")


def utc(*args):
    return UTC.localize(datetime(*args))


# Claims ----------------------------------------------------------------------------


def claim_at(moment, customer_api, order):
    with freeze_time(moment):
        first = order.lines.order_by("pk")[0]
        return create_return(customer_api, order, [line_input(first, 1)])[
            "aftersalesRequest"
        ]


def test_claim_shows_its_due_times_to_staff_only(customer_api, staff_api, order):
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-11-30 09:00:00"):
        seen = staff_api.data(CLAIM_SLA, {"id": claim["id"]})["aftersalesRequest"]
        assert seen["slaResponseDueAt"] == "2026-12-01T18:00:00+00:00"
        assert seen["slaResolutionDueAt"] == "2026-12-02T18:00:00+00:00"
        assert seen["firstResponseAt"] is None
        assert seen["isOverdue"] is False
        mine = customer_api.data(CLAIM_SLA, {"id": claim["id"]})["aftersalesRequest"]
        assert [mine[f] for f in SLA_FIELDS.split()] == [None] * 4


def test_first_answer_stops_the_response_clock_in_business_time(
    customer_api, staff_api, order
):
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-11-30 10:30:00"):
        staff_api.data(REQUEST_INFO, {"id": claim["id"], "note": "A photo, please."})
    request = AftersalesRequest.objects.get()
    assert request.first_response_at == utc(2026, 11, 30, 10, 30)
    # Friday 18:00-20:00 and Monday 08:00-10:30.
    assert request.response_business_seconds == 4.5 * 3600

    # Waiting for the customer's photo: the resolution clock stands still.
    with freeze_time("2026-12-09 11:59:00"):
        assert find_sla_breaches() == 0
        seen = staff_api.data(CLAIM_SLA, {"id": claim["id"]})["aftersalesRequest"]
        assert seen["isOverdue"] is False
    with freeze_time("2026-12-09 12:00:00"):
        customer_api.data(PROVIDE_INFO, {"id": claim["id"], "note": "Attached."})
    request.refresh_from_db()
    # Paused Mon 30 Nov 10:30 to Wed 9 Dec 12:00: 9.5 + 5 x 12 + 12 + 4 = 85.5 h.
    assert request.sla_paused_seconds == 85.5 * 3600
    # Due Wed 2 Dec 18:00 before; 85.5 open hours later: Fri 11 Dec 19:30.
    assert request.sla_resolution_due_at == utc(2026, 12, 11, 19, 30)
    with freeze_time("2026-12-11 19:29:00"):
        assert find_sla_breaches() == 0
    with freeze_time("2026-12-11 19:31:00"):
        assert find_sla_breaches() == 1
    assert list(
        AftersalesEvent.objects.filter(type="sla_breached").values_list(
            "parameters__target", flat=True
        )
    ) == ["resolution"]


def test_an_approved_return_waits_for_its_parcel_without_breaching(
    customer_api, staff_api, order
):
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-11-30 09:00:00"):
        staff_api.data(APPROVE, {"id": claim["id"]})
    with freeze_time("2026-12-20 09:00:00"):
        assert find_sla_breaches() == 0
    with freeze_time("2026-12-21 09:00:00"):  # Monday: the parcel arrives
        staff_api.data(RECEIVE, {"id": claim["id"]})
    request = AftersalesRequest.objects.get()
    assert request.sla_paused_at is None
    # Before approval 3 open hours were used (Fri 18-20, Mon 08-09): 33 are left.
    assert request.sla_resolution_due_at == utc(2026, 12, 23, 18)
    with freeze_time("2026-12-21 10:00:00"):
        staff_api.data(REFUND, {"id": claim["id"]})
    request.refresh_from_db()
    assert request.status == "resolved"
    # Fri 2 h + Mon 1 h before approval, 1 h from receipt to refund: 4 h.
    assert request.resolution_business_seconds == 4 * 3600


def test_a_late_answer_given_between_sweeps_is_recorded_once_without_escalation(
    customer_api, staff_api, order, escalation_staff
):
    configure(**{"Escalate overdue claims to": "escalations@example.com"})
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-12-01 19:00:00"):  # due Tue 18:00
        staff_api.data(REQUEST_INFO, {"id": claim["id"], "note": "Serial number?"})
    with freeze_time("2026-12-01 19:05:00"):
        assert find_sla_breaches() == 1
        assert find_sla_breaches() == 0
    event = AftersalesEvent.objects.get(type="sla_breached")
    assert "answered 2026-12-01 19:00" in event.message
    assert AftersalesRequest.objects.get().assignee_ref == ""


def test_an_appeal_reopens_the_resolution_clock(customer_api, staff_api, order):
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-11-30 09:00:00"):
        staff_api.data(REJECT, {"id": claim["id"], "reason": "NO_DEFECT_FOUND"})
    request = AftersalesRequest.objects.get()
    assert request.concluded_at == utc(2026, 11, 30, 9)
    assert request.resolution_business_seconds == 3 * 3600
    with freeze_time("2026-12-14 09:00:00"):
        customer_api.data(APPEAL, {"id": claim["id"], "note": "It is broken."})
    request.refresh_from_db()
    assert request.concluded_at is None
    assert request.resolution_business_seconds is None
    # 36 open hours from Mon 14 Dec 09:00: Mon 11, Tue 12, Wed 12, Thu 1.
    assert request.sla_resolution_due_at == utc(2026, 12, 17, 9)
    with freeze_time("2026-12-17 08:59:00"):
        assert find_sla_breaches() == 0
    with freeze_time("2026-12-17 09:01:00"):
        assert find_sla_breaches() == 1


@pytest.fixture
def escalation_staff(db):
    from demo import shop

    return shop.make_staff("escalations@example.com", manage_orders=True)


def test_breaches_are_recorded_once_escalated_and_sent(
    customer_api, staff_api, order, escalation_staff, receiver
):
    configure(**{"Escalate overdue claims to": "Escalations@example.com"})
    subscription = subscribe(receiver.url, ["aftersales.request.sla_breached"])
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)

    with freeze_time("2026-12-01 17:59:00"):
        assert find_sla_breaches() == 0
    with freeze_time("2026-12-01 18:01:00"):
        assert find_sla_breaches() == 1
        assert find_sla_breaches() == 0  # once
        seen = staff_api.data(CLAIM_SLA, {"id": claim["id"]})["aftersalesRequest"]
    assert seen["isOverdue"] is True
    assert seen["assignee"] == {"email": "escalations@example.com"}
    assert seen["events"][-1]["type"] == "SLA_BREACHED"
    assert seen["events"][-1]["actorType"] == "SYSTEM"
    mine = customer_api.data(REQUEST, {"id": claim["id"]})["aftersalesRequest"]
    assert "SLA_BREACHED" not in [event["type"] for event in mine["events"]]

    with freeze_time("2026-12-02 18:01:00"):
        assert find_sla_breaches() == 1  # now the resolution
        assert find_sla_breaches() == 0
    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    assert deliveries.count() == 2
    targets = [d.payload["data"]["step"]["parameters"]["target"] for d in deliveries]
    assert sorted(targets) == ["resolution", "response"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_breach_webhook_reaches_the_receiver_signed(customer_api, order, receiver):
    subscribe(receiver.url, ["aftersales.request.sla_breached"])
    claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-12-01 18:01:00"):
        assert find_sla_breaches() == 1
    assert wait_for(lambda: by_type(receiver, "aftersales.request.sla_breached"))
    (message,) = by_type(receiver, "aftersales.request.sla_breached")
    body = json.loads(message["body"])["data"]
    assert body["step"]["type"] == "SLA_BREACHED"
    assert body["step"]["parameters"]["target"] == "response"
    assert body["request"]["number"].startswith("RMA-")
    expected = hmac.new(SECRET.encode(), message["body"], hashlib.sha256).hexdigest()
    assert message["headers"]["X-Saleor-HMAC-SHA256"] == expected


def test_finished_or_answered_claims_are_not_breached(customer_api, staff_api, order):
    claim = claim_at("2026-11-27 18:00:00", customer_api, order)
    with freeze_time("2026-11-30 09:00:00"):
        staff_api.data(REQUEST_INFO, {"id": claim["id"], "note": "Serial number?"})
    cancelled = claim_at("2026-11-27 18:00:00", customer_api, order)
    customer_api.data(CANCEL, {"id": cancelled["id"]})
    with freeze_time("2026-12-01 19:00:00"):
        assert find_sla_breaches() == 0
    assert not AftersalesEvent.objects.filter(type="sla_breached").exists()


def test_queue_filters_and_sorts_by_due_time(customer_api, staff_api, order):
    late = claim_at("2026-11-20 09:00:00", customer_api, order)
    on_time = claim_at("2026-11-30 09:00:00", customer_api, order)
    with freeze_time("2026-11-30 12:00:00"):
        overdue = staff_api.data(
            STAFF_REQUESTS, {"first": 10, "filter": {"overdue": True}}
        )
        in_time = staff_api.data(
            STAFF_REQUESTS, {"first": 10, "filter": {"overdue": False}}
        )
        by_due = staff_api.data(
            STAFF_REQUESTS,
            {
                "first": 10,
                "sortBy": {"field": "RESOLUTION_DUE_AT", "direction": "DESC"},
            },
        )
    ids = lambda page: [e["node"]["id"] for e in page["aftersalesRequests"]["edges"]]
    assert ids(overdue) == [late["id"]]
    assert ids(in_time) == [on_time["id"]]
    assert ids(by_due) == [on_time["id"], late["id"]]


def test_strangers_cannot_filter_the_queue(customer_api, anonymous_api, order):
    for api in (customer_api, anonymous_api):
        assert_permission_denied(
            api.post(STAFF_REQUESTS, {"first": 10, "filter": {"overdue": True}})
        )
