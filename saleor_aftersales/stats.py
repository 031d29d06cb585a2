"""What the after-sales manager watches, computed by the database.

Every figure is one aggregate query over the period's claims (or refunds, or order
lines), so the cost does not depend on how many rows there are in Python. Claims
belong to the period they were opened in, measured in the desk's time zone.
"""

from dataclasses import dataclass
from datetime import MAXYEAR, date, datetime, time, timedelta
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

import pytz
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Max,
    Q,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import selectors
from .policies import units_held
from .port import host
from .enums import RefundStatus, RequestType
from .models import (
    AftersalesLine,
    AftersalesRefund,
    AftersalesRequest,
    ShopOrder,
    ShopOrderLine,
)
from .settings import AftersalesSettings

DEFAULT_PERIOD_DAYS = 30
DELETED_PRODUCTS = "(deleted products)"
# Return and exchange claims take goods back; rejected or cancelled ones took none.
GOODS_BACK = (RequestType.RETURN, RequestType.EXCHANGE)


class Median(Aggregate):
    """PostgreSQL's exact median of a column."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def midnight(day: date, zone_name: str) -> datetime:
    """The moment ``day`` begins in the desk's time zone: claims belong to days
    there, in the statistics as in the queue's ``created`` filter. Within a day of
    the calendar's ends, the nearest moment a datetime holds."""
    try:
        moment = pytz.timezone(zone_name).localize(datetime.combine(day, time.min))
        moment.astimezone(pytz.utc)
    except OverflowError:
        return pytz.utc.localize(datetime.max if day.year == MAXYEAR else datetime.min)
    return moment


def created_within(first: Optional[date], last: Optional[date], zone_name: str) -> Q:
    """Claims opened from the start of ``first`` to the end of ``last`` (either
    open), days in the desk's time zone."""
    return days_within("created_at", first, last, zone_name)


def days_within(
    field: str, first: Optional[date], last: Optional[date], zone_name: str
) -> Q:
    """``field`` (a time) from the start of ``first`` to the end of ``last``
    (either open), days in the desk's time zone."""
    condition = Q()
    if first is not None:
        condition &= Q(**{f"{field}__gte": midnight(first, zone_name)})
    if last is not None and last < date.max:
        condition &= Q(
            **{f"{field}__lt": midnight(last + timedelta(days=1), zone_name)}
        )
    return condition


def met_service_levels() -> Q:
    """Answered by the response due time and concluded by the resolution due
    time (SQL's NULL, an answer or a due time missing, is not met)."""
    return Q(first_response_at__lte=F("sla_response_due_at")) & Q(
        concluded_at__lte=F("sla_resolution_due_at")
    )


def concluded_against_service_levels(met: bool) -> Q:
    """Concluded claims with service levels that met them all (``met``) or
    missed one: the complement of ``met_service_levels`` among them, NULLs
    counted as missed."""
    concluded = Q(concluded_at__isnull=False, sla_response_due_at__isnull=False)
    if met:
        return concluded & met_service_levels()
    return concluded & (
        Q(first_response_at__isnull=True)
        | Q(sla_resolution_due_at__isnull=True)
        | Q(first_response_at__gt=F("sla_response_due_at"))
        | Q(concluded_at__gt=F("sla_resolution_due_at"))
    )


@dataclass
class Period:
    start: date
    end: date  # inclusive

    def bounds(self, zone_name: str) -> Tuple[datetime, datetime]:
        return (
            midnight(self.start, zone_name),
            midnight(self.end + timedelta(days=1), zone_name),
        )


def default_period(settings: AftersalesSettings) -> Period:
    today = timezone.now().astimezone(pytz.timezone(settings.business_time_zone))
    return Period(today.date() - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today.date())


@dataclass
class ProductReturnRate:
    product_id: Optional[str]  # the host's product id; None: deleted since
    product_name: str
    units_sold: int
    units_claimed: int

    @property
    def rate_percent(self) -> float:
        return round(100.0 * self.units_claimed / self.units_sold, 2)


