"""Each claim tells its viewer what they may do now (``availableActions``): the
desk's steps to staff and apps with MANAGE_ORDERS, the customer's to the claim's
customer, nothing to strangers. And the list tells the truth: every step listed
goes through, every step of the viewer's side left out is refused.
"""

import io
import json

import pytest
from django.db import transaction
from django.test.client import Client
from graphql_jwt.shortcuts import get_token
from PIL import Image

from saleor_aftersales import workflow

from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.enums import Action
from saleor_aftersales.models import AftersalesPhoto, AftersalesRequest

from .conftest import (
    ApiClient,
    assert_permission_denied,
    configure,
    gid,
    line_input,
    returns_on_one_order,
)
from .queries import (
    APPEAL,
    APPROVE,
    ASSIGN,
    CANCEL,
    CLOSE,
    EXCHANGE_FULFILL,
    EXCHANGE_REQUEST_CREATE,
    NOTE_ADD,
    PROVIDE_INFO,
    QUOTE_CREATE,
    QUOTE_RESPOND,
    RATE,
    RECEIVE,
    REFUND,
    REJECT,
    REPAIR_REQUEST_CREATE,
    REPAIR_UPDATE,
    REQUEST_INFO,
    RETURN_REQUEST_CREATE,
)

ACTIONS = """
query Actions($id: ID!, $token: UUID) {
  aftersalesRequest(id: $id, orderToken: $token) { id status availableActions }
}
"""
UPLOAD = """
mutation Upload($id: ID!, $file: Upload!, $token: UUID) {
  aftersalesPhotoUpload(id: $id, file: $file, orderToken: $token) {
    errors { field code message }
  }
}
"""
PARTS = [
    {"kind": "PART", "description": "Brake pads", "quantity": 1, "unitPrice": "30.00"}
]

# Every step, as the mutation that takes it and the name its payload has.
MUTATIONS = {
    Action.CANCEL: (CANCEL, "aftersalesRequestCancel", {}),
    Action.APPEAL: (APPEAL, "aftersalesRequestAppeal", {"note": "Please look again"}),
    Action.PROVIDE_INFO: (
        PROVIDE_INFO,
        "aftersalesRequestProvideInfo",
        {"note": "Serial on the box"},
    ),
    Action.ACCEPT_QUOTE: (QUOTE_RESPOND, "repairQuoteRespond", {"accept": True}),
    Action.DECLINE_QUOTE: (QUOTE_RESPOND, "repairQuoteRespond", {"accept": False}),
    Action.RATE: (RATE, "aftersalesRequestRate", {"rating": 5}),
    Action.UPLOAD_PHOTO: (UPLOAD, "aftersalesPhotoUpload", {}),
    Action.APPROVE: (APPROVE, "aftersalesRequestApprove", {}),
    Action.REJECT: (REJECT, "aftersalesRequestReject", {"reason": "OTHER"}),
    Action.REQUEST_INFO: (
        REQUEST_INFO,
        "aftersalesRequestRequestInfo",
        {"note": "A photo, please"},
    ),
    Action.RECEIVE: (RECEIVE, "aftersalesRequestReceive", {}),
    Action.REFUND: (REFUND, "aftersalesRequestRefund", {}),
    Action.FULFILL_EXCHANGE: (EXCHANGE_FULFILL, "exchangeRequestFulfill", {}),
    Action.CREATE_QUOTE: (QUOTE_CREATE, "repairQuoteCreate", {"lines": PARTS}),
    Action.UPDATE_REPAIR: (
        REPAIR_UPDATE,
        "repairStatusUpdate",
        {"status": "IN_REPAIR", "note": "Pads ordered"},
    ),
    Action.CLOSE: (CLOSE, "aftersalesRequestClose", {}),
    Action.ASSIGN: (ASSIGN, "aftersalesRequestAssign", {}),
    Action.ADD_NOTE: (NOTE_ADD, "aftersalesNoteAdd", {"message": "Called them"}),
}
assert set(MUTATIONS) == {value for value, _label in Action.CHOICES}


def upper(actions):
    return [action.upper() for action in actions]


