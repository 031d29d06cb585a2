"""What may be claimed, until when: the eligibility of an order's lines.

Only fulfilled units count, minus the units other live claims already hold, inside
the window counted from the line's latest fulfillment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Dict, Iterable, List, Optional

from django.db.models import Case, IntegerField, Sum, Value, When

from . import host
from .enums import Reason, RequestStatus, RequestType
from .models import AftersalesLine
from .plugin import AftersalesSettings

# Claims that take goods back from the customer and so use up returnable units.
GOODS_RETURNING_TYPES = (RequestType.RETURN, RequestType.EXCHANGE)


@dataclass
class LineEligibility:
    order_line: "host.OrderLine"
    quantity_fulfilled: int
    quantity_claimed: int
    fulfilled_at: Optional[datetime]
    return_deadline: Optional[datetime]
    changed_mind_deadline: Optional[datetime]

    def deadline_for(self, reason: str) -> Optional[datetime]:
        if reason in Reason.DISCRETIONARY:
            return self.changed_mind_deadline
        return self.return_deadline

    def is_open_for(self, reason: str, now: datetime) -> bool:
        deadline = self.deadline_for(reason)
        return deadline is not None and now <= deadline

    @property
    def quantity_available(self) -> int:
        """Fulfilled units not held by another claim (ignores the window)."""
        return max(0, self.quantity_fulfilled - self.quantity_claimed)

    def returnable_quantity(self, now: datetime) -> int:
        """Units that can be returned today for any reason."""
        if self.return_deadline is None or now > self.return_deadline:
            return 0
        return self.quantity_available


def claimed_quantities(
    order_line_pks: Iterable[int], exclude_request_pk: Optional[int] = None
) -> Dict[int, int]:
    """Units per order line held by live return/exchange claims (one query)."""
    held = Case(
        When(request__status__in=RequestStatus.PENDING, then="quantity_requested"),
        When(request__status__in=RequestStatus.RELEASED, then=Value(0)),
        default="quantity_approved",
        output_field=IntegerField(),
    )
    lines = AftersalesLine.objects.filter(
        order_line_id__in=list(order_line_pks),
        request__type__in=GOODS_RETURNING_TYPES,
    )
    if exclude_request_pk is not None:
        lines = lines.exclude(request_id=exclude_request_pk)
    rows = lines.values("order_line_id").annotate(held=Sum(held))
    return {row["order_line_id"]: row["held"] or 0 for row in rows}


def line_eligibility(
    order_lines: List["host.OrderLine"],
    settings: AftersalesSettings,
    exclude_request_pk: Optional[int] = None,
) -> Dict[int, LineEligibility]:
    """Eligibility of each order line, keyed by its pk: two queries in all."""
    pks = [line.pk for line in order_lines]
    fulfilled_at = host.fulfilled_dates(pks)
    claimed = claimed_quantities(pks, exclude_request_pk)
    result = {}
    for line in order_lines:
        start = fulfilled_at.get(line.pk)
        result[line.pk] = LineEligibility(
            order_line=line,
            quantity_fulfilled=line.quantity_fulfilled,
            quantity_claimed=claimed.get(line.pk, 0),
            fulfilled_at=start,
            return_deadline=(
                start + timedelta(days=settings.return_window_days) if start else None
            ),
            changed_mind_deadline=(
                start + timedelta(days=settings.changed_mind_window_days)
                if start
                else None
            ),
        )
    return result


def order_eligibility(order, settings: AftersalesSettings) -> List[LineEligibility]:
    lines = list(order.lines.all())
    by_pk = line_eligibility(lines, settings)
    return [by_pk[line.pk] for line in lines]


def paid_unit_prices(order, order_lines) -> Dict[int, Decimal]:
    """What the customer really paid per unit of each line, keyed by line pk.

    Order-level discounts (vouchers) are spread over the lines in proportion to
    their value and rounded down, so refunds can't exceed what was paid.
    """
    subtotal = host.order_lines_subtotal(order)
    paid_for_goods = order.total_gross_amount - order.shipping_price_gross_amount
    share = Decimal("1")
    if subtotal > 0:
        share = min(Decimal("1"), max(Decimal("0"), paid_for_goods / subtotal))
    return {
        line.pk: (line.unit_price_gross_amount * share).quantize(
            Decimal("0.01"), rounding=ROUND_DOWN
        )
        for line in order_lines
    }