@dataclass
class Stats:
    period: Period
    claim_count: int
    by_status: Dict[str, int]
    by_type: Dict[str, int]
    by_reason: Dict[str, int]  # units claimed per reason
    return_rates: List[ProductReturnRate]
    refunds: List[Tuple[str, str, Decimal, int]]  # currency, method, total, count
    median_first_response_hours: Optional[float]
    median_resolution_hours: Optional[float]
    sla_evaluated: int
    sla_met: int
    average_rating: Optional[float]
    rating_count: int

    @property
    def sla_compliance_percent(self) -> Optional[float]:
        if not self.sla_evaluated:
            return None
        return round(100.0 * self.sla_met / self.sla_evaluated, 2)


def _hours(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds / 3600, 2)


def compute(
    period: Period, settings: AftersalesSettings, top_products: int = 20
) -> Stats:
    start, end = period.bounds(settings.business_time_zone)
    now = timezone.now()
    claims = AftersalesRequest.objects.filter(created_at__gte=start, created_at__lt=end)

    # Decided: concluded by the desk, or still open and already late. Claims the
    # customer cancelled are neither.
    evaluated = Q(concluded_at__isnull=False) | selectors.overdue(now)
    met = met_service_levels()
    # Counts in one parallel scan, grouped by status and type, summed here.
    by_status: Dict[str, int] = {}
    by_type: Dict[str, int] = {}
    totals = {"n": 0, "evaluated": 0, "met": 0, "rating_sum": 0, "ratings": 0}
    groups = (
        claims.order_by()
        .values("status", "type")
        .annotate(
            n=Count("pk"),
            evaluated=Count(
                "pk", filter=evaluated & Q(sla_response_due_at__isnull=False)
            ),
            met=Count("pk", filter=evaluated & met),
            rating_sum=Coalesce(Sum("rating"), 0),
            ratings=Count("rating"),
        )
    )
    for group in groups:
        by_status[group["status"]] = by_status.get(group["status"], 0) + group["n"]
        by_type[group["type"]] = by_type.get(group["type"], 0) + group["n"]
        for name in totals:
            totals[name] += group[name]

    by_reason = dict(
        AftersalesLine.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("reason")
        .annotate(units=Sum("quantity_requested"))
        .values_list("reason", "units")
    )

    # Medians sort their values; they read one narrow index, with room to sort
    # in memory.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '32MB'")
        medians = claims.order_by().aggregate(
            response=Median("response_business_seconds"),
            resolution=Median("resolution_business_seconds"),
        )

    refunds = list(
        AftersalesRefund.objects.filter(
            status=RefundStatus.SUCCESS, completed_at__gte=start, completed_at__lt=end
        )
        .order_by("currency", "method")
        .values_list("currency", "method")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )

    return Stats(
        period=period,
        claim_count=totals["n"],
        by_status=by_status,
        by_type=by_type,
        by_reason=by_reason,
        return_rates=_return_rates(start, end, top_products),
        refunds=refunds,
        median_first_response_hours=_hours(medians["response"]),
        median_resolution_hours=_hours(medians["resolution"]),
        sla_evaluated=totals["evaluated"],
        sla_met=totals["met"],
        average_rating=(
            round(totals["rating_sum"] / totals["ratings"], 2)
            if totals["ratings"]
            else None
        ),
        rating_count=totals["ratings"],
    )


