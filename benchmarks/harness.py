"""What every benchmark script shares: Django on the benchmark database, a client
posting GraphQL through Saleor's real view, shop builders, timing and SQL counts.

Timings are medians over interleaved runs (these machines are noisy); each figure
is reported next to a Saleor operation measured in the same run.
"""

import json
import os
import time
import urllib.parse
from decimal import Decimal
from typing import Callable, Dict, List

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")


def _ensure_database() -> None:
    import psycopg2

    url = urllib.parse.urlparse(
        os.environ.get(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/saleor_aftersales_bench",
        )
    )
    name = url.path.lstrip("/")
    conn = psycopg2.connect(url._replace(path="/postgres").geturl())
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not cursor.fetchone():
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


_ensure_database()

import django  # noqa: E402

django.setup()

import graphene  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.client import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from graphql_jwt.shortcuts import get_token  # noqa: E402

from demo import shop  # noqa: E402

API_PATH = "/graphql/"
# Saleor's own baseline for latency and load: the staff's first page of orders.
ORDERS = """
query Orders {
  orders(first: 20) {
    edges { node {
      id number created status paymentStatus userEmail
      total { gross { amount currency } }
    } }
  }
}
"""


def migrate() -> None:
    call_command("migrate", verbosity=0)


def gid(type_name: str, pk) -> str:
    return graphene.Node.to_global_id(type_name, pk)


class Api:
    """A storefront or dashboard posting to /graphql/ (full middleware and view)."""

    def __init__(self, user=None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            self.headers["HTTP_AUTHORIZATION"] = f"JWT {get_token(user)}"

    def post(self, query: str, variables=None) -> dict:
        response = self.client.post(
            API_PATH,
            json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **self.headers,
        )
        content = json.loads(response.content)
        if response.status_code != 200 or content.get("errors"):
            raise RuntimeError(f"GraphQL failed: {content}")
        return content["data"]

    def timed(self, query: str, variables=None):
        """(milliseconds, SQL queries, data) of one call."""
        # The log keeps the last 9,000 queries: once full, its length stops
        # growing and a capture would count nothing.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            data = self.post(query, variables)
            elapsed = (time.perf_counter() - start) * 1000
        return elapsed, len(queries.captured_queries), data


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"


class Shop:
    """One warehouse, staff and customer accounts, variants: the bench's shop."""

    def __init__(self):
        self.warehouse = shop.make_warehouse(unique("Bench hub"))
        self.staff = shop.make_staff(unique("staff") + "@example.com")
        self.customer = shop.make_customer(unique("customer") + "@example.com")
        self.variants = shop.make_variants(
            50, self.warehouse, price=Decimal("19.99"), stock=1_000_000
        )

    def order(self, lines: int, quantity: int = 2, fulfilled: bool = True):
        chosen = [(variant, quantity) for variant in self.variants[:lines]]
        if fulfilled:
            return shop.fulfilled_paid_order(
                self.customer, self.staff, self.warehouse, chosen
            )
        order = shop.place_order(self.customer, chosen)
        shop.pay_with_dummy(order)
        return order


def interleaved(runs: int, operations: Dict[str, Callable[[], float]]):
    """Run each operation once per round, in turn, ``runs`` rounds; returns the
    times per operation. Interleaving spreads machine noise over all of them."""
    times: Dict[str, List[float]] = {name: [] for name in operations}
    for _ in range(runs):
        for name, run in operations.items():
            times[name].append(run())
    return times
