"""The Saleor 3.23 app beside Saleor 3.23's own operations, in one run: a return
filed, approved, received and refunded through the app's /graphql/ over HTTP, on
orders of 1, 10 and 50 lines (one unit each), next to Saleor's own
``orderFulfill`` and ``orderFulfillmentReturnProducts`` for the same lines,
measured in the same rounds.

Per operation: the median latency, the ratios to Saleor's two operations, the
app's SQL queries and its calls to Saleor (counted inside the app's process per
request, ``tests/saleor3/counting.py``; the calls owed to Saleor after the step
commits run in the same request and are counted with it).

Real parts only: Saleor 3.23.28's server and Celery worker (``demo/saleor3.py``,
its database restored from the migrated dump), the app installed with
``appInstall`` and served by Django's threaded WSGI server in this process (its
own database), PostgreSQL and Redis on this host. Before each measured call the
benchmark waits until Saleor has delivered its webhooks to the app, so that
neither side's timing carries the other's background work; every call is a new
HTTP connection, as the app's own calls to Saleor are.

    bin/bench saleor3 [rounds]        # from .venv-app; about 4 minutes

Databases and Redis, all emptied first: SALEOR3_BENCH_DB (Saleor's,
aftersales_saleor3_bench), BENCH_APP_DATABASE_URL (the app's,
postgres://postgres@127.0.0.1:5432/saleor_aftersales_app_bench),
SALEOR3_BENCH_REDIS_DB (14).
"""

import logging
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List

# Recreated: never the app's usual database, whatever APP_DATABASE_URL says.
APP_DATABASE_URL = os.environ["APP_DATABASE_URL"] = os.environ.get(
    "BENCH_APP_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/saleor_aftersales_app_bench",
)
os.environ["DJANGO_SETTINGS_MODULE"] = "saleor_aftersales.hosts.saleor3.settings"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


APP_PORT, SALEOR_PORT = free_port(), free_port()
os.environ["APP_URL"] = f"http://127.0.0.1:{APP_PORT}"
os.environ["APP_SALEOR_API_URLS"] = f"http://127.0.0.1:{SALEOR_PORT}/graphql/"
os.environ.setdefault("APP_SECRET_KEY", "aftersales-bench-not-secret")
# Shoppers' e-mails leave the request for the app's worker, as deployed (none runs
# here: the queued tasks wait in a Redis database of the benchmark's own, emptied
# first).
BENCH_APP_BROKER = "redis://127.0.0.1:6379/" + os.environ.get(
    "SALEOR3_BENCH_APP_REDIS_DB", "13"
)
os.environ["APP_CELERY_BROKER_URL"] = BENCH_APP_BROKER

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # not each install and each refund task's success

import psycopg  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.servers.basehttp import (  # noqa: E402
    ThreadedWSGIServer,
    WSGIRequestHandler,
)
from django.core.wsgi import get_wsgi_application  # noqa: E402

from benchmarks.tables import median, percentile, section, table  # noqa: E402
from demo import saleor3  # noqa: E402
from demo.saleor3 import user_id, wait_for  # noqa: E402
from demo import saleor3_shop as shop  # noqa: E402
from saleor_aftersales.hosts.saleor3 import tenancy  # noqa: E402
from saleor_aftersales.hosts.saleor3.manifest import PERMISSIONS  # noqa: E402
from saleor_aftersales.hosts.saleor3.models import SaleorShop  # noqa: E402
from saleor_aftersales.models import ShopOrder  # noqa: E402
from tests.saleor3 import counting  # noqa: E402
from tests.saleor3.orders import make_variants, place_paid_order  # noqa: E402

LINES = (1, 10, 50)
ROUNDS = 5  # about 4 minutes in all on 2 busy cores
WARM_UP = 1  # one round on a 1-line order: JWKS, the returns warehouse, caches
STAFF = ("admin@example.com", "admin")
CUSTOMER = ("buyer@example.com", "buyer")
QUIET_SECONDS = 30  # at most, waiting for Saleor's webhooks to the app to drain