class Claims:
    """Claims on the customer's order, brought to a state through /graphql/."""

    def __init__(self, customer_api, staff_api, order, variants):
        self.customer_api, self.staff_api = customer_api, staff_api
        self.order, self.variants = order, variants

    def _ok(self, api, query, name, variables):
        payload = api.data(query, variables)[name]
        assert payload["errors"] == [], payload
        return payload

    def customer(self, query, name, claim, **variables):
        return self._ok(self.customer_api, query, name, {"id": claim, **variables})

    def desk(self, query, name, claim, **variables):
        return self._ok(self.staff_api, query, name, {"id": claim, **variables})

    def _create(self, query, name, line):
        data = {"order": gid("Order", self.order.pk), "lines": [line]}
        payload = self._ok(self.customer_api, query, name, {"input": data})
        return payload["aftersalesRequest"]["id"]

    def new_return(self):
        first = self.order.lines.order_by("pk")[0]
        return self._create(
            RETURN_REQUEST_CREATE, "returnRequestCreate", line_input(first, 1)
        )

    def new_exchange(self):
        first = self.order.lines.order_by("pk")[0]
        line = line_input(first, 1, reason="SIZE_OR_FIT")
        line["replacementVariant"] = gid("ProductVariant", self.variants[1].pk)
        return self._create(EXCHANGE_REQUEST_CREATE, "exchangeRequestCreate", line)

    def new_repair(self):
        second = self.order.lines.order_by("pk")[1]
        line = dict(line_input(second, 1), serialNumber="SN-7")
        return self._create(REPAIR_REQUEST_CREATE, "repairRequestCreate", line)

    # The states ---------------------------------------------------------------

    def requested(self):
        return self.new_return()

    def needs_info(self):
        claim = self.new_return()
        self.desk(REQUEST_INFO, "aftersalesRequestRequestInfo", claim, note="Photo?")
        return claim

    def approved(self):
        claim = self.new_return()
        self.desk(APPROVE, "aftersalesRequestApprove", claim)
        return claim

    def received(self):
        claim = self.approved()
        self.desk(RECEIVE, "aftersalesRequestReceive", claim)
        return claim

    def rejected(self):
        claim = self.new_return()
        self.desk(REJECT, "aftersalesRequestReject", claim, reason="OTHER")
        return claim

    def appealed(self):
        claim = self.rejected()
        self.customer(APPEAL, "aftersalesRequestAppeal", claim, note="Look again")
        return claim

    def rejected_after_appeal(self):
        claim = self.appealed()
        self.desk(REJECT, "aftersalesRequestReject", claim, reason="OTHER")
        return claim

    def resolved(self):
        claim = self.received()
        self.desk(REFUND, "aftersalesRequestRefund", claim)
        return claim

    def refunded_before_receipt(self):
        claim = self.approved()
        self.desk(REFUND, "aftersalesRequestRefund", claim)
        return claim

    def rated(self):
        claim = self.resolved()
        self.customer(RATE, "aftersalesRequestRate", claim, rating=4)
        return claim

    def closed(self):
        claim = self.resolved()
        self.desk(CLOSE, "aftersalesRequestClose", claim)
        return claim

    def cancelled(self):
        claim = self.new_return()
        self.customer(CANCEL, "aftersalesRequestCancel", claim)
        return claim

    def exchange_approved(self):
        claim = self.new_exchange()
        self.desk(APPROVE, "aftersalesRequestApprove", claim)
        return claim

    def exchange_approved_shipping_first(self):
        configure(**{"Ship exchanges before the return arrives": True})
        return self.exchange_approved()

    def exchange_received(self):
        claim = self.exchange_approved()
        self.desk(RECEIVE, "aftersalesRequestReceive", claim)
        return claim

    def repair_received(self):
        claim = self.new_repair()
        self.desk(APPROVE, "aftersalesRequestApprove", claim)
        self.desk(RECEIVE, "aftersalesRequestReceive", claim)
        return claim

    def repair_quoted(self):
        claim = self.repair_received()
        self.desk(QUOTE_CREATE, "repairQuoteCreate", claim, lines=PARTS)
        return claim

    def repair_in_repair(self):
        claim = self.repair_quoted()
        self.customer(QUOTE_RESPOND, "repairQuoteRespond", claim, accept=True)
        return claim


