"""Changes the app owes Saleor, exactly once across HTTP: the ``SaleorCall`` row
is written in the caller's transaction (the claim's step); after commit it is
made, and an attempt that finds Saleor already did it (an earlier attempt died
between Saleor's answer and our write) records that instead of doing it again.
``deliver_due`` is the sweeper for calls whose attempt never ran."""

import logging
from datetime import timedelta
from typing import List

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import client, stock
from .models import SaleorCall, SaleorShop

logger = logging.getLogger(__name__)

# Longer than any attempt: at most a few Saleor calls of SALEOR_TIMEOUT_SECONDS
# each, connect and read (the final writes also check the lease is still ours).
LEASE = timedelta(minutes=10)
# After this many attempts a call waits for staff instead of the sweeper.
MAX_ATTEMPTS = 20

NOTE_ADD = """
mutation AftersalesNote($id: ID!, $message: String!) {
  orderNoteAdd(order: $id, input: {message: $message}) { errors { field code message } }
}
"""
NOTES = """
query AftersalesNotes($id: ID!) { order(id: $id) { events { type message } } }
"""


def owe(shop: SaleorShop, kind: str, order_ref: str, payload: dict) -> SaleorCall:
    call = SaleorCall.objects.create(
        shop=shop, kind=kind, order_ref=order_ref, payload=payload
    )
    transaction.on_commit(lambda: _deliver_safely(call.pk))
    return call


def _deliver_safely(call_pk: int) -> None:
    """After the step committed: its caller must not see Saleor's troubles (the
    sweeper tries again)."""
    try:
        deliver(call_pk)
    except Exception:  # noqa: BLE001 - the row stays owed
        logger.exception("Saleor call %s failed; left for the sweeper", call_pk)


def _note_text(call: SaleorCall) -> str:
    return f"{call.payload['message']} {call.reference}"


def _note_exists(call: SaleorCall) -> bool:
    data = client.ask(call.shop, NOTES, {"id": call.order_ref})
    events = (data.get("order") or {}).get("events") or []
    text = _note_text(call)
    return any(event.get("message") == text for event in events)


def _add_note(call: SaleorCall) -> None:
    client.mutate(
        call.shop,
        NOTE_ADD,
        {"id": call.order_ref, "message": _note_text(call)},
        "orderNoteAdd",
    )


def _take(call_pk: int):
    """The call, leased to this attempt, with the attempt counted and committed
    before Saleor is asked anything; None if done or another attempt holds it."""
    now = timezone.now()
    with transaction.atomic():
        call = (
            SaleorCall.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("shop")
            .filter(pk=call_pk, status=SaleorCall.PENDING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .first()
        )
        if call is None:
            return None
        if call.attempts >= MAX_ATTEMPTS:
            call.status = SaleorCall.FAILED
            call.save(update_fields=["status"])
            logger.error(
                "Saleor call %s gave up after %s attempts", call.pk, call.attempts
            )
            return None
        call.attempts += 1
        call.lease_until = now + LEASE
        call.save(update_fields=["attempts", "lease_until"])
    return call


def _finish(call: SaleorCall, **fields) -> bool:
    """Write the attempt's outcome, only while the call is still ours (pending,
    under this attempt's lease)."""
    return bool(
        SaleorCall.objects.filter(
            pk=call.pk,
            status=SaleorCall.PENDING,
            attempts=call.attempts,
            lease_until=call.lease_until,
        ).update(lease_until=None, **fields)
    )


FULFILLMENTS = """
query AftersalesFulfillments($id: ID!) {
  order(id: $id) {
    fulfillments { id status reason lines { id quantity orderLine { id } } }
  }
}
"""
RETURN_PRODUCTS = """
mutation AftersalesReturn(
  $id: ID!, $lines: [OrderReturnFulfillmentLineInput!], $reason: String
) {
  orderFulfillmentReturnProducts(
    order: $id, input: {fulfillmentLines: $lines, refund: false, reason: $reason}
  ) { returnFulfillment { id } errors { field code message } }
}
"""


def _fulfillments(call: SaleorCall) -> list:
    data = client.ask(call.shop, FULFILLMENTS, {"id": call.order_ref})
    return (data.get("order") or {}).get("fulfillments") or []


def _return_exists(call: SaleorCall) -> bool:
    return any(
        fulfillment.get("reason") == call.reference
        for fulfillment in _fulfillments(call)
    )


def _return_goods(call: SaleorCall) -> None:
    """One RETURNED fulfillment for the units that came back, taken from the
    order's shipped (FULFILLED) fulfillment lines, marked with the reference."""
    wanted = dict(call.payload["lines"])
    lines = []
    for fulfillment in _fulfillments(call):
        if fulfillment["status"] != "FULFILLED":
            continue
        for line in fulfillment["lines"] or []:
            order_line = (line.get("orderLine") or {}).get("id")
            quantity = min(wanted.get(order_line, 0), line["quantity"])
            if quantity > 0:
                lines.append({"fulfillmentLineId": line["id"], "quantity": quantity})
                wanted[order_line] -= quantity
    if any(wanted.values()):
        raise client.SaleorError(f"Saleor shows fewer shipped units than {wanted}")
    client.mutate(
        call.shop,
        RETURN_PRODUCTS,
        {"id": call.order_ref, "lines": lines, "reason": call.reference},
        "orderFulfillmentReturnProducts",
    )


# Each kind: how to find what an earlier attempt did, and how to do it.
KINDS = {
    SaleorCall.NOTE: (_note_exists, _add_note),
    SaleorCall.RETURN: (_return_exists, _return_goods),
    # A restock's own plan tells what an earlier attempt did (stock.py).
    SaleorCall.RESTOCK: (lambda call: False, stock.restock_in_order),
}


def deliver(call_pk: int) -> str:
    """Make one owed call; returns its status afterwards ("taken" when done or
    held by another attempt)."""
    call = _take(call_pk)
    if call is None:
        return "taken"
    try:
        # A later attempt first looks for what an earlier one made.
        already_done, do = KINDS[call.kind]
        if call.attempts == 1 or not already_done(call):
            do(call)
    except stock.StockChangedElsewhere as error:
        _finish(call, status=SaleorCall.FAILED, error=str(error)[:2000])
        logger.error("Saleor call %s needs staff: %s", call.pk, error)
        return SaleorCall.FAILED
    except client.SaleorError as error:
        _finish(call, error=str(error)[:2000])
        logger.warning("Saleor call %s not made yet: %s", call.pk, error)
        return SaleorCall.PENDING
    if not _finish(call, status=SaleorCall.DONE, done_at=timezone.now(), error=""):
        return "taken"  # finished meanwhile by another road (an earlier restock's)
    return SaleorCall.DONE


def deliver_due(shop: SaleorShop, limit: int = 200) -> List[int]:
    """Calls still owed to ``shop`` (their attempt failed or never ran): made now."""
    pending = list(
        SaleorCall.objects.filter(shop=shop, status=SaleorCall.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        .order_by("attempts", "created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in pending:
        deliver(pk)
    return pending
