"""Repairs: reception, inspection, itemised quote, answer, repair, hand-back."""

from datetime import timedelta

import graphene
import pytest
from django.utils import timezone
from saleor.order.models import Order
from saleor.warehouse.models import Stock

from demo import shop
from saleor_aftersales.models import WarrantyCard, WarrantyPolicy
from saleor_aftersales.hosts.saleor2 import shop as host

from .conftest import ApiClient, assert_permission_denied, configure, db_state, gid
from .queries import (
    APPROVE,
    QUOTE_CREATE,
    QUOTE_RESPOND,
    RATE,
    RECEIVE_REPAIR,
    REPAIR_REQUEST_CREATE,
    REPAIR_UPDATE,
    SERVICE_HISTORY,
)

PARTS_AND_LABOUR = [
    {"kind": "PART", "description": "Brake pads", "quantity": 2, "unitPrice": "15.00"},
    {
        "kind": "LABOR",
        "description": "Fitting, 1 hour",
        "quantity": 1,
        "unitPrice": "40.00",
    },
]


def pk_of(global_id):
    return graphene.Node.from_global_id(global_id)[1]


def book_repair(api, order, serial="VIN123", meter=None, card=None, order_line=None):
    line = order_line or order.lines.order_by("pk")[0]
    data = {
        "order": gid("Order", order.pk),
        "lines": [
            {
                "orderLine": gid("OrderLine", line.pk),
                "quantity": 1,
                "reason": "DEFECTIVE",
                "comment": "Squeaks when braking",
                "serialNumber": serial,
                "meterReading": meter,
            }
        ],
    }
    if card:
        data["warrantyCardCode"] = card
    content = api.post(REPAIR_REQUEST_CREATE, {"input": data})
    assert "errors" not in content, content
    return content["data"]["repairRequestCreate"]


def receive(staff_api, claim, **extra):
    staff_api.data(APPROVE, {"id": claim["id"]})
    result = staff_api.data(
        RECEIVE_REPAIR,
        {
            "id": claim["id"],
            "condition": "Scratched housing",
            "accessories": "Charger",
            **extra,
        },
    )["aftersalesRequestReceive"]
    assert result["errors"] == [], result
    return result["aftersalesRequest"]


def card_of(order):
    line = order.lines.order_by("pk")[0]
    return (
        WarrantyCard.objects.filter(order_line__host_id=host.ref(line.pk))
        .order_by("pk")
        .first()
    )


