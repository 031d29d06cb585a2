"""The claims in the desk's view as CSV: a signed link from aftersalesExportUrl
(staff only, 10 minutes), a streamed file whose rows are the queue's under the
same filter, spreadsheet-safe cells, queries per chunk of claims and memory
that don't grow with the claims."""

import codecs
import csv
import io
import tracemalloc
from urllib.parse import urlparse

import graphene
import pytest
from django.db import connection
from django.test.client import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from saleor_aftersales import exports
from saleor_aftersales.models import (
    AftersalesLine,
    AftersalesRefund,
    AftersalesRequest,
    ShopOrder,
)

from .conftest import (
    assert_permission_denied,
    create_return,
    line_input,
)
from .queries import APPROVE, RATE, RECEIVE, REFUND, REJECT

EXPORT_URL = """
query Export($filter: AftersalesRequestFilterInput) {
  aftersalesExportUrl(filter: $filter)
}
"""
QUEUE = """
query Queue($filter: AftersalesRequestFilterInput) {
  aftersalesRequests(first: 100, filter: $filter) { edges { node { number } } }
}
"""


def export_url(api, **filter_):
    return api.data(EXPORT_URL, {"filter": filter_})["aftersalesExportUrl"]


def download(url):
    """(response, rows): the file read as a spreadsheet would, BOM checked."""
    parts = urlparse(url)
    response = Client().get(parts.path)
    assert response.status_code == 200, response
    assert response.streaming
    body = b"".join(response.streaming_content)
    assert body.startswith(codecs.BOM_UTF8)
    text = body[len(codecs.BOM_UTF8) :].decode("utf-8")
    return response, list(csv.reader(io.StringIO(text)))


def claim_of(payload) -> AftersalesRequest:
    return AftersalesRequest.objects.get(
        pk=graphene.Node.from_global_id(payload["id"])[1]
    )


def copy_of(order) -> ShopOrder:
    return ShopOrder.objects.get(host_id=str(order.pk))


def step(api, query, variables):
    (payload,) = api.data(query, variables).values()
    assert payload["errors"] == [], payload
    return payload


@pytest.fixture
def claims(customer, staff_user, order, customer_api, staff_api):
    """Two claims of the customer's order (25.00 a unit, desk in UTC):

    C1 2 x line 1 (defective), Mon 2 Nov 2026 09:00; approved and
       received 11:00, refunded Tue 3 Nov 09:00: resolved in time, rated 4.
    C2 1 x line 2 (changed mind), Mon 2 Nov 10:00; rejected Wed 4 Nov 19:00,
       answered late.
    """
    first, second = order.lines.order_by("pk")
    with freeze_time("2026-11-02 09:00:00"):
        c1 = create_return(customer_api, order, [line_input(first, 2)])
    with freeze_time("2026-11-02 10:00:00"):
        c2 = create_return(customer_api, order, [line_input(second, 1, "CHANGED_MIND")])
    c1, c2 = c1["aftersalesRequest"], c2["aftersalesRequest"]
    with freeze_time("2026-11-02 11:00:00"):
        step(staff_api, APPROVE, {"id": c1["id"]})
        step(staff_api, RECEIVE, {"id": c1["id"]})
    with freeze_time("2026-11-03 09:00:00"):
        step(staff_api, REFUND, {"id": c1["id"]})
        step(customer_api, RATE, {"id": c1["id"], "rating": 4})
    with freeze_time("2026-11-04 19:00:00"):
        step(staff_api, REJECT, {"id": c2["id"], "reason": "NOT_ELIGIBLE"})
    return c1, c2


def test_the_file_holds_every_claim_in_view(staff_api, claims, order):
    c1, c2 = claims
    url = export_url(staff_api)
    assert url.startswith("http://testserver/aftersales/exports/claims/")
    with freeze_time("2026-11-20 12:00:00"):
        response, rows = download(url)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="claims-2026-11-20.csv"'
    )
    assert response["Cache-Control"] == "private, no-store"
    assert rows[0] == exports.HEADER
    assert rows[1:] == [
        [
            c2["number"],
            "RETURN",
            "REJECTED",
            "2026-11-02T10:00:00+00:00",
            copy_of(order).number,
            "",
            "customer@example.com",
            "CHANGED_MIND",
            "1",
            "33.00",  # Mon 10-20, Tue 08-20, Wed 08-19
            "33.00",
            "no",
            "",
            "",
            "",
        ],
        [
            c1["number"],
            "RETURN",
            "RESOLVED",
            "2026-11-02T09:00:00+00:00",
            copy_of(order).number,
            "",
            "customer@example.com",
            "DEFECTIVE",
            "2",
            "2.00",
            "12.00",
            "yes",
            "4",
            "50.00 USD",
            "REFUND",
        ],
    ]


