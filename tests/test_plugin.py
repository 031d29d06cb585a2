"""The plugin lives inside Saleor: its settings go through Saleor's plugin API."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from saleor.plugins.manager import get_plugins_manager

from saleor_aftersales.configuration import get_settings
from saleor_aftersales.settings import PLUGIN_ID

from .conftest import ApiClient, gid
from .queries import ELIGIBILITY

PLUGIN = """
query Plugin($id: ID!) {
  plugin(id: $id) { id name active configuration { name value type helpText } }
}
"""

PLUGIN_UPDATE = """
mutation Update($id: ID!, $input: PluginUpdateInput!) {
  pluginUpdate(id: $id, input: $input) {
    plugin { configuration { name value } }
    pluginsErrors { field code message }
  }
}
"""


@pytest.fixture
def plugin_admin_api(staff_user):
    staff_user.user_permissions.add(Permission.objects.get(codename="manage_plugins"))
    return ApiClient(staff_user)


def test_plugin_is_registered_with_saleor_and_active_by_default(db):
    plugin = get_plugins_manager().get_plugin(PLUGIN_ID)
    assert plugin is not None and plugin.active


def test_schema_is_served_under_saleors_api_url_name():
    assert reverse("api") == "/graphql/"


def test_settings_are_visible_through_saleors_plugin_query(plugin_admin_api):
    plugin = plugin_admin_api.data(PLUGIN, {"id": PLUGIN_ID})["plugin"]
    assert plugin["name"] == "After-sales"
    values = {item["name"]: item["value"] for item in plugin["configuration"]}
    assert values == {
        "Return window days": "30",
        "Changed-mind window days": "14",
        "Exchange window days": "30",
        "Refund without return below": "0",
        "Refund shipping": "false",
        "Default restocking fee percent": "0",
        "Default warranty months": "12",
        "Extended warranty product type": "",
        "Extended warranty months": "12",
        "Warranty verifications per minute": "30",
        "Exchange for other products": "false",
        "Ship exchanges before the return arrives": "false",
        "Repairs paid on collection": "false",
        "Logistics webhook secret": None,  # a secret: never shown
        "Stripe webhook signing secret": None,
        "Automatic refund limit": "100",
        "Refund automatically on parcel delivery": "false",
        "Store credit bonus percent": "0",
        "Store credit valid days": "365",
        "Business time zone": "UTC",
        "Business hours": "08:00-20:00",
        "Working days": "Mon,Tue,Wed,Thu,Fri",
        "Holidays": "",
        "First response within business hours": "24",
        "Resolution within working days": "3",
        "Service level target percent": "95",
        "Escalate overdue claims to": "",
        "Serial returner return rate percent": "30",
        "Serial returner minimum claims": "3",
        "Days to send a return": "14",
        "Days to appeal a rejection": "14",
        "Shopper e-mail language": "en",
        "Shopper e-mails switched off": "",
        "Portal address": "",
    }


def test_plugin_update_changes_the_return_window(plugin_admin_api, customer_api, order):
    result = plugin_admin_api.data(
        PLUGIN_UPDATE,
        {
            "id": PLUGIN_ID,
            "input": {"configuration": [{"name": "Return window days", "value": "60"}]},
        },
    )["pluginUpdate"]
    assert result["pluginsErrors"] == []
    assert get_settings().return_window_days == 60

    eligibility = customer_api.data(ELIGIBILITY, {"order": gid("Order", order.pk)})
    line = eligibility["aftersalesEligibility"]["lines"][0]
    fulfilled = order.fulfillments.get().created
    assert line["returnDeadline"].startswith(
        (fulfilled + timedelta(days=60)).date().isoformat()
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("Return window days", "soon"),
        ("Return window days", "-1"),
        ("Default restocking fee percent", "150"),
        ("Default restocking fee percent", "NaN"),
    ],
)
def test_plugin_update_refuses_bad_values_and_keeps_the_old_ones(
    plugin_admin_api, name, value
):
    result = plugin_admin_api.data(
        PLUGIN_UPDATE,
        {"id": PLUGIN_ID, "input": {"configuration": [{"name": name, "value": value}]}},
    )["pluginUpdate"]
    assert result["pluginsErrors"], result
    assert result["pluginsErrors"][0]["code"] == "INVALID"
    assert get_settings().return_window_days == 30
    assert get_settings().restocking_fee_percent == 0


def test_a_calendar_that_cannot_meet_the_targets_is_refused(plugin_admin_api, db):
    settings = {
        "Working days": "Sun",
        "Business hours": "09:00-09:30",
        "First response within business hours": "10000",
    }
    result = plugin_admin_api.data(
        PLUGIN_UPDATE,
        {
            "id": PLUGIN_ID,
            "input": {
                "configuration": [
                    {"name": name, "value": value} for name, value in settings.items()
                ]
            },
        },
    )["pluginUpdate"]
    assert result["pluginsErrors"][0]["field"] == "Working days"
    assert get_settings().working_days == (0, 1, 2, 3, 4)


def test_escalation_contact_must_be_an_active_staff_member(plugin_admin_api, customer):
    for value in (customer.email, "nobody@example.com"):
        result = plugin_admin_api.data(
            PLUGIN_UPDATE,
            {
                "id": PLUGIN_ID,
                "input": {
                    "configuration": [
                        {"name": "Escalate overdue claims to", "value": value}
                    ]
                },
            },
        )["pluginUpdate"]
        assert result["pluginsErrors"][0]["field"] == "Escalate overdue claims to"
        assert get_settings().escalation_staff_email == ""


def test_the_logistics_secret_is_never_shown_back(plugin_admin_api):
    from .conftest import configure

    configure(**{"Logistics webhook secret": "carrier-shared-secret"})
    plugin = plugin_admin_api.data(PLUGIN, {"id": PLUGIN_ID})["plugin"]
    values = {item["name"]: item["value"] for item in plugin["configuration"]}
    assert "carrier-shared-secret" not in str(values)


def test_the_demo_schedules_the_sweepers_as_registered_tasks():
    from saleor_aftersales import tasks
    from saleor_aftersales.hosts.saleor2 import shop as host

    schedule = host.celery_app.conf.beat_schedule
    assert {entry["task"] for entry in schedule.values()} == {
        tasks.pay_due_refunds.name,
        tasks.deliver_due_webhooks.name,
        tasks.send_due_customer_emails.name,
        tasks.find_sla_breaches.name,
        tasks.fold_rollups.name,
    }
    assert all(entry["task"] in host.celery_app.tasks for entry in schedule.values())
    # The task that tells Saleor's plugins is the host's own, registered too.
    assert host.TELL_SALEOR in host.celery_app.tasks
