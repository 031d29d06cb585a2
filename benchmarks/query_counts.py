"""SQL queries per operation at 1, 10 and 50 lines, and per page of 10 and 100
claims, through the real GraphQL view. Target: the same count in every column.

    .venv/bin/python -m benchmarks.query_counts
"""

from benchmarks.harness import Api, Shop, gid, migrate
from benchmarks.tables import section, table
from tests.queries import (
    APPROVE,
    ELIGIBILITY,
    EXCHANGE_FULFILL,
    EXCHANGE_REQUEST_CREATE,
    QUOTE_CREATE,
    RECEIVE,
    RECEIVE_REPAIR,
    REFUND,
    REPAIR_REQUEST_CREATE,
    RETURN_REQUEST_CREATE,
)

LINE_COUNTS = (1, 10, 50)
PAGE_SIZES = (10, 100)

QUEUE = """
query Queue($first: Int!) {
  aftersalesRequests(first: $first, filter: {status: [REQUESTED]},
                     sortBy: {field: RESOLUTION_DUE_AT, direction: ASC}) {
    edges { node {
      id number status type slaResolutionDueAt isOverdue userEmail
      order { id number }
      lines { id quantity reason unitPrice { amount } orderLine { id productName } }
      events { type actorType }
      refunds { status amount { amount } giftCardCode }
      customerHistory { claimCount returnRatePercent isSerialReturner }
    } }
  }
}
"""
MINE = """
query Mine($first: Int!) {
  myAftersalesRequests(first: $first) {
    edges { node { id number status lines { quantity orderLine { id } } } }
  }
}
"""


def claim_lines(order, reason="DEFECTIVE", replacement=False):
    lines = []
    for line in order.lines.order_by("pk"):
        item = {"orderLine": gid("OrderLine", line.pk), "quantity": 1, "reason": reason}
        if replacement:
            item["replacementVariant"] = gid("ProductVariant", line.variant_id)
        lines.append(item)
    return lines


def counts_for(shop: Shop, kind: str, lines: int) -> dict:
    customer, staff = Api(shop.customer), Api(shop.staff)
    order = shop.order(lines)
    created = {}
    document = {
        "return": RETURN_REQUEST_CREATE,
        "exchange": EXCHANGE_REQUEST_CREATE,
        "repair": REPAIR_REQUEST_CREATE,
    }[kind]
    _ms, create, data = customer.timed(
        document,
        {
            "input": {
                "order": gid("Order", order.pk),
                "lines": claim_lines(order, replacement=kind == "exchange"),
            }
        },
    )
    created = next(iter(data.values()))["aftersalesRequest"]
    claim = {"id": created["id"]}
    result = {"create": create}
    result["approve"] = staff.timed(APPROVE, claim)[1]
    if kind == "repair":
        result["receive"] = staff.timed(RECEIVE_REPAIR, claim)[1]
        quote_lines = [
            {"kind": "PART", "description": f"Part {n}", "quantity": 1, "unitPrice": 5}
            for n in range(lines)
        ]
        result["quote"] = staff.timed(QUOTE_CREATE, {**claim, "lines": quote_lines})[1]
    else:
        result["receive"] = staff.timed(RECEIVE, claim)[1]
        if kind == "return":
            result["refund"] = staff.timed(REFUND, claim)[1]
        else:
            result["fulfill"] = staff.timed(EXCHANGE_FULFILL, claim)[1]
    eligibility_order = shop.order(lines)
    result["eligibility"] = customer.timed(
        ELIGIBILITY, {"order": gid("Order", eligibility_order.pk)}
    )[1]
    return result


def main() -> None:
    migrate()
    shop = Shop()
    with section("SQL queries per operation, by number of claim lines"):
        rows = []
        for kind in ("return", "exchange", "repair"):
            by_lines = {lines: counts_for(shop, kind, lines) for lines in LINE_COUNTS}
            for operation in by_lines[LINE_COUNTS[0]]:
                if operation == "eligibility" and kind != "return":
                    continue
                counts = [by_lines[lines][operation] for lines in LINE_COUNTS]
                flat = "flat" if len(set(counts)) == 1 else "GROWS"
                name = (
                    operation if operation == "eligibility" else f"{kind} {operation}"
                )
                rows.append([name, *counts, flat])
        table(["operation", *[f"{n} lines" for n in LINE_COUNTS], ""], rows)

    with section("SQL queries per page of claims (staff queue, customer's list)"):
        shop = Shop()  # a customer with nothing but these returns
        order = shop.order(1, quantity=200)
        customer = Api(shop.customer)
        line = order.lines.get()
        for _ in range(max(PAGE_SIZES)):
            customer.post(
                RETURN_REQUEST_CREATE,
                {
                    "input": {
                        "order": gid("Order", order.pk),
                        "lines": [
                            {
                                "orderLine": gid("OrderLine", line.pk),
                                "quantity": 1,
                                "reason": "DEFECTIVE",
                            }
                        ],
                    }
                },
            )
        staff = Api(shop.staff)
        rows = []
        for name, api, document in (
            ("aftersalesRequests (staff queue)", staff, QUEUE),
            ("myAftersalesRequests", customer, MINE),
        ):
            counts = [api.timed(document, {"first": size})[1] for size in PAGE_SIZES]
            rows.append([name, *counts, "flat" if len(set(counts)) == 1 else "GROWS"])
        table(["query", *[f"first: {n}" for n in PAGE_SIZES], ""], rows)


if __name__ == "__main__":
    main()