# Saleor's own operations, as the Dashboard asks them.
ORDER_FULFILL = """
mutation Fulfill($id: ID!, $lines: [OrderFulfillLineInput!]!) {
  orderFulfill(order: $id, input: {lines: $lines, notifyCustomer: false}) {
    fulfillments { id status }
    order { id status }
    errors { field code message }
  }
}
"""
RETURN_PRODUCTS = """
mutation Return($id: ID!, $lines: [OrderReturnFulfillmentLineInput!]) {
  orderFulfillmentReturnProducts(
    order: $id, input: {fulfillmentLines: $lines, refund: false}
  ) {
    returnFulfillment { id status }
    order { id status }
    errors { field code message }
  }
}
"""
FULFILLMENT_LINES = """
query($id: ID!) { order(id: $id) {
  fulfillments { status lines { id quantity } }
} }
"""

# The app's operations, as the shopper's storefront and the desk ask them
# (tests/saleor3/test_api.py).
CREATE = """
mutation($input: AftersalesRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    aftersalesRequest { id number status lines { id quantity } order { id } }
    errors { field code message }
  }
}
"""
APPROVE = """
mutation($id: ID!) {
  aftersalesRequestApprove(id: $id) {
    aftersalesRequest { id status } errors { field code message }
  }
}
"""
RECEIVE = """
mutation($id: ID!) {
  aftersalesRequestReceive(id: $id) {
    aftersalesRequest { id status lines { quantityReceived quantityRestocked } }
    errors { field code message }
  }
}
"""
REFUND = """
mutation($id: ID!, $key: String) {
  aftersalesRequestRefund(id: $id, idempotencyKey: $key) {
    aftersalesRequest { id status refundedAmount { amount currency } }
    refund { status amount { amount } }
    errors { field code message }
  }
}
"""
APP_TOKEN = "query($id: ID!) { app(id: $id) { accessToken } }"
INSTALL = """
mutation Install($name: String!, $url: String!, $permissions: [PermissionEnum!]) {
  appInstall(input: {appName: $name, manifestUrl: $url, permissions: $permissions}) {
    appInstallation { id status } errors { field code message }
  }
}
"""


class Refused(Exception):
    pass