A = Action
DESK_ALWAYS = [A.ASSIGN, A.ADD_NOTE]
# state: (status, the customer's actions, the desk's actions)
EXPECTED = {
    "requested": (
        "REQUESTED",
        [A.CANCEL, A.UPLOAD_PHOTO],
        [A.APPROVE, A.REJECT, A.REQUEST_INFO, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "needs_info": (
        "NEEDS_INFO",
        [A.CANCEL, A.PROVIDE_INFO, A.UPLOAD_PHOTO],
        [A.APPROVE, A.REJECT, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "approved": (
        "APPROVED",
        [A.CANCEL, A.UPLOAD_PHOTO],
        [A.RECEIVE, A.REFUND, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "received": (
        "RECEIVED",
        [A.UPLOAD_PHOTO],
        [A.REFUND, A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "rejected": (
        "REJECTED",
        [A.APPEAL, A.UPLOAD_PHOTO],
        [A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "appealed": (
        "APPEALED",
        [A.CANCEL, A.UPLOAD_PHOTO],
        [A.APPROVE, A.REJECT, A.REQUEST_INFO, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    # Appealed once: no second appeal.
    "rejected_after_appeal": (
        "REJECTED",
        [A.UPLOAD_PHOTO],
        [A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    # Refunded: no cancelling any more.
    "resolved": (
        "RESOLVED",
        [A.RATE, A.UPLOAD_PHOTO],
        [A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    # Paid before the goods came back: they can still be received.
    "refunded_before_receipt": (
        "RESOLVED",
        [A.RATE, A.UPLOAD_PHOTO],
        [A.RECEIVE, A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "rated": (
        "RESOLVED",
        [A.UPLOAD_PHOTO],
        [A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "closed": ("CLOSED", [A.RATE], DESK_ALWAYS),
    "cancelled": ("CANCELLED", [], DESK_ALWAYS),
    # Exchanges are settled by their replacement, never refunded by hand.
    "exchange_approved": (
        "APPROVED",
        [A.CANCEL, A.UPLOAD_PHOTO],
        [A.RECEIVE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "exchange_approved_shipping_first": (
        "APPROVED",
        [A.CANCEL, A.UPLOAD_PHOTO],
        [A.RECEIVE, A.FULFILL_EXCHANGE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "exchange_received": (
        "RECEIVED",
        [A.UPLOAD_PHOTO],
        [A.FULFILL_EXCHANGE, A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "repair_received": (
        "RECEIVED",
        [A.UPLOAD_PHOTO],
        [A.CREATE_QUOTE, A.CLOSE, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "repair_quoted": (
        "QUOTED",
        [A.ACCEPT_QUOTE, A.DECLINE_QUOTE, A.UPLOAD_PHOTO],
        [*DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
    "repair_in_repair": (
        "IN_REPAIR",
        [A.UPLOAD_PHOTO],
        [A.UPDATE_REPAIR, *DESK_ALWAYS, A.UPLOAD_PHOTO],
    ),
}


@pytest.fixture
def claims(customer_api, staff_api, order, variants):
    return Claims(customer_api, staff_api, order, variants)


def actions_of(api, claim, token=None):
    request = api.data(ACTIONS, {"id": claim, "token": token})["aftersalesRequest"]
    return request["status"], request["availableActions"]


class Refused(Exception):
    pass


def photo_upload(user, claim, token=None):
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, "PNG")
    file = io.BytesIO(buffer.getvalue())
    file.name = "photo.png"
    headers = {"HTTP_AUTHORIZATION": f"JWT {get_token(user)}"} if user else {}
    operations = {"query": UPLOAD, "variables": {"id": claim, "file": None}}
    if token:
        operations["variables"]["token"] = token
    response = Client().post(
        "/graphql/",
        {
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.file"]}),
            "0": file,
        },
        **headers,
    )
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def attempt(api, action, claim, staff_user, token=None):
    """Take the step through /graphql/ and undo it: (top-level errors, payload
    errors)."""
    query, name, variables = MUTATIONS[action]
    variables = {"id": claim, **variables}
    if action == Action.ASSIGN:
        variables["staff"] = gid("User", staff_user.pk)
    if token:
        variables["token"] = token
    try:
        with transaction.atomic():
            if action == Action.UPLOAD_PHOTO:
                content = photo_upload(api.user, claim, token)
            else:
                content = api.post(query, variables)
            raise Refused(content)
    except Refused as undone:
        content = undone.args[0]
    if content.get("errors"):
        return content["errors"], None
    return None, content["data"][name]["errors"]


@pytest.mark.parametrize("state", list(EXPECTED))
def test_each_viewer_sees_the_steps_open_to_them_and_the_list_tells_the_truth(
    claims, customer_api, staff_api, staff_user, state
):
    status, customer_actions, desk_actions = EXPECTED[state]
    claim = getattr(claims, state)()

    assert actions_of(customer_api, claim) == (status, upper(customer_actions))
    assert actions_of(staff_api, claim) == (status, upper(desk_actions))

    # Each step of a side, listed or not, against what the mutation answers.
    for api, side, listed in (
        (customer_api, Action.CUSTOMER, customer_actions),
        (staff_api, Action.DESK, desk_actions),
    ):
        for action in side:
            top, errors = attempt(api, action, claim, staff_user)
            assert top is None, (state, action, top)
            if action in listed:
                assert errors == [], (state, action, errors)
            else:
                assert errors, (state, action, "went through unlisted")

    # The desk's steps are never the customer's: refused, whatever the state.
    for action in Action.DESK:
        if action in Action.CUSTOMER:
            continue
        top, _errors = attempt(customer_api, action, claim, staff_user)
        assert top and "permission" in top[0]["message"].lower(), (state, action)
    # Nothing was left behind by the attempts.
    assert actions_of(staff_api, claim)[0] == status


def test_an_app_sees_the_desks_steps_and_a_guest_with_the_token_the_customers(
    app_api, staff_api, staff_user, guest_order
):
    guest_api = ApiClient()
    line = guest_order.lines.get()
    data = {"orderToken": str(guest_order.token), "lines": [line_input(line, 1)]}
    payload = guest_api.data(RETURN_REQUEST_CREATE, {"input": data})
    claim = payload["returnRequestCreate"]["aftersalesRequest"]["id"]
    token = str(guest_order.token)

    assert actions_of(guest_api, claim, token) == (
        "REQUESTED",
        ["CANCEL", "UPLOAD_PHOTO"],
    )
    assert actions_of(app_api, claim)[1] == [
        "APPROVE",
        "REJECT",
        "REQUEST_INFO",
        "ASSIGN",
        "ADD_NOTE",
        "UPLOAD_PHOTO",
    ]
    staff_api.data(REJECT, {"id": claim, "reason": "OTHER"})
    assert actions_of(guest_api, claim, token) == (
        "REJECTED",
        ["APPEAL", "UPLOAD_PHOTO"],
    )
    top, errors = attempt(guest_api, Action.APPEAL, claim, staff_user, token)
    assert (top, errors) == (None, [])
    top, errors = attempt(guest_api, Action.RATE, claim, staff_user, token)
    assert top is None and errors[0]["code"] == "INVALID_STATUS"


def test_strangers_see_no_claim_and_so_no_steps(
    claim, other_customer_api, intern_api, anonymous_api, guest_order
):
    for api in (other_customer_api, intern_api, anonymous_api):
        assert_permission_denied(api.post(ACTIONS, {"id": claim["id"]}))
    # A guest's token opens only that guest order's claims.
    content = anonymous_api.post(
        ACTIONS, {"id": claim["id"], "token": str(guest_order.token)}
    )
    assert_permission_denied(content)


def test_a_pending_refund_closes_the_steps_that_would_race_it(
    claims, staff_api, customer_api
):
    from saleor_aftersales.models import AftersalesRefund

    claim = claims.approved()
    request = AftersalesRequest.objects.get()
    payment = host.refundable_payment(request.order.host_id)
    AftersalesRefund.objects.create(
        request=request,
        payment_ref=host.payment_ref(payment),
        amount=25,
        currency="USD",
        line_quantities={},
        idempotency_key="in-flight",
    )
    # Money is moving: no second refund, no receipt, no cancelling.
    assert actions_of(staff_api, claim)[1] == ["ASSIGN", "ADD_NOTE", "UPLOAD_PHOTO"]
    assert actions_of(customer_api, claim)[1] == ["UPLOAD_PHOTO"]


def test_a_full_claim_takes_no_more_photos(claims, customer_api):
    claim = claims.requested()
    request = AftersalesRequest.objects.get()
    AftersalesPhoto.objects.bulk_create(
        AftersalesPhoto(request=request, content_type="image/png", size=1)
        for _ in range(AftersalesPhoto.MAX_PER_CLAIM)
    )
    assert actions_of(customer_api, claim)[1] == ["CANCEL"]


LIST = """
query All($first: Int) {
  aftersalesRequests(first: $first) {
    edges { node { id status availableActions canAppeal } }
  }
}
"""
MINE = """
query Mine($first: Int) {
  myAftersalesRequests(first: $first) {
    edges { node { id status availableActions canAppeal } }
  }
}
"""


def test_lists_cost_the_same_for_10_and_100_claims(
    staff_api, app_api, customer, staff_user, warehouse
):
    claims = returns_on_one_order(customer, staff_user, warehouse)
    for index, request in enumerate(claims):
        if index % 3 == 1:
            workflow.approve(request, by=workflow.Actor.staff(staff_user))
        elif index % 3 == 2:
            workflow.reject(
                request, by=workflow.Actor.staff(staff_user), reason="other"
            )

    counts = {}
    for name, api, query, field in (
        ("staff", staff_api, LIST, "aftersalesRequests"),
        ("app", app_api, LIST, "aftersalesRequests"),
        ("customer", ApiClient(customer), MINE, "myAftersalesRequests"),
    ):
        for first in (10, 100):
            count, data = api.count_queries(query, {"first": first})
            nodes = [edge["node"] for edge in data[field]["edges"]]
            assert len(nodes) == first
            assert all(node["availableActions"] for node in nodes)
            counts[name, first] = count
        assert counts[name, 10] == counts[name, 100], counts
    # What the field itself costs a page beyond the rows it reads (a claim's
    # lines, refunds and photos, prefetched once per page whoever asks): the
    # shop's settings, read once.
    without = LIST.replace(
        "availableActions", "lines { id } refunds { id } photos { id }"
    )
    count, _ = staff_api.count_queries(without, {"first": 100})
    assert counts["staff", 100] - count <= 1, (counts, count)