def test_paid_repair_from_booking_to_hand_back(
    customer_api, staff_api, order, warehouse
):
    variant = order.lines.order_by("pk")[0].variant
    stock = Stock.objects.get(warehouse=warehouse, product_variant=variant).quantity
    booked = book_repair(customer_api, order, serial="wba123", meter=1200)
    assert booked["errors"] == []
    claim = booked["aftersalesRequest"]
    assert (claim["type"], claim["underWarranty"]) == ("REPAIR", False)
    assert claim["lines"][0]["serialNumber"] == "WBA123"

    claim = receive(staff_api, claim)
    assert (claim["receivedCondition"], claim["receivedAccessories"]) == (
        "Scratched housing",
        "Charger",
    )
    # The customer's unit is in the workshop, not in the shop's stock.
    assert (
        Stock.objects.get(warehouse=warehouse, product_variant=variant).quantity
        == stock
    )

    quoted = staff_api.data(
        QUOTE_CREATE,
        {"id": claim["id"], "lines": PARTS_AND_LABOUR, "diagnosis": "Worn pads"},
    )["repairQuoteCreate"]["aftersalesRequest"]
    assert quoted["status"] == "QUOTED"
    quote = quoted["quote"]
    assert quote["total"] == {"amount": 70.0}
    assert [(l["kind"], l["total"]["amount"]) for l in quote["lines"]] == [
        ("PART", 30.0),
        ("LABOR", 40.0),
    ]

    accepted = customer_api.data(QUOTE_RESPOND, {"id": claim["id"], "accept": True})[
        "repairQuoteRespond"
    ]["aftersalesRequest"]
    assert accepted["status"] == "IN_REPAIR" and accepted["quote"]["accepted"] is True
    quote_order = Order.objects.get(pk=pk_of(accepted["quote"]["order"]["id"]))
    assert quote_order.total_gross_amount == 70 and not quote_order.is_fully_paid()
    assert quote_order.user == order.user

    progress = staff_api.data(
        REPAIR_UPDATE, {"id": claim["id"], "status": "IN_REPAIR", "note": "QC: passed"}
    )["repairStatusUpdate"]
    assert progress["errors"] == []
    before = db_state(order)
    blocked = staff_api.data(
        REPAIR_UPDATE,
        {"id": claim["id"], "status": "RESOLVED", "note": "Done", "handBack": "PICKUP"},
    )["repairStatusUpdate"]
    assert blocked["errors"][0]["code"] == "QUOTE_NOT_PAID"
    assert db_state(order) == before

    shop.pay_with_dummy(quote_order)
    done = staff_api.data(
        REPAIR_UPDATE,
        {"id": claim["id"], "status": "RESOLVED", "note": "Done", "handBack": "PICKUP"},
    )["repairStatusUpdate"]["aftersalesRequest"]
    assert (done["status"], done["resolution"], done["handBack"]) == (
        "RESOLVED",
        "REPAIR",
        "PICKUP",
    )
    rated = customer_api.data(
        RATE, {"id": claim["id"], "rating": 5, "comment": "Quick"}
    )
    assert rated["aftersalesRequestRate"]["aftersalesRequest"]["rating"] == 5
    types = [
        e["type"] for e in rated["aftersalesRequestRate"]["aftersalesRequest"]["events"]
    ]
    assert types[-4:] == ["QUOTE_ACCEPTED", "REPAIR_UPDATED", "REPAIR_UPDATED", "RATED"]


def test_valid_warranty_card_makes_the_repair_free(customer_api, staff_api, order):
    card = card_of(order)
    booked = book_repair(customer_api, order, card=card.code)["aftersalesRequest"]
    assert booked["underWarranty"] is True
    assert booked["warrantyNote"].startswith("Covered by warranty card")
    card.refresh_from_db()
    assert card.serial_number == ""  # the customer's word alone isn't recorded
    claim = receive(staff_api, booked)
    card.refresh_from_db()
    assert card.serial_number == "VIN123"  # the desk read it at the first repair
    # The card covers it: the quote is free without saying so.
    repaired = staff_api.data(
        QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR[:1]}
    )["repairQuoteCreate"]["aftersalesRequest"]
    assert repaired["status"] == "IN_REPAIR"
    assert repaired["quote"]["total"] == {"amount": 0.0}
    assert repaired["quote"]["order"] is None
    missing = staff_api.data(
        REPAIR_UPDATE,
        {
            "id": claim["id"],
            "status": "RESOLVED",
            "note": "Fixed",
            "handBack": "SHIPMENT",
        },
    )["repairStatusUpdate"]
    assert missing["errors"][0]["code"] == "REQUIRED"
    shipped = staff_api.data(
        REPAIR_UPDATE,
        {
            "id": claim["id"],
            "status": "RESOLVED",
            "note": "Fixed",
            "handBack": "SHIPMENT",
            "tracking": "1Z999",
        },
    )["repairStatusUpdate"]["aftersalesRequest"]
    assert (shipped["status"], shipped["handBackTrackingNumber"]) == (
        "RESOLVED",
        "1Z999",
    )


