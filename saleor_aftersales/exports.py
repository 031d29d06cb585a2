"""The claims in the desk's view as a CSV file, streamed.

``signed_token(filter)`` names a queue filter (the GraphQL input, as the queue
reads it) and the shop it was asked in, signed and valid LINK_SECONDS;
``filter_for_token`` gives the filter back to the view, or None for a link that
is tampered with, expired or another shop's. ``csv_chunks(claims)`` writes the
file: a UTF-8 BOM (Excel then reads Chinese right), the header, and the rows,
read from the database in chunks through a server-side cursor, each chunk's
lines and refunds in one query each, so memory and queries grow with the chunk,
never with the claims.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import pytz
from django.core import signing
from django.db.models import QuerySet, Sum

from .enums import RefundStatus
from .models import AftersalesLine, AftersalesRefund, format_number
from .port import host

LINK_SECONDS = 600
_SALT = "saleor-aftersales-claims-export"
CHUNK = 2000
BOM = "\ufeff"
HEADER = [
    "number",
    "type",
    "status",
    "created_at",
    "order_number",
    "channel",
    "customer_email",
    "reasons",
    "units_requested",
    "first_response_business_hours",
    "resolution_business_hours",
    "sla_met",
    "rating",
    "refunded",
    "resolution",
]
# The filter's inputs holding days ({"gte", "lte"}).
DATE_RANGES = ("created", "refunded")
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

CLAIM_COLUMNS = (
    "pk",
    "type",
    "status",
    "created_at",
    "order__number",
    "order__channel",
    "user_email",
    "response_business_seconds",
    "resolution_business_seconds",
    "first_response_at",
    "concluded_at",
    "sla_response_due_at",
    "sla_resolution_due_at",
    "rating",
    "resolution",
)


# The signed link ------------------------------------------------------------------


def _jsonable(filter_: dict) -> dict:
    """The filter's values as JSON holds them (days as ISO dates)."""
    result = {}
    for name, value in filter_.items():
        if value is None:
            continue
        if name in DATE_RANGES:
            value = {
                end: day.isoformat()
                for end, day in dict(value).items()
                if day is not None
            }
        elif isinstance(value, (list, tuple)):
            value = list(value)
        result[name] = value
    return result


def _from_json(data: dict) -> dict:
    result = dict(data)
    for name in DATE_RANGES:
        if name in result:
            result[name] = {
                end: date.fromisoformat(day) for end, day in result[name].items()
            }
    return result


def signed_token(filter_: dict) -> str:
    """A token naming the queue filter, in the shop served now."""
    return signing.dumps(
        {"shop": host.shop_key(), "filter": _jsonable(filter_)},
        salt=_SALT,
        compress=True,
    )


def filter_for_token(token: str) -> Optional[dict]:
    """The filter a token names, while it is valid and in the shop served now."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=LINK_SECONDS)
    except signing.BadSignature:  # expired ones too
        return None
    if not isinstance(value, dict) or value.get("shop") != host.shop_key():
        return None
    try:
        return _from_json(value["filter"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def filename(now: datetime) -> str:
    return f"claims-{now.astimezone(pytz.utc).date().isoformat()}.csv"


# The file ------------------------------------------------------------------------


def cell(value) -> str:
    """A value as a cell's text; text a spreadsheet would run as a formula is
    kept as text with a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _hours(seconds: Optional[int]) -> str:
    if seconds is None:
        return ""
    return str((Decimal(seconds) / 3600).quantize(Decimal("0.01")))


def _sla_met(first_response_at, concluded_at, response_due, resolution_due) -> str:
    """As the statistics count it: concluded claims with service levels, met
    when answered and concluded by their due times (a time missing: missed)."""
    if concluded_at is None or response_due is None:
        return ""
    met = (
        first_response_at is not None
        and resolution_due is not None
        and first_response_at <= response_due
        and concluded_at <= resolution_due
    )
    return "yes" if met else "no"


def _lines_of(pks: List[int]) -> Dict[int, Tuple[List[str], int]]:
    """Per claim: its reasons (sorted) and units requested, in one query."""
    found: Dict[int, Tuple[List[str], int]] = {}
    for request_id, reason, units in (
        AftersalesLine.objects.filter(request_id__in=pks)
        .order_by()
        .values("request_id", "reason")
        .annotate(units=Sum("quantity_requested"))
        .values_list("request_id", "reason", "units")
    ):
        reasons, total = found.get(request_id, ([], 0))
        reasons.append(reason)
        found[request_id] = (reasons, total + (units or 0))
    return {pk: (sorted(reasons), units) for pk, (reasons, units) in found.items()}


def _refunded_of(pks: List[int]) -> Dict[int, str]:
    """Per claim: its successful refunds summed per currency, in one query."""
    found: Dict[int, List[str]] = {}
    for request_id, currency, total in (
        AftersalesRefund.objects.filter(request_id__in=pks, status=RefundStatus.SUCCESS)
        .order_by("request_id", "currency")
        .values("request_id", "currency")
        .annotate(total=Sum("amount"))
        .values_list("request_id", "currency", "total")
    ):
        found.setdefault(request_id, []).append(
            f"{total.quantize(Decimal('0.01'))} {currency}"
        )
    return {pk: ";".join(parts) for pk, parts in found.items()}


def _rows(chunk: List[tuple]) -> Iterator[List[str]]:
    pks = [row[0] for row in chunk]
    lines, refunded = _lines_of(pks), _refunded_of(pks)
    for (
        pk,
        type_,
        status,
        created_at,
        order_number,
        channel,
        email,
        response_seconds,
        resolution_seconds,
        first_response_at,
        concluded_at,
        response_due,
        resolution_due,
        rating,
        resolution,
    ) in chunk:
        reasons, units = lines.get(pk, ([], 0))
        yield [
            cell(value)
            for value in (
                format_number(pk),
                type_.upper(),
                status.upper(),
                created_at.astimezone(pytz.utc).isoformat(),
                order_number,
                channel,
                email,
                ";".join(reason.upper() for reason in reasons),
                units,
                _hours(response_seconds),
                _hours(resolution_seconds),
                _sla_met(first_response_at, concluded_at, response_due, resolution_due),
                rating,
                refunded.get(pk, ""),
                resolution.upper(),
            )
        ]


def _chunks(claims: QuerySet, size: int) -> Iterator[List[tuple]]:
    rows: Iterable[tuple] = claims.values_list(*CLAIM_COLUMNS).iterator(chunk_size=size)
    rows = iter(rows)
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield chunk


def csv_chunks(claims: QuerySet, size: int = CHUNK) -> Iterator[bytes]:
    """The file in pieces of ``size`` claims, as UTF-8 (the BOM first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(HEADER)
    yield buffer.getvalue().encode("utf-8")
    for chunk in _chunks(claims, size):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_rows(chunk))
        yield buffer.getvalue().encode("utf-8")
