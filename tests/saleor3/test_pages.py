"""The portal and the console served by the app, in a real browser: a shopper
signs in with their Saleor account (at Saleor), picks the order Saleor lists for
them and files a return through the app; staff sign in at Saleor, work with the
token Saleor issues them for the app, and approve it. Nothing on the pages breaks
their content security policy."""

import pytest

from saleor_aftersales.models import AftersalesRequest
from tests.browser import browser, open_page, pages_closed_before_flush  # noqa: F401


# Pages close (their last requests done) before the shop's rows are emptied.
pytestmark = pytest.mark.django_db(transaction=True)


def sign_in(page, email, password):
    page.fill("#signin-form [name=email]", email)
    page.fill("#signin-form [name=password]", password)
    page.click("#signin-form button[type=submit]")


def test_a_shopper_files_a_return_and_the_desk_approves_it_in_the_apps_pages(
    browser, saleor, installed, buyers_order, app_url, pages_closed_before_flush
):
    portal = open_page(browser, f"{app_url}/aftersales/portal/")
    sign_in(portal, "buyer@example.com", "buyer")
    portal.click(f"#orders button:has-text('#{buyers_order['number']}')")
    portal.wait_for_selector("#claim-form")
    line = portal.locator("fieldset.line").first
    line.locator(".qty").fill("1")
    line.locator(".reason").select_option("DEFECTIVE")
    portal.click("#submit")
    portal.wait_for_selector("#claim-status")
    claim = AftersalesRequest.objects.get()
    assert portal.get_attribute("#claim-status", "data-status") == "REQUESTED"
    assert portal.inner_text("#claim-number") == claim.number
    assert portal.problems == []

    console = open_page(browser, f"{app_url}/aftersales/console/")
    sign_in(console, "admin@example.com", "admin")
    console.wait_for_selector(f"tr[data-number='{claim.number}']")
    console.locator(f"tr[data-number='{claim.number}'] .open-claim").click()
    console.wait_for_selector("#claim-status")
    console.click("#approve")
    console.wait_for_selector("#claim-status[data-status=APPROVED]")
    claim.refresh_from_db()
    assert claim.status == "approved"
    assert console.problems == []


def test_a_shopper_is_not_let_into_the_desk(
    browser, saleor, installed, people, app_url, pages_closed_before_flush
):
    console = open_page(browser, f"{app_url}/aftersales/console/")
    sign_in(console, "buyer@example.com", "buyer")
    console.wait_for_selector("#signin-errors .error")
    assert console.locator("#queue").count() == 0
