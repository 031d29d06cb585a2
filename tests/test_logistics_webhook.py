"""The carrier says a return parcel arrived: goods received, refund if allowed."""

import json
import time
from decimal import Decimal

import pytest
from django.test.client import Client

from saleor_aftersales.models import AftersalesEvent, InboundEvent
from saleor_aftersales.webhooks.logistics import signature_header

from .conftest import configure, db_state
from .queries import APPROVE

URL = "/aftersales/webhooks/logistics/"
SECRET = "carrier-shared-secret"


def post(message, secret=SECRET, timestamp=None, header=None):
    body = json.dumps(message).encode()
    signature = (
        header if header is not None else signature_header(body, secret, timestamp)
    )
    response = Client().post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_AFTERSALES_SIGNATURE=signature,
    )
    return response.status_code, json.loads(response.content)


def delivered(claim, event_id="evt-1", lines=None):
    message = {
        "id": event_id,
        "type": "return.parcel.delivered",
        "claim": claim["number"],
    }
    if lines is not None:
        message["lines"] = lines
    return message


@pytest.fixture
def approved_claim(staff_api, claim):
    configure(**{"Logistics webhook secret": SECRET})
    staff_api.data(APPROVE, {"id": claim["id"]})
    return claim


def test_delivery_receives_the_goods_as_the_system(approved_claim, order, warehouse):
    variant = order.lines.order_by("pk")[0].variant
    stock = variant.stocks.get(warehouse=warehouse).quantity
    status, answer = post(delivered(approved_claim))
    assert (status, answer["status"], answer["refund"]) == (200, "received", None)
    assert variant.stocks.get(warehouse=warehouse).quantity == stock + 2
    event = AftersalesEvent.objects.get(type="received")
    assert event.actor_type == "system"


def test_delivery_refunds_automatically_under_the_limit(approved_claim, order):
    configure(
        **{
            "Logistics webhook secret": SECRET,
            "Refund automatically on parcel delivery": True,
            "Automatic refund limit": "60",
        }
    )
    status, answer = post(delivered(approved_claim))
    assert (status, answer["status"], answer["refund"]) == (200, "received", "success")
    assert order.payments.get().captured_amount == Decimal("30.00")
    # The same message again changes nothing and pays nothing.
    before = db_state(order)
    status, answer = post(delivered(approved_claim))
    assert (status, answer["status"]) == (200, "duplicate")
    assert db_state(order) == before


def test_no_automatic_refund_above_the_limit(approved_claim, order):
    configure(
        **{
            "Logistics webhook secret": SECRET,
            "Refund automatically on parcel delivery": True,
            "Automatic refund limit": "49.99",
        }
    )
    status, answer = post(delivered(approved_claim))
    assert (answer["status"], answer["refund"]) == ("received", None)
    assert order.payments.get().captured_amount == Decimal("80.00")


def test_lines_are_matched_by_sku(approved_claim, order):
    sku = order.lines.order_by("pk")[0].product_sku
    status, answer = post(
        delivered(approved_claim, lines=[{"sku": sku, "quantity": 1}])
    )
    assert answer["status"] == "received"
    from saleor_aftersales.models import AftersalesLine

    assert AftersalesLine.objects.get().quantity_received == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": "wrong-secret"},
        {"timestamp": int(time.time()) - 3600},
        {"header": "v1=deadbeef"},
        {"header": ""},
    ],
)
def test_forged_or_stale_messages_are_refused_and_change_nothing(
    approved_claim, order, kwargs
):
    before = db_state(order)
    status, answer = post(delivered(approved_claim), **kwargs)
    assert status == 400 and answer["error"]
    assert db_state(order) == before
    assert not InboundEvent.objects.exists()


def test_without_a_configured_secret_nothing_is_trusted(staff_api, claim, order):
    staff_api.data(APPROVE, {"id": claim["id"]})
    before = db_state(order)
    status, _ = post(delivered(claim), secret="")
    assert status == 400
    assert db_state(order) == before


def test_unknown_types_are_ignored_and_unknown_claims_refused(approved_claim, order):
    before = db_state(order)
    status, answer = post({"id": "x", "type": "parcel.lost", "claim": "RMA-000001"})
    assert (status, answer["status"]) == (200, "ignored")
    status, answer = post(
        {"id": "y", "type": "return.parcel.delivered", "claim": "RMA-999999"}
    )
    assert (status, answer["status"]) == (200, "refused")
    assert db_state(order) == before
    assert InboundEvent.objects.get().outcome.startswith("refused")


def test_a_delivery_for_a_claim_not_yet_approved_is_recorded_and_refused(
    customer_api, order
):
    from .conftest import create_return, line_input

    configure(**{"Logistics webhook secret": SECRET})
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 1)])[
        "aftersalesRequest"
    ]
    before = db_state(order)
    status, answer = post(delivered(claim))
    assert (status, answer["status"]) == (200, "refused")
    assert db_state(order) == before


def test_goods_refunded_before_they_arrive_are_received_without_a_second_refund(
    staff_api, approved_claim, order
):
    configure(
        **{
            "Logistics webhook secret": SECRET,
            "Refund automatically on parcel delivery": True,
            "Automatic refund limit": "500",
        }
    )
    from .queries import REFUND

    staff_api.data(REFUND, {"id": approved_claim["id"]})  # refunded on dispatch
    status, answer = post(delivered(approved_claim))
    assert (status, answer["status"], answer["refund"]) == (200, "received", None)
    assert order.payments.get().captured_amount == Decimal("30.00")


