"""Bad input gets a clear error code and changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from saleor.order.models import Fulfillment

from demo import shop
from saleor_aftersales.models import AftersalesRequest

from .conftest import ApiClient, create_return, db_state, gid, line_input
from .queries import (
    APPEAL,
    APPROVE,
    CANCEL,
    CLOSE,
    NOTE_ADD,
    PROVIDE_INFO,
    RECEIVE,
    REFUND,
    REJECT,
    REQUEST,
    REQUEST_INFO,
    RETURN_REQUEST_CREATE,
)


def refused(content, mutation):
    """The payload of a refused mutation: no object, errors in both lists."""
    assert "errors" not in content, content
    payload = content["data"][mutation]
    assert payload["errors"], payload
    assert [e["code"] for e in payload["errors"]] == [
        e["code"] for e in payload["aftersalesErrors"]
    ]
    return payload["errors"][0]


def assert_create_refused(api, order, lines, code, **extra):
    before = db_state(order)
    data = {"order": gid("Order", order.pk), "lines": lines, **extra}
    content = api.post(RETURN_REQUEST_CREATE, {"input": data})
    error = refused(content, "returnRequestCreate")
    assert error["code"] == code, error
    assert content["data"]["returnRequestCreate"]["aftersalesRequest"] is None
    assert db_state(order) == before
    return error


@pytest.mark.parametrize(
    "quantity, code",
    [
        (0, "QUANTITY_NOT_POSITIVE"),
        (-1, "QUANTITY_NOT_POSITIVE"),
        (3, "QUANTITY_EXCEEDED"),
    ],
)
def test_create_with_bad_quantity_is_refused(customer_api, order, quantity, code):
    first = order.lines.order_by("pk")[0]  # 2 units fulfilled
    error = assert_create_refused(
        customer_api, order, [line_input(first, quantity)], code
    )
    assert error["field"] == "lines"


def test_create_above_what_other_claims_left_is_refused(customer_api, order, claim):
    first = order.lines.order_by("pk")[0]  # both units held by ``claim``
    assert_create_refused(
        customer_api, order, [line_input(first, 1)], "QUANTITY_EXCEEDED"
    )


def test_create_with_line_of_another_order_is_refused(
    customer_api, order, customer, staff_user, warehouse, variants
):
    other = shop.fulfilled_paid_order(
        customer, staff_user, warehouse, [(variants[2], 1)]
    )
    foreign = other.lines.get()
    assert_create_refused(
        customer_api, order, [line_input(foreign, 1)], "LINE_NOT_IN_ORDER"
    )


def test_create_with_same_line_twice_is_refused(customer_api, order):
    first = order.lines.order_by("pk")[0]
    assert_create_refused(
        customer_api,
        order,
        [line_input(first, 1), line_input(first, 1)],
        "DUPLICATED_LINE",
    )


def test_create_with_unknown_ids_is_refused(customer_api, order):
    lines = [
        {"orderLine": gid("OrderLine", 999999), "quantity": 1, "reason": "DEFECTIVE"}
    ]
    assert_create_refused(customer_api, order, lines, "NOT_FOUND")
    lines = [{"orderLine": gid("Product", 1), "quantity": 1, "reason": "DEFECTIVE"}]
    assert_create_refused(customer_api, order, lines, "GRAPHQL_ERROR")
    lines = [{"orderLine": "not-an-id", "quantity": 1, "reason": "DEFECTIVE"}]
    assert_create_refused(customer_api, order, lines, "GRAPHQL_ERROR")


def test_create_with_no_lines_is_refused(customer_api, order):
    assert_create_refused(customer_api, order, [], "REQUIRED")


def test_create_on_unfulfilled_line_is_refused(
    customer_api, customer, staff_user, warehouse, variants
):
    order = shop.place_order(customer, [(variants[0], 1)])
    shop.pay_with_dummy(order)
    line = order.lines.get()
    assert_create_refused(customer_api, order, [line_input(line, 1)], "NOT_FULFILLED")


def test_windows_count_from_fulfillment_and_depend_on_reason(customer_api, order):
    """30 days for faults, 14 for changed mind (the plugin's defaults)."""
    first = order.lines.order_by("pk")[0]
    Fulfillment.objects.filter(order=order).update(
        created=Fulfillment.objects.get(order=order).created - timedelta(days=20)
    )
    assert_create_refused(
        customer_api, order, [line_input(first, 1, "CHANGED_MIND")], "OUTSIDE_WINDOW"
    )
    payload = create_return(customer_api, order, [line_input(first, 1, "DEFECTIVE")])
    assert payload["errors"] == []

    Fulfillment.objects.filter(order=order).update(
        created=Fulfillment.objects.get(order=order).created - timedelta(days=11)
    )
    assert_create_refused(
        customer_api, order, [line_input(first, 1, "DEFECTIVE")], "OUTSIDE_WINDOW"
    )


def test_create_with_same_idempotency_key_returns_first_claim(customer_api, order):
    first = order.lines.order_by("pk")[0]
    one = create_return(
        customer_api, order, [line_input(first, 1)], idempotencyKey="k-1"
    )
    two = create_return(
        customer_api, order, [line_input(first, 1)], idempotencyKey="k-1"
    )
    assert one["aftersalesRequest"]["id"] == two["aftersalesRequest"]["id"]
    assert AftersalesRequest.objects.count() == 1


@pytest.mark.parametrize(
    "quantity, reason", [(2, "DEFECTIVE"), (1, "WRONG_ITEM")], ids=["units", "reason"]
)
def test_create_with_a_used_key_asking_for_something_else_is_refused(
    customer_api, order, quantity, reason
):
    first = order.lines.order_by("pk")[0]
    create_return(customer_api, order, [line_input(first, 1)], idempotencyKey="k-1")
    before = db_state(order)
    other = create_return(
        customer_api,
        order,
        [line_input(first, quantity, reason)],
        idempotencyKey="k-1",
    )
    assert [(e["field"], e["code"]) for e in other["errors"]] == [
        ("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")
    ]
    assert db_state(order) == before


# Transitions from the wrong state ------------------------------------------------


def staff_refusal(api, order, query, variables, mutation, code):
    before = db_state(order)
    error = refused(api.post(query, variables), mutation)
    assert error["code"] == code, error
    assert db_state(order) == before
    return error


def test_receive_refund_close_before_approval_are_refused(staff_api, claim, order):
    for query, mutation in [
        (RECEIVE, "aftersalesRequestReceive"),
        (REFUND, "aftersalesRequestRefund"),
        (CLOSE, "aftersalesRequestClose"),
    ]:
        staff_refusal(
            staff_api, order, query, {"id": claim["id"]}, mutation, "INVALID_STATUS"
        )


def test_approving_a_cancelled_claim_is_refused(customer_api, staff_api, claim, order):
    customer_api.data(CANCEL, {"id": claim["id"]})
    staff_refusal(
        staff_api,
        order,
        APPROVE,
        {"id": claim["id"]},
        "aftersalesRequestApprove",
        "INVALID_STATUS",
    )


def test_cancel_after_receipt_is_refused(customer_api, staff_api, claim, order):
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    before = db_state(order)
    error = refused(
        customer_api.post(CANCEL, {"id": claim["id"]}), "aftersalesRequestCancel"
    )
    assert error["code"] == "INVALID_STATUS"
    assert db_state(order) == before


def test_appeal_of_a_claim_that_was_not_rejected_is_refused(customer_api, claim, order):
    before = db_state(order)
    content = customer_api.post(APPEAL, {"id": claim["id"], "note": "Please"})
    assert refused(content, "aftersalesRequestAppeal")["code"] == "INVALID_STATUS"
    assert db_state(order) == before


def test_appeal_twice_is_refused(customer_api, staff_api, claim, order):
    staff_api.data(REJECT, {"id": claim["id"], "reason": "NO_DEFECT_FOUND"})
    customer_api.data(APPEAL, {"id": claim["id"], "note": "It is broken, see photo"})
    staff_api.data(REJECT, {"id": claim["id"], "reason": "NO_DEFECT_FOUND"})
    before = db_state(order)
    content = customer_api.post(APPEAL, {"id": claim["id"], "note": "Again"})
    assert refused(content, "aftersalesRequestAppeal")["code"] == "ALREADY_APPEALED"
    assert db_state(order) == before


def test_provide_info_when_none_was_asked_is_refused(customer_api, claim, order):
    before = db_state(order)
    content = customer_api.post(PROVIDE_INFO, {"id": claim["id"], "note": "Photo"})
    assert refused(content, "aftersalesRequestProvideInfo")["code"] == "INVALID_STATUS"
    assert db_state(order) == before


def test_request_info_without_a_note_is_refused(staff_api, claim, order):
    staff_refusal(
        staff_api,
        order,
        REQUEST_INFO,
        {"id": claim["id"], "note": "  "},
        "aftersalesRequestRequestInfo",
        "REQUIRED",
    )


# Approve and receive input -----------------------------------------------------------


def test_approve_more_than_requested_is_refused(staff_api, claim, order):
    lines = [{"line": claim["lines"][0]["id"], "quantity": 3}]
    staff_refusal(
        staff_api,
        order,
        APPROVE,
        {"id": claim["id"], "lines": lines},
        "aftersalesRequestApprove",
        "QUANTITY_EXCEEDED",
    )


def test_approve_nothing_is_refused(staff_api, claim, order):
    lines = [{"line": claim["lines"][0]["id"], "quantity": 0}]
    staff_refusal(
        staff_api,
        order,
        APPROVE,
        {"id": claim["id"], "lines": lines},
        "aftersalesRequestApprove",
        "NOTHING_APPROVED",
    )


def test_approve_with_a_line_of_another_claim_is_refused(
    customer_api, staff_api, claim, order
):
    second = order.lines.order_by("pk")[1]
    other = create_return(customer_api, order, [line_input(second, 1)])[
        "aftersalesRequest"
    ]
    lines = [{"line": other["lines"][0]["id"], "quantity": 1}]
    staff_refusal(
        staff_api,
        order,
        APPROVE,
        {"id": claim["id"], "lines": lines},
        "aftersalesRequestApprove",
        "LINE_NOT_IN_REQUEST",
    )


def test_approve_unknown_claim_is_refused(staff_api, order):
    staff_refusal(
        staff_api,
        order,
        APPROVE,
        {"id": gid("AftersalesRequest", 999999)},
        "aftersalesRequestApprove",
        "NOT_FOUND",
    )


def test_receive_more_than_approved_or_twice_the_same_line_is_refused(
    staff_api, claim, order
):
    approved = staff_api.data(
        APPROVE,
        {
            "id": claim["id"],
            "lines": [{"line": claim["lines"][0]["id"], "quantity": 1}],
        },
    )["aftersalesRequestApprove"]["aftersalesRequest"]
    line_id = approved["lines"][0]["id"]
    staff_refusal(
        staff_api,
        order,
        RECEIVE,
        {"id": claim["id"], "lines": [{"line": line_id, "quantity": 2}]},
        "aftersalesRequestReceive",
        "QUANTITY_EXCEEDED",
    )
    twice = [{"line": line_id, "quantity": 1}, {"line": line_id, "quantity": 1}]
    staff_refusal(
        staff_api,
        order,
        RECEIVE,
        {"id": claim["id"], "lines": twice},
        "aftersalesRequestReceive",
        "DUPLICATED_LINE",
    )
    staff_refusal(
        staff_api,
        order,
        RECEIVE,
        {"id": claim["id"], "lines": [{"line": line_id, "quantity": 0}]},
        "aftersalesRequestReceive",
        "QUANTITY_NOT_POSITIVE",
    )


# Refund input ------------------------------------------------------------------------


@pytest.fixture
def received_claim(staff_api, claim):
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(RECEIVE, {"id": claim["id"]})
    return claim


def test_refund_above_what_is_refundable_is_refused(staff_api, received_claim, order):
    # Two units at 25.00; shipping is not refundable by default.
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"], "amount": "50.01"},
        "aftersalesRequestRefund",
        "AMOUNT_EXCEEDED",
    )
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"], "amount": "0"},
        "aftersalesRequestRefund",
        "AMOUNT_NOT_POSITIVE",
    )


