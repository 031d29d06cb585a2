"""Throughput under concurrent load: Saleor with the plugin served by uwsgi
(workers for this machine's 2 cores), a load generator on loopback for a bounded
time. Requests/s and p99 of claim creation against Saleor's orders(first: 20).
Target: claim creation >= 0.8 x orders(first: 20) in requests/s.

    bin/bench load        (installs uwsgi, pinned in requirements-bench.txt)
    .venv/bin/python -m benchmarks.load [--seconds 20] [--clients 8] [--workers 4]
"""

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from benchmarks.harness import ORDERS, Shop, get_token, gid, migrate
from benchmarks.tables import median, percentile, section, table

ROOT = Path(__file__).resolve().parent.parent
UNITS_PER_ORDER = 400

CREATE = """
mutation Create($input: AftersalesRequestCreateInput!) {
  returnRequestCreate(input: $input) {
    aftersalesRequest { id number status lines { id quantity } }
    errors { field code message }
  }
}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uwsgi(port: int, workers: int) -> subprocess.Popen:
    uwsgi = ROOT / ".venv" / "bin" / "uwsgi"
    if not uwsgi.exists():
        sys.exit("uwsgi is not installed: run bin/bench load (it installs it).")
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="benchmarks.settings")
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [
            str(uwsgi),
            "--http11-socket",
            f"127.0.0.1:{port}",
            "--module",
            "saleor.wsgi:application",
            "--chdir",
            str(ROOT),
            "--master",
            "--processes",
            str(workers),
            "--disable-logging",
            "--die-on-term",
            "--need-app",
            "--lazy-apps",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            status, _ = post(port, "{ __typename }", None, None)
            if status == 200:
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit("uwsgi did not start: " + process.stderr.read().decode()[-2000:])


def post(port, query, variables, token, connection=None):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"JWT {token}"
    body = json.dumps({"query": query, "variables": variables or {}})
    connection.request("POST", "/graphql/", body, headers)
    response = connection.getresponse()
    content = response.read()
    if own:
        connection.close()
    return response.status, content


def run_load(port, seconds, clients, make_request):
    """``clients`` threads, each on its own keep-alive connection, for
    ``seconds``; returns (latencies ms, failures)."""
    latencies, failures = [], []
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def client(index):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, bad = [], 0
        while time.perf_counter() < stop_at:
            query, variables, token, check = make_request(index)
            start = time.perf_counter()
            try:
                status, content = post(port, query, variables, token, connection)
                ok = status == 200 and check(json.loads(content))
            except (OSError, http.client.HTTPException, ValueError):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            mine.append((time.perf_counter() - start) * 1000)
            bad += not ok
        with lock:
            latencies.extend(mine)
            failures.append(bad)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, sum(failures)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    migrate()
    shop = Shop()
    print(f"Preparing {args.clients} orders of {UNITS_PER_ORDER} units…", flush=True)
    orders = [shop.order(1, quantity=UNITS_PER_ORDER) for _ in range(args.clients)]
    lines = [gid("OrderLine", order.lines.get().pk) for order in orders]
    order_ids = [gid("Order", order.pk) for order in orders]
    customer_token, staff_token = get_token(shop.customer), get_token(shop.staff)

    def orders_request(_index):
        return ORDERS, None, staff_token, lambda c: "errors" not in c

    def create_request(index):
        variables = {
            "input": {
                "order": order_ids[index],
                "lines": [
                    {"orderLine": lines[index], "quantity": 1, "reason": "DEFECTIVE"}
                ],
            }
        }

        def check(content):
            return (
                "errors" not in content
                and content["data"]["returnRequestCreate"]["errors"] == []
            )

        return CREATE, variables, customer_token, check

    port = free_port()
    server = start_uwsgi(port, args.workers)
    try:
        run_load(port, 3, args.clients, orders_request)  # warm every worker
        results = {}
        # Saleor, the plugin, then Saleor again: drift shows as a gap between the
        # two Saleor runs.
        for name, make in (
            ("Saleor orders(first: 20)", orders_request),
            ("returnRequestCreate (1 line)", create_request),
            ("Saleor orders(first: 20), again", orders_request),
        ):
            latencies, failed = run_load(port, args.seconds, args.clients, make)
            results[name] = (len(latencies) / args.seconds, latencies, failed)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    saleor_rps = (
        results["Saleor orders(first: 20)"][0]
        + results["Saleor orders(first: 20), again"][0]
    ) / 2
    with section(
        f"uwsgi, {args.workers} workers; {args.clients} keep-alive clients on "
        f"loopback, {args.seconds:.0f} s per run"
    ):
        table(
            ["operation", "requests/s", "p50 ms", "p99 ms", "failed", "x orders rps"],
            [
                [
                    name,
                    f"{rps:.1f}",
                    f"{median(latencies):.1f}",
                    f"{percentile(latencies, 0.99):.1f}",
                    failed,
                    f"{rps / saleor_rps:.2f}",
                ]
                for name, (rps, latencies, failed) in results.items()
            ],
        )


if __name__ == "__main__":
    main()
