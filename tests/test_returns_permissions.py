"""Strangers are denied on every query and mutation, and nothing changes."""

import uuid

import pytest

from .conftest import ApiClient, assert_permission_denied, db_state, gid, line_input
from .queries import (
    APPEAL,
    APPROVE,
    ASSIGN,
    CANCEL,
    CLOSE,
    ELIGIBILITY,
    EXCHANGE_REQUEST_CREATE,
    MY_REQUESTS,
    NOTE_ADD,
    PROVIDE_INFO,
    RECEIVE,
    REFUND,
    REJECT,
    REPAIR_REQUEST_CREATE,
    REQUEST,
    REQUEST_INFO,
    RETURN_REQUEST_CREATE,
    STAFF_REQUESTS,
)

STRANGERS = [
    "anonymous",
    "other_customer",
    "guest_with_wrong_token",
    "staff_without_permission",
]


@pytest.fixture
def stranger(request, db, other_customer, staff_without_permission):
    kind = request.param
    if kind == "other_customer":
        return ApiClient(other_customer), None
    if kind == "staff_without_permission":
        return ApiClient(staff_without_permission), None
    if kind == "guest_with_wrong_token":
        return ApiClient(), str(uuid.uuid4())
    return ApiClient(), None


def storefront_operations(order, claim):
    first = order.lines.order_by("pk")[0]
    order_id = gid("Order", order.pk)

    def create(token):
        line = {
            **line_input(first, 1),
            "replacementVariant": gid("ProductVariant", first.variant_id),
        }
        where = {"orderToken": token} if token else {"order": order_id}
        return {"input": {**where, "lines": [line]}}

    return [
        (RETURN_REQUEST_CREATE, create),
        (EXCHANGE_REQUEST_CREATE, create),
        (REPAIR_REQUEST_CREATE, create),
        (CANCEL, lambda token: {"id": claim["id"], "token": token}),
        (APPEAL, lambda token: {"id": claim["id"], "note": "x", "token": token}),
        (PROVIDE_INFO, lambda token: {"id": claim["id"], "note": "x", "token": token}),
        (
            ELIGIBILITY,
            lambda token: {"order": None if token else order_id, "token": token},
        ),
        (REQUEST, lambda token: {"id": claim["id"], "token": token}),
    ]


def staff_operations(claim):
    line = claim["lines"][0]["id"]
    return [
        (APPROVE, {"id": claim["id"]}),
        (REJECT, {"id": claim["id"], "reason": "OTHER"}),
        (REQUEST_INFO, {"id": claim["id"], "note": "x"}),
        (RECEIVE, {"id": claim["id"], "lines": [{"line": line, "quantity": 1}]}),
        (REFUND, {"id": claim["id"]}),
        (CLOSE, {"id": claim["id"]}),
        (ASSIGN, {"id": claim["id"]}),
        (NOTE_ADD, {"id": claim["id"], "message": "x"}),
        (STAFF_REQUESTS, {"first": 10}),
    ]


@pytest.mark.parametrize("stranger", STRANGERS, indirect=True)
def test_stranger_is_denied_on_storefront_operations(stranger, order, claim):
    api, token = stranger
    before = db_state(order)
    for query, variables in storefront_operations(order, claim):
        content = api.post(query, variables(token))
        assert_permission_denied(content)
    assert db_state(order) == before


@pytest.mark.parametrize("stranger", STRANGERS, indirect=True)
def test_stranger_is_denied_on_staff_operations(stranger, order, claim):
    api, _token = stranger
    before = db_state(order)
    for query, variables in staff_operations(claim):
        assert_permission_denied(api.post(query, variables))
    assert db_state(order) == before


def test_owner_is_denied_on_staff_operations(customer_api, order, claim):
    before = db_state(order)
    for query, variables in staff_operations(claim):
        assert_permission_denied(customer_api.post(query, variables))
    assert db_state(order) == before


def test_my_requests_needs_a_signed_in_customer_and_shows_only_theirs(
    anonymous_api, other_customer_api, customer_api, claim
):
    assert_permission_denied(anonymous_api.post(MY_REQUESTS, {"first": 10}))
    theirs = other_customer_api.data(MY_REQUESTS, {"first": 10})["myAftersalesRequests"]
    assert theirs["totalCount"] == 0 and theirs["edges"] == []
    mine = customer_api.data(MY_REQUESTS, {"first": 10})["myAftersalesRequests"]
    assert [edge["node"]["id"] for edge in mine["edges"]] == [claim["id"]]
