"""The paths through the workflow besides the straight one, and who sees what."""

from decimal import Decimal

from saleor.payment import TransactionKind
from saleor.warehouse.models import Stock

from demo import shop
from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import AftersalesEvent, AftersalesRefund

from .conftest import configure, create_return, db_state, gid, line_input
from .queries import (
    APPEAL,
    APPROVE,
    ASSIGN,
    CANCEL,
    ELIGIBILITY,
    NOTE_ADD,
    PROVIDE_INFO,
    RECEIVE,
    REFUND,
    REJECT,
    REQUEST,
    REQUEST_INFO,
    STAFF_REQUESTS,
)


def test_needs_info_then_answer_returns_to_review(customer_api, staff_api, claim):
    asked = staff_api.data(REQUEST_INFO, {"id": claim["id"], "note": "Send a photo"})
    assert (
        asked["aftersalesRequestRequestInfo"]["aftersalesRequest"]["status"]
        == "NEEDS_INFO"
    )
    answered = customer_api.data(
        PROVIDE_INFO, {"id": claim["id"], "note": "photo.jpg attached"}
    )
    assert (
        answered["aftersalesRequestProvideInfo"]["aftersalesRequest"]["status"]
        == "REQUESTED"
    )
    approved = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert approved["aftersalesRequest"]["status"] == "APPROVED"


def test_rejected_claim_can_be_appealed_once_and_then_approved(
    customer_api, staff_api, claim
):
    rejected = staff_api.data(
        REJECT, {"id": claim["id"], "reason": "NO_DEFECT_FOUND", "note": "Works for us"}
    )["aftersalesRequestReject"]["aftersalesRequest"]
    assert rejected == {
        "id": claim["id"],
        "status": "REJECTED",
        "rejectReason": "NO_DEFECT_FOUND",
        "canAppeal": True,
    }
    appealed = customer_api.data(APPEAL, {"id": claim["id"], "note": "Sole falls off"})
    assert appealed["aftersalesRequestAppeal"]["aftersalesRequest"] == {
        "id": claim["id"],
        "status": "APPEALED",
        "canAppeal": False,
    }
    # Info requested during the appeal comes back to APPEALED, not REQUESTED.
    staff_api.data(REQUEST_INFO, {"id": claim["id"], "note": "Video please"})
    back = customer_api.data(PROVIDE_INFO, {"id": claim["id"], "note": "video.mp4"})
    assert (
        back["aftersalesRequestProvideInfo"]["aftersalesRequest"]["status"]
        == "APPEALED"
    )
    approved = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert approved["aftersalesRequest"]["status"] == "APPROVED"
    assert approved["aftersalesRequest"]["rejectReason"] is None


def test_cancelled_claim_frees_its_units(customer_api, order, claim):
    first = order.lines.order_by("pk")[0]
    eligibility = customer_api.data(ELIGIBILITY, {"order": gid("Order", order.pk)})
    assert eligibility["aftersalesEligibility"]["lines"][0]["returnableQuantity"] == 0
    cancelled = customer_api.data(CANCEL, {"id": claim["id"]})[
        "aftersalesRequestCancel"
    ]
    assert cancelled["aftersalesRequest"]["status"] == "CANCELLED"
    again = create_return(customer_api, order, [line_input(first, 2)])
    assert again["errors"] == []


def test_eligibility_counts_fulfilled_units_and_other_claims(
    customer_api, order, claim
):
    data = customer_api.data(ELIGIBILITY, {"order": gid("Order", order.pk)})
    eligibility = data["aftersalesEligibility"]
    assert eligibility["isReturnable"] is True
    first, second = eligibility["lines"]
    assert (
        first["quantityFulfilled"],
        first["quantityInClaims"],
        first["returnableQuantity"],
    ) == (2, 2, 0)
    assert (
        second["quantityFulfilled"],
        second["quantityInClaims"],
        second["returnableQuantity"],
    ) == (1, 0, 1)
    assert first["returnDeadline"] > first["changedMindDeadline"]