def test_refund_above_the_payments_captured_amount_is_refused(
    staff_api, received_claim, order
):
    payment = order.payments.get()
    payment.captured_amount = Decimal("20.00")
    payment.save(update_fields=["captured_amount"])
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"]},
        "aftersalesRequestRefund",
        "AMOUNT_EXCEEDED",
    )


def test_refund_of_shipping_when_the_shop_does_not_refund_it_is_refused(
    staff_api, received_claim, order
):
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"], "includeShipping": True},
        "aftersalesRequestRefund",
        "SHIPPING_NOT_REFUNDABLE",
    )


def test_refund_twice_is_refused_once_everything_is_refunded(
    staff_api, received_claim, order
):
    staff_api.data(REFUND, {"id": received_claim["id"]})
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"]},
        "aftersalesRequestRefund",
        "INVALID_STATUS",
    )


def test_refund_with_same_idempotency_key_pays_once(staff_api, received_claim, order):
    first = staff_api.data(REFUND, {"id": received_claim["id"], "key": "pay-once"})
    again = staff_api.data(REFUND, {"id": received_claim["id"], "key": "pay-once"})
    one = first["aftersalesRequestRefund"]["refund"]
    two = again["aftersalesRequestRefund"]["refund"]
    assert one["id"] == two["id"] and two["status"] == "SUCCESS"
    payment = order.payments.get()
    assert payment.captured_amount == Decimal("30.00")
    assert payment.transactions.filter(kind="refund").count() == 1


