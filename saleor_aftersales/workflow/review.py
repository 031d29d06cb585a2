"""The desk reviews a claim: information asked and given, approval (per line,
partial quantities, policy overrides, returnless refunds), rejection, appeal;
and the customer's cancellation.
"""

from typing import Dict, List, Optional

from django.db import transaction
from django.utils import timezone

from .. import sla
from ..port import host
from ..actors import Actor
from ..enums import Action, EventType, RequestStatus, RequestType
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesLine, AftersalesRequest
from ..configuration import get_settings
from ..orders import lock_order
from ..policies import claimed_quantities, policies_by_line
from ..selectors import appeal_deadline
from .actions import starts
from .steps import Change, lock, move, record


def request_info(request: AftersalesRequest, *, by: Actor, note: str) -> Change:
    """Ask the customer for more (photos, serial number, ...) before deciding."""
    if not note.strip():
        raise _error("note", "Tell the customer what is needed.", Code.REQUIRED)
    with transaction.atomic():
        request = lock(request, starts(Action.REQUEST_INFO))
        return move(
            request,
            RequestStatus.NEEDS_INFO,
            by,
            EventType.INFO_REQUESTED,
            message=note,
        )


def provide_info(request: AftersalesRequest, *, by: Actor, note: str) -> Change:
    """The customer answers; the claim goes back to where it waited for review."""
    if not note.strip():
        raise _error("note", "The answer can't be empty.", Code.REQUIRED)
    with transaction.atomic():
        request = lock(request, starts(Action.PROVIDE_INFO))
        back_to = (
            RequestStatus.APPEALED if request.appealed_at else RequestStatus.REQUESTED
        )
        return move(request, back_to, by, EventType.INFO_PROVIDED, message=note)


def approve(
    request: AftersalesRequest,
    *,
    by: Actor,
    quantities: Optional[Dict[int, int]] = None,
    note: str = "",
    override_policy: bool = False,
) -> Change:
    """Accept the claim, fully or in part.

    ``quantities`` maps claim line pks to approved units; lines left out are approved
    as requested, 0 declines a line. At least one unit must be approved, and units
    another claim took meanwhile (possible after an appeal) can't be approved twice.
    Lines opened despite the policy need ``override_policy``, which is audited. A
    return worth less than its policy's returnless threshold is approved without
    the goods coming back.
    """
    quantities = quantities or {}
    with transaction.atomic():
        request = lock(request, starts(Action.APPROVE))
        lines = list(request.lines.select_related("order_line"))
        by_pk = {line.pk: line for line in lines}
        for pk, quantity in quantities.items():
            line = by_pk.get(pk)
            if line is None:
                raise _error(
                    "lines",
                    "A line is not part of this claim.",
                    Code.LINE_NOT_IN_REQUEST,
                )
            if quantity < 0 or quantity > line.quantity_requested:
                raise _error(
                    "lines",
                    f"Approve between 0 and {line.quantity_requested} unit(s) of "
                    f"{line.order_line}.",
                    Code.QUANTITY_EXCEEDED if quantity > 0 else Code.INVALID,
                )
        for line in lines:
            line.quantity_approved = quantities.get(line.pk, line.quantity_requested)
        if not any(line.quantity_approved for line in lines):
            raise _error(
                "lines",
                "Approve at least one unit, or reject the claim.",
                Code.NOTHING_APPROVED,
            )
        if request.type in (RequestType.RETURN, RequestType.EXCHANGE):
            lock_order(request.order_id)
            claimed = claimed_quantities(
                [line.order_line_id for line in lines], exclude_request_pk=request.pk
            )
            for line in lines:
                left = line.order_line.quantity_fulfilled - claimed.get(
                    line.order_line_id, 0
                )
                if line.quantity_approved > left:
                    raise _error(
                        "lines",
                        f"Only {left} unit(s) of {line.order_line} are still "
                        "claimable.",
                        Code.QUANTITY_EXCEEDED,
                    )
        if request.type == RequestType.EXCHANGE:
            _check_replacements_in_stock(lines)
        exceptions = {
            str(line.pk): line.policy_exception
            for line in lines
            if line.policy_exception and line.quantity_approved
        }
        if exceptions and not override_policy:
            raise _error(
                "override_policy",
                "This claim is outside the return policy ("
                + ", ".join(sorted(set(exceptions.values()))).replace("_", " ")
                + "); approve it with overridePolicy to make an exception.",
                Code.POLICY_OVERRIDE_REQUIRED,
            )
        AftersalesLine.objects.bulk_update(lines, ["quantity_approved"])
        if exceptions:
            record(
                request,
                by,
                EventType.POLICY_OVERRIDDEN,
                from_status=request.status,
                message=note,
                parameters={"lines": exceptions},
            )
        request.approved_at = timezone.now()
        request.reject_reason = ""
        request.returnless = _is_returnless(request, lines)
        return move(
            request,
            RequestStatus.APPROVED,
            by,
            EventType.APPROVED,
            message=note,
            parameters={
                "quantities": {str(l.pk): l.quantity_approved for l in lines},
                "returnless": request.returnless,
            },
            update_fields=("approved_at", "reject_reason", "returnless"),
        )