def post(url: str, query: str, variables=None, token: str = "", count: str = ""):
    """One GraphQL call over HTTP, as a client makes it: (ms, data)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if count:
        headers[counting.HEADER] = count
    start = time.perf_counter()
    response = requests.post(
        url, json={"query": query, "variables": variables or {}}, headers=headers
    )
    elapsed = (time.perf_counter() - start) * 1000
    content = response.json()
    if response.status_code != 200 or content.get("errors"):
        raise Refused(f"{url}: HTTP {response.status_code} {content}")
    for payload in content["data"].values():
        if isinstance(payload, dict) and payload.get("errors"):
            raise Refused(f"{url}: {payload['errors']}")
    return elapsed, content["data"]


class App:
    """The app served by Django's threaded WSGI server in this process (so its
    SQL and Saleor calls can be counted per request), on its own database."""

    def __init__(self):
        self._recreate_database()
        call_command("migrate", verbosity=0)
        counting.install()

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        self.server = ThreadedWSGIServer(("127.0.0.1", APP_PORT), Quiet)
        self.server.set_app(get_wsgi_application())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = os.environ["APP_URL"]
        self.graphql_url = f"{self.url}/graphql/"

    @staticmethod
    def _recreate_database():
        name = APP_DATABASE_URL.rsplit("/", 1)[1]
        admin = APP_DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def install(saleor, app: App, staff_token: str) -> SaleorShop:
    post(
        saleor.url,
        INSTALL,
        {
            "name": "After-sales",
            "url": f"{app.url}/api/manifest",
            "permissions": list(PERMISSIONS),
        },
        token=staff_token,
    )
    return wait_for(
        lambda: SaleorShop.objects.filter(api_url=saleor.url).first(),
        what="Saleor's appInstall reaching the register endpoint",
    )


class Bench:
    def __init__(self, saleor, app: App, installed: SaleorShop):
        self.saleor, self.app, self.installed = saleor, app, installed
        saleor.create_customer(*CUSTOMER)
        self.refresh_tokens()
        self.customer_id = user_id(self.customer)
        shop.set_shop_address(saleor, self.staff)
        self.goods = make_variants(saleor, self.staff, max(LINES))
        self.times: Dict[tuple, List[float]] = {}
        self.counts: Dict[tuple, List[tuple]] = {}
        self.saleor_operations: Dict[tuple, List[str]] = {}

    def refresh_tokens(self):
        """Saleor's access tokens live 5 minutes: fresh ones every round."""
        self.staff = self.saleor.token(*STAFF)
        self.customer = self.saleor.token(*CUSTOMER)
        _, data = post(
            self.saleor.url, APP_TOKEN, {"id": self.installed.app_id}, self.staff
        )
        self.desk = data["app"]["accessToken"]

    def quiet(self):
        """Saleor's webhooks to the app delivered (they would run beside the next
        measurement, in the app's threads and in Saleor's worker)."""
        deadline = time.monotonic() + QUIET_SECONDS
        while self.saleor.deliveries_pending(self.installed.app_id):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)

    def order(self, lines: int) -> dict:
        return place_paid_order(
            self.saleor, self.staff, self.goods, lines, CUSTOMER[0], self.customer_id
        )

    def record(self, name, lines, elapsed, counts=None):
        self.times.setdefault((name, lines), []).append(elapsed)
        if counts is not None:
            self.counts.setdefault((name, lines), []).append(
                (counts.sql, counts.saleor)
            )
            self.saleor_operations[(name, lines)] = counts.saleor_operations

    def saleor_op(self, name, lines, query, variables):
        self.quiet()
        elapsed, data = post(self.saleor.url, query, variables, self.staff)
        self.record(name, lines, elapsed)
        return data

    def app_op(self, name, lines, query, variables, token):
        self.quiet()
        key = counting.new_key()
        elapsed, data = post(self.app.graphql_url, query, variables, token, key)
        self.record(name, lines, elapsed, counting.counts_of(key))
        return data

    def fulfill(self, order, lines):
        self.saleor_op(
            "Saleor orderFulfill",
            lines,
            ORDER_FULFILL,
            {
                "id": order["id"],
                "lines": [
                    {
                        "orderLineId": line["id"],
                        "stocks": [{"quantity": 1, "warehouse": self.goods.warehouse}],
                    }
                    for line in order["lines"]
                ],
            },
        )

    def round(self, lines: int):
        for_saleor, for_app = self.order(lines), self.order(lines)
        self.fulfill(for_saleor, lines)
        self.fulfill(for_app, lines)

        _, data = post(
            self.saleor.url, FULFILLMENT_LINES, {"id": for_saleor["id"]}, self.staff
        )
        shipped = [
            {"fulfillmentLineId": line["id"], "quantity": line["quantity"]}
            for fulfillment in data["order"]["fulfillments"]
            if fulfillment["status"] == "FULFILLED"
            for line in fulfillment["lines"]
        ]
        self.saleor_op(
            "Saleor orderFulfillmentReturnProducts",
            lines,
            RETURN_PRODUCTS,
            {"id": for_saleor["id"], "lines": shipped},
        )

        wait_for(
            lambda: ShopOrder.objects.filter(
                host_id=for_app["id"], lines__quantity_fulfilled=1
            ).count()
            == lines,
            what="the fulfilled order reaching the app",
        )
        data = self.app_op(
            "returnRequestCreate",
            lines,
            CREATE,
            {
                "input": {
                    "order": for_app["id"],
                    "lines": [
                        {"orderLine": line["id"], "quantity": 1, "reason": "DEFECTIVE"}
                        for line in for_app["lines"]
                    ],
                }
            },
            self.customer,
        )
        claim = data["returnRequestCreate"]["aftersalesRequest"]["id"]
        self.app_op(
            "aftersalesRequestApprove", lines, APPROVE, {"id": claim}, self.desk
        )
        self.app_op(
            "aftersalesRequestReceive", lines, RECEIVE, {"id": claim}, self.desk
        )
        data = self.app_op(
            "aftersalesRequestRefund",
            lines,
            REFUND,
            {"id": claim, "key": claim},
            self.desk,
        )
        refund = data["aftersalesRequestRefund"]["refund"]
        assert refund["status"] == "SUCCESS", refund

    def forget(self):
        self.times.clear()
        self.counts.clear()
        self.saleor_operations.clear()