def test_expired_void_or_worn_cards_open_a_paid_repair_that_says_why(
    customer_api, customer, staff_user, warehouse
):
    variant = shop.make_variants(1, warehouse)[0]
    WarrantyPolicy.objects.create(
        product_type_ref=host.ref(variant.product.product_type_id),
        months=24,
        usage_limit=40000,
        usage_unit="km",
    )
    order = shop.fulfilled_paid_order(customer, staff_user, warehouse, [(variant, 3)])
    expired, void, worn = WarrantyCard.objects.filter(
        order__host_id=host.ref(order.pk)
    ).order_by("pk")
    WarrantyCard.objects.filter(pk=expired.pk).update(
        ends_at=timezone.now() - timedelta(days=1)
    )
    WarrantyCard.objects.filter(pk=void.pk).update(voided_at=timezone.now())
    notes = []
    for card, meter in ((expired, None), (void, None), (worn, 50000)):
        claim = book_repair(customer_api, order, card=card.code, meter=meter, serial="")
        assert claim["errors"] == []
        assert claim["aftersalesRequest"]["underWarranty"] is False
        notes.append(claim["aftersalesRequest"]["warrantyNote"])
    assert "ended" in notes[0] and "void" in notes[1] and "40000 km" in notes[2]


def test_a_card_of_another_item_or_a_forged_code_is_refused(
    customer_api, order, guest_order
):
    before = db_state(order)
    other = WarrantyCard.objects.filter(order__host_id=host.ref(guest_order.pk)).first()
    result = book_repair(customer_api, order, card=other.code)
    assert result["errors"][0]["code"] == "WARRANTY_CARD_MISMATCH"
    result = book_repair(customer_api, order, card="AAAA-BBBB-CCCC-DDDD")
    assert result["errors"][0]["code"] == "INVALID_CODE"
    assert db_state(order) == before


def test_declined_quote_returns_the_item_unrepaired(customer_api, staff_api, order):
    claim = receive(staff_api, book_repair(customer_api, order)["aftersalesRequest"])
    staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR})
    declined = customer_api.data(QUOTE_RESPOND, {"id": claim["id"], "accept": False})[
        "repairQuoteRespond"
    ]["aftersalesRequest"]
    assert declined["status"] == "RESOLVED"
    assert declined["resolution"] is None
    assert declined["quote"]["accepted"] is False and declined["quote"]["order"] is None


def test_paying_on_collection_when_the_shop_allows_it(customer_api, staff_api, order):
    configure(**{"Repairs paid on collection": True})
    claim = receive(staff_api, book_repair(customer_api, order)["aftersalesRequest"])
    staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR})
    customer_api.data(QUOTE_RESPOND, {"id": claim["id"], "accept": True})
    done = staff_api.data(
        REPAIR_UPDATE,
        {"id": claim["id"], "status": "RESOLVED", "note": "Done", "handBack": "PICKUP"},
    )["repairStatusUpdate"]
    assert done["errors"] == []


@pytest.mark.parametrize(
    "lines, code",
    [
        ([], "REQUIRED"),
        ([{**PARTS_AND_LABOUR[0], "quantity": 0}], "QUANTITY_NOT_POSITIVE"),
        ([{**PARTS_AND_LABOUR[0], "unitPrice": "-1"}], "INVALID"),
        ([{**PARTS_AND_LABOUR[0], "unitPrice": "1.001"}], "INVALID"),
        ([{**PARTS_AND_LABOUR[0], "description": " "}], "INVALID"),
    ],
)
def test_bad_quotes_are_refused(customer_api, staff_api, order, lines, code):
    claim = receive(staff_api, book_repair(customer_api, order)["aftersalesRequest"])
    before = db_state(order)
    result = staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": lines})
    assert result["repairQuoteCreate"]["errors"][0]["code"] == code
    assert db_state(order) == before


def test_quotes_only_for_received_repairs_and_answers_only_when_quoted(
    customer_api, staff_api, order, claim
):
    before = db_state(order)
    result = staff_api.data(
        QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR}
    )
    assert result["repairQuoteCreate"]["errors"][0]["code"] == "INVALID_STATUS"
    result = customer_api.data(QUOTE_RESPOND, {"id": claim["id"], "accept": True})
    assert result["repairQuoteRespond"]["errors"][0]["code"] == "INVALID_STATUS"
    assert db_state(order) == before