def _is_returnless(request: AftersalesRequest, lines: List[AftersalesLine]) -> bool:
    """A return worth less than the lowest threshold of its approved lines'
    policies; never one approved against the policy."""
    lines = [line for line in lines if line.quantity_approved]
    if request.type != RequestType.RETURN or any(l.policy_exception for l in lines):
        return False
    policies = policies_by_line([line.order_line for line in lines], get_settings())
    threshold = min(
        policies[line.order_line_id].returnless_refund_below for line in lines
    )
    value = sum(line.unit_price_gross_amount * line.quantity_approved for line in lines)
    return value < threshold


def _check_replacements_in_stock(lines: List[AftersalesLine]) -> None:
    wanted: Dict[str, int] = {}
    for line in lines:
        if line.quantity_approved and line.replacement_variant_ref:
            variant = line.replacement_variant_ref
            wanted[variant] = wanted.get(variant, 0) + line.quantity_approved
    available = host.available_stock(wanted)
    for variant, quantity in wanted.items():
        if available.get(variant, 0) < quantity:
            raise _error(
                "lines",
                f"Only {available.get(variant, 0)} replacement unit(s) in stock.",
                Code.OUT_OF_STOCK,
            )


def reject(
    request: AftersalesRequest, *, by: Actor, reason: str, note: str = ""
) -> Change:
    with transaction.atomic():
        request = lock(request, starts(Action.REJECT))
        request.reject_reason = reason
        return move(
            request,
            RequestStatus.REJECTED,
            by,
            EventType.REJECTED,
            message=note,
            parameters={"reason": reason},
            update_fields=("reject_reason",),
        )


def appeal(request: AftersalesRequest, *, by: Actor, note: str) -> Change:
    """The customer contests a rejection, once."""
    if not note.strip():
        raise _error("note", "Say why the decision should change.", Code.REQUIRED)
    with transaction.atomic():
        request = lock(request, starts(Action.APPEAL))
        if request.appealed_at is not None:
            raise _error(
                None, "This claim has already been appealed.", Code.ALREADY_APPEALED
            )
        settings = get_settings()
        deadline = appeal_deadline(request, settings)
        if deadline is not None and timezone.now() > deadline:
            raise _error(
                None,
                f"Rejections can be appealed within {settings.appeal_days} days.",
                Code.OUTSIDE_WINDOW,
            )
        request.appealed_at = timezone.now()
        reopened = sla.reopen(request, request.appealed_at, settings)
        return move(
            request,
            RequestStatus.APPEALED,
            by,
            EventType.APPEALED,
            message=note,
            update_fields=("appealed_at", *reopened),
        )


def cancel(request: AftersalesRequest, *, by: Actor) -> Change:
    """The customer withdraws the claim; possible until goods arrive or money moves."""
    with transaction.atomic():
        request = lock(request, starts(Action.CANCEL))
        if request.refunds.exists() or request.replacement_order_id:
            raise _error(
                None,
                "Money or a replacement has already gone out for this claim.",
                Code.INVALID_STATUS,
            )
        return move(request, RequestStatus.CANCELLED, by, EventType.CANCELLED)