OPERATIONS = (
    "Saleor orderFulfill",
    "Saleor orderFulfillmentReturnProducts",
    "returnRequestCreate",
    "aftersalesRequestApprove",
    "aftersalesRequestReceive",
    "aftersalesRequestRefund",
)


def report(bench: Bench, rounds: int) -> None:
    with section(
        f"The app on Saleor 3.23 beside Saleor's own operations, median of {rounds}"
        " interleaved rounds"
    ):
        rows = []
        for lines in LINES:
            fulfill = median(bench.times[("Saleor orderFulfill", lines)])
            returned = median(
                bench.times[("Saleor orderFulfillmentReturnProducts", lines)]
            )
            for name in OPERATIONS:
                values = bench.times[(name, lines)]
                ms = median(values)
                counts = bench.counts.get((name, lines))
                sql = calls = "-"
                if counts:
                    sql = "/".join(str(n) for n in sorted({c[0] for c in counts}))
                    calls = "/".join(str(n) for n in sorted({c[1] for c in counts}))
                rows.append(
                    [
                        name,
                        lines,
                        f"{ms:.1f}",
                        f"{percentile(values, 0.9):.1f}",
                        sql,
                        calls,
                        f"{ms / fulfill:.2f}",
                        f"{ms / returned:.2f}",
                    ]
                )
        table(
            [
                "operation",
                "lines",
                "median ms",
                "p90 ms",
                "app SQL",
                "Saleor calls",
                "x orderFulfill",
                "x orderFulfillmentReturnProducts",
            ],
            rows,
        )
    with section("The app's calls to Saleor, last round"):
        for lines in LINES:
            for name in OPERATIONS[2:]:
                operations = bench.saleor_operations.get((name, lines), [])
                summary: Dict[str, int] = {}
                for operation in operations:
                    summary[operation] = summary.get(operation, 0) + 1
                listed = ", ".join(f"{op} x{n}" for op, n in summary.items())
                print(f"- {name}, {lines} lines: {listed or 'none'}")
        print(flush=True)


def run(bench: "Bench", rounds: int, started: float) -> None:
    print(f"Ready after {time.monotonic() - started:.0f} s; warming up…", flush=True)
    for _ in range(WARM_UP):
        bench.round(1)
    bench.forget()
    for number in range(rounds):
        bench.refresh_tokens()
        for lines in LINES:
            bench.round(lines)
        print(
            f"Round {number + 1}/{rounds} done after"
            f" {time.monotonic() - started:.0f} s",
            flush=True,
        )
    report(bench, rounds)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    reason = saleor3.available()
    if reason:
        sys.exit(f"benchmarks.saleor3: {reason}")
    started = time.monotonic()
    redis.Redis.from_url(BENCH_APP_BROKER).flushdb()
    database = saleor3.create_database(
        os.environ.get("SALEOR3_BENCH_DB", "aftersales_saleor3_bench")
    )
    logs = Path(tempfile.mkdtemp(prefix="aftersales-bench-saleor3-"))
    print(f"Starting Saleor 3.23 (logs in {logs}) and the app…", flush=True)
    app = App()
    try:
        with saleor3.Saleor(
            database,
            SALEOR_PORT,
            redis_db=int(os.environ.get("SALEOR3_BENCH_REDIS_DB", "14")),
            log_dir=logs,
        ) as saleor:
            saleor.create_staff(*STAFF)
            staff_token = saleor.token(*STAFF)
            installed = install(saleor, app, staff_token)
            # The app's rows of this Saleor, as the app serves it.
            with tenancy.serving(installed):
                run(Bench(saleor, app, installed), rounds, started)
    finally:
        app.stop()
    print(f"Took {time.monotonic() - started:.0f} s.")


if __name__ == "__main__":
    main()
