"""What a guest can reach, and what strangers can learn (hardening, item 2).

An outside attack on the demo took a registered customer's order token from the
guest look-up (e-mail in any case, sequential number), read their addresses and
phone through aftersalesEligibility and spent their store credit's gift card.
Everything here goes through the real /graphql/ endpoint.
"""

import json
import uuid

import pytest
from saleor.account.models import Address
from saleor.giftcard.models import GiftCard

from demo import shop
from saleor_aftersales import models

from .conftest import (
    ApiClient,
    assert_permission_denied,
    configure,
    create_return,
    db_state,
    gid,
    line_input,
)
from .queries import (
    APPEAL,
    APPROVE,
    CANCEL,
    PROVIDE_INFO,
    QUOTE_RESPOND,
    RATE,
    RECEIVE,
    REFUND,
    REQUEST,
    RETURN_REQUEST_CREATE,
)
from .test_photos_and_lookup import post_photo

LOOKUP = """
query Lookup($number: String!, $email: String!) {
  aftersalesOrderLookup(number: $number, email: $email) {
    orderToken orderNumber errors { field code message }
  }
}
"""

ADDRESS = """{ firstName lastName streetAddress1 streetAddress2 postalCode city
               country { code } phone }"""
ORDER = f"""{{ id number userEmail shippingAddress {ADDRESS}
               billingAddress {ADDRESS} }}"""
CLAIM = f"""
  id number order {ORDER} replacementOrder {ORDER} quote {{ order {ORDER} }}
  warrantyCard {{ order {ORDER} }}
  refunds {{ method giftCardCode credit {{ amount }} }}
"""
ELIGIBILITY = f"""
query Eligibility($order: ID, $token: UUID) {{
  aftersalesEligibility(order: $order, orderToken: $token) {{
    orderNumber customerName city country
    order {ORDER}
    lines {{ orderLine {{ id productName }} warrantyCards {{ code order {ORDER} }} }}
    requests {{ {CLAIM} }}
  }}
}}
"""
CLAIM_QUERY = f"""
query Claim($id: ID!, $token: UUID) {{
  aftersalesRequest(id: $id, orderToken: $token) {{ {CLAIM} }}
}}
"""
STORE_CREDIT = REFUND.replace(
    "gatewayReference error", "gatewayReference error giftCardCode"
)
UPLOAD = """
mutation Upload($id: ID!, $file: Upload!, $token: UUID) {
  aftersalesPhotoUpload(id: $id, file: $file, orderToken: $token) {
    photo { id } errors { field code message }
  }
}
"""

PHONE = "+447700900123"
STREET_1, STREET_2, POSTAL_CODE = "221B Baker Street", "Flat 3", "NW1 6XE"
PRIVATE = (PHONE, "7700900123", STREET_1, STREET_2, POSTAL_CODE)


def lookup(api, number, email):
    return api.post(LOOKUP, {"number": str(number), "email": email})


def raw(api, query, variables):
    """The response's bytes: answers compared for equality, not just meaning."""
    response = api.client.post(
        "/graphql/",
        json.dumps({"query": query, "variables": variables}),
        content_type="application/json",
        **api.headers,
    )
    assert response.status_code == 200, response.content
    return response.content


def raw_upload(api, claim_id, token=None):
    """A multipart photo upload as the portal sends it, the answer's bytes."""
    return post_photo(
        api.headers, claim_id, b"\x89PNG\r\n\x1a\n not really", token=token
    )


def with_private_details(order):
    """Addresses as real checkouts leave them: street lines, postal code, phone."""
    Address.objects.filter(
        pk__in=[order.shipping_address_id, order.billing_address_id]
    ).update(
        phone=PHONE,
        street_address_1=STREET_1,
        street_address_2=STREET_2,
        postal_code=POSTAL_CODE,
    )
    return order


