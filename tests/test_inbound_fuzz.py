"""Fuzzing the two signed inbound endpoints (hardening 4b).

Hypothesis writes bodies shaped like the real messages (a right type, sane values,
then up to three fields replaced by anything, deleted or added) and bodies that are
anything at all: nested JSON with huge integers, NaN and infinities, texts written
raw into the body (``1e309``), strings with NUL, lone surrogates and any Unicode,
and bytes that are not JSON. Each is signed with the right secret and posted
through Django's test client. The property: the answer is 200 or 400, never a
500 or an exception, and a 400 changed nothing.

Each example runs in a savepoint rolled back afterwards, so no example sees what
another did; the state is compared before and after within the example.
Deterministic (``derandomize``) and bounded for CI.
"""

import copy
import json
import os
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.test.client import Client
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from saleor_aftersales.hosts.saleor2 import shop as host
from saleor_aftersales.models import AftersalesRefund, InboundEvent
from saleor_aftersales.webhooks.logistics import signature_header

from .conftest import db_state
from .test_logistics_webhook import SECRET as LOGISTICS_SECRET
from .test_logistics_webhook import URL as LOGISTICS_URL
from .test_logistics_webhook import approved_claim  # noqa: F401 (fixture)
from .test_stripe_webhook import URL as STRIPE_URL
from .test_stripe_webhook import (  # noqa: F401 (fixture)
    received_claim,
    strand_refund,
    stripe_order,
    stripe_signature,
)

