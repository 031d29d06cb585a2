"""What may be claimed, until when: policies and the eligibility of an order's lines.

Each product type may have its own return policy; what it leaves empty, and
product types without one, follow the shop's settings. Only fulfilled units count,
minus the units other live claims already hold, inside the window counted from the
line's latest fulfillment.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Dict, Iterable, List, Optional

from django.db import transaction
from django.db.models import Case, F, IntegerField, Sum, Value, When
from django.utils import timezone

from .enums import Ineligibility, Reason, RequestStatus, RequestType, UsageUnit
from .error_codes import AftersalesErrorCode as Code
from .error_codes import aftersales_error as _error
from .models import (
    AftersalesLine,
    ReturnPolicy,
    ShopOrder,
    ShopOrderLine,
    WarrantyPolicy,
)
from .settings import AftersalesSettings

# Claims that take goods back from the customer and so use up returnable units.
GOODS_RETURNING_TYPES = (RequestType.RETURN, RequestType.EXCHANGE)


@dataclass(frozen=True)
class Policy:
    """The terms that apply to one product type (or the shop's, when None)."""

    final_sale: bool
    return_window_days: int
    changed_mind_window_days: int
    exchange_window_days: int
    restocking_fee_percent: Decimal
    returnless_refund_below: Decimal
    shipping_refundable: bool
    product_type_ref: str = ""


def shop_policy(settings: AftersalesSettings) -> Policy:
    return Policy(
        final_sale=False,
        return_window_days=settings.return_window_days,
        changed_mind_window_days=settings.changed_mind_window_days,
        exchange_window_days=settings.exchange_window_days,
        restocking_fee_percent=settings.restocking_fee_percent,
        returnless_refund_below=settings.returnless_refund_below,
        shipping_refundable=settings.shipping_refundable,
    )


def policy_of(row: Optional[ReturnPolicy], settings: AftersalesSettings) -> Policy:
    """A product type's policy with its empty fields filled from the shop's."""
    default = shop_policy(settings)
    if row is None:
        return default
    overrides = {
        name: getattr(row, name)
        for name in (
            "return_window_days",
            "changed_mind_window_days",
            "exchange_window_days",
            "restocking_fee_percent",
            "returnless_refund_below",
            "shipping_refundable",
        )
        if getattr(row, name) is not None
    }
    return replace(
        default,
        final_sale=row.final_sale,
        product_type_ref=row.product_type_ref,
        **overrides,
    )


def policies_by_product_type(
    product_type_refs: Iterable[str], settings: AftersalesSettings
) -> Dict[str, Policy]:
    """The policy of each product type that has one (one query), by its reference;
    the key "" (no product type, or none with a policy) maps to the shop's."""
    refs = {ref for ref in product_type_refs if ref}
    result: Dict[str, Policy] = {"": shop_policy(settings)}
    if refs:
        for row in ReturnPolicy.objects.filter(product_type_ref__in=sorted(refs)):
            result[row.product_type_ref] = policy_of(row, settings)
    return result


def policies_by_line(
    order_lines: Iterable[ShopOrderLine], settings: AftersalesSettings
) -> Dict[int, Policy]:
    """The policy of each order line (one query at most), by the line's pk."""
    order_lines = list(order_lines)
    by_type = policies_by_product_type(
        [line.product_type_ref for line in order_lines], settings
    )
    return {
        line.pk: by_type.get(line.product_type_ref, by_type[""]) for line in order_lines
    }


def _after(start: Optional[datetime], days: int) -> Optional[datetime]:
    return start + timedelta(days=days) if start else None


@dataclass
class LineEligibility:
    order_line: ShopOrderLine
    policy: Policy
    quantity_fulfilled: int
    quantity_claimed: int
    fulfilled_at: Optional[datetime]

    @property
    def return_deadline(self) -> Optional[datetime]:
        return _after(self.fulfilled_at, self.policy.return_window_days)

    @property
    def changed_mind_deadline(self) -> Optional[datetime]:
        return _after(self.fulfilled_at, self.policy.changed_mind_window_days)

    @property
    def exchange_deadline(self) -> Optional[datetime]:
        return _after(self.fulfilled_at, self.policy.exchange_window_days)

    def deadline_for(self, type: str, reason: str) -> Optional[datetime]:
        if type == RequestType.EXCHANGE:
            return self.exchange_deadline
        if reason in Reason.DISCRETIONARY:
            return self.changed_mind_deadline
        return self.return_deadline

    @property
    def quantity_available(self) -> int:
        """Fulfilled units not held by another claim (ignores the window)."""
        return max(0, self.quantity_fulfilled - self.quantity_claimed)

    def refusal(self, type: str, reason: str, now: datetime) -> Optional[str]:
        """Why the policy refuses a claim of this type and reason today, or None.

        Repairs are never refused by policy: warranty decides who pays.
        """
        if self.quantity_fulfilled < 1:
            return Ineligibility.NOT_FULFILLED
        if type == RequestType.REPAIR:
            return None
        if self.policy.final_sale:
            return Ineligibility.FINAL_SALE
        deadline = self.deadline_for(type, reason)
        if deadline is None or now > deadline:
            return Ineligibility.WINDOW_CLOSED
        if self.quantity_available < 1:
            return Ineligibility.ALL_UNITS_CLAIMED
        return None

    def claimable_quantity(self, type: str, now: datetime) -> int:
        """Units that can be returned (for a fault) or exchanged today."""
        if self.refusal(type, Reason.DEFECTIVE, now):
            return 0
        return self.quantity_available

    def returnable_quantity(self, now: datetime) -> int:
        return self.claimable_quantity(RequestType.RETURN, now)


def units_held(request: str = "request__", line: str = ""):
    """Units a return/exchange line holds: requested while pending, then approved;
    none once rejected or cancelled. Paths from the line (default) or, with
    ``request=""`` and ``line="lines__"``, from its claim."""
    return Case(
        When(
            **{f"{request}status__in": RequestStatus.PENDING},
            then=F(f"{line}quantity_requested"),
        ),
        When(**{f"{request}status__in": RequestStatus.RELEASED}, then=Value(0)),
        default=F(f"{line}quantity_approved"),
        output_field=IntegerField(),
    )


def claimed_quantities(
    order_line_pks: Iterable[int], exclude_request_pk: Optional[int] = None
) -> Dict[int, int]:
    """Units per order line held by live return/exchange claims (one query)."""
    lines = AftersalesLine.objects.filter(
        order_line_id__in=list(order_line_pks),
        request__type__in=GOODS_RETURNING_TYPES,
    )
    if exclude_request_pk is not None:
        lines = lines.exclude(request_id=exclude_request_pk)
    # order_by(): Django 3.0 would group by the model's ordering (pk) too.
    rows = lines.order_by().values("order_line_id").annotate(held=Sum(units_held()))
    return {row["order_line_id"]: row["held"] or 0 for row in rows}


def line_eligibility(
    order_lines: List[ShopOrderLine],
    settings: AftersalesSettings,
    exclude_request_pk: Optional[int] = None,
) -> Dict[int, LineEligibility]:
    """Eligibility of each order line, keyed by its pk: two queries in all."""
    pks = [line.pk for line in order_lines]
    claimed = claimed_quantities(pks, exclude_request_pk)
    policies = policies_by_line(order_lines, settings)
    return {
        line.pk: LineEligibility(
            order_line=line,
            policy=policies[line.pk],
            quantity_fulfilled=line.quantity_fulfilled,
            quantity_claimed=claimed.get(line.pk, 0),
            fulfilled_at=line.fulfilled_at,
        )
        for line in order_lines
    }


def lines_of(order: ShopOrder) -> List[ShopOrderLine]:
    """The copy's lines: those just saved with it, else one query."""
    saved = getattr(order, "lines_by_host_id", None)
    if saved is not None:
        return sorted(saved.values(), key=lambda line: line.pk)
    return list(order.lines.all())


def lines_subtotal(order: ShopOrder) -> Decimal:
    """The order's lines at their unit prices, before order-level discounts."""
    return sum(
        (line.unit_price_gross_amount * line.quantity for line in lines_of(order)),
        Decimal("0"),
    )


def order_eligibility(
    order: ShopOrder, settings: AftersalesSettings
) -> List[LineEligibility]:
    lines = lines_of(order)
    by_pk = line_eligibility(lines, settings)
    return [by_pk[line.pk] for line in lines]


def paid_unit_prices(
    order: ShopOrder, order_lines: Iterable[ShopOrderLine]
) -> Dict[int, Decimal]:
    """What the customer really paid per unit of each line, keyed by line pk.

    Order-level discounts (vouchers) are spread over the lines in proportion to
    their value and rounded down, so refunds can't exceed what was paid.
    """
    subtotal = lines_subtotal(order)
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


# Managing policies ------------------------------------------------------------------

MAX_DAYS = 3650
MAX_MONTHS = 600
# "24 months or 40,000 km": beyond ten million km (or hours) a limit limits nothing.
MAX_USAGE_LIMIT = 10_000_000
MAX_AMOUNT = Decimal("1000000")

CENT = Decimal("0.01")

# What a product type's policy may set (model field: kind of value).
POLICY_FIELDS = {
    "final_sale": "bool",
    "return_window_days": "days",
    "changed_mind_window_days": "days",
    "exchange_window_days": "days",
    "restocking_fee_percent": "percent",
    "returnless_refund_below": "amount",
    "shipping_refundable": "bool",
}


def _check(field: str, kind: str, value) -> None:
    if kind == "days" and not 0 <= value <= MAX_DAYS:
        raise _error(field, f"Give 0-{MAX_DAYS} days.", Code.INVALID)
    if kind == "months" and not 0 <= value <= MAX_MONTHS:
        raise _error(field, f"Give 0-{MAX_MONTHS} months.", Code.INVALID)
    if kind == "percent" and not (value.is_finite() and 0 <= value <= 100):
        raise _error(field, "Give a percentage, 0-100.", Code.INVALID)
    if kind == "amount" and not (
        value.is_finite() and 0 <= value <= MAX_AMOUNT and value == value.quantize(CENT)
    ):
        raise _error(field, f"Give an amount in cents, 0-{MAX_AMOUNT}.", Code.INVALID)
    if kind == "percent" and value != value.quantize(CENT):
        raise _error(field, "Give at most two decimals.", Code.INVALID)


def _check_usage(usage: dict) -> None:
    """A usage limit and its unit come together: both set, or both null (no limit)."""
    limit = usage.get("warranty_usage_limit")
    unit = usage.get("warranty_usage_unit")
    if (limit is None) != (unit is None):
        missing = "warranty_usage_unit" if unit is None else "warranty_usage_limit"
        raise _error(
            missing,
            "Give the usage limit and its unit together; null both to remove it.",
            Code.REQUIRED,
        )
    if limit is not None and not 1 <= limit <= MAX_USAGE_LIMIT:
        raise _error(
            "warranty_usage_limit",
            f"Give a whole number, 1-{MAX_USAGE_LIMIT}.",
            Code.INVALID,
        )
    if unit is not None and unit not in dict(UsageUnit.CHOICES):
        raise _error("warranty_usage_unit", "Give km or hours.", Code.INVALID)


def save_policy(
    product_type_ref: str,
    values: dict,
    warranty_months: Optional[int] = None,
    warranty_usage: Optional[dict] = None,
):
    """Set a product type's terms; fields not given keep their value. All values
    are checked before anything is written.

    ``warranty_usage``: ``warranty_usage_limit`` and ``warranty_usage_unit``, both
    set or both None (no usage limit); None: unchanged.
    """
    values = dict(values)
    if values.get("final_sale", False) is None:
        values["final_sale"] = False
    for field, value in values.items():
        if value is not None:
            _check(field, POLICY_FIELDS[field], value)
    if warranty_months is not None:
        _check("warranty_months", "months", warranty_months)
    if warranty_usage is not None:
        _check_usage(warranty_usage)
    with transaction.atomic():
        policy, _ = ReturnPolicy.objects.select_for_update().get_or_create(
            product_type_ref=product_type_ref
        )
        for field, value in values.items():
            setattr(policy, field, value)
        policy.updated_at = timezone.now()
        warranty = (
            WarrantyPolicy.objects.select_for_update()
            .filter(product_type_ref=product_type_ref)
            .first()
        )
        if warranty_months is not None or warranty_usage is not None:
            limit = (warranty_usage or {}).get("warranty_usage_limit")
            if warranty is None and warranty_months is None and limit is not None:
                # Nothing to put beside the limit: the months are the shop's
                # setting, which may change; this type's terms must say theirs.
                raise _error(
                    "warranty_months",
                    "Give the warranty months with a usage limit.",
                    Code.REQUIRED,
                )
            if warranty is None and warranty_months is not None:
                warranty = WarrantyPolicy(product_type_ref=product_type_ref)
            if warranty is not None:
                if warranty_months is not None:
                    warranty.months = warranty_months
                if warranty_usage is not None:
                    warranty.usage_limit = limit
                    unit = warranty_usage.get("warranty_usage_unit")
                    warranty.usage_unit = unit or ""
                warranty.save()
        policy.save()
    return policy


def delete_policy(product_type_ref: str) -> bool:
    """Back to the shop's defaults (the warranty terms stay)."""
    deleted, _ = ReturnPolicy.objects.filter(product_type_ref=product_type_ref).delete()
    return bool(deleted)


@dataclass
class Terms:
    """What a product type ("": the shop) offers, as it applies today."""

    product_type_ref: str
    policy: Policy
    warranty_months: int
    # "or 40,000 km": the product type's own usage limit (None: none).
    warranty_usage_limit: Optional[int] = None
    warranty_usage_unit: str = ""


def _with_warranty(product_type_ref, policy: Policy, warranty, settings) -> Terms:
    if warranty is None:
        return Terms(product_type_ref, policy, settings.warranty_months)
    return Terms(
        product_type_ref,
        policy,
        warranty.months,
        warranty.usage_limit,
        warranty.usage_unit or "",
    )


def terms_of(product_type_ref: str, settings: AftersalesSettings) -> Terms:
    row = ReturnPolicy.objects.filter(product_type_ref=product_type_ref).first()
    warranty = WarrantyPolicy.objects.filter(product_type_ref=product_type_ref).first()
    return _with_warranty(
        product_type_ref, policy_of(row, settings), warranty, settings
    )


def all_terms(settings: AftersalesSettings) -> List[Terms]:
    """The shop's, then every product type with terms of its own (two queries)."""
    returns = {row.product_type_ref: row for row in ReturnPolicy.objects.all()}
    warranties = {row.product_type_ref: row for row in WarrantyPolicy.objects.all()}
    result = [Terms("", shop_policy(settings), settings.warranty_months)]
    for type_ref in sorted(set(returns) | set(warranties)):
        row, warranty = returns.get(type_ref), warranties.get(type_ref)
        result.append(
            _with_warranty(type_ref, policy_of(row, settings), warranty, settings)
        )
    return result