def test_rejection_frees_units_and_approval_after_appeal_checks_them_again(
    customer_api, staff_api, order, claim
):
    first = order.lines.order_by("pk")[0]
    staff_api.data(REJECT, {"id": claim["id"], "reason": "OTHER"})
    other = create_return(customer_api, order, [line_input(first, 2)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": other["id"]})
    customer_api.data(APPEAL, {"id": claim["id"], "note": "Please look again"})
    before = db_state(order)
    result = staff_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert result["errors"][0]["code"] == "QUANTITY_EXCEEDED"
    assert db_state(order) == before


def test_guest_acts_with_the_order_token(anonymous_api, staff_api, guest_order):
    token = str(guest_order.token)
    line = guest_order.lines.get()
    created = create_return(
        anonymous_api, guest_order, [line_input(line, 1)], token=token
    )
    assert created["errors"] == []
    claim = created["aftersalesRequest"]
    assert claim["userEmail"] == "guest@example.com"
    seen = anonymous_api.data(REQUEST, {"id": claim["id"], "token": token})
    assert seen["aftersalesRequest"]["number"] == claim["number"]
    cancelled = anonymous_api.data(CANCEL, {"id": claim["id"], "token": token})
    assert (
        cancelled["aftersalesRequestCancel"]["aftersalesRequest"]["status"]
        == "CANCELLED"
    )
    assert AftersalesEvent.objects.filter(
        type="cancelled", actor_type="customer"
    ).exists()


def test_app_with_manage_orders_reviews_and_is_audited_as_app(app_api, claim):
    approved = app_api.data(APPROVE, {"id": claim["id"]})["aftersalesRequestApprove"]
    assert approved["errors"] == []
    event = AftersalesEvent.objects.get(type="approved")
    assert event.actor_type == "app"
    assert host.app_by_ref(event.app_ref).name == "Returns robot"


def test_customers_see_their_claim_but_not_internal_notes_or_assignee(
    customer_api, staff_api, staff_user, claim
):
    staff_api.data(NOTE_ADD, {"id": claim["id"], "message": "Customer returns a lot"})
    assigned = staff_api.data(
        ASSIGN, {"id": claim["id"], "staff": gid("User", staff_user.pk)}
    )
    assert assigned["aftersalesRequestAssign"]["aftersalesRequest"]["assignee"] == {
        "email": "staff@example.com"
    }
    staff_view = staff_api.data(REQUEST, {"id": claim["id"]})["aftersalesRequest"]
    assert [e["type"] for e in staff_view["events"]] == [
        "CREATED",
        "NOTE_ADDED",
        "ASSIGNED",
    ]
    customer_view = customer_api.data(REQUEST, {"id": claim["id"]})["aftersalesRequest"]
    assert [e["type"] for e in customer_view["events"]] == ["CREATED"]
    assert customer_view["assignee"] is None


def test_assign_to_a_customer_is_refused(staff_api, customer, order, claim):
    before = db_state(order)
    result = staff_api.data(
        ASSIGN, {"id": claim["id"], "staff": gid("User", customer.pk)}
    )
    assert result["aftersalesRequestAssign"]["errors"][0]["code"] == "NOT_STAFF"
    assert db_state(order) == before


def test_receive_in_two_parcels_with_a_missing_unit_resolves_after_refund(
    staff_api, claim, order, warehouse
):
    line = claim["lines"][0]["id"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    other = shop.make_warehouse("Second hub")
    variant = order.lines.order_by("pk")[0].variant
    first = staff_api.data(
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [{"line": line, "quantity": 1}],
            "warehouse": gid("Warehouse", other.pk),
        },
    )["aftersalesRequestReceive"]["aftersalesRequest"]
    assert first["lines"][0]["quantityReceived"] == 1
    assert Stock.objects.get(warehouse=other, product_variant=variant).quantity == 1
    second = staff_api.data(
        RECEIVE,
        {
            "id": claim["id"],
            "lines": [{"line": line, "quantity": 1, "disposition": "MISSING"}],
        },
    )["aftersalesRequestReceive"]["aftersalesRequest"]
    assert second["lines"][0]["quantityMissing"] == 1
    refunded = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert (
        refunded["refund"]["amount"]["amount"] == 25.0
    )  # the missing unit is not paid
    assert refunded["aftersalesRequest"]["status"] == "RESOLVED"


def test_partial_refund_leaves_the_claim_open_until_every_unit_is_settled(
    staff_api, claim, order
):
    line = claim["lines"][0]["id"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    staff_api.data(
        RECEIVE, {"id": claim["id"], "lines": [{"line": line, "quantity": 1}]}
    )
    one = staff_api.data(REFUND, {"id": claim["id"], "amount": "20.00"})[
        "aftersalesRequestRefund"
    ]
    assert one["refund"]["amount"]["amount"] == 20.0
    assert one["aftersalesRequest"]["status"] == "RECEIVED"
    staff_api.data(
        RECEIVE, {"id": claim["id"], "lines": [{"line": line, "quantity": 1}]}
    )
    two = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"]
    assert two["refund"]["amount"]["amount"] == 25.0
    assert two["aftersalesRequest"]["status"] == "RESOLVED"
    assert two["aftersalesRequest"]["refundedAmount"]["amount"] == 45.0
    assert order.payments.get().captured_amount == Decimal("35.00")


def test_shipping_is_refunded_once_per_order_when_the_shop_refunds_it(
    customer_api, staff_api, order, claim
):
    configure(**{"Refund shipping": True})
    staff_api.data(APPROVE, {"id": claim["id"]})
    first = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"][
        "refund"
    ]
    assert first["amount"]["amount"] == 55.0 and first["shipping"]["amount"] == 5.0

    second_line = order.lines.order_by("pk")[1]
    other = create_return(customer_api, order, [line_input(second_line, 1)])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": other["id"]})
    second = staff_api.data(REFUND, {"id": other["id"]})["aftersalesRequestRefund"][
        "refund"
    ]
    assert second["amount"]["amount"] == 25.0 and second["shipping"]["amount"] == 0.0
    assert order.payments.get().captured_amount == Decimal("0.00")


def test_restocking_fee_applies_to_changed_mind_lines_only(
    customer_api, staff_api, order
):
    configure(**{"Default restocking fee percent": "10"})
    first, second = order.lines.order_by("pk")
    claim = create_return(
        customer_api,
        order,
        [line_input(first, 2, "CHANGED_MIND"), line_input(second, 1, "DEFECTIVE")],
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": claim["id"]})
    refund = staff_api.data(REFUND, {"id": claim["id"]})["aftersalesRequestRefund"][
        "refund"
    ]
    assert refund["restockingFee"]["amount"] == 5.0  # 10% of 2 x 25.00
    assert refund["amount"]["amount"] == 70.0
    row = AftersalesRefund.objects.get()
    assert (row.goods_amount, row.restocking_fee_amount) == (
        Decimal("75.00"),
        Decimal("5.00"),
    )


def test_explicit_restocking_fee_overrides_the_default(customer_api, staff_api, order):
    configure(**{"Default restocking fee percent": "10"})
    first = order.lines.order_by("pk")[0]
    claim = create_return(customer_api, order, [line_input(first, 2, "SIZE_OR_FIT")])[
        "aftersalesRequest"
    ]
    staff_api.data(APPROVE, {"id": claim["id"]})
    refund = staff_api.data(REFUND, {"id": claim["id"], "restockingFee": "20"})[
        "aftersalesRequestRefund"
    ]["refund"]
    assert (refund["restockingFee"]["amount"], refund["amount"]["amount"]) == (
        10.0,
        40.0,
    )


def test_gateway_refusal_records_a_failed_refund_and_a_new_key_retries(
    staff_api, claim, order
):
    staff_api.data(APPROVE, {"id": claim["id"]})
    payment = order.payments.get()
    capture = payment.transactions.get(kind=TransactionKind.CAPTURE)
    capture.is_success = False  # Saleor's gateway now finds nothing to refund against
    capture.save(update_fields=["is_success"])

    failed = staff_api.data(REFUND, {"id": claim["id"], "key": "try-1"})[
        "aftersalesRequestRefund"
    ]
    assert failed["errors"][0]["code"] == "PAYMENT_FAILED"
    assert failed["refund"]["status"] == "FAILED"
    assert failed["refund"]["error"]
    assert failed["aftersalesRequest"]["status"] == "APPROVED"
    payment.refresh_from_db()
    assert payment.captured_amount == Decimal("80.00")

    capture.is_success = True
    capture.save(update_fields=["is_success"])
    same_key = staff_api.data(REFUND, {"id": claim["id"], "key": "try-1"})[
        "aftersalesRequestRefund"
    ]
    assert same_key["refund"]["status"] == "FAILED"  # a key's outcome is final
    retried = staff_api.data(REFUND, {"id": claim["id"], "key": "try-2"})[
        "aftersalesRequestRefund"
    ]
    assert retried["errors"] == []
    assert retried["refund"]["status"] == "SUCCESS"
    assert retried["aftersalesRequest"]["status"] == "RESOLVED"


def test_staff_list_filters_searches_sorts_and_pages(
    anonymous_api, staff_api, order, claim, guest_order
):
    token = str(guest_order.token)
    guest_claim = create_return(
        anonymous_api,
        guest_order,
        [line_input(guest_order.lines.get(), 1)],
        token=token,
    )["aftersalesRequest"]
    staff_api.data(APPROVE, {"id": guest_claim["id"]})

    def ids(variables):
        data = staff_api.data(STAFF_REQUESTS, {"first": 10, **variables})[
            "aftersalesRequests"
        ]
        return [edge["node"]["id"] for edge in data["edges"]]

    assert ids({}) == [guest_claim["id"], claim["id"]]
    assert ids({"filter": {"status": ["APPROVED"]}}) == [guest_claim["id"]]
    assert ids({"filter": {"type": ["RETURN"]}}) == [guest_claim["id"], claim["id"]]
    assert ids({"filter": {"search": "guest@"}}) == [guest_claim["id"]]
    assert ids({"filter": {"search": claim["number"]}}) == [claim["id"]]
    assert ids({"sortBy": {"field": "NUMBER", "direction": "ASC"}}) == [
        claim["id"],
        guest_claim["id"],
    ]
    page = staff_api.data(
        STAFF_REQUESTS,
        {"first": 1, "sortBy": {"field": "CREATED_AT", "direction": "ASC"}},
    )["aftersalesRequests"]
    assert page["totalCount"] == 2 and page["pageInfo"]["hasNextPage"]
    rest = staff_api.data(
        STAFF_REQUESTS,
        {
            "first": 1,
            "after": page["pageInfo"]["endCursor"],
            "sortBy": {"field": "CREATED_AT", "direction": "ASC"},
        },
    )["aftersalesRequests"]
    assert [e["node"]["id"] for e in page["edges"] + rest["edges"]] == [
        claim["id"],
        guest_claim["id"],
    ]
