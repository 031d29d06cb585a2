"""Median latency of the plugin's main operations on 5-line claims, through the
real GraphQL view, as ratios to Saleor's own orderFulfill (5 lines) and
orders(first: 20) measured in the same rounds. Target: create <= 0.5 x orderFulfill.

    .venv/bin/python -m benchmarks.latency [rounds]
"""

import sys

from benchmarks.harness import ORDERS, Api, Shop, gid, interleaved, migrate
from benchmarks.tables import median, percentile, section, table
from tests.queries import APPROVE, RECEIVE, REFUND, RETURN_REQUEST_CREATE

LINES = 5
WARM_UP = 3

ORDER_FULFILL = """
mutation Fulfill($order: ID!, $input: OrderFulfillInput!) {
  orderFulfill(order: $order, input: $input) {
    order { id status }
    orderErrors { field code message }
  }
}
"""
CLAIMS = """
query Claims {
  aftersalesRequests(first: 20) {
    edges { node {
      id number createdAt status type userEmail
      refundedAmount { amount currency }
    } }
  }
}
"""


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    migrate()
    shop = Shop()
    customer, staff = Api(shop.customer), Api(shop.staff)
    total = rounds + WARM_UP
    print(f"Preparing {total} fulfilled and {total} unfulfilled {LINES}-line orders…")
    to_claim = [shop.order(LINES) for _ in range(total)]
    to_fulfill = [shop.order(LINES, fulfilled=False) for _ in range(total)]
    warehouse = gid("Warehouse", shop.warehouse.pk)
    queries = {}
    claims = []

    def record(name, result):
        elapsed, count, data = result
        queries[name] = count
        return elapsed, data

    def fulfill():
        order = to_fulfill.pop()
        lines = [
            {
                "orderLineId": gid("OrderLine", line.pk),
                "stocks": [{"warehouse": warehouse, "quantity": line.quantity}],
            }
            for line in order.lines.all()
        ]
        variables = {
            "order": gid("Order", order.pk),
            "input": {"lines": lines, "notifyCustomer": False},
        }
        elapsed, data = record(
            "Saleor orderFulfill", staff.timed(ORDER_FULFILL, variables)
        )
        assert not data["orderFulfill"]["orderErrors"], data
        return elapsed

    def orders():
        return record("Saleor orders(first: 20)", staff.timed(ORDERS))[0]

    def create():
        order = to_claim.pop()
        lines = [
            {
                "orderLine": gid("OrderLine", line.pk),
                "quantity": 2,
                "reason": "DEFECTIVE",
            }
            for line in order.lines.all()
        ]
        variables = {"input": {"order": gid("Order", order.pk), "lines": lines}}
        elapsed, data = record(
            "returnRequestCreate", customer.timed(RETURN_REQUEST_CREATE, variables)
        )
        claims.append(data["returnRequestCreate"]["aftersalesRequest"]["id"])
        return elapsed

    def step(name, document):
        def run():
            return record(name, staff.timed(document, {"id": claims[-1]}))[0]

        return run

    def queue():
        return record("aftersalesRequests(first: 20)", staff.timed(CLAIMS))[0]

    operations = {
        "Saleor orderFulfill": fulfill,
        "Saleor orders(first: 20)": orders,
        "returnRequestCreate": create,
        "aftersalesRequestApprove": step("aftersalesRequestApprove", APPROVE),
        "aftersalesRequestReceive": step("aftersalesRequestReceive", RECEIVE),
        "aftersalesRequestRefund": step("aftersalesRequestRefund", REFUND),
        "aftersalesRequests(first: 20)": queue,
    }
    interleaved(WARM_UP, operations)
    times = interleaved(rounds, operations)

    fulfill_ms = median(times["Saleor orderFulfill"])
    orders_ms = median(times["Saleor orders(first: 20)"])
    with section(f"Latency, {LINES} lines, median of {rounds} interleaved rounds"):
        rows = []
        for name, values in times.items():
            ms = median(values)
            rows.append(
                [
                    name,
                    f"{ms:.1f}",
                    f"{percentile(values, 0.9):.1f}",
                    queries[name],
                    f"{ms / fulfill_ms:.2f}",
                    f"{ms / orders_ms:.2f}",
                ]
            )
        table(
            [
                "operation",
                "median ms",
                "p90 ms",
                "SQL",
                "x orderFulfill",
                "x orders(first: 20)",
            ],
            rows,
        )


if __name__ == "__main__":
    main()