def _return_rates(start, end, top_products: int) -> List[ProductReturnRate]:
    """Of the units fulfilled by orders placed in the period, the share returns and
    exchanges took back (whenever they were opened), per product; highest first.
    Lines of deleted products are counted together."""
    sold_rows = list(
        ShopOrderLine.objects.filter(
            order__placed_at__gte=start, order__placed_at__lt=end
        )
        .exclude(order__status=ShopOrder.DRAFT)
        .order_by()
        .values("product_ref")
        .annotate(name=Max("product_name"), units=Sum("quantity_fulfilled"))
        .values_list("product_ref", "name", "units")
    )
    claimed_rows = (
        AftersalesLine.objects.filter(
            order_line__order__placed_at__gte=start,
            order_line__order__placed_at__lt=end,
            request__type__in=GOODS_BACK,
        )
        .order_by()
        .values("order_line__product_ref")
        .annotate(units=Sum(units_held()))
        .values_list("order_line__product_ref", "units")
    )
    # Products deleted since (the shop says which still exist) count together.
    existing = host.existing_product_refs({ref for ref, _, _ in sold_rows if ref})
    sold: Dict[Optional[str], Tuple[str, int]] = {}
    for ref, name, units in sold_rows:
        key = ref if ref in existing else None
        _name, total = sold.get(key, (DELETED_PRODUCTS, 0))
        sold[key] = (name if key else DELETED_PRODUCTS, total + (units or 0))
    claimed: Dict[Optional[str], int] = {}
    for ref, units in claimed_rows:
        key = ref if ref in existing else None
        claimed[key] = claimed.get(key, 0) + (units or 0)
    rates = [
        ProductReturnRate(
            product_id=product_id,
            product_name=name,
            units_sold=units,
            units_claimed=claimed.get(product_id) or 0,
        )
        for product_id, (name, units) in sold.items()
        if units
    ]
    rates.sort(key=lambda r: (-r.units_claimed / r.units_sold, -r.units_sold))
    return rates[:top_products]


# A customer's history, for staff looking at one of their claims ------------------


@dataclass
class CustomerHistory:
    email: str
    claim_count: int
    units_bought: int
    units_returned: int
    refunded: List[Tuple[str, Decimal]]  # per currency
    is_serial_returner: bool

    @property
    def return_rate_percent(self) -> Optional[float]:
        if not self.units_bought:
            return None
        return round(100.0 * self.units_returned / self.units_bought, 2)


def customer_histories(
    emails: List[str], settings: AftersalesSettings
) -> Dict[str, CustomerHistory]:
    """History per customer e-mail, in three queries whatever the number of
    customers (a page of claims asks for all of theirs at once)."""
    emails = sorted({email for email in emails if email})
    if not emails:
        return {}
    claims = {
        email: (count, units)
        for email, count, units in AftersalesRequest.objects.filter(
            user_email__in=emails
        )
        .order_by()
        .values("user_email")
        .annotate(
            n=Count("pk", distinct=True),
            units=Sum(
                units_held(request="", line="lines__"),
                filter=Q(type__in=GOODS_BACK),
            ),
        )
        .values_list("user_email", "n", "units")
    }
    bought = dict(
        ShopOrderLine.objects.filter(order__user_email__in=emails)
        .order_by()
        .values("order__user_email")
        .annotate(units=Sum("quantity_fulfilled"))
        .values_list("order__user_email", "units")
    )
    refunded: Dict[str, List[Tuple[str, Decimal]]] = {}
    for email, currency, total in (
        AftersalesRefund.objects.filter(
            request__user_email__in=emails, status=RefundStatus.SUCCESS
        )
        .order_by("request__user_email", "currency")
        .values_list("request__user_email", "currency")
        .annotate(total=Sum("amount"))
    ):
        refunded.setdefault(email, []).append((currency, total))

    result = {}
    for email in emails:
        history = CustomerHistory(
            email=email,
            claim_count=claims.get(email, (0, 0))[0],
            units_bought=bought.get(email) or 0,
            units_returned=claims.get(email, (0, 0))[1] or 0,
            refunded=refunded.get(email, []),
            is_serial_returner=False,
        )
        rate = history.return_rate_percent
        history.is_serial_returner = (
            history.claim_count >= settings.serial_returner_min_claims
            and rate is not None
            and rate >= float(settings.serial_returner_rate_percent)
        )
        result[email] = history
    return result
