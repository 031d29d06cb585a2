"""Warranty cards: issued by Saleor's fulfillment, verifiable by anyone."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from saleor.plugins.manager import get_plugins_manager

from demo import shop
from saleor_aftersales import warranty
from saleor_aftersales.models import WarrantyCard, WarrantyCardEvent, WarrantyPolicy
from saleor_aftersales.hosts.saleor2 import shop as host

from .conftest import ApiClient, assert_permission_denied, configure, gid

VERIFY = """
query Verify($code: String!, $meter: Int) {
  warrantyCardVerify(code: $code, meterReading: $meter) {
    code valid status endedBy productName variantName variantSku
    startsAt endsAt usageLimit usageUnit
    errors { field message code }
  }
}
"""

CARD_FIELDS = (
    "code status productName variantSku serialNumber startsAt endsAt voidReason"
)

MY_CARDS = (
    f"query {{ myWarrantyCards(first: 50) {{ edges {{ node {{ {CARD_FIELDS} }} }} }} }}"
)

STAFF_CARDS = f"""
query Cards($code: String, $order: ID, $serial: String) {{
  warrantyCards(first: 50, code: $code, order: $order, serialNumber: $serial) {{
    edges {{ node {{ {CARD_FIELDS} events {{ type message actorType }} }} }}
  }}
}}
"""

EXTEND = f"""
mutation Extend($code: String!, $months: Int!) {{
  warrantyCardExtend(code: $code, months: $months) {{
    warrantyCard {{ {CARD_FIELDS} }} errors {{ field code }}
  }}
}}
"""

VOID = f"""
mutation Void($code: String!, $reason: String!) {{
  warrantyCardVoid(code: $code, reason: $reason) {{
    warrantyCard {{ {CARD_FIELDS} }} errors {{ field code }}
  }}
}}
"""

UPDATE = f"""
mutation Serial($code: String!, $serial: String!) {{
  warrantyCardUpdate(code: $code, serialNumber: $serial) {{
    warrantyCard {{ {CARD_FIELDS} }} errors {{ field code }}
  }}
}}
"""


def cards_of(order):
    return list(
        WarrantyCard.objects.filter(order__host_id=host.ref(order.pk)).order_by("pk")
    )


def verify(api, code, meter=None):
    return api.data(VERIFY, {"code": code, "meter": meter})["warrantyCardVerify"]


def test_fulfillment_issues_one_card_per_unit(order):
    cards = cards_of(order)
    assert len(cards) == 3  # 2 + 1 units
    first_line, second_line = order.lines.order_by("pk")
    assert [c.order_line.host_id for c in cards] == [host.ref(first_line.pk)] * 2 + [
        host.ref(second_line.pk)
    ]
    assert len({c.code for c in cards}) == 3
    fulfilled = order.fulfillments.get().created
    for card in cards:
        assert warranty.parse_code(card.code) == card.code
        assert card.starts_at == fulfilled
        assert card.ends_at == fulfilled + relativedelta(months=12)
    # Each card names what its own line sold.
    assert first_line.product_sku != second_line.product_sku
    first, second = [
        (host.ref(line.variant_id), line.product_sku, line.product_name)
        for line in (first_line, second_line)
    ]
    assert [(c.variant_ref, c.variant_sku, c.product_name) for c in cards] == [
        first,
        first,
        second,
    ]


def test_partial_fulfillments_issue_cards_for_what_was_shipped(
    customer, staff_user, warehouse, variants
):
    order = shop.place_order(customer, [(variants[0], 3)])
    shop.pay_with_dummy(order)
    line = order.lines.get()
    shop.fulfill(order, staff_user, warehouse, quantities={line.pk: 1})
    assert len(cards_of(order)) == 1
    shop.fulfill(order, staff_user, warehouse, quantities={line.pk: 2})
    cards = cards_of(order)
    assert len(cards) == 3
    assert len({(c.fulfillment_line_ref, c.unit_index) for c in cards}) == 3


def test_the_hook_firing_twice_issues_nothing_new(order):
    before = [c.code for c in cards_of(order)]
    get_plugins_manager().fulfillment_created(order.fulfillments.get())
    assert [c.code for c in cards_of(order)] == before


def test_backfill_issues_missing_cards_and_is_safe_to_rerun(order, guest_order):
    WarrantyCard.objects.all().delete()  # as if fulfilled before installation
    call_command("aftersales_backfill_warranty_cards", batch_size=1)
    assert len(cards_of(order)) == 3 and len(cards_of(guest_order)) == 2
    codes = set(WarrantyCard.objects.values_list("code", flat=True))
    call_command("aftersales_backfill_warranty_cards")
    assert set(WarrantyCard.objects.values_list("code", flat=True)) == codes


def test_product_type_terms_with_a_usage_limit(
    customer, staff_user, warehouse, anonymous_api
):
    variant = shop.make_variants(1, warehouse)[0]
    WarrantyPolicy.objects.create(
        product_type_ref=host.ref(variant.product.product_type_id),
        months=24,
        usage_limit=40000,
        usage_unit="km",
    )
    order = shop.fulfilled_paid_order(customer, staff_user, warehouse, [(variant, 1)])
    card = cards_of(order)[0]
    assert card.ends_at == card.starts_at + relativedelta(months=24)
    ok = verify(anonymous_api, card.code, meter=39999)
    assert (ok["valid"], ok["status"], ok["endedBy"]) == (True, "VALID", None)
    assert (ok["usageLimit"], ok["usageUnit"]) == (40000, "KM")
    worn = verify(anonymous_api, card.code, meter=40001)
    assert (worn["valid"], worn["status"], worn["endedBy"]) == (False, "VALID", "USAGE")


def test_verification_says_valid_expired_or_void_without_personal_data(
    anonymous_api, order
):
    valid, expired, void = cards_of(order)
    WarrantyCard.objects.filter(pk=expired.pk).update(
        ends_at=timezone.now() - timedelta(days=1)
    )
    WarrantyCard.objects.filter(pk=void.pk).update(voided_at=timezone.now())

    answer = verify(anonymous_api, warranty.display_code(valid.code))
    assert answer["valid"] is True and answer["status"] == "VALID"
    assert answer["errors"] == []
    assert answer["productName"] == valid.product_name
    assert answer["variantSku"] == valid.variant_sku
    assert "customer@example.com" not in str(answer)
    assert "@" not in str(answer)

    answer = verify(anonymous_api, expired.code)
    assert (answer["valid"], answer["status"], answer["endedBy"]) == (
        False,
        "EXPIRED",
        "DATE",
    )
    answer = verify(anonymous_api, void.code)
    assert (answer["valid"], answer["status"], answer["endedBy"]) == (
        False,
        "VOID",
        "VOID",
    )


def test_codes_survive_how_people_type_them(anonymous_api, order):
    code = cards_of(order)[0].code
    typed = " ".join(warranty.display_code(code).lower().split("-"))
    assert verify(anonymous_api, typed)["valid"] is True
    with_o = code.replace("0", "O")
    assert verify(anonymous_api, with_o)["valid"] is True


def test_forged_and_mistyped_codes_are_refused_before_any_lookup(anonymous_api, order):
    code = cards_of(order)[0].code
    swapped = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]
    forged = warranty.new_code()[:12] + "0000"
    for bad in (swapped, forged, "HELLO", "", code + "X"):
        if warranty.parse_code(bad) is not None:
            continue  # 1 in a million: a forgery that happens to check out
        with CaptureQueriesContext(connection) as ctx:
            answer = verify(anonymous_api, bad)
        assert answer["valid"] is False
        assert [e["code"] for e in answer["errors"]] == ["INVALID_CODE"]
        assert not any("warrantycard" in q["sql"] for q in ctx.captured_queries)


def test_a_well_formed_code_that_was_never_issued_is_not_found(anonymous_api, order):
    answer = verify(anonymous_api, warranty.new_code())
    assert [e["code"] for e in answer["errors"]] == ["NOT_FOUND"]


def test_verification_is_throttled_per_client(order):
    configure(**{"Warranty verifications per minute": "3"})
    code = cards_of(order)[0].code
    client = ApiClient(remote_addr="10.9.8.7")
    for _ in range(3):
        assert verify(client, code)["valid"] is True
    answer = verify(client, code)
    assert answer["valid"] is False
    assert [e["code"] for e in answer["errors"]] == ["THROTTLED"]
    other = ApiClient(remote_addr="10.9.8.8")
    assert verify(other, code)["valid"] is True


@pytest.fixture
def extended_warranty_variant(warehouse):
    variant = shop.make_variants(1, warehouse, price=Decimal("30.00"))[0]
    product_type = variant.product.product_type
    product_type.slug = "extended-warranty"
    product_type.save()
    configure(
        **{
            "Extended warranty product type": "extended-warranty",
            "Extended warranty months": "24",
        }
    )
    return variant


def test_paying_for_an_extended_warranty_extends_the_orders_cards_once(
    customer, staff_user, warehouse, variants, extended_warranty_variant
):
    order = shop.place_order(
        customer, [(variants[0], 2), (extended_warranty_variant, 1)]
    )
    shop.fulfill(order, staff_user, warehouse)  # cards first, payment later
    base_ends = {c.pk: c.ends_at for c in cards_of(order)}
    shop.pay_with_dummy(order)  # Saleor's order_fully_paid hook

    cards = cards_of(order)
    shoe_cards = [
        c for c in cards if c.order_line.variant_ref == host.ref(variants[0].pk)
    ]
    assert len(shoe_cards) == 2
    for card in shoe_cards:
        assert card.ends_at == base_ends[card.pk] + relativedelta(months=24)
        assert card.events.get().type == "extended"
    plan_card = next(
        c
        for c in cards
        if c.order_line.variant_ref == host.ref(extended_warranty_variant.pk)
    )
    assert plan_card.ends_at == base_ends[plan_card.pk]

    get_plugins_manager().order_fully_paid(order)  # the hook again: nothing more
    assert WarrantyCardEvent.objects.filter(type="extended").count() == 2


def test_extended_warranty_paid_before_fulfillment_applies_when_cards_are_issued(
    customer, staff_user, warehouse, variants, extended_warranty_variant
):
    order = shop.place_order(
        customer, [(variants[0], 1), (extended_warranty_variant, 1)]
    )
    shop.pay_with_dummy(order)
    shop.fulfill(order, staff_user, warehouse)
    shoe = next(
        c
        for c in cards_of(order)
        if c.order_line.variant_ref == host.ref(variants[0].pk)
    )
    assert shoe.ends_at == shoe.starts_at + relativedelta(months=36)


def test_customers_see_their_cards_and_per_line_in_eligibility(
    customer_api, other_customer_api, order
):
    mine = customer_api.data(MY_CARDS)["myWarrantyCards"]["edges"]
    assert len(mine) == 3
    assert other_customer_api.data(MY_CARDS)["myWarrantyCards"]["edges"] == []
    query = """query ($order: ID) { aftersalesEligibility(order: $order) {
        lines { warrantyCards { code status } } } }"""
    lines = customer_api.data(query, {"order": gid("Order", order.pk)})[
        "aftersalesEligibility"
    ]["lines"]
    assert [len(line["warrantyCards"]) for line in lines] == [2, 1]


def test_staff_extend_void_and_record_serial_numbers(staff_api, order):
    card = cards_of(order)[0]
    code = warranty.display_code(card.code)
    extended = staff_api.data(EXTEND, {"code": code, "months": 6})["warrantyCardExtend"]
    assert extended["errors"] == []
    card.refresh_from_db()
    fulfilled = order.fulfillments.get().created
    assert card.ends_at == fulfilled + relativedelta(months=12) + relativedelta(
        months=6
    )

    serial = staff_api.data(UPDATE, {"code": code, "serial": " wba1234567 "})
    assert serial["warrantyCardUpdate"]["warrantyCard"]["serialNumber"] == "WBA1234567"
    found = staff_api.data(STAFF_CARDS, {"serial": "WBA1234567"})["warrantyCards"][
        "edges"
    ]
    assert [edge["node"]["code"] for edge in found] == [code]

    voided = staff_api.data(VOID, {"code": code, "reason": "Tampered seal"})[
        "warrantyCardVoid"
    ]
    assert voided["warrantyCard"]["status"] == "VOID"
    events = staff_api.data(STAFF_CARDS, {"code": code})["warrantyCards"]["edges"][0][
        "node"
    ]
    assert [e["type"] for e in events["events"]] == [
        "EXTENDED",
        "SERIAL_NUMBER_RECORDED",
        "VOIDED",
    ]
    by_order = staff_api.data(STAFF_CARDS, {"order": gid("Order", order.pk)})
    assert len(by_order["warrantyCards"]["edges"]) == 3


@pytest.mark.parametrize(
    "query, variables, code",
    [
        (EXTEND, {"months": 0}, "INVALID"),
        (EXTEND, {"months": 121}, "INVALID"),
        (VOID, {"reason": "  "}, "REQUIRED"),
        (UPDATE, {"serial": "x" * 65}, "INVALID"),
    ],
)
def test_staff_card_changes_with_bad_input_are_refused(
    staff_api, order, query, variables, code
):
    card = cards_of(order)[0]
    content = staff_api.data(query, {"code": card.code, **variables})
    payload = next(iter(content.values()))
    assert payload["errors"][0]["code"] == code
    after = WarrantyCard.objects.get(pk=card.pk)
    assert (after.ends_at, after.voided_at, after.serial_number) == (
        card.ends_at,
        card.voided_at,
        card.serial_number,
    )
    assert not WarrantyCardEvent.objects.exists()


def test_unknown_or_malformed_codes_and_double_void_are_refused(staff_api, order):
    card = cards_of(order)[0]
    result = staff_api.data(EXTEND, {"code": "NOPE", "months": 1})["warrantyCardExtend"]
    assert result["errors"][0]["code"] == "INVALID_CODE"
    result = staff_api.data(EXTEND, {"code": warranty.new_code(), "months": 1})
    assert result["warrantyCardExtend"]["errors"][0]["code"] == "NOT_FOUND"
    staff_api.data(VOID, {"code": card.code, "reason": "Stolen"})
    again = staff_api.data(VOID, {"code": card.code, "reason": "Stolen"})[
        "warrantyCardVoid"
    ]
    assert again["errors"][0]["code"] == "INVALID_STATUS"
    extend = staff_api.data(EXTEND, {"code": card.code, "months": 1})[
        "warrantyCardExtend"
    ]
    assert extend["errors"][0]["code"] == "INVALID_STATUS"


@pytest.mark.parametrize("who", ["anonymous", "customer", "staff_without_permission"])
def test_strangers_are_denied_on_every_staff_card_operation(
    who, order, customer, staff_without_permission
):
    api = {
        "anonymous": ApiClient(),
        "customer": ApiClient(customer),
        "staff_without_permission": ApiClient(staff_without_permission),
    }[who]
    card = cards_of(order)[0]
    before = list(
        WarrantyCard.objects.values_list("ends_at", "voided_at", "serial_number")
    )
    for query, variables in [
        (EXTEND, {"code": card.code, "months": 3}),
        (VOID, {"code": card.code, "reason": "x"}),
        (UPDATE, {"code": card.code, "serial": "S1"}),
        (STAFF_CARDS, {}),
    ]:
        assert_permission_denied(api.post(query, variables))
    assert (
        list(WarrantyCard.objects.values_list("ends_at", "voided_at", "serial_number"))
        == before
    )
    assert not WarrantyCardEvent.objects.exists()


def test_my_cards_needs_a_signed_in_customer(anonymous_api):
    assert_permission_denied(anonymous_api.post(MY_CARDS))


def test_cards_of_returned_units_are_voided_on_receipt(customer_api, staff_api, order):
    from .conftest import create_return, line_input
    from .queries import APPROVE, RECEIVE

    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 1)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    cards = list(WarrantyCard.objects.filter(order_line__host_id=host.ref(first.pk)))
    voided = [c for c in cards if c.voided_at]
    assert len(cards) == 2 and len(voided) == 1
    assert voided[0].void_reason == f"Returned with {claim['number']}"


def test_throttle_counts_the_proxys_hop_not_what_the_client_forwards(order, settings):
    settings.REAL_IP_ENVIRON = "HTTP_X_FORWARDED_FOR"
    configure(**{"Warranty verifications per minute": "2"})
    code = cards_of(order)[0].code
    for spoofed in ("1.1.1.1", "2.2.2.2"):
        client = ApiClient()
        client.headers["HTTP_X_FORWARDED_FOR"] = f"{spoofed}, 203.0.113.9"
        assert verify(client, code)["valid"] is True
    client = ApiClient()
    client.headers["HTTP_X_FORWARDED_FOR"] = "3.3.3.3, 203.0.113.9"
    assert [e["code"] for e in verify(client, code)["errors"]] == ["THROTTLED"]


def test_customers_do_not_see_why_a_card_was_voided(customer_api, staff_api, order):
    card = cards_of(order)[0]
    staff_api.data(VOID, {"code": card.code, "reason": "Fraud suspected"})
    mine = customer_api.data(MY_CARDS)["myWarrantyCards"]["edges"]
    voided = [e["node"] for e in mine if e["node"]["status"] == "VOID"]
    assert voided and voided[0]["voidReason"] is None