def test_idempotency_key_of_another_claims_refund_is_refused(
    customer_api, staff_api, received_claim, order
):
    staff_api.data(REFUND, {"id": received_claim["id"], "key": "shared"})
    second = order.lines.order_by("pk")[1]
    other = create_return(customer_api, order, [line_input(second, 1)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": other["id"]})
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": other["id"], "key": "shared"},
        "aftersalesRequestRefund",
        "IDEMPOTENCY_KEY_REUSED",
    )


@pytest.mark.parametrize(
    "fee, code", [("150", "INVALID"), ("-1", "INVALID"), ("100", "AMOUNT_NOT_POSITIVE")]
)
def test_refund_with_bad_restocking_fee_is_refused(
    customer_api, staff_api, order, fee, code
):
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 1, "CHANGED_MIND")])
    staff_api.data(APPROVE, {"id": claim["aftersalesRequest"]["id"]})
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": claim["aftersalesRequest"]["id"], "restockingFee": fee},
        "aftersalesRequestRefund",
        code,
    )


@pytest.mark.parametrize(
    "variables, field",
    [
        ({"amount": "NaN"}, "amount"),
        ({"amount": "0.001"}, "amount"),
        ({"amount": "10.005"}, "amount"),
        ({"restockingFee": "NaN"}, "restockingFee"),
        ({"key": "k" * 256}, "idempotencyKey"),
    ],
)
def test_refund_with_malformed_numbers_or_key_is_refused(
    staff_api, received_claim, order, variables, field
):
    error = staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"], **variables},
        "aftersalesRequestRefund",
        "INVALID",
    )
    assert error["field"] == field