@pytest.mark.parametrize(
    "message",
    [
        {"id": "m1", "type": "return.parcel.delivered", "claim": "", "lines": "all"},
        {"id": "m2", "type": "return.parcel.delivered", "lines": [1, 2]},
    ],
)
def test_malformed_lines_are_refused_without_a_crash(approved_claim, order, message):
    message["claim"] = approved_claim["number"]
    before = db_state(order)
    status, answer = post(message)
    assert (status, answer["status"]) == (200, "refused")
    assert db_state(order) == before


@pytest.mark.parametrize(
    "header_or_message",
    [
        {"header": "t=1,v1=\u00e9\u00e9"},
        {"header": "t=" + "9" * 400 + ",v1=00"},
        {"message": {"id": "x" * 201, "type": "return.parcel.delivered"}},
        {"message": "not an object"},
    ],
)
def test_hostile_headers_and_bodies_get_400(approved_claim, order, header_or_message):
    message = header_or_message.get("message", delivered(approved_claim))
    before = db_state(order)
    if "header" in header_or_message:
        status, answer = post(message, header=header_or_message["header"])
    else:
        status, answer = post(message)
    assert status == 400 and answer["error"]
    assert db_state(order) == before


def test_a_refund_in_flight_asks_the_carrier_to_send_again(
    approved_claim, order, staff_user
):
    from saleor_aftersales import refunds, workflow
    from saleor_aftersales.models import AftersalesRequest
    from saleor_aftersales.configuration import get_settings

    request = AftersalesRequest.objects.get()
    refunds.reserve_refund(
        request,
        by=workflow.Actor.staff(staff_user),
        settings=get_settings(),
        amount=None,
        include_shipping=None,
        restocking_fee_percent=None,
        idempotency_key="in-flight",
    )
    before = db_state(order)
    status, _answer = post(delivered(approved_claim, event_id="evt-later"))
    assert status == 409
    assert db_state(order) == before
    assert not InboundEvent.objects.filter(event_id="evt-later").exists()


# Signed but insane: every value read is range checked (hardening 4b) ----------------

RAW = "__raw_json__"


def post_body(body: bytes, secret=SECRET):
    response = Client().post(
        URL,
        body,
        content_type="application/json",
        HTTP_X_AFTERSALES_SIGNATURE=signature_header(body, secret),
    )
    return response.status_code, json.loads(response.content)


def with_raw(message: dict, raw: str) -> bytes:
    """The message as JSON with the RAW marker replaced by ``raw`` verbatim."""
    return json.dumps(message).replace(json.dumps(RAW), raw).encode()


INSANE_FIELDS = [
    ("quantity", "1e309"),
    ("quantity", "-1e309"),
    ("quantity", "NaN"),
    ("quantity", "Infinity"),
    ("quantity", "0"),
    ("quantity", "-1"),
    ("quantity", str(10 ** 6 + 1)),
    ("quantity", "9" * 40),
    ("quantity", "1.0"),
    ("quantity", '"1"'),
    ("quantity", "true"),
    ("quantity", "null"),
    ("sku", "123"),
    ("sku", json.dumps("x" * 256)),
    ("sku", '"a\\u0000"'),
    ("sku", '"\\udc00"'),
    ("sku", '""'),
    ("id", '"evt\\u0000"'),
    ("id", "17"),
    ("id", "null"),
    ("id", '"evt 1"'),
    ("id", "1e309"),
    ("type", "1"),
    ("type", '"return.parcel.delivered\\u0000"'),
    ("claim", "123"),
    ("claim", '"RMA-\\u0000"'),
    ("claim", json.dumps("RMA-" + "1" * 20)),
    ("claim", '"not a claim"'),
    ("claim", "null"),
    ("carrier", "NaN"),  # not read, still no number
    ("carrier", "[" * 40 + "]" * 40),
    ("carrier", json.dumps("x" * 70000)),
]


@pytest.mark.parametrize("field,raw", INSANE_FIELDS)
def test_a_signed_message_with_an_insane_value_is_refused_and_changes_nothing(
    approved_claim, order, field, raw
):
    sku = order.lines.order_by("pk")[0].product_sku
    line = {"sku": sku, "quantity": 1}
    message = delivered(approved_claim, lines=[line])
    if field in line:
        line[field] = RAW
    else:
        message[field] = RAW
    before = db_state(order)
    status, answer = post_body(with_raw(message, raw))
    assert status == 400 and answer["error"]
    assert db_state(order) == before
    assert not InboundEvent.objects.exists()


def test_the_same_message_with_sane_values_is_received(approved_claim, order):
    """The control for the test above."""
    sku = order.lines.order_by("pk")[0].product_sku
    message = delivered(approved_claim, lines=[{"sku": sku, "quantity": RAW}])
    status, answer = post_body(with_raw(message, "2"))
    assert (status, answer["status"]) == (200, "received")


@pytest.mark.parametrize("body", [b"\xff\xfe{}", b"[" * 100000, b"{", b""])
def test_unreadable_bodies_get_400(approved_claim, order, body):
    before = db_state(order)
    status, answer = post_body(body)
    assert status == 400 and answer["error"]
    assert db_state(order) == before


def test_a_line_sent_twice_is_refused_without_a_crash(approved_claim, order):
    """Found by tests/test_inbound_fuzz.py: the claim's field error had no
    ``error_list`` and the view answered 500."""
    sku = order.lines.order_by("pk")[0].product_sku
    line = {"sku": sku, "quantity": 1}
    before = db_state(order)
    status, answer = post(delivered(approved_claim, lines=[line, line]))
    assert (status, answer["status"]) == (200, "refused")
    assert db_state(order) == before
    assert InboundEvent.objects.get().outcome == "refused: A line is repeated."
