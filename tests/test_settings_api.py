"""The shop's settings through the API (what the app's desk uses; on Saleor 2.10
they're also Saleor's plugin configuration): read by the desk, changed only whole
and valid, by staff allowed to manage apps; a shopper e-mail kind switched off is
recorded skipped and not sent."""

from django.contrib.auth.models import Permission

from saleor_aftersales.configuration import get_settings
from saleor_aftersales.emails import outbox
from saleor_aftersales.models import CustomerEmail

from .conftest import assert_permission_denied, create_return, line_input

SETTINGS = "{ aftersalesSettings { name value kind } }"
UPDATE = """
mutation($input: [AftersalesSettingInput!]!) {
  aftersalesSettingsUpdate(input: $input) {
    settings { name value }
    errors { field code message }
  }
}
"""


def test_the_desk_reads_the_settings_without_secrets(staff_api):
    rows = {r["name"]: r for r in staff_api.data(SETTINGS)["aftersalesSettings"]}
    assert rows["Return window days"] == {
        "name": "Return window days",
        "value": "30",
        "kind": "TEXT",
    }
    assert rows["Stripe webhook signing secret"]["value"] is None
    assert rows["Shopper e-mails switched off"]["value"] == ""


def test_switching_an_e_mail_off_and_a_bad_value_changing_nothing(
    staff_user, staff_api, customer_api, order
):
    staff_user.user_permissions.add(Permission.objects.get(codename="manage_apps"))
    changed = staff_api.data(
        UPDATE,
        {"input": [{"name": "Shopper e-mails switched off", "value": "received"}]},
    )["aftersalesSettingsUpdate"]
    assert changed["errors"] == []
    assert get_settings().shopper_emails_off == frozenset({"received"})

    refused = staff_api.data(
        UPDATE,
        {
            "input": [
                {"name": "Return window days", "value": "45"},
                {"name": "Shopper e-mails switched off", "value": "everything"},
            ]
        },
    )["aftersalesSettingsUpdate"]
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("Shopper e-mails switched off", "INVALID")
    ]
    assert get_settings().return_window_days == 30  # all or nothing
    unknown = staff_api.data(UPDATE, {"input": [{"name": "Nope", "value": "1"}]})[
        "aftersalesSettingsUpdate"
    ]
    assert [e["code"] for e in unknown["errors"]] == ["INVALID"]

    # Steps still write the e-mail; it is recorded skipped and never sent.
    payload = create_return(customer_api, order, [line_input(order.lines.first(), 1)])
    assert payload["errors"] == []
    row = CustomerEmail.objects.get()
    assert outbox.send(row.pk) == "skipped"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("skipped", 1, "")


def test_only_staff_allowed_to_manage_apps_change_settings(
    staff_api, customer_api, anonymous_api
):
    for api in (staff_api, customer_api, anonymous_api):
        content = api.post(
            UPDATE, {"input": [{"name": "Return window days", "value": "1"}]}
        )
        assert_permission_denied(content)
    for api in (customer_api, anonymous_api):
        assert_permission_denied(api.post(SETTINGS))
    assert get_settings().return_window_days == 30
