"""Guests open their order by a one-time link e-mailed to it (issue 18).

Asking answers alike whatever the order; only a guest order's own mailbox gets
a message. The link's token is traded once, before it expires, for the order's
guest proof. Through the real /graphql/ endpoint, the e-mail sent after commit
by the (eager) Celery task to Django's locmem outbox; the last test in Chromium.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing

from demo import shop
from saleor_aftersales import order_links
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import OrderLink
from saleor_aftersales.orders import save_order

from .browser import (  # noqa: F401
    browser,
    open_page,
    pages_closed_before_flush,
)
from .conftest import ApiClient

SEND = """
mutation Send($number: String!, $email: String!, $language: String) {
  aftersalesOrderLinkSend(number: $number, email: $email, language: $language) {
    errors { field code message }
  }
}
"""
REDEEM = """
mutation Redeem($token: String!) {
  aftersalesOrderLinkRedeem(token: $token) {
    orderToken orderNumber order { id } errors { field code message }
  }
}
"""
ELIGIBILITY = """
query Eligibility($token: UUID) {
  aftersalesEligibility(orderToken: $token) { orderNumber lines { orderLine { id } } }
}
"""

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

_clients = iter(range(1, 250))


def client():
    """A fresh client each call: no answer here differs by a throttle."""
    return ApiClient(remote_addr=f"10.18.0.{next(_clients)}")


def send(number, email, language=None):
    variables = {"number": str(number), "email": email, "language": language}
    return client().post(SEND, variables)


def redeem(token):
    return client().post(REDEEM, {"token": token})["data"]["aftersalesOrderLinkRedeem"]


def link_token(message) -> str:
    return re.search(r"#signin=([^\s\"<]+)", message.body).group(1)


def links_state():
    return list(OrderLink.objects.order_by("pk").values_list("pk", "used_at"))


def copy_of(order):
    return save_order(host.order_facts(order))


def test_asking_answers_alike_and_only_a_guest_order_gets_mail(
    transactional_db, order, guest_order
):
    answers = [
        send(guest_order.pk, " GUEST@Example.com "),
        send(999999, "guest@example.com"),
        send(guest_order.pk, "nobody@example.com"),
        send(order.pk, order.user_email),  # an account's order: sign in instead
    ]
    assert answers[0] == {
        "data": {"aftersalesOrderLinkSend": {"errors": []}},
        "extensions": answers[0]["extensions"],
    }
    assert all(answer == answers[0] for answer in answers)
    # One message, to the order's own address (not as typed), with the link.
    assert [message.to for message in mail.outbox] == [["guest@example.com"]]
    assert str(guest_order.token) not in mail.outbox[0].body
    assert OrderLink.objects.count() == 1
    assert OrderLink.objects.get().order.host_id == host.ref(guest_order.pk)


def test_a_bad_language_is_refused_and_sends_nothing(transactional_db, guest_order):
    answer = send(guest_order.pk, "guest@example.com", language="klingon")
    assert answer["data"]["aftersalesOrderLinkSend"]["errors"] == [
        {
            "field": "language",
            "code": "INVALID",
            "message": "Choose a language the shop writes in: en or zh-hans.",
        }
    ]
    nul = send(f"{guest_order.pk}\x00", "guest@example.com")
    assert [e["code"] for e in nul["data"]["aftersalesOrderLinkSend"]["errors"]] == [
        "INVALID"
    ]
    assert mail.outbox == [] and not OrderLink.objects.exists()


def test_the_link_opens_the_order_once_as_its_guest(transactional_db, guest_order):
    send(guest_order.pk, "guest@example.com", language="zh-hans")
    (message,) = mail.outbox
    token = link_token(message)

    opened = redeem(token)
    assert opened == {
        "orderToken": str(guest_order.token),
        "orderNumber": str(guest_order.pk),
        "order": None,  # a guest sees what the returns page needs, not Saleor's order
        "errors": [],
    }
    # The token is the guest's proof from now on.
    eligibility = client().data(ELIGIBILITY, {"token": opened["orderToken"]})
    assert eligibility["aftersalesEligibility"]["orderNumber"] == str(guest_order.pk)

    before = links_state()
    again = redeem(token)
    assert again["orderToken"] is None and again["orderNumber"] is None
    assert [e["code"] for e in again["errors"]] == ["INVALID_LINK"]
    assert links_state() == before


def test_expired_tampered_and_foreign_links_open_nothing(
    transactional_db, guest_order, staff_user, warehouse, variants
):
    copy = copy_of(guest_order)
    other = shop.fulfilled_paid_order(
        None, staff_user, warehouse, [(variants[0], 1)], guest_email="b@example.com"
    )
    other_copy = copy_of(other)
    expired = order_links.create(copy, valid_for=timedelta(seconds=-1))
    fresh = order_links.create(copy)
    token = order_links.token(fresh)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    # Even signed with the shop's own secret, A's nonce doesn't open order B.
    crossed = signing.dumps(
        {"n": str(fresh.nonce), "o": other_copy.pk}, salt=order_links.SALT
    )
    before = links_state()
    for value in (
        order_links.token(expired),
        tampered,
        crossed,
        "",
        "x" * 5000,
        "not a link",
    ):
        answer = redeem(value)
        assert [e["code"] for e in answer["errors"]] == ["INVALID_LINK"], value
        assert answer["orderToken"] is None, value
    assert links_state() == before

    # The untouched link still opens its own order, A, and nothing of B.
    opened = redeem(token)
    assert opened["orderToken"] == str(guest_order.token)
    assert str(other.token) not in str(opened)


def test_the_old_lookup_sends_the_link_and_never_the_token(
    transactional_db, guest_order
):
    lookup = """query($n: String!, $e: String!) {
      aftersalesOrderLookup(number: $n, email: $e) { orderToken orderNumber errors { code } }
    }"""
    answer = client().data(lookup, {"n": str(guest_order.pk), "e": "guest@example.com"})
    assert answer["aftersalesOrderLookup"] == {
        "orderToken": None,
        "orderNumber": None,
        "errors": [],
    }
    (message,) = mail.outbox
    assert redeem(link_token(message))["orderToken"] == str(guest_order.token)


def test_the_link_from_the_email_opens_the_portal_once(
    browser, live_server, guest_order, settings, pages_closed_before_flush
):
    settings.AFTERSALES_PUBLIC_URL = live_server.url
    portal = open_page(browser, f"{live_server.url}/aftersales/portal/")
    portal.fill("#guest-form [name=number]", str(guest_order.pk))
    portal.fill("#guest-form [name=email]", "guest@example.com")
    portal.click("#find")
    portal.wait_for_selector("#link-sent")
    assert (
        portal.inner_text("#link-sent")
        == "If this order is yours, we've sent a link to its e-mail."
    )
    (message,) = mail.outbox
    url = re.search(r"https?://\S+#signin=[^\s\"<]+", message.body).group(0)
    assert url.startswith(f"{live_server.url}/aftersales/portal/#signin=")

    opened = open_page(browser, url)
    opened.wait_for_selector("#claim-form")
    assert "#signin" not in opened.url and link_token(message) not in opened.url
    assert opened.url == f"{live_server.url}/aftersales/portal/"
    assert str(guest_order.pk) in opened.inner_text("#view")

    again = open_page(browser, url)
    again.wait_for_selector("#find-errors .error")
    assert (
        again.inner_text("#find-errors")
        == "This link has expired or was already used; ask for a new one."
    )
    assert "#signin" not in again.url
    assert portal.problems == [] and opened.problems == []