def test_the_file_follows_the_queues_filter(staff_api, claims):
    c1, c2 = claims
    for filter_, expected in [
        ({"status": ["REJECTED"]}, [c2]),
        ({"reason": ["DEFECTIVE"]}, [c1]),
        ({"slaMet": False}, [c2]),
        ({"refunded": {"gte": "2026-11-03", "lte": "2026-11-03"}}, [c1]),
        ({"refundMethod": "STORE_CREDIT"}, []),
        ({"created": {"gte": "2026-11-02", "lte": "2026-11-02"}}, [c2, c1]),
        ({"search": "customer@"}, [c2, c1]),
        ({"channel": "web"}, []),
    ]:
        queue = staff_api.data(QUEUE, {"filter": filter_})["aftersalesRequests"]
        _, rows = download(export_url(staff_api, **filter_))
        numbers = [row[0] for row in rows[1:]]
        assert numbers == [e["node"]["number"] for e in queue["edges"]], filter_
        assert numbers == [claim["number"] for claim in expected], filter_


def test_bad_filters_are_refused_as_by_the_queue(staff_api, claims):
    for filter_ in [
        {"product": "nope"},
        {"rating": [9]},
        {"channel": "\x00"},
    ]:
        content = staff_api.post(EXPORT_URL, {"filter": filter_})
        assert content["errors"], filter_
        assert content["data"] is None or content["data"]["aftersalesExportUrl"] is None


def test_cells_a_spreadsheet_would_run_are_text(staff_api, claims, order):
    """Text from customers and shops starting like a formula gets an apostrophe;
    Chinese comes through as UTF-8 behind the BOM."""
    copy = copy_of(order)
    for channel, shown in [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("网店,上海", "网店,上海"),
        ("a=b", "a=b"),
    ]:
        ShopOrder.objects.filter(pk=copy.pk).update(channel=channel)
        _, rows = download(export_url(staff_api))
        assert [row[5] for row in rows[1:]] == [shown, shown], channel
    AftersalesRequest.objects.update(user_email="=1+2@example.com")
    _, rows = download(export_url(staff_api))
    assert {row[6] for row in rows[1:]} == {"'=1+2@example.com"}


def test_only_the_desk_gets_a_link(customer_api, anonymous_api, intern_api, claims):
    for api in (customer_api, anonymous_api, intern_api):
        assert_permission_denied(api.post(EXPORT_URL, {"filter": {}}))


def test_an_app_with_manage_orders_gets_a_link(app_api, claims):
    _, rows = download(export_url(app_api))
    assert len(rows) == 3


def test_tampered_and_expired_links_read_no_claims(staff_api, claims):
    with freeze_time("2026-11-20 12:00:00"):
        url = export_url(staff_api, status=["REJECTED"])
    path = urlparse(url).path
    token = path.rstrip("/").rsplit("/", 1)[1]
    other = exports.signing.dumps(
        {"shop": "", "filter": {}}, salt="saleor-aftersales-return-slip"
    )
    forged = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token[:10] + token[11:],
        other,  # another link's signature
        "x",
    ]
    for bad in forged:
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(f"/aftersales/exports/claims/{bad}/")
        assert response.status_code == 404, bad
        assert not [q for q in queries if "aftersales" in q["sql"]], bad
    with freeze_time("2026-11-20 12:09:50"):
        assert Client().get(path).status_code == 200
    with freeze_time("2026-11-20 12:10:01"):
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(path)
        assert response.status_code == 404
        assert not [q for q in queries if "aftersales" in q["sql"]]