def test_refund_retry_with_same_key_but_other_amount_is_refused(
    staff_api, received_claim, order
):
    staff_api.data(REFUND, {"id": received_claim["id"], "amount": "20.00", "key": "k"})
    staff_refusal(
        staff_api,
        order,
        REFUND,
        {"id": received_claim["id"], "amount": "30.00", "key": "k"},
        "aftersalesRequestRefund",
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_text_with_nul_bytes_or_too_long_is_refused(
    customer_api, staff_api, claim, order
):
    staff_refusal(
        staff_api,
        order,
        NOTE_ADD,
        {"id": claim["id"], "message": "bad\x00byte"},
        "aftersalesNoteAdd",
        "INVALID",
    )
    staff_refusal(
        staff_api,
        order,
        REJECT,
        {"id": claim["id"], "reason": "OTHER", "note": "x" * 5001},
        "aftersalesRequestReject",
        "INVALID",
    )
    first = order.lines.order_by("pk")[1]
    assert_create_refused(
        customer_api, order, [line_input(first, 1, comment="a\x00b")], "INVALID"
    )


def test_malformed_claim_id_in_query_is_an_error_and_unknown_is_null(staff_api):
    content = staff_api.post(REQUEST, {"id": "bm90OmFuOmlk"})
    assert content["errors"] and content["data"]["aftersalesRequest"] is None
    content = staff_api.post(REQUEST, {"id": gid("AftersalesRequest", "abc")})
    assert content["errors"] and content["data"]["aftersalesRequest"] is None
    content = staff_api.post(REQUEST, {"id": gid("AftersalesRequest", 999999)})
    assert "errors" not in content and content["data"]["aftersalesRequest"] is None


@pytest.mark.parametrize(
    "page, message",
    [
        ("first: 101", "`first` on `aftersalesRequests` must be between 0 and 100."),
        ("last: 101", "`last` on `aftersalesRequests` must be between 0 and 100."),
        ('first: 5, after: "abc"', "`after` is not a cursor of `aftersalesRequests`."),
        ('first: 5, after: "é"', "`after` is not a cursor of `aftersalesRequests`."),
        # base64 of bytes that aren't UTF-8, and of JSON that isn't a cursor
        ('first: 5, after: "//79"', "`after` is not a cursor of `aftersalesRequests`."),
        ('last: 5, before: "eyJhIjogMX0="', "`before` is not a cursor of "),
    ],
)
def test_a_bad_page_of_claims_is_refused_with_a_clear_message(
    staff_api, claim, page, message
):
    content = staff_api.post(f"{{ aftersalesRequests({page}) {{ totalCount }} }}")
    error = content["errors"][0]
    assert error["message"].startswith(message), error
    assert error["extensions"]["exception"]["code"] == "GraphQLError"
    assert content["data"]["aftersalesRequests"] is None


def test_a_cursor_from_a_page_of_claims_still_leads_to_the_next(
    staff_api, customer_api, order
):
    for line in order.lines.all():
        create_return(customer_api, order, [line_input(line, 1)])
    first = staff_api.data(
        "{ aftersalesRequests(first: 1) { edges { cursor node { number } } } }"
    )["aftersalesRequests"]["edges"][0]
    query = """
    query Next($after: String) {
      aftersalesRequests(first: 1, after: $after) { edges { node { number } } }
    }"""
    following = staff_api.data(query, {"after": first["cursor"]})
    numbers = [e["node"]["number"] for e in following["aftersalesRequests"]["edges"]]
    assert len(numbers) == 1 and numbers != [first["node"]["number"]]


def test_units_held_by_several_other_claims_cannot_be_claimed_again(
    customer_api, staff_api, order
):
    """Found by the random histories (tests/test_invariants.py): with two other
    claims on a line, only one of them used to count (Django 3.0 grouped the sum
    by the claim line's ordering too), so a third claim got units already taken."""
    first = order.lines.order_by("pk")[0]  # 2 units delivered
    for _ in range(2):
        claim = create_return(customer_api, order, [line_input(first, 1)])
        assert claim["errors"] == []
    assert_create_refused(
        customer_api, order, [line_input(first, 1)], "QUANTITY_EXCEEDED"
    )


@pytest.mark.parametrize(
    "query",
    [
        '{ serviceHistory(serialNumber: "VIN\\u0000") { id } }',
        '{ warrantyCards(first: 5, serialNumber: "SN\\u0000") { totalCount } }',
        '{ warrantyCards(first: 5, code: "AB\\u0000") { totalCount } }',
        '{ aftersalesWebhookDeliveries(first: 5, status: "\\u0000") { totalCount } }',
    ],
)
def test_nul_characters_in_query_arguments_are_refused_clearly(shop_owner, query):
    """Found by fuzzing: PostgreSQL's driver raised ValueError on them."""
    error = ApiClient(shop_owner).post(query)["errors"][0]
    assert "must not contain NUL characters" in error["message"], error
    assert error["extensions"]["exception"]["code"] == "GraphQLError"
