"""Strict reading of signed inbound bodies (Stripe's events, the carrier's messages).

A signature proves who sent a body, not that it is sane. Before anything is done
with one, every value in it is checked here:

- JSON in UTF-8; no ``NaN``/``Infinity``, no number that overflows a float
  (``1e309``), integers within 64 bits, no key twice in one object;
- every string (keys too) at most ``MAX_STRING`` characters, without NUL and
  without lone surrogates (PostgreSQL stores neither);
- nesting at most ``MAX_DEPTH`` deep.

The fields the handlers read are then checked one by one with the helpers below.
Anything wrong raises ``Unreadable`` (a ``ValueError``): the views answer 400.
"""

import json
import math
import re
from typing import Any, Optional

MAX_DEPTH = 32
MAX_STRING = 65536
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
_MAX_INT_DIGITS = len(str(INT_MAX))
_MISSING = object()


class Unreadable(ValueError):
    """The body, or one of its fields, is not what a sender may send."""


def _parse_int(text: str) -> int:
    # Refused before int(): converting a megabyte of digits takes seconds.
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise Unreadable("An integer is out of range.")
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise Unreadable("An integer is out of range.")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Unreadable("A number is out of range.")
    return value


def _refuse_constant(name: str):
    raise Unreadable(f"{name} is not a number.")


def _object(pairs) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise Unreadable("A key appears twice in one object.")
    return result


def check_string(value: str, max_length: int = MAX_STRING, what: str = "A string"):
    if len(value) > max_length:
        raise Unreadable(f"{what} is longer than {max_length} characters.")
    if "\x00" in value:
        raise Unreadable(f"{what} contains NUL.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Unreadable(f"{what} is not valid Unicode.")


def check_tree(value: Any, max_string: int = MAX_STRING, max_depth: int = MAX_DEPTH):
    """Every string in ``value`` bounded and storable; nesting bounded."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_string(item, max_string)
        elif isinstance(item, (dict, list)):
            if depth >= max_depth:
                raise Unreadable(f"Nested deeper than {max_depth}.")
            if isinstance(item, dict):
                for key, child in item.items():
                    check_string(key, max_string, "A key")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float):
            if not math.isfinite(item):  # parsed bodies have none; be sure
                raise Unreadable("A number is out of range.")
        elif not (item is None or isinstance(item, (bool, int))):
            raise Unreadable("Not JSON.")


def _nesting_within(text: str, max_depth: int) -> bool:
    """Whether brackets outside strings nest at most ``max_depth`` deep: checked
    before parsing, so a deep body never depends on the interpreter's recursion
    limit (which other code in the process may have raised)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return False
        elif char in "]}":
            depth -= 1
    return True


def load(body: bytes) -> Any:
    """The JSON value of ``body``, checked as above."""
    try:
        text = body.decode("utf-8")
        if not _nesting_within(text, MAX_DEPTH):
            raise Unreadable(f"Nested deeper than {MAX_DEPTH}.")
        value = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object,
        )
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable(f"Nested deeper than {MAX_DEPTH}.")
    except (UnicodeDecodeError, ValueError):
        raise Unreadable("Not JSON in UTF-8.")
    check_tree(value)
    return value


# Fields ------------------------------------------------------------------------------


def text(
    obj: dict,
    key: str,
    *,
    max_length: int,
    pattern: Optional[str] = None,
    required: bool = True,
) -> str:
    """``obj[key]``, a string of 1..max_length characters (matching ``pattern``);
    absent, null or "" gives "" unless required."""
    value = obj.get(key, _MISSING)
    if value is _MISSING or value is None:
        if required:
            raise Unreadable(f"'{key}' is missing.")
        return ""
    if not isinstance(value, str):
        raise Unreadable(f"'{key}' is not a string.")
    check_string(value, max_length, f"'{key}'")
    if not value and not required:
        return ""
    if not value or (pattern is not None and not re.fullmatch(pattern, value)):
        raise Unreadable(f"'{key}' is malformed.")
    return value


def integer(obj: dict, key: str, *, low: int, high: int) -> int:
    """``obj[key]``, a JSON integer (not a float, not a boolean) in low..high."""
    value = obj.get(key)
    if type(value) is not int:
        raise Unreadable(f"'{key}' is not an integer.")
    if not low <= value <= high:
        raise Unreadable(f"'{key}' is outside {low}..{high}.")
    return value


def mapping(obj: dict, key: str, *, required: bool = True) -> Optional[dict]:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise Unreadable(f"'{key}' is not an object.")
    return value
