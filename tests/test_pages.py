"""The portal and the console in a real browser: Debian's Chromium driven by
Playwright, against the shop served by Django's live server on the test database.

Screenshots go to a temporary folder, or to AFTERSALES_SCREENSHOTS (the README's
pictures are made with `AFTERSALES_SCREENSHOTS=docs/screenshots make test`).
"""

import io
import json
import os
import re
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from PIL import Image
from saleor.order.models import Fulfillment

from demo import shop
from saleor_aftersales.models import AftersalesPhoto, AftersalesRequest
from saleor_aftersales.hosts.saleor2 import shop as host

from .browser import (  # noqa: F401
    DESKTOP,
    browser,
    open_page,
    pages_closed_before_flush,
    wait_until,
)


SHOTS = Path(
    os.environ.get("AFTERSALES_SCREENSHOTS")
    or tempfile.mkdtemp(prefix="aftersales-shots-")
)
PHONE = {"width": 390, "height": 844}

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("pages_closed_before_flush"),
]


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fits(page):
    """Nothing sticks out sideways (no horizontal scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth + 1"
    )


def photo_file(tmp_path, name="broken-zip.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, "PNG")
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def find_as_guest(page, order, email):
    """Ask for the order's sign-in link as a guest; if one was e-mailed (the
    order is a guest's and the e-mail its own), open it in the same tab."""
    sent = len(mail.outbox)
    page.fill("#guest-form [name=number]", str(order.pk))
    page.fill("#guest-form [name=email]", email)
    page.evaluate("document.getElementById('find-errors').replaceChildren()")
    page.click("#find")
    page.wait_for_selector("#link-sent")
    links = [m for m in mail.outbox[sent:] if "#signin=" in m.body]
    if links:
        fragment = re.search(r"#signin=[^\s\"<]+", links[-1].body).group(0)
        origin = re.match(r"https?://[^/]+", page.url).group(0)
        page.goto(f"{origin}/aftersales/portal/{fragment}")


def customer_sign_in(page, customer, order):
    """Sign in to the portal and open ``order``."""
    page.fill("#signin-form [name=email]", customer.email)
    page.fill("#signin-form [name=password]", "password")
    page.click("#signin-form button[type=submit]")
    page.click(f"#orders button:has-text('#{order.pk}')")
    page.wait_for_selector("#claim-form")


def staff_sign_in(page, email="staff@example.com"):
    page.fill("#signin-form [name=email]", email)
    page.fill("#signin-form [name=password]", "password")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#queue table, #queue p")