def test_queries_dont_grow_with_the_claims(staff_api, customer_api, order, claims):
    def queries():
        url = urlparse(export_url(staff_api)).path
        with CaptureQueriesContext(connection) as captured:
            response = Client().get(url)
            rows = b"".join(response.streaming_content).count(b"\r\n") - 1
        return len(captured), rows

    few, rows = queries()
    assert rows == 2
    # More claims, lines and refunds: as many queries.
    for template in [claim_of(c) for c in claims]:
        for _ in range(3):
            copy_claim(template)
    many, rows = queries()
    assert rows == 8
    assert many == few


def copy_claim(claim):
    """A copy of a claim with its lines and successful refunds (our own rows)."""
    lines = list(claim.lines.all())
    refunds = list(claim.refunds.filter(status="success"))
    claim.pk = None
    claim.save()
    for line in lines:
        line.pk, line.request = None, claim
        line.save()
    for refund in refunds:
        refund.pk, refund.request = None, claim
        refund.idempotency_key = f"copy-{claim.pk}-{refund.idempotency_key}"
        refund.save()
    return claim


# A large shop --------------------------------------------------------------------

LARGE = 200_000


def seed(template: AftersalesRequest, count: int) -> None:
    """``count`` copies of a claim in three INSERT … SELECTs: claims over
    generate_series, one line each, a successful refund for every tenth."""
    columns = [
        f.column
        for f in AftersalesRequest._meta.concrete_fields
        if f.column not in ("id", "created_at", "idempotency_key")
    ]
    listed = ", ".join(columns)
    line_columns = [
        f.column
        for f in AftersalesLine._meta.concrete_fields
        if f.column not in ("id", "request_id")
    ]
    refund_columns = [
        f.column
        for f in AftersalesRefund._meta.concrete_fields
        if f.column not in ("id", "request_id", "idempotency_key")
    ]
    line = template.lines.get()
    refund = template.refunds.get(status="success")
    after = AftersalesRequest.objects.order_by("-pk").values_list("pk")[0][0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AftersalesRequest._meta.db_table} "
            f"({listed}, created_at, idempotency_key) "
            f"SELECT {listed}, created_at + g * interval '1 second', '' "
            f"FROM {AftersalesRequest._meta.db_table}, generate_series(1, %s) AS g "
            "WHERE id = %s ORDER BY g",
            [count, template.pk],
        )
        cursor.execute(
            f"INSERT INTO {AftersalesLine._meta.db_table} "
            f"(request_id, {', '.join(line_columns)}) "
            f"SELECT r.id, {', '.join('l.' + c for c in line_columns)} "
            f"FROM {AftersalesRequest._meta.db_table} AS r, "
            f"{AftersalesLine._meta.db_table} AS l WHERE r.id > %s AND l.id = %s",
            [after, line.pk],
        )
        cursor.execute(
            f"INSERT INTO {AftersalesRefund._meta.db_table} "
            f"(request_id, idempotency_key, {', '.join(refund_columns)}) "
            f"SELECT r.id, 'seed-' || r.id, "
            f"{', '.join('f.' + c for c in refund_columns)} "
            f"FROM {AftersalesRequest._meta.db_table} AS r, "
            f"{AftersalesRefund._meta.db_table} AS f "
            "WHERE r.id > %s AND r.id %% 10 = 0 AND f.id = %s",
            [after, refund.pk],
        )


def test_a_large_export_streams_in_little_memory(staff_api, claims):
    """200,000 claims: the rows alone would take well over 100 MB as Python
    objects; the export holds one chunk at a time."""
    c1, _c2 = claims
    template = claim_of(c1)
    seed(template, LARGE)
    total = AftersalesRequest.objects.count()
    assert total == LARGE + 2
    path = urlparse(export_url(staff_api)).path

    tracemalloc.start()
    try:
        response = Client().get(path)
        rows, size, refunded, first = 0, 0, 0, None
        for piece in response.streaming_content:
            size += len(piece)
            rows += piece.count(b"\r\n")
            refunded += piece.count(b"50.00 USD")
            if first is None and rows > 1:
                first = piece
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows - 1 == total
    assert refunded == LARGE // 10 + 1
    assert size > 20_000_000  # the file itself
    print(f"{total} claims, {size} bytes, peak {peak} bytes traced")
    assert peak < 20 * 1024 * 1024, peak
