"""What may be done to a claim now, declared once.

``STARTS`` holds the statuses each step may start from: the transitions lock the
claim with it (``lock(request, starts(Action.APPROVE))``) and
``available_actions`` lists, for one viewer, the steps whose status fits and
whose cheap preconditions the claim row (and what a page of claims prefetches)
already answers. What only the step itself can know under its locks (stock, the
payment, amounts, quantities asked for) is still refused by the step.
"""

from typing import Callable, Dict, List, Optional, Tuple

from ..enums import Action, RefundStatus, RequestStatus, RequestType
from ..models import AftersalesPhoto, AftersalesRequest
from ..settings import AftersalesSettings
from ..selectors import related

S = RequestStatus
EVERY_STATUS: Tuple[str, ...] = tuple(value for value, _label in S.CHOICES)

STARTS: Dict[str, Tuple[str, ...]] = {
    # The customer's
    Action.CANCEL: (*S.PENDING, S.APPROVED),
    Action.APPEAL: (S.REJECTED,),
    Action.PROVIDE_INFO: (S.NEEDS_INFO,),
    Action.ACCEPT_QUOTE: (S.QUOTED,),
    Action.DECLINE_QUOTE: (S.QUOTED,),
    Action.RATE: (S.RESOLVED, S.CLOSED),
    Action.UPLOAD_PHOTO: tuple(
        status for status in EVERY_STATUS if status not in (S.CANCELLED, S.CLOSED)
    ),
    # The desk's
    Action.APPROVE: S.PENDING,
    Action.REJECT: S.PENDING,
    Action.REQUEST_INFO: (S.REQUESTED, S.APPEALED),
    # Again for a later parcel, and after a refund paid before the goods came back.
    Action.RECEIVE: (S.APPROVED, S.RECEIVED, S.RESOLVED),
    Action.REFUND: (S.APPROVED, S.RECEIVED),
    # And APPROVED where the shop ships replacements first: see ``starts``.
    Action.FULFILL_EXCHANGE: (S.RECEIVED,),
    Action.CREATE_QUOTE: (S.RECEIVED,),
    Action.UPDATE_REPAIR: (S.IN_REPAIR,),
    Action.CLOSE: (S.RESOLVED, S.REJECTED, S.RECEIVED),
    Action.ASSIGN: EVERY_STATUS,
    Action.ADD_NOTE: EVERY_STATUS,
}


def starts(action: str, settings: Optional[AftersalesSettings] = None) -> tuple:
    """The statuses ``action`` may start from under the shop's ``settings`` (only
    sending a replacement depends on them)."""
    allowed = STARTS[action]
    if (
        action == Action.FULFILL_EXCHANGE
        and settings is not None
        and settings.ship_exchange_before_receipt
    ):
        allowed += (S.APPROVED,)
    return allowed


# Cheap preconditions beyond the status, read from the row and its prefetched
# lines, refunds and photos (``selectors.related``): no query on a page of claims.


def _refund_pending(request: AftersalesRequest) -> bool:
    return any(r.status == RefundStatus.PENDING for r in related(request, "refunds"))


def _awaiting(request: AftersalesRequest) -> bool:
    return any(line.quantity_awaiting > 0 for line in related(request, "lines"))


def _may_cancel(request: AftersalesRequest) -> bool:
    # Until money or a replacement went out.
    return not related(request, "refunds") and request.replacement_order_id is None


def _may_receive(request: AftersalesRequest) -> bool:
    return _awaiting(request) and not _refund_pending(request)


def _may_refund(request: AftersalesRequest) -> bool:
    # Exchanges are settled by their replacement, repairs by their quote.
    return request.type == RequestType.RETURN and not _refund_pending(request)


def _may_fulfill_exchange(request: AftersalesRequest) -> bool:
    if request.type != RequestType.EXCHANGE or _refund_pending(request):
        return False
    lines = related(request, "lines")
    if request.status == S.RECEIVED:
        # Every unit received or declared missing, and something came back.
        return not _awaiting(request) and any(l.quantity_received for l in lines)
    return any(l.quantity_approved - l.quantity_missing > 0 for l in lines)


CHECKS: Dict[str, Callable[[AftersalesRequest], bool]] = {
    Action.CANCEL: _may_cancel,
    Action.APPEAL: lambda request: request.appealed_at is None,
    Action.RATE: lambda request: request.rating is None,
    Action.UPLOAD_PHOTO: lambda request: (
        len(related(request, "photos")) < AftersalesPhoto.MAX_PER_CLAIM
    ),
    Action.RECEIVE: _may_receive,
    Action.REFUND: _may_refund,
    Action.FULFILL_EXCHANGE: _may_fulfill_exchange,
    Action.CREATE_QUOTE: lambda request: request.type == RequestType.REPAIR,
    Action.CLOSE: lambda request: not _refund_pending(request),
}


def may(
    request: AftersalesRequest,
    action: str,
    settings: Optional[AftersalesSettings] = None,
) -> bool:
    """Whether ``action`` is open on ``request`` now, as far as the row tells."""
    if request.status not in starts(action, settings):
        return False
    check = CHECKS.get(action)
    return check is None or check(request)


def available_actions(
    request: AftersalesRequest, *, as_staff: bool, settings: AftersalesSettings
) -> List[str]:
    """The steps the viewer may take now: the desk's (``Action.DESK``, in that
    order) to staff and apps with MANAGE_ORDERS, the customer's
    (``Action.CUSTOMER``) to the claim's customer."""
    offered = Action.DESK if as_staff else Action.CUSTOMER
    return [action for action in offered if may(request, action, settings)]
