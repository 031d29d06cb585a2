"""Opening a claim (return, exchange or repair) on an order's fulfilled lines.
"""

from typing import Dict, List, Tuple

from django.db import transaction
from django.utils import timezone

from .. import rollups, sla, warranty
from ..actors import Actor
from ..enums import ActorType, EventType, Ineligibility, RequestType, WarrantyEndedBy
from ..error_codes import AftersalesErrorCode as Code
from ..error_codes import aftersales_error as _error
from ..models import AftersalesLine, AftersalesRequest, ShopOrder, ShopOrderLine
from ..orders import save_order
from ..policies import line_eligibility, paid_unit_prices
from ..port import OrderFacts, host
from ..settings import AftersalesSettings
from .steps import ClaimLineInput, record

# What the shopper asked for, beside the copied order line it names.
Chosen = List[Tuple[ClaimLineInput, ShopOrderLine]]


def _warranty_cover(card, chosen: Chosen, by: Actor) -> dict:
    """Whether the shown card covers this repair; an expired or void card still
    opens a (paid) repair and the claim says why."""
    if card is None:
        return {}
    claimed = {order_line.pk: line for line, order_line in chosen}
    line = claimed.get(card.order_line_id)
    if line is None:
        raise _error(
            "warranty_card_code",
            "This warranty card belongs to another item.",
            Code.WARRANTY_CARD_MISMATCH,
        )
    if (
        card.serial_number
        and line.serial_number
        and card.serial_number != line.serial_number
    ):
        raise _error(
            "warranty_card_code",
            f"This warranty card is for serial number {card.serial_number}.",
            Code.WARRANTY_CARD_MISMATCH,
        )
    ended_by = card.ended_by(timezone.now(), line.meter_reading)
    if line.serial_number and not card.serial_number and by.type != ActorType.CUSTOMER:
        # The desk records it; a customer's word alone doesn't go on the card.
        warranty.record_serial_number(card, by=by, serial_number=line.serial_number)
    notes = {
        None: f"Covered by warranty card until {card.ends_at:%Y-%m-%d}.",
        WarrantyEndedBy.DATE: f"Warranty ended on {card.ends_at:%Y-%m-%d}: paid repair.",
        WarrantyEndedBy.USAGE: (
            f"Warranty limited to {card.usage_limit} {card.usage_unit}; the meter "
            f"reads {line.meter_reading}: paid repair."
        ),
        WarrantyEndedBy.VOID: "The warranty card is void: paid repair.",
    }
    return {
        "warranty_card": card,
        "under_warranty": ended_by is None,
        "warranty_note": notes[ended_by],
    }


def _validate_replacement(
    index, line: ClaimLineInput, order_line: ShopOrderLine, settings
) -> None:
    replacement = line.replacement_variant
    if replacement is None:
        raise _error(
            "lines",
            f"Line {index + 1}: choose the replacement variant.",
            Code.REQUIRED,
        )
    same_product = bool(order_line.product_ref) and order_line.product_ref == (
        host.ref(replacement.product_id)
    )
    if not same_product and not settings.exchange_other_products:
        raise _error(
            "lines",
            f"Line {index + 1}: exchanges are for another variant of the same "
            "product.",
            Code.REPLACEMENT_NOT_ALLOWED,
        )


def _chosen_lines(order: ShopOrder, lines: List[ClaimLineInput]) -> Chosen:
    """Each asked line beside the order's copied line it names."""
    if not lines:
        raise _error("lines", "Choose at least one line.", Code.REQUIRED)
    chosen: Chosen = []
    seen = set()
    for index, line in enumerate(lines):
        order_line = order.lines_by_host_id.get(line.order_line)
        if order_line is None:
            raise _error(
                "lines",
                f"Line {index + 1} is not a line of this order.",
                Code.LINE_NOT_IN_ORDER,
            )
        if order_line.pk in seen:
            raise _error(
                "lines",
                f"Line {index + 1} repeats an order line.",
                Code.DUPLICATED_LINE,
            )
        seen.add(order_line.pk)
        if line.quantity < 1:
            raise _error(
                "lines",
                f"Line {index + 1}: quantity must be at least 1.",
                Code.QUANTITY_NOT_POSITIVE,
            )
        chosen.append((line, order_line))
    return chosen


def _validate_claim_lines(
    type: str,
    chosen: Chosen,
    settings: AftersalesSettings,
    may_override: bool = False,
) -> Dict[int, str]:
    """Refuse what can't be claimed; returns the policy exceptions staff opened
    the claim with, by order line pk."""
    now = timezone.now()
    eligibility = line_eligibility([order_line for _, order_line in chosen], settings)
    exceptions: Dict[int, str] = {}
    for index, (line, order_line) in enumerate(chosen):
        info = eligibility[order_line.pk]
        refusal = info.refusal(type, line.reason, now)
        if refusal in OVERRIDABLE and may_override:
            exceptions[order_line.pk] = refusal
        elif refusal:
            raise _refusal_error(index, info, type, line.reason, refusal)
        if type == RequestType.REPAIR:
            # Any delivered unit can be repaired; warranty decides who pays.
            if line.quantity > info.quantity_fulfilled:
                raise _error(
                    "lines",
                    f"Line {index + 1}: only {info.quantity_fulfilled} unit(s) "
                    "were delivered.",
                    Code.QUANTITY_EXCEEDED,
                )
            continue
        if type == RequestType.EXCHANGE:
            _validate_replacement(index, line, order_line, settings)
        if line.quantity > info.quantity_available:
            raise _error(
                "lines",
                f"Line {index + 1}: at most {info.quantity_available} "
                "unit(s) can be claimed.",
                Code.QUANTITY_EXCEEDED,
            )
    return exceptions


