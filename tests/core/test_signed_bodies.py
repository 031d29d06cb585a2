"""Signed bodies are read strictly before anything is done with them: pure code of
the core, run on both hosts' Pythons. The endpoints' own tests (database,
signatures, nothing changed) are tests/test_stripe_webhook.py,
tests/test_logistics_webhook.py and tests/test_inbound_fuzz.py."""

import pytest

from saleor_aftersales.webhooks import bodies


@pytest.mark.parametrize(
    "raw",
    [
        b'{"amount": 1e309}',
        b'{"amount": NaN}',
        b'{"amount": -Infinity}',
        b'{"id": "a", "id": "b"}',
        b'{"note": "\\ud800"}',
        b"[" * 1000 + b"]" * 1000,
        b"\xff\xfe",
    ],
    ids=["overflow", "nan", "infinity", "duplicate-key", "surrogate", "deep", "utf8"],
)
def test_hostile_json_is_refused(raw):
    with pytest.raises(bodies.Unreadable):
        bodies.load(raw)


def test_a_plain_body_is_read():
    assert bodies.load(b'{"id": "evt_1", "amount": 1500}') == {
        "id": "evt_1",
        "amount": 1500,
    }


def test_depth_is_refused_before_parsing_whatever_the_recursion_limit():
    """Other code may raise the interpreter's recursion limit (Hypothesis does,
    for a while); a body nested 100,000 deep must still be refused, not parsed
    down into the C stack."""
    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        with pytest.raises(bodies.Unreadable, match="Nested deeper"):
            bodies.load(b"[" * 100_000)
    finally:
        sys.setrecursionlimit(limit)
    # Brackets inside strings are text, not nesting.
    assert bodies.load(b'{"a": "' + b"[" * 100 + b'\\\\"}') == {"a": "[" * 100 + "\\"}
