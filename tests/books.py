"""The books of one order, in the core's tables, on either host: what
tests/test_invariants.py checks after every step of a random history and the
fuzzing tests after fuzzing. The order is named by the host's reference; what
the host itself holds (the units Saleor delivered, its shipping price) is
passed in."""

from collections import Counter
from decimal import Decimal
from typing import Dict

from django.db.models import Sum

from saleor_aftersales.enums import RefundStatus, RequestStatus
from saleor_aftersales.models import (
    AftersalesEvent,
    AftersalesLine,
    AftersalesRequest,
)


def claims_within_worth(order_ref: str, shipping: Decimal):
    """No claim got more than its approved units, plus the shipping, are worth."""
    for request in AftersalesRequest.objects.filter(order__host_id=order_ref):
        worth = sum(
            (
                line.unit_price_gross_amount * line.quantity_approved
                for line in request.lines.all()
            ),
            Decimal("0"),
        )
        paid = request.refunds.filter(status=RefundStatus.SUCCESS).aggregate(
            total=Sum("amount")
        )["total"] or Decimal("0")
        assert paid <= worth + shipping, (request, paid, worth)


def units_add_up(order_ref: str, fulfilled: Dict[str, int]):
    """received <= approved <= requested <= delivered minus other claims;
    ``fulfilled``: the units the host delivered, by its line's reference."""
    lines = AftersalesLine.objects.filter(
        request__order__host_id=order_ref
    ).select_related("request", "order_line")
    held = {}
    for line in lines:
        assert line.quantity_received <= line.quantity_approved
        assert line.quantity_approved <= line.quantity_requested
        assert line.quantity_requested <= line.order_line.quantity_fulfilled
        assert line.quantity_refunded <= line.quantity_approved
        status = line.request.status
        if line.request.type == "repair" or status in RequestStatus.RELEASED:
            continue  # a repair's units stay the customer's
        if status in (RequestStatus.REQUESTED, RequestStatus.NEEDS_INFO):
            units = line.quantity_requested
        elif status == RequestStatus.APPEALED:
            # An appeal may ask again for units another claim took meanwhile;
            # approving it can't take them (checked once approved).
            units = 0
        else:
            units = line.quantity_approved
        key = line.order_line.host_id
        held[key] = held.get(key, 0) + units
    # Units that live claims ask for or took back never exceed what was delivered.
    for line_ref, quantity_fulfilled in fulfilled.items():
        assert held.get(line_ref, 0) <= quantity_fulfilled


def statuses_and_events_agree(order_ref: str):
    """Statuses match the lines; events run in order, each step starting where the
    last one ended, the last ending at the claim's status."""
    for request in AftersalesRequest.objects.filter(order__host_id=order_ref):
        lines = list(request.lines.all())
        if request.status == RequestStatus.RESOLVED and request.type == "return":
            assert all(l.quantity_settled >= l.quantity_approved for l in lines)
        if request.status in (RequestStatus.APPROVED, RequestStatus.RECEIVED):
            assert any(l.quantity_approved for l in lines)
        if request.status in RequestStatus.RELEASED:
            assert not request.refunds.filter(status=RefundStatus.SUCCESS).exists()
        # Units are settled in the transaction that records their refund: the
        # ledger and the lines never disagree, whatever ran at the same time.
        paid_units = Counter()
        for quantities in request.refunds.filter(
            status=RefundStatus.SUCCESS
        ).values_list("line_quantities", flat=True):
            paid_units.update({int(k): int(v) for k, v in quantities.items()})
        assert {l.pk: l.quantity_refunded for l in lines} == {
            l.pk: paid_units[l.pk] for l in lines
        }, (request, paid_units)
        events = list(AftersalesEvent.objects.filter(request=request).order_by("pk"))
        assert events[0].type == "created"
        assert all(a.created_at <= b.created_at for a, b in zip(events, events[1:]))
        moves = [event for event in events if event.to_status]
        assert all(a.to_status == b.from_status for a, b in zip(moves, moves[1:]))
        assert moves[-1].to_status == request.status
