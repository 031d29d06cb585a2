"""Exchanges: the replacement sent as a real order.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from ..port import NewOrderLine, host
from ..actors import Actor
from ..enums import Action, EventType, RequestStatus, RequestType, Resolution
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesRequest
from ..orders import save_order
from ..policies import lines_subtotal
from ..settings import AftersalesSettings
from .actions import starts
from .steps import Change, lock, move, refuse_while_refund_pending


def fulfill_exchange(
    request: AftersalesRequest, *, by: Actor, settings: AftersalesSettings
) -> Change:
    """Send the replacement as a real Saleor order with its stock allocated.

    The customer's payment for the returned units is a discount on it: a dearer
    replacement leaves the difference due on that order (never charged here); a
    cheaper one leaves ``extra["difference"]`` to refund. Called again after a
    failed difference refund, it keeps the order it made.
    """
    with transaction.atomic():
        request = lock(request, starts(Action.FULFILL_EXCHANGE, settings))
        if request.type != RequestType.EXCHANGE:
            raise _error(None, "Only exchanges send replacements.", Code.INVALID_STATUS)
        refuse_while_refund_pending(request)
        lines = list(request.lines.all())
        if request.status == RequestStatus.RECEIVED and any(
            line.quantity_awaiting for line in lines
        ):
            raise _error(
                None,
                "Units are still awaited: receive them or declare them missing.",
                Code.INVALID_STATUS,
            )
        # Units that came back (or, shipping first, are expected), not missing ones.
        units = {
            line.pk: (
                line.quantity_received
                if request.status == RequestStatus.RECEIVED
                else line.quantity_approved - line.quantity_missing
            )
            for line in lines
        }
        lines = [line for line in lines if units[line.pk]]
        if not lines:
            raise _error(None, "Nothing came back to replace.", Code.NOTHING_APPROVED)
        credit = sum(
            (line.unit_price_gross_amount * units[line.pk] for line in lines),
            Decimal("0"),
        )
        order = request.replacement_order
        created = order is None
        if created:
            order = _replacement_order(request, lines, units, credit)
            request.replacement_order = order
        difference = max(Decimal("0"), credit - lines_subtotal(order))
        settled = difference == 0
        if settled:
            request.resolution = Resolution.REPLACEMENT
            request.resolved_at = timezone.now()
        change = move(
            request,
            RequestStatus.RESOLVED if settled else request.status,
            by,
            EventType.EXCHANGE_FULFILLED,
            message=f"Replacement order #{order.number}",
            parameters={
                "order": order.number,
                "credit": str(credit),
                "difference_to_refund": str(difference),
                "created": created,
            },
            update_fields=("replacement_order", "resolution", "resolved_at"),
        )
        change.extra["difference"] = difference
        return change


def _replacement_order(request, lines, units, credit):
    variants = host.variants_by_ref(line.replacement_variant_ref for line in lines)
    if any(line.replacement_variant_ref not in variants for line in lines):
        raise _error(None, "A replacement is no longer sold.", Code.OUT_OF_STOCK)
    new_lines = []
    for line in lines:
        variant = variants[line.replacement_variant_ref]
        new_lines.append(
            NewOrderLine(
                product_name=variant.product.name,
                variant_name=variant.name,
                sku=variant.sku,
                quantity=units[line.pk],
                unit_price=host.variant_unit_price(variant),
                variant=variant,
            )
        )
    try:
        facts = host.create_follow_up_order(
            request.order.host_id,
            new_lines,
            discount=credit,
            discount_name=f"Exchange {request.number}",
            note=f"Replacement for {request.number}",
        )
    except host.InsufficientStock:
        raise _error(None, "A replacement is no longer in stock.", Code.OUT_OF_STOCK)
    return save_order(facts)