# Policy refusals staff may open a claim despite; approving it then takes an
# explicit override.
OVERRIDABLE = (Ineligibility.FINAL_SALE, Ineligibility.WINDOW_CLOSED)


def _refusal_error(index: int, info, type: str, reason: str, refusal: str):
    where = f"Line {index + 1}"
    if refusal == Ineligibility.NOT_FULFILLED:
        return _error(
            "lines", f"{where} has not been fulfilled yet.", Code.NOT_FULFILLED
        )
    if refusal == Ineligibility.FINAL_SALE:
        return _error(
            "lines",
            f"{where} was a final sale: it can't be returned or exchanged.",
            Code.FINAL_SALE,
        )
    if refusal == Ineligibility.WINDOW_CLOSED:
        deadline = info.deadline_for(type, reason)
        closed = f" on {deadline:%Y-%m-%d}" if deadline else ""
        return _error(
            "lines",
            f"{where}: the window for this reason closed{closed}.",
            Code.OUTSIDE_WINDOW,
        )
    return _error(
        "lines",
        f"{where}: every unit is already in another claim.",
        Code.QUANTITY_EXCEEDED,
    )


def create_request(
    facts: OrderFacts,
    *,
    type: str,
    lines: List[ClaimLineInput],
    by: Actor,
    settings: AftersalesSettings,
    customer_note: str = "",
    idempotency_key: str = "",
    warranty_card=None,
    language: str = "",
) -> AftersalesRequest:
    """Open a claim (return, exchange or repair) on an order's fulfilled lines,
    as the host's ``facts`` show the order now (``lines`` name the host's ids).

    A repeated call with the same ``idempotency_key`` returns the first claim; one
    asking for something else with it is refused (IDEMPOTENCY_KEY_REUSED).
    """
    with transaction.atomic():
        # The fresh copy stays row-locked until commit: claims on one order are
        # serialised, so two of them can't hold the same units.
        order = save_order(facts)
        chosen = _chosen_lines(order, lines)
        if idempotency_key:
            existing = AftersalesRequest.objects.filter(
                order=order, idempotency_key=idempotency_key
            ).first()
            if existing is not None:
                return _replayed(existing, type, chosen)
        exceptions = _validate_claim_lines(
            type, chosen, settings, may_override=by.is_staff_or_app
        )
        warranty_fields = (
            _warranty_cover(warranty_card, chosen, by)
            if type == RequestType.REPAIR
            else {}
        )
        unit_prices = paid_unit_prices(order, [order_line for _, order_line in chosen])
        created_at = timezone.now()
        try:
            due = sla.due_times(created_at, settings)
        except ValueError:  # a calendar without open days: no targets
            due = sla.DueTimes(response=None, resolution=None)
        request = AftersalesRequest.objects.create(
            created_at=created_at,
            updated_at=created_at,
            sla_response_due_at=due.response,
            sla_resolution_due_at=due.resolution,
            type=type,
            order=order,
            customer_ref=order.customer_ref,
            user_email=order.user_email,
            customer_note=customer_note,
            language=language,
            currency=order.currency,
            idempotency_key=idempotency_key,
            **warranty_fields,
        )
        lines = AftersalesLine.objects.bulk_create(
            [
                AftersalesLine(
                    request=request,
                    order_line=order_line,
                    quantity_requested=line.quantity,
                    reason=line.reason,
                    comment=line.comment,
                    unit_price_gross_amount=unit_prices[order_line.pk],
                    replacement_variant_ref=host.ref(
                        line.replacement_variant.pk
                        if line.replacement_variant
                        else None
                    ),
                    serial_number=line.serial_number,
                    meter_reading=line.meter_reading,
                    policy_exception=exceptions.get(order_line.pk, ""),
                    created_at=created_at,
                )
                for line, order_line in chosen
            ]
        )
        request._rollup_state = rollups.NEW
        record(
            request,
            by,
            EventType.CREATED,
            lines=lines,
            message=customer_note,
            parameters={
                "lines": [
                    {
                        "order_line": order_line.pk,
                        "quantity": line.quantity,
                        "reason": line.reason,
                    }
                    for line, order_line in chosen
                ]
            },
        )
    return request


def _replayed(existing: AftersalesRequest, type: str, chosen: Chosen):
    """The claim first made with this key, if the retry asks for the same units."""
    asked = sorted(
        (order_line.pk, line.quantity, line.reason) for line, order_line in chosen
    )
    made = sorted(
        existing.lines.values_list("order_line_id", "quantity_requested", "reason")
    )
    if existing.type != type or asked != made:
        raise _error(
            "idempotency_key",
            "This key was used for a different claim.",
            Code.IDEMPOTENCY_KEY_REUSED,
        )
    return existing