# What each language shows at the steps the main test checks.
WORDS = {
    "en-US": {
        "title": "Returns & repairs",
        "return_by": "Return by",
        "requested": "Requested",
        "claims": "Claims 1",
        "suffix": "",
        "language": "en",
    },
    "zh-CN": {
        "title": "退换货与维修",
        "return_by": "退货截止",
        "requested": "已提交",
        "claims": "申请数 1",
        "suffix": "-zh",
        "language": "zh-hans",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_a_guest_return_goes_through_the_desk_and_back_to_the_portal(
    browser, live_server, guest_order, staff_user, tmp_path, locale
):
    words = WORDS[locale]
    portal = open_page(browser, f"{live_server.url}/aftersales/portal/", locale=locale)
    assert portal.inner_text("h1") == words["title"]
    shot(portal, "portal-find" + words["suffix"])
    find_as_guest(portal, guest_order, "guest@example.com")
    portal.wait_for_selector("#claim-form")
    line = portal.locator("fieldset.line").first
    assert words["return_by"] in line.inner_text()
    line.locator(".qty").fill("2")
    line.locator(".reason").select_option("DEFECTIVE")
    line.locator(".comment").fill("The zip broke")
    portal.set_input_files("#photos", str(photo_file(tmp_path)))
    portal.fill("#claim-form [name=note]", "<img src=x onerror=alert(1)> please help")
    shot(portal, "portal-claim-form" + words["suffix"])
    portal.click("#submit")
    portal.wait_for_selector("#claim-status")
    claim = AftersalesRequest.objects.get()
    assert portal.inner_text("#claim-number") == claim.number
    assert claim.number in portal.inner_text(".notice")
    # The shop writes to the guest in the language they filed in.
    assert claim.language == words["language"]
    assert portal.get_attribute("#claim-status", "data-status") == "REQUESTED"
    assert AftersalesPhoto.objects.filter(request=claim).count() == 1
    shot(portal, "portal-claim-status" + words["suffix"])

    console = open_page(
        browser, f"{live_server.url}/aftersales/console/", locale=locale
    )
    staff_sign_in(console)
    row = console.locator(f"tr[data-number='{claim.number}']")
    assert words["requested"] in row.inner_text()
    shot(console, "console-queue" + words["suffix"])
    row.locator(".open-claim").click()
    console.wait_for_selector("#claim-status")
    # The customer's words are text, never markup.
    assert console.inner_text("#customer-note") == (
        "<img src=x onerror=alert(1)> please help"
    )
    assert console.locator("#customer-note img").count() == 0
    # Wait until the browser has finished with every photo (loaded or broken),
    # then require that each one decoded to a real picture.
    wait_until(
        console,
        "(() => { const imgs = [...document.querySelectorAll('#photos img')];"
        " return imgs.length > 0 && imgs.every(i => i.complete); })()",
    )
    assert console.evaluate(
        "[...document.querySelectorAll('#photos img')].every(i => i.naturalWidth > 0)"
    )
    assert words["claims"] in console.inner_text("#history")
    console.click("#approve")
    console.wait_for_selector("#claim-status[data-status=APPROVED]")
    console.click("#receive")
    console.wait_for_selector("#claim-status[data-status=RECEIVED]")
    console.wait_for_selector("#preview-amount")
    # 2 units at 25.00, no fee or shipping by default.
    assert console.inner_text("#preview-amount") == "50.00 USD"
    assert "null" not in console.inner_text("#view")
    shot(console, "console-claim" + words["suffix"])
    console.click("#refund")
    console.wait_for_selector("#claim-status[data-status=RESOLVED]")
    claim.refresh_from_db()
    assert claim.status == "resolved"
    assert claim.refunds.get().amount == 50

    portal.reload()
    portal.click(f"#claims button:has-text('{claim.number}')")
    portal.wait_for_selector("#claim-status[data-status=RESOLVED]")
    assert "50.00 USD" in portal.inner_text("#refunds")
    assert "null" not in portal.inner_text("#view")
    assert portal.problems == [] and console.problems == []


def test_the_portal_speaks_chinese_and_translates_the_apis_errors(
    browser, live_server, guest_order, order
):
    portal = open_page(browser, f"{live_server.url}/aftersales/portal/", locale="zh-CN")
    assert portal.inner_text("h1") == "退换货与维修"
    find_as_guest(portal, guest_order, "someone-else@example.com")
    sent = "如果这是您的订单，我们已向其电子邮箱发送了链接。"
    assert portal.inner_text("#find-errors") == sent

    # An account's order is found by signing in, never as a guest: the same
    # answer as for no order at all, and no e-mail.
    find_as_guest(portal, order, order.user_email)
    assert portal.inner_text("#find-errors") == sent
    assert mail.outbox == []

    # A changed-mind return after 14 days: the API refuses it, in Chinese here.
    Fulfillment.objects.filter(order=guest_order).update(
        created=Fulfillment.objects.get(order=guest_order).created - timedelta(days=20)
    )
    find_as_guest(portal, guest_order, "guest@example.com")
    portal.wait_for_selector("#claim-form")
    line = portal.locator("fieldset.line").first
    assert "退货截止" in line.inner_text()
    line.locator(".qty").fill("1")
    line.locator(".reason").select_option("CHANGED_MIND")
    portal.click("#submit")
    portal.wait_for_selector("#claim-errors .error")
    assert portal.inner_text("#claim-errors") == "此商品已超过退货期限。"
    assert not AftersalesRequest.objects.exists()
    shot(portal, "portal-zh")

    # Switching language keeps the page where it is.
    portal.select_option("#language", "en")
    assert portal.inner_text("h1") == "Returns & repairs"
    assert portal.problems == []


def test_nothing_returnable_and_expired_windows_are_said_plainly(
    browser, live_server, customer, staff_user, warehouse, variants
):
    email = "guest@example.com"
    unshipped = shop.place_order(None, [(variants[0], 1)], guest_email=email)
    shop.pay_with_dummy(unshipped)
    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    find_as_guest(portal, unshipped, email)
    portal.wait_for_selector("#nothing-returnable")
    assert (
        portal.inner_text("#nothing-returnable")
        == "Nothing of this order can be returned or exchanged now."
    )

    old = shop.fulfilled_paid_order(
        None, staff_user, warehouse, [(variants[1], 1)], guest_email=email
    )
    Fulfillment.objects.filter(order=old).update(
        created=Fulfillment.objects.get(order=old).created - timedelta(days=40)
    )
    portal.click("#nav-find")
    find_as_guest(portal, old, email)
    portal.wait_for_selector("#nothing-returnable")
    # A repair is still possible after the return window.
    portal.select_option("#claim-type", "REPAIR")
    assert portal.locator("fieldset.line").count() == 1
    assert portal.problems == []


def test_a_signed_in_customer_follows_and_answers_a_claim(
    browser, live_server, order, customer, staff_user
):
    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    portal.fill("#signin-form [name=email]", customer.email)
    portal.fill("#signin-form [name=password]", "password")
    portal.click("#signin-form button[type=submit]")
    portal.click(f"#orders button:has-text('#{order.pk}')")
    portal.wait_for_selector("#claim-form")
    portal.locator("fieldset.line .qty").first.fill("1")
    portal.click("#submit")
    portal.wait_for_selector("#claim-status[data-status=REQUESTED]")
    claim = AftersalesRequest.objects.get()

    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.locator(f"tr[data-number='{claim.number}'] .open-claim").click()
    console.fill("#staff-note", "A photo of the label, please.")
    console.click("#request-info")
    console.wait_for_selector("#claim-status[data-status=NEEDS_INFO]")

    portal.reload()
    portal.click(f"#claims button:has-text('{claim.number}')")
    portal.fill("#customer-note", "Label photo attached.")
    portal.click("#provide-info")
    portal.wait_for_selector("#claim-status[data-status=REQUESTED]")
    assert "A photo of the label, please." in portal.inner_text("#timeline")
    portal.click("#cancel")
    portal.wait_for_selector("#claim-status[data-status=CANCELLED]")
    assert portal.problems == [] and console.problems == []


@pytest.mark.parametrize("viewport, name", [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_the_console_fits_a_laptop_and_a_phone(
    browser, live_server, customer_api, order, staff_user, viewport, name
):
    from .conftest import create_return, line_input

    create_return(customer_api, order, [line_input(order.lines.first(), 1)])
    console = open_page(
        browser, f"{live_server.url}/aftersales/console/", viewport=viewport
    )
    staff_sign_in(console)
    assert fits(console)
    console.locator(".open-claim").first.click()
    console.wait_for_selector("#actions")
    assert fits(console)
    shot(console, f"console-{name}")
    portal = open_page(
        browser, f"{live_server.url}/aftersales/portal/", viewport=viewport
    )
    assert fits(portal)


def test_customers_are_refused_by_the_console(browser, live_server, customer):
    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    console.fill("#signin-form [name=email]", customer.email)
    console.fill("#signin-form [name=password]", "password")
    console.click("#signin-form button[type=submit]")
    console.wait_for_selector("#signin-errors .error")
    assert "can't manage claims" in console.inner_text("#signin-errors")


def test_warranty_check_page(browser, live_server, order):
    from saleor_aftersales.models import WarrantyCard
    from saleor_aftersales.warranty import display_code

    card = WarrantyCard.objects.filter(order__host_id=host.ref(order.pk)).first()
    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    portal.click("#nav-warranty")
    portal.fill("#warranty-form [name=code]", display_code(card.code))
    portal.click("#warranty-form button")
    portal.wait_for_selector("#warranty-valid")
    assert portal.inner_text("#warranty-valid") == "Valid"
    portal.fill("#warranty-form [name=code]", "AAAA-BBBB-CCCC-DDDD")
    portal.click("#warranty-form button")
    portal.wait_for_selector("#warranty-result .error")
    shot(portal, "portal-warranty")


def test_a_repair_is_quoted_accepted_finished_and_rated(
    browser, live_server, order, customer, staff_user
):
    from saleor_aftersales import workflow
    from saleor_aftersales.hosts.saleor2 import shop as host
    from saleor_aftersales.configuration import get_settings

    from .conftest import configure

    line = order.lines.order_by("pk").first()
    claim = workflow.create_request(
        host.order_facts(order),
        type="repair",
        lines=[
            workflow.ClaimLineInput(
                host.ref(line.pk), 1, "defective", serial_number="SN-1"
            )
        ],
        by=workflow.Actor.customer(customer),
        settings=get_settings(),
    )
    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.select_option("#filter-type", "REPAIR")
    console.wait_for_selector(f"tr[data-number='{claim.number}']")
    console.locator(f"tr[data-number='{claim.number}'] .open-claim").click()
    console.click("#approve")
    console.wait_for_selector("#claim-status[data-status=APPROVED]")
    console.click("#receive")
    console.wait_for_selector("#claim-status[data-status=RECEIVED]")
    console.fill("#quote-lines .description", "New zip")
    console.fill("#quote-lines .price", "12.50")
    console.fill("#diagnosis", "Zip slider broken")
    console.click("#create-quote")
    console.wait_for_selector("#claim-status[data-status=QUOTED]")
    console.click("#assign-me")
    console.wait_for_selector("#unassign")

    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    customer_sign_in(portal, customer, order)
    portal.click(f"#claims button:has-text('{claim.number}')")
    assert "12.50 USD" in portal.inner_text("#quote")
    portal.click("#accept-quote")
    portal.wait_for_selector("#claim-status[data-status=IN_REPAIR]")

    console.reload()
    # The note the customer sees is asked for, never made up.
    console.wait_for_selector("#repair-note")
    console.click("#repair-update")
    console.wait_for_selector("#action-errors .error[data-code=REPAIR_NOTE_REQUIRED]")
    assert console.inner_text("#action-errors") == (
        "Write a repair note for the customer first."
    )
    console.select_option("#language", "zh-Hans")
    console.wait_for_selector("#repair-note")
    console.fill("#repair-note", "   ")
    console.click("#repair-update")
    console.wait_for_selector("#action-errors .error[data-code=REPAIR_NOTE_REQUIRED]")
    assert console.inner_text("#action-errors") == "请先填写给客户的维修说明。"
    claim.refresh_from_db()
    assert claim.status == "in_repair"
    assert not claim.events.filter(message="—").exists()
    console.select_option("#language", "en")
    console.wait_for_selector("#repair-note")
    console.fill("#repair-note", "Replaced and tested")
    console.select_option("#repair-status", "RESOLVED")
    console.click("#repair-update")
    # The accepted quote's order isn't paid: the desk is told so.
    console.wait_for_selector("#action-errors .error[data-code=QUOTE_NOT_PAID]")
    configure(**{"Repairs paid on collection": True})
    console.click("#repair-update")
    console.wait_for_selector("#claim-status[data-status=RESOLVED]")

    portal.reload()
    portal.click(f"#claims button:has-text('{claim.number}')")
    portal.fill("#rating", "4")
    portal.click("#rate")
    portal.wait_for_selector(".notice")
    claim.refresh_from_db()
    assert (claim.status, claim.rating) == ("resolved", 4)
    assert claim.assignee_ref == host.ref(staff_user.pk)
    assert claim.events.filter(message="Replaced and tested").count() == 1
    assert portal.problems == [] and console.problems == []


def test_a_rejection_is_appealed_and_the_queue_filters_find_it(
    browser, live_server, order, customer, customer_api, staff_user
):
    from .conftest import create_return, line_input

    claim = create_return(customer_api, order, [line_input(order.lines.first(), 1)])[
        "aftersalesRequest"
    ]
    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.fill("#filter-search", claim["number"])
    console.click("#filters button[type=submit]")
    console.locator(".open-claim").first.click()
    console.select_option("#reject-reason", "NO_DEFECT_FOUND")
    console.fill("#staff-note", "Works as designed")
    console.click("#reject")
    console.wait_for_selector("#claim-status[data-status=REJECTED]")

    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    customer_sign_in(portal, customer, order)
    portal.click(f"#claims button:has-text('{claim['number']}')")
    assert "Works as designed" in portal.inner_text("#timeline")
    portal.fill("#customer-note", "It really is broken")
    portal.click("#appeal")
    portal.wait_for_selector("#claim-status[data-status=APPEALED]")

    console.click("#nav-queue")
    console.select_option("#filter-status", "APPEALED")
    console.wait_for_selector(f"tr[data-number='{claim['number']}']")
    assert console.locator("#queue tbody tr").count() == 1
    assert portal.problems == [] and console.problems == []


def test_approving_outside_the_policy_takes_an_explicit_override(
    browser, live_server, customer, staff_user, staff_api, warehouse
):
    from saleor_aftersales import policies

    from .conftest import create_return, line_input

    (variant,) = shop.make_variants(1, warehouse)
    policies.save_policy(
        host.ref(variant.product.product_type_id), {"final_sale": True}
    )
    order = shop.fulfilled_paid_order(customer, staff_user, warehouse, [(variant, 1)])
    claim = create_return(staff_api, order, [line_input(order.lines.get(), 1)])[
        "aftersalesRequest"
    ]
    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.locator(f"tr[data-number='{claim['number']}'] .open-claim").click()
    console.click("#approve")
    console.wait_for_selector(
        "#action-errors .error[data-code=POLICY_OVERRIDE_REQUIRED]"
    )
    assert AftersalesRequest.objects.get().status == "requested"
    console.check("#override-policy")
    console.click("#approve")
    console.wait_for_selector("#claim-status[data-status=APPROVED]")
    assert "POLICY_OVERRIDDEN" in console.inner_text("#timeline")
    assert console.problems == []


# Counts the page's GraphQL requests and keeps their bodies, so a test can wait
# until none is in flight (rather than sleep) and see what was sent.
TRACK_REQUESTS = """
(() => {
  const original = window.fetch;
  window.__graphql = { sent: [], inFlight: 0 };
  window.fetch = async (url, options) => {
    window.__graphql.sent.push(String((options && options.body) || ""));
    window.__graphql.inFlight += 1;
    try { return await original(url, options); }
    finally { window.__graphql.inFlight -= 1; }
  };
})();
"""


def settled_requests(page, mutation):
    """The bodies of the ``mutation`` requests sent, once none is in flight."""
    wait_until(page, "window.__graphql.inFlight === 0")
    return [
        json.loads(body)["variables"]
        for body in page.evaluate("window.__graphql.sent")
        if body.startswith("{") and mutation in body
    ]


def test_a_double_click_files_one_claim_and_one_refund(
    browser, live_server, guest_order, staff_user
):
    portal = open_page(browser, "about:blank")
    portal.context.add_init_script(TRACK_REQUESTS)
    portal.goto(f"{live_server.url}/aftersales/portal/")
    find_as_guest(portal, guest_order, "guest@example.com")
    portal.wait_for_selector("#claim-form")
    # One of the two units: a second claim would be accepted too.
    portal.locator("fieldset.line .qty").first.fill("1")
    portal.dblclick("#submit")
    portal.wait_for_selector("#claim-status[data-status=REQUESTED]")
    sent = settled_requests(portal, "returnRequestCreate")
    assert AftersalesRequest.objects.count() == 1
    assert len(sent) == 1, sent
    claim = AftersalesRequest.objects.get()

    console = open_page(browser, "about:blank")
    console.context.add_init_script(TRACK_REQUESTS)
    console.goto(f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.locator(f"tr[data-number='{claim.number}'] .open-claim").click()
    console.click("#approve")
    console.wait_for_selector("#claim-status[data-status=APPROVED]")
    console.click("#receive")
    console.wait_for_selector("#claim-status[data-status=RECEIVED]")
    console.wait_for_selector("#preview-amount")
    console.dblclick("#refund")
    console.wait_for_selector("#claim-status[data-status=RESOLVED]")
    sent = settled_requests(console, "aftersalesRequestRefund")
    assert claim.refunds.count() == 1
    assert len(sent) == 1, sent
    assert sent[0]["key"].startswith("console-")
    assert portal.problems == [] and console.problems == []


RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it reads right to left
# Where a text fragment is drawn: the left edge of the first text node holding it.
LEFT_OF = """([selector, needle]) => {
  const root = document.querySelector(selector);
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(needle);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + needle.length);
    return range.getBoundingClientRect().left;
  }
  return null;
}"""


def left_of(page, selector, needle):
    x = page.evaluate(LEFT_OF, [selector, needle])
    assert x is not None, f"{needle!r} is not shown in {selector}"
    return x


def reads_in_order(page, selector, *fragments):
    """The fragments are drawn left to right in the order given."""
    xs = [left_of(page, selector, fragment) for fragment in fragments]
    return xs == sorted(xs) and len(set(xs)) == len(xs)


def test_a_right_to_left_override_in_typed_text_stays_inside_it(
    browser, live_server, order, customer, staff_user
):
    from saleor_aftersales import workflow
    from saleor_aftersales.hosts.saleor2 import shop as host
    from saleor_aftersales.configuration import get_settings

    # A catalogue name and a customer's comment and note carrying U+202E.
    line = order.lines.order_by("pk").first()
    line.product_name, line.variant_name = f"{RLO}Zip jacket", "Blue"
    line.save(update_fields=["product_name", "variant_name"])
    claim = workflow.create_request(
        host.order_facts(order),
        type="repair",
        lines=[
            workflow.ClaimLineInput(
                host.ref(line.pk),
                1,
                "defective",
                comment=f"{RLO}abc",
                serial_number="SN-12",
            )
        ],
        by=workflow.Actor.customer(customer),
        settings=get_settings(),
        customer_note=f"{RLO}It rattles",
    )
    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.locator(f"tr[data-number='{claim.number}'] .open-claim").click()
    console.wait_for_selector("#lines tbody tr")
    cell = "#lines tbody tr td"
    # What follows the typed text on its line reads as it should.
    assert reads_in_order(console, cell, "Zip", "Blue")
    assert reads_in_order(console, f"{cell} .meta", "abc", "Serial number", "SN-12")
    # Each typed text sits in its own isolate.
    isolated = console.evaluate(
        """() => [...document.querySelectorAll('#lines td, #customer-note')]
          .flatMap((cell) => {
            const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            const found = [];
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
              if (n.data.includes('\u202e')) {
                const home = n.parentElement;
                const dir = home.getAttribute('dir');
                found.push(home.tagName === 'BDI' || dir === 'auto');
              }
            }
            return found;
          })"""
    )
    assert isolated == [True, True, True]
    shot(console, "console-rtl-override")

    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    customer_sign_in(portal, customer, order)
    portal.select_option("#claim-type", "REPAIR")
    assert reads_in_order(portal, "fieldset.line legend", "Zip", "Blue")
    portal.click(f"#claims button:has-text('{claim.number}')")
    portal.wait_for_selector("#claim-status")
    assert reads_in_order(portal, "#view table tbody td", "Zip", "Blue")
    assert console.problems == [] and portal.problems == []


def test_the_pages_offer_only_the_steps_the_claim_allows(
    browser, live_server, order, customer, staff_user
):
    """The buttons follow the claim's availableActions, not its status: an
    approved return with a refund in flight offers no refund, receipt or
    cancelling; a rejected one no refund."""
    from saleor_aftersales import workflow
    from saleor_aftersales.hosts.saleor2 import shop as host

    from saleor_aftersales.models import AftersalesRefund
    from saleor_aftersales.configuration import get_settings

    first, second = order.lines.order_by("pk")
    claims = [
        workflow.create_request(
            host.order_facts(order),
            type="return",
            lines=[workflow.ClaimLineInput(host.ref(line.pk), 1, "defective")],
            by=workflow.Actor.customer(customer),
            settings=get_settings(),
        )
        for line in (first, second)
    ]
    paying, rejected = claims
    workflow.approve(paying, by=workflow.Actor.staff(staff_user))
    AftersalesRefund.objects.create(
        request=paying,
        payment_ref=host.payment_ref(order.payments.get()),
        amount=25,
        currency="USD",
        line_quantities={},
        idempotency_key="in-flight",
    )
    workflow.reject(rejected, by=workflow.Actor.staff(staff_user), reason="other")

    console = open_page(browser, f"{live_server.url}/aftersales/console/")
    staff_sign_in(console)
    console.locator(f"tr[data-number='{paying.number}'] .open-claim").click()
    console.wait_for_selector("#claim-status[data-status=APPROVED]")
    console.wait_for_selector("#add-note")
    for hidden in ("#refund", "#refund-box", "#receive", "#close", "#approve"):
        assert console.locator(hidden).count() == 0, hidden
    console.click("#nav-queue")
    console.locator(f"tr[data-number='{rejected.number}'] .open-claim").click()
    console.wait_for_selector("#claim-status[data-status=REJECTED]")
    console.wait_for_selector("#close")
    assert console.locator("#refund").count() == 0

    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    customer_sign_in(portal, customer, order)
    portal.click(f"#claims button:has-text('{paying.number}')")
    portal.wait_for_selector("#claim-status[data-status=APPROVED]")
    assert portal.locator("#cancel").count() == 0
    portal.click("#back")
    portal.click(f"#claims button:has-text('{rejected.number}')")
    portal.wait_for_selector("#claim-status[data-status=REJECTED]")
    assert portal.locator("#appeal").count() == 1
    assert portal.locator("#cancel").count() == 0
    assert console.problems == [] and portal.problems == []