# 150 per endpoint in CI; more for a deeper local run.
EXAMPLES = int(os.environ.get("AFTERSALES_INBOUND_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# Bodies ------------------------------------------------------------------------------


class Raw(str):
    """JSON text written into the body as it is."""


RAW_NUMBERS = [
    "1e309",
    "-1e309",
    "1E400",
    "0.1e310",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e-400",
    "-0",
    "4.9e-324",
    "18446744073709551616",
    "9" * 40,
    "-" + "9" * 30,
    "1" + "0" * 400,
]
ODD_TEXTS = ["", "\x00", "re_\x00", "\ud800", "\udfff"]
ODD_INTEGERS = [
    0,
    -1,
    1,
    10**6,
    10**6 + 1,
    10**12 - 1,
    10**12,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**30,
]

texts = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.sampled_from(ODD_TEXTS),
    st.sampled_from([5001, 70000]).map(lambda n: "x" * n),  # over the bounds
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(ODD_INTEGERS),
    st.floats(),  # NaN and the infinities included: json.dumps writes them bare
    st.sampled_from(RAW_NUMBERS).map(Raw),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)
# A few nested far too deep.
deep = st.integers(30, 2000).map(lambda n: Raw("[" * n + "]" * n))
junk = json_values | deep


def write(value, ascii_only: bool) -> str:
    """JSON text of ``value``, Raw parts verbatim."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{%s}" % ",".join(
            f"{write(key, ascii_only)}:{write(item, ascii_only)}"
            for key, item in value.items()
        )
    if isinstance(value, list):
        return "[%s]" % ",".join(write(item, ascii_only) for item in value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=ascii_only)
    return json.dumps(value)


def encoded(value, ascii_only: bool) -> bytes:
    # Lone surrogates written unescaped make bytes that are not UTF-8.
    return write(value, ascii_only).encode("utf-8", "surrogatepass")


DELETE = object()


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


def _apply(message, path, change, new_key):
    if not path:
        return change if change is not DELETE else message
    parent = message
    for step in path[:-1]:
        parent = parent[step]
    if change is DELETE:
        del parent[path[-1]]
    elif new_key is not None and isinstance(parent[path[-1]], dict):
        parent[path[-1]][new_key] = change
    else:
        parent[path[-1]] = change
    return message


@st.composite
def mutated(draw, messages):
    """A message, then up to three of its fields replaced, deleted or added."""
    message = copy.deepcopy(draw(messages))  # sampled values are shared
    for _ in range(draw(st.integers(0, 3))):
        paths = list(_paths(message))
        path = draw(st.sampled_from(paths))
        change = draw(junk | st.just(DELETE))
        new_key = draw(st.none() | texts)
        try:
            message = _apply(message, path, change, new_key)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change removed the way there
    return message


@st.composite
def bodies(draw, shaped):
    """Shaped like the real messages three times in four; else anything."""
    kind = draw(st.sampled_from(["shaped", "shaped", "shaped", "json", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    value = draw(mutated(shaped) if kind == "shaped" else junk)
    return encoded(value, ascii_only=draw(st.booleans()))


ids = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    min_size=1,
    max_size=24,
)


def stripe_events(paid, refund_pk):
    """Refund events about the pending refund, refunds made elsewhere, and others."""
    ours = st.fixed_dictionaries(
        {
            "id": st.just(paid.id),
            "object": st.just("refund"),
            "amount": st.just(int(paid.raw["amount"])),
            "currency": st.just("usd"),
            "status": st.sampled_from(["succeeded", "pending", "failed", "canceled"]),
            "payment_intent": st.just(paid.payment_intent),
            "failure_reason": st.sampled_from([None, "lost_or_stolen_card"]),
            "metadata": st.just({"aftersales_refund": str(refund_pk)}),
        }
    )
    anyone = st.fixed_dictionaries(
        {
            "id": st.sampled_from([paid.id, "re_fuzz1"]) | ids.map("re_".__add__),
            "object": st.just("refund"),
            "amount": st.sampled_from([int(paid.raw["amount"]), 0, 700])
            | st.integers(0, 10**12 - 1),
            "currency": st.sampled_from(["usd", "USD", "eur", "jpy"]),
            "status": st.sampled_from(
                ["succeeded", "pending", "failed", "canceled", "requires_action"]
            ),
            "payment_intent": st.sampled_from([paid.payment_intent, None, "pi_other"]),
            "failure_reason": st.sampled_from([None, "", "lost_or_stolen_card"]),
            "metadata": st.sampled_from(
                [
                    {},
                    {"aftersales_refund": str(refund_pk)},
                    {"aftersales_refund": "999999"},
                ]
            ),
        }
    )
    refund = ours | anyone
    charge = st.fixed_dictionaries(
        {
            "id": ids.map("ch_".__add__),
            "object": st.just("charge"),
            "payment_intent": st.sampled_from([paid.payment_intent, None]),
            "refunds": st.fixed_dictionaries(
                {
                    "object": st.just("list"),
                    "data": st.lists(refund, max_size=3),
                    "has_more": st.just(False),
                }
            ),
        }
    )

    def event_of(event_type, obj):
        return st.fixed_dictionaries(
            {
                "id": ids.map("evt_".__add__),
                "object": st.just("event"),
                "type": st.just(event_type),
                "created": st.integers(0, 2**31),
                "data": st.fixed_dictionaries({"object": obj}),
            }
        )

    return st.one_of(
        event_of("charge.refunded", charge),
        st.sampled_from(
            ["refund.updated", "refund.failed", "charge.refund.updated"]
        ).flatmap(lambda event_type: event_of(event_type, refund)),
        event_of("customer.created", st.dictionaries(texts, json_values, max_size=3)),
    )


def logistics_messages(claim_number, skus):
    line = st.fixed_dictionaries(
        {
            "sku": st.sampled_from(skus + ["NO-SUCH-SKU"]),
            "quantity": st.integers(1, 3) | st.integers(1, 10**6),
        }
    )
    number = int(claim_number[4:])
    return st.fixed_dictionaries(
        {
            "id": ids,
            "type": st.sampled_from(["return.parcel.delivered"] * 3 + ["parcel.lost"]),
            "claim": st.sampled_from(
                [claim_number, claim_number.lower(), str(number), "RMA-999999"]
            ),
        },
        optional={"lines": st.none() | st.lists(line, max_size=3)},
    )


# The property ------------------------------------------------------------------------


def state(order):
    """db_state, plus the inbound events and every refund's own columns."""
    return dict(
        db_state(order),
        inbound=list(
            InboundEvent.objects.order_by("pk").values_list(
                "source", "event_id", "outcome"
            )
        ),
        refund_rows=list(
            AftersalesRefund.objects.order_by("pk").values_list(
                "pk", "status", "amount", "error", "gateway_reference"
            )
        ),
    )


@contextmanager
def rolled_back():
    """What one example does is undone before the next."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def post_once(url, body, headers, order):
    with rolled_back():
        before = state(order)
        response = Client().post(url, body, content_type="application/json", **headers)
        status = response.status_code
        assert status in (200, 400), (status, body[:500], response.content[:500])
        answer = json.loads(response.content)
        if status == 400:
            assert answer["error"]
            assert state(order) == before, body[:500]
            event("400")
        else:
            done = {item.rsplit(": ", 1)[-1] for item in answer.get("refunds") or []}
            event(f"200 {answer['status']} {' '.join(sorted(done))}".strip())


@pytest.fixture
def pending_stripe_refund(customer_api, staff_api, stripe_order, staff_user):
    claim = received_claim(customer_api, staff_api, stripe_order)
    return strand_refund(claim, staff_user)


@FUZZ
@given(data=st.data())
def test_signed_stripe_bodies_get_200_or_400_and_400_changes_nothing(
    pending_stripe_refund, stripe_order, data  # noqa: F811
):
    refund, paid = pending_stripe_refund
    assert paid.payment_intent == host.stripe_payment_intent(
        host.payment_by_ref(refund.payment_ref)
    )
    body = data.draw(bodies(stripe_events(paid, refund.pk)), label="body")
    headers = {"HTTP_STRIPE_SIGNATURE": stripe_signature(body)}
    post_once(STRIPE_URL, body, headers, stripe_order)


@FUZZ
@given(data=st.data())
def test_signed_logistics_bodies_get_200_or_400_and_400_changes_nothing(
    approved_claim, order, data  # noqa: F811
):
    skus = [line.product_sku for line in order.lines.order_by("pk")]
    messages = logistics_messages(approved_claim["number"], skus)
    body = data.draw(bodies(messages), label="body")
    headers = {"HTTP_X_AFTERSALES_SIGNATURE": signature_header(body, LOGISTICS_SECRET)}
    post_once(LOGISTICS_URL, body, headers, order)