def store_credit_claim(claimant, staff_api, order, token=None):
    """A claim resolved with store credit; the gift card it issued."""
    claim = create_return(
        claimant, order, [line_input(order.lines.order_by("pk")[0], 1)], token=token
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    refund = staff_api.data(STORE_CREDIT, {"id": claim["id"], "method": "STORE_CREDIT"})
    code = refund["aftersalesRequestRefund"]["refund"]["giftCardCode"]
    return claim, GiftCard.objects.get(code=code)


# The look-up ------------------------------------------------------------------


@pytest.mark.parametrize(
    "written", ["exact", "upper", "padded"], ids=lambda written: written
)
def test_an_accounts_order_is_looked_up_exactly_like_no_order(
    db, order, guest_order, written
):
    email = {
        "exact": order.user_email,
        "upper": order.user_email.upper(),
        "padded": f"  {order.user_email.upper()}  ",
    }[written]
    # Each from its own client: the answers can't differ by a throttle either.
    accounts = lookup(ApiClient(remote_addr="10.0.0.1"), order.pk, email)
    unknown = lookup(ApiClient(remote_addr="10.0.0.2"), 999999, email)
    wrong_email = lookup(
        ApiClient(remote_addr="10.0.0.3"), guest_order.pk, "nobody@example.com"
    )
    assert accounts == unknown == wrong_email
    answer = accounts["data"]["aftersalesOrderLookup"]
    assert answer["orderToken"] is None and answer["orderNumber"] is None
    assert answer["errors"] == []
    assert str(order.token) not in json.dumps(accounts)
    assert not models.CustomerEmail.objects.exists()

    # A guest's own order gets a link by e-mail, however the e-mail is written;
    # the answer is the same.
    found = lookup(
        ApiClient(remote_addr="10.0.0.4"), guest_order.pk, " GUEST@example.COM "
    )
    assert found == accounts
    # (Sent after commit: tests/test_order_links.py reads the message itself.)
    sent = models.CustomerEmail.objects.values_list("kind", "to_email")
    assert list(sent) == [("order_link", "guest@example.com")]


def test_lookups_are_throttled_per_email_across_clients(db, guest_order):
    configure(**{"Warranty verifications per minute": "3"})
    spellings = ["guest@example.com", "GUEST@example.com", "  Guest@Example.Com "]
    codes = [
        lookup(ApiClient(remote_addr=f"10.1.0.{i}"), 999999, email)["data"][
            "aftersalesOrderLookup"
        ]["errors"]
        for i, email in enumerate(spellings)
    ]
    assert codes == [[]] * 3
    # A fourth client, the right number: the mailbox's minute is used up.
    blocked = lookup(
        ApiClient(remote_addr="10.1.0.9"), guest_order.pk, "guest@example.com"
    )
    answer = blocked["data"]["aftersalesOrderLookup"]
    assert answer["orderToken"] is None
    assert [error["code"] for error in answer["errors"]] == ["THROTTLED"]
    # Another mailbox, from a fresh client, is not held up.
    other = lookup(ApiClient(remote_addr="10.1.0.10"), 1, "someone@example.com")
    assert other["data"]["aftersalesOrderLookup"]["errors"] == []


def test_letters_the_database_folds_alike_share_one_mailbox_budget(
    db, staff_user, warehouse, variants
):
    """PostgreSQL's upper case makes the dotless "ı" an "I": "ırıs@…" finds the
    order of "iris@…", so it must spend the same budget (it had one of its own,
    2^k spellings for a mailbox with k i's)."""
    iris = shop.fulfilled_paid_order(
        None, staff_user, warehouse, [(variants[0], 1)], guest_email="iris@example.com"
    )
    configure(**{"Warranty verifications per minute": "3"})
    for n in range(3):
        lookup(ApiClient(remote_addr=f"10.3.0.{n}"), 999999, "iris@example.com")
    dotless = lookup(
        ApiClient(remote_addr="10.3.0.9"), iris.pk, "\u0131r\u0131s@example.com"
    )
    answer = dotless["data"]["aftersalesOrderLookup"]
    assert answer["orderToken"] is None
    assert [error["code"] for error in answer["errors"]] == ["THROTTLED"]


def test_lookups_are_throttled_per_client_across_emails(db, guest_order):
    configure(**{"Warranty verifications per minute": "3"})
    api = ApiClient(remote_addr="10.2.0.1")
    codes = [
        [
            error["code"]
            for error in lookup(api, 999999, f"person{i}@example.com")["data"][
                "aftersalesOrderLookup"
            ]["errors"]
        ]
        for i in range(4)
    ]
    assert codes == [[]] * 3 + [["THROTTLED"]]
    blocked = lookup(api, guest_order.pk, "guest@example.com")
    assert blocked["data"]["aftersalesOrderLookup"]["orderToken"] is None


# Tokens open guest orders only -------------------------------------------------


def test_an_accounts_order_token_opens_nothing(anonymous_api, order, claim):
    """However a token of an account's order was obtained, it is refused exactly
    like a made-up one, on every field that takes a token."""
    line = order.lines.order_by("pk")[0]
    create = lambda token: {  # noqa: E731
        "input": {"orderToken": token, "lines": [line_input(line, 1)]}
    }
    calls = [
        (ELIGIBILITY, lambda token: {"token": token}),
        (CLAIM_QUERY, lambda token: {"id": claim["id"], "token": token}),
        (RETURN_REQUEST_CREATE, create),
        (CANCEL, lambda token: {"id": claim["id"], "token": token}),
        (APPEAL, lambda token: {"id": claim["id"], "note": "x", "token": token}),
        (PROVIDE_INFO, lambda token: {"id": claim["id"], "note": "x", "token": token}),
        (RATE, lambda token: {"id": claim["id"], "rating": 5, "token": token}),
        (
            QUOTE_RESPOND,
            lambda token: {"id": claim["id"], "accept": True, "token": token},
        ),
    ]
    before = db_state(order)
    for query, variables in calls:
        real = raw(anonymous_api, query, variables(str(order.token)))
        made_up = raw(anonymous_api, query, variables(str(uuid.uuid4())))
        assert real == made_up, query
        assert_permission_denied(json.loads(real))
    real = raw_upload(anonymous_api, claim["id"], str(order.token))
    assert real == raw_upload(anonymous_api, claim["id"], str(uuid.uuid4()))
    assert_permission_denied(json.loads(real))
    assert db_state(order) == before
    assert not models.AftersalesPhoto.objects.exists()


# What a guest sees ---------------------------------------------------------------


def test_a_guest_sees_a_returns_page_not_the_order(
    anonymous_api, staff_api, guest_order
):
    with_private_details(guest_order)
    token = str(guest_order.token)
    claim, card = store_credit_claim(anonymous_api, staff_api, guest_order, token)

    content = anonymous_api.post(ELIGIBILITY, {"token": token})
    assert "errors" not in content, content
    seen = content["data"]["aftersalesEligibility"]
    assert seen["orderNumber"] == str(guest_order.pk)
    assert (seen["customerName"], seen["city"], seen["country"]) == (
        "Ada Lovelace",
        "LONDON",
        "GB",
    )
    assert seen["order"] is None
    (request,) = seen["requests"]
    assert request["order"] is None
    assert seen["lines"][0]["orderLine"]["productName"]
    cards = [card_ for line in seen["lines"] for card_ in line["warrantyCards"]]
    assert cards and all(card_["order"] is None for card_ in cards)
    (refund,) = request["refunds"]
    assert refund["giftCardCode"] == f"••••-••••-••••-{card.code[-4:]}"

    claim_content = anonymous_api.post(CLAIM_QUERY, {"id": claim["id"], "token": token})
    assert "errors" not in claim_content, claim_content
    assert claim_content["data"]["aftersalesRequest"]["order"] is None
    for answer in (content, claim_content):
        text = json.dumps(answer, ensure_ascii=False)
        for private in PRIVATE + (card.code, guest_order.user_email):
            assert private not in text

    # The desk sees it all: the full code, the addresses.
    desk = staff_api.data(ELIGIBILITY, {"order": gid("Order", guest_order.pk)})[
        "aftersalesEligibility"
    ]
    assert desk["order"]["shippingAddress"]["phone"] == PHONE
    assert desk["requests"][0]["refunds"][0]["giftCardCode"] == card.code
    assert desk["requests"][0]["order"]["billingAddress"]["postalCode"] == POSTAL_CODE


def test_the_signed_in_owner_sees_their_order_and_full_code(
    customer_api, staff_api, order
):
    with_private_details(order)
    claim, card = store_credit_claim(customer_api, staff_api, order)
    seen = customer_api.data(ELIGIBILITY, {"order": gid("Order", order.pk)})[
        "aftersalesEligibility"
    ]
    assert seen["order"]["shippingAddress"]["streetAddress1"] == STREET_1
    assert seen["order"]["billingAddress"]["phone"] == PHONE
    assert seen["customerName"] == "Ada Lovelace"
    (request,) = seen["requests"]
    assert request["refunds"][0]["giftCardCode"] == card.code
    assert card.user_id == order.user_id  # also in the account's giftCards
    mine = customer_api.data(CLAIM_QUERY, {"id": claim["id"]})["aftersalesRequest"]
    assert mine["order"]["shippingAddress"]["postalCode"] == POSTAL_CODE


def test_another_customer_with_a_guest_orders_token_sees_it_as_a_guest(
    other_customer_api, staff_api, guest_order
):
    """Signed in, but not as the order's owner: the token shows a guest's view."""
    with_private_details(guest_order)
    token = str(guest_order.token)
    _claim, card = store_credit_claim(other_customer_api, staff_api, guest_order, token)
    content = other_customer_api.post(ELIGIBILITY, {"token": token})
    assert "errors" not in content, content
    seen = content["data"]["aftersalesEligibility"]
    assert seen["order"] is None
    assert seen["requests"][0]["refunds"][0]["giftCardCode"].endswith(card.code[-4:])
    text = json.dumps(content, ensure_ascii=False)
    assert card.code not in text and PHONE not in text and STREET_1 not in text


# Claim ids can't be counted ------------------------------------------------------


@pytest.fixture
def strangers(other_customer, staff_without_permission, guest_order):
    return {
        "anonymous": (ApiClient(), None),
        "a guessed token": (ApiClient(), str(uuid.uuid4())),
        "another order's token": (ApiClient(), str(guest_order.token)),
        "another customer": (ApiClient(other_customer), None),
        "staff without MANAGE_ORDERS": (ApiClient(staff_without_permission), None),
    }


def claim_calls(claim_id, token):
    return [
        (REQUEST, {"id": claim_id, "token": token}),
        (CANCEL, {"id": claim_id, "token": token}),
        (APPEAL, {"id": claim_id, "note": "x", "token": token}),
        (PROVIDE_INFO, {"id": claim_id, "note": "x", "token": token}),
        (RATE, {"id": claim_id, "rating": 5, "token": token}),
        (QUOTE_RESPOND, {"id": claim_id, "accept": True, "token": token}),
    ]


def test_strangers_get_one_answer_for_existing_and_unknown_claims(
    strangers, order, claim
):
    unknown = gid("AftersalesRequest", 999999)
    before = db_state(order)
    for who, (api, token) in strangers.items():
        existing_calls = claim_calls(claim["id"], token)
        unknown_calls = claim_calls(unknown, token)
        for (query, existing), (_query, missing) in zip(existing_calls, unknown_calls):
            answer = raw(api, query, existing)
            assert answer == raw(api, query, missing), (who, query)
            assert_permission_denied(json.loads(answer))
        answer = raw_upload(api, claim["id"], token)
        assert answer == raw_upload(api, unknown, token), who
        assert_permission_denied(json.loads(answer))
    assert db_state(order) == before


def test_strangers_get_one_answer_for_existing_and_unknown_orders(strangers, order):
    line = order.lines.order_by("pk")[0]

    def create(order_id):
        return {"input": {"order": order_id, "lines": [line_input(line, 1)]}}

    unknown_order = gid("Order", 999999)
    before = db_state(order)
    for who, (api, _token) in strangers.items():
        for query, variables in (
            (RETURN_REQUEST_CREATE, create),
            (ELIGIBILITY, lambda order_id: {"order": order_id}),
        ):
            answer = raw(api, query, variables(gid("Order", order.pk)))
            assert answer == raw(api, query, variables(unknown_order)), (who, query)
            assert_permission_denied(json.loads(answer))
    assert db_state(order) == before


def test_staff_are_told_a_claim_does_not_exist(staff_api, customer_api, claim):
    unknown = gid("AftersalesRequest", 999999)
    assert staff_api.data(REQUEST, {"id": unknown}) == {"aftersalesRequest": None}
    refused = staff_api.data(CANCEL, {"id": unknown})["aftersalesRequestCancel"]
    assert [error["code"] for error in refused["errors"]] == ["NOT_FOUND"]
    # The owner of other claims learns nothing either.
    assert_permission_denied(customer_api.post(REQUEST, {"id": unknown}))
    assert customer_api.data(REQUEST, {"id": claim["id"]})["aftersalesRequest"]
