"""The messages a shopper gets, and the audit events that cause them."""

from typing import Optional

from ..enums import EventType, RequestStatus

RECEIVED = "received"  # the claim is filed: RMA number, lines, what happens next
INFO_REQUESTED = "info_requested"
APPROVED = "approved"  # return instructions, the slip, address, deadline
REJECTED = "rejected"  # the reason, how to appeal and until when
GOODS_RECEIVED = "goods_received"
REFUNDED = "refunded"  # amount and method; a gift card's whole code
QUOTE_READY = "quote_ready"  # a repair's quote to accept or decline
REPAIR_FINISHED = "repair_finished"  # the hand-back
CLOSED = "closed"  # with a link to rate the service
ORDER_LINK = "order_link"  # a guest's sign-in link

CHOICES = [
    (RECEIVED, "Claim received"),
    (INFO_REQUESTED, "Information requested"),
    (APPROVED, "Claim approved"),
    (REJECTED, "Claim rejected"),
    (GOODS_RECEIVED, "Goods received"),
    (REFUNDED, "Refunded or credited"),
    (QUOTE_READY, "Repair quote ready"),
    (REPAIR_FINISHED, "Repair finished"),
    (CLOSED, "Claim closed"),
    (ORDER_LINK, "Sign-in link"),
]
ALL = tuple(kind for kind, _label in CHOICES)

_FOR_EVENT = {
    EventType.CREATED: RECEIVED,
    EventType.INFO_REQUESTED: INFO_REQUESTED,
    EventType.APPROVED: APPROVED,
    EventType.REJECTED: REJECTED,
    EventType.RECEIVED: GOODS_RECEIVED,
    EventType.QUOTED: QUOTE_READY,
    EventType.CLOSED: CLOSED,
}


def for_event(event) -> Optional[str]:
    """The message one audit event sends the customer, if any."""
    if event.type == EventType.REFUNDED:
        # Money outside the desk (Stripe's dashboard) is the shop's to explain.
        return None if event.parameters.get("external") else REFUNDED
    if event.type == EventType.REPAIR_UPDATED:
        # Progress notes stay on the claim's page; the hand-back is news.
        finished = event.to_status == RequestStatus.RESOLVED
        return REPAIR_FINISHED if finished else None
    return _FOR_EVENT.get(event.type)