def test_rating_after_resolution_once_and_in_range(customer_api, staff_api, order):
    claim = receive(staff_api, book_repair(customer_api, order)["aftersalesRequest"])
    early = customer_api.data(RATE, {"id": claim["id"], "rating": 4})[
        "aftersalesRequestRate"
    ]
    assert early["errors"][0]["code"] == "INVALID_STATUS"
    staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR})
    customer_api.data(QUOTE_RESPOND, {"id": claim["id"], "accept": False})
    for rating in (0, 6):
        bad = customer_api.data(RATE, {"id": claim["id"], "rating": rating})
        assert bad["aftersalesRequestRate"]["errors"][0]["code"] == "INVALID"
    customer_api.data(RATE, {"id": claim["id"], "rating": 2, "comment": "Too dear"})
    twice = customer_api.data(RATE, {"id": claim["id"], "rating": 5})[
        "aftersalesRequestRate"
    ]
    assert twice["errors"][0]["code"] == "ALREADY_RATED"


def test_service_history_lists_every_claim_of_a_unit_oldest_first(
    customer_api, staff_api, order
):
    first = book_repair(customer_api, order, serial="SN-42")["aftersalesRequest"]
    second = book_repair(customer_api, order, serial="sn-42")["aftersalesRequest"]
    book_repair(customer_api, order, serial="OTHER")
    history = staff_api.data(SERVICE_HISTORY, {"serial": "SN-42"})["serviceHistory"]
    assert [h["id"] for h in history] == [first["id"], second["id"]]


@pytest.mark.parametrize("who", ["anonymous", "other_customer", "intern"])
def test_strangers_are_denied_on_repair_operations(
    who, customer_api, staff_api, order, other_customer, staff_without_permission
):
    claim = receive(staff_api, book_repair(customer_api, order)["aftersalesRequest"])
    staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR})
    api = {
        "anonymous": ApiClient(),
        "other_customer": ApiClient(other_customer),
        "intern": ApiClient(staff_without_permission),
    }[who]
    before = db_state(order)
    for query, variables in [
        (QUOTE_CREATE, {"id": claim["id"], "lines": PARTS_AND_LABOUR}),
        (QUOTE_RESPOND, {"id": claim["id"], "accept": True}),
        (REPAIR_UPDATE, {"id": claim["id"], "status": "IN_REPAIR", "note": "x"}),
        (RATE, {"id": claim["id"], "rating": 1}),
        (SERVICE_HISTORY, {"serial": "VIN123"}),
    ]:
        assert_permission_denied(api.post(query, variables))
    assert db_state(order) == before


def test_a_card_for_another_serial_number_is_refused(customer_api, order):
    card = card_of(order)
    WarrantyCard.objects.filter(pk=card.pk).update(serial_number="SN-1")
    before = db_state(order)
    result = book_repair(customer_api, order, serial="SN-2", card=card.code)
    assert result["errors"][0]["code"] == "WARRANTY_CARD_MISMATCH"
    assert db_state(order) == before


@pytest.mark.parametrize(
    "line, code",
    [
        ({**PARTS_AND_LABOUR[0], "unitPrice": "1e30"}, "INVALID"),
        ({**PARTS_AND_LABOUR[0], "unitPrice": "999999", "quantity": 9999}, "INVALID"),
        ({**PARTS_AND_LABOUR[0], "quantity": 10001}, "QUANTITY_EXCEEDED"),
    ],
)
def test_absurd_quotes_are_refused(customer_api, staff_api, order, line, code):
    claim = receive(staff_api, book_repair(customer_api, order)["aftersalesRequest"])
    result = staff_api.data(QUOTE_CREATE, {"id": claim["id"], "lines": [line]})
    assert result["repairQuoteCreate"]["errors"][0]["code"] == code


def test_negative_meter_reading_at_reception_is_refused(customer_api, staff_api, order):
    claim = book_repair(customer_api, order)["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    before = db_state(order)
    line = claim["lines"][0]["id"]
    result = staff_api.data(
        RECEIVE_REPAIR,
        {
            "id": claim["id"],
            "lines": [{"line": line, "quantity": 1, "meterReading": -5}],
        },
    )["aftersalesRequestReceive"]
    assert result["errors"][0]["code"] == "INVALID"
    assert db_state(order) == before
