"""The analytics page's figures, read from the per-day rollups (``rollups``).

A period and the one before it (same length) are read together: claims opened
per day and type, then per week and per period every counter summed by the
database, refunds per day, units per product; the only live part is the open
claims already late, which count as missed service levels and change with the
clock. A year reads a few hundred rows whatever the number of claims.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Dict, List, Optional, Tuple

import pytz
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from . import rollups, selectors
from .enums import Reason, RequestStatus, RequestType
from .models import (
    DURATION_BUCKETS,
    RATINGS,
    AftersalesRequest,
    ClaimDay,
    ProductDay,
    RefundDay,
    RollupState,
)
from .port import host
from .settings import AftersalesSettings
from .sla import BusinessCalendar
from .stats import DELETED_PRODUCTS, Period, ProductReturnRate, midnight

TYPES = tuple(value for value, _label in RequestType.CHOICES)
STATUSES = tuple(value for value, _label in RequestStatus.CHOICES)
REASONS = tuple(value for value, _label in Reason.CHOICES)
RESPONSE = [f"response_{i:02d}" for i in range(DURATION_BUCKETS)]
RESOLUTION = [f"resolution_{i:02d}" for i in range(DURATION_BUCKETS)]


@dataclass(frozen=True)
class Filters:
    types: Tuple[str, ...] = TYPES
    channel: Optional[str] = None  # None: every channel


class ServiceLevels:
    """Compliance and medians of figures holding ``sla_evaluated``, ``sla_met``
    and the two duration histograms."""

    sla_evaluated: int
    sla_met: int
    response_buckets: List[int]
    resolution_buckets: List[int]

    @property
    def sla_compliance_percent(self) -> Optional[float]:
        if not self.sla_evaluated:
            return None
        return round(100.0 * self.sla_met / self.sla_evaluated, 2)

    @property
    def median_first_response_hours(self) -> Optional[float]:
        return rollups.grouped_median(self.response_buckets)

    @property
    def median_resolution_hours(self) -> Optional[float]:
        return rollups.grouped_median(self.resolution_buckets)


@dataclass
class Summary(ServiceLevels):
    claim_count: int = 0
    by_type: Dict[str, int] = field(default_factory=dict)
    by_status: Dict[str, int] = field(default_factory=dict)
    units_by_reason: Dict[str, int] = field(default_factory=dict)
    ratings: Dict[int, int] = field(default_factory=dict)
    sla_evaluated: int = 0
    sla_met: int = 0
    response_buckets: List[int] = field(default_factory=lambda: [0] * DURATION_BUCKETS)
    resolution_buckets: List[int] = field(
        default_factory=lambda: [0] * DURATION_BUCKETS
    )
    refunds: List[Tuple[str, str, Decimal, int]] = field(default_factory=list)

    @property
    def units_claimed(self) -> int:
        return sum(self.units_by_reason.values())

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def average_rating(self) -> Optional[float]:
        count = self.rating_count
        if not count:
            return None
        return round(sum(r * n for r, n in self.ratings.items()) / count, 2)


@dataclass
class Week(ServiceLevels):
    start: date
    end: date
    opened: int
    sla_evaluated: int
    sla_met: int
    response_buckets: List[int]
    resolution_buckets: List[int]


@dataclass
class Targets:
    first_response_hours: float
    resolution_hours: float
    sla_compliance_percent: float


@dataclass
class Analytics:
    period: Period
    previous_period: Period
    time_zone: str
    channels: List[str]
    days: List[date]
    current: Summary
    previous: Summary
    opened_per_day: Dict[str, List[int]]  # per type, aligned with days
    return_rates: List[ProductReturnRate]
    weeks: List[Week]
    targets: Targets
    # (currency, method, amounts, counts), amounts and counts aligned with days
    refunds_per_day: List[Tuple[str, str, List[Decimal], List[int]]]

    @property
    def reasons(self) -> List[Tuple[str, int, int]]:
        """(reason, units, units in the previous period), most units first."""
        rows = [
            (
                reason,
                self.current.units_by_reason.get(reason, 0),
                self.previous.units_by_reason.get(reason, 0),
            )
            for reason in REASONS
        ]
        rows = [row for row in rows if row[1] or row[2]]
        rows.sort(key=lambda row: (-row[1], -row[2], REASONS.index(row[0])))
        return rows


def previous_of(period: Period) -> Period:
    length = (period.end - period.start).days + 1
    return Period(
        period.start - timedelta(days=length), period.start - timedelta(days=1)
    )


def ensure_built(settings: AftersalesSettings) -> None:
    """Rollups exist and count days in the desk's zone; otherwise rebuild them
    (first use, or the desk moved its time zone)."""
    state = RollupState.objects.order_by("pk").first()
    if state is None or state.time_zone != settings.business_time_zone:
        rollups.rebuild(settings.business_time_zone)


def compute(
    period: Period,
    settings: AftersalesSettings,
    filters: Filters = Filters(),
    top_products: int = 10,
) -> Analytics:
    ensure_built(settings)
    previous = previous_of(period)
    days = [
        period.start + timedelta(days=offset)
        for offset in range((period.end - period.start).days + 1)
    ]
    current, earlier = Summary(), Summary()
    weeks: Dict[date, Week] = {}
    for day in days:
        start = _week_start(day, period)
        if start not in weeks:
            weeks[start] = Week(
                start=start,
                end=min(period.end, start + timedelta(days=6 - start.weekday())),
                opened=0,
                sla_evaluated=0,
                sla_met=0,
                response_buckets=[0] * DURATION_BUCKETS,
                resolution_buckets=[0] * DURATION_BUCKETS,
            )
    _read_claim_days(period, previous, filters, current, earlier, weeks)
    _add_late(
        period, previous, settings.business_time_zone, filters, current, earlier, weeks
    )
    calendar = BusinessCalendar.from_settings(settings)
    return Analytics(
        period=period,
        previous_period=previous,
        time_zone=settings.business_time_zone,
        channels=_channels(previous.start, period.end),
        days=days,
        current=current,
        previous=earlier,
        opened_per_day=_opened_per_day(
            period, previous, days, filters, current, earlier
        ),
        return_rates=_return_rates(period, filters, top_products),
        weeks=[weeks[start] for start in sorted(weeks)],
        targets=Targets(
            first_response_hours=float(settings.first_response_hours),
            resolution_hours=round(
                settings.resolution_days
                * calendar.working_day_length.total_seconds()
                / 3600,
                2,
            ),
            sla_compliance_percent=float(settings.sla_target_percent),
        ),
        refunds_per_day=_refunds(period, previous, filters, days, current, earlier),
    )


def _where(filters: Filters, params: List[object]) -> str:
    """The filters as SQL over a rollup table with type and channel."""
    params.append(list(filters.types))
    sql = "type = ANY(%s)"
    if filters.channel is not None:
        params.append(filters.channel)
        sql += " AND channel = %s"
    return sql


def _opened_per_day(period, previous, days, filters, current, earlier):
    """Claims opened per day and type in the period, and per type in each period."""
    index = {day: offset for offset, day in enumerate(days)}
    series = {claim_type: [0] * len(days) for claim_type in filters.types}
    params: List[object] = [previous.start, period.end]
    where = _where(filters, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day, type, SUM(opened) FROM {ClaimDay._meta.db_table} "
            f"WHERE day BETWEEN %s AND %s AND {where} GROUP BY day, type "
            "HAVING SUM(opened) <> 0",
            params,
        )
        rows = cursor.fetchall()
    for day, claim_type, n in rows:
        summary = current if day >= period.start else earlier
        summary.by_type[claim_type] = summary.by_type.get(claim_type, 0) + n
        if day >= period.start:
            series[claim_type][index[day]] += n
    return series


def _read_claim_days(period, previous, filters, current, earlier, weeks) -> None:
    """Every counter summed per week of the period and over the period before,
    in one query; the period's figures are its weeks' sums."""
    columns = rollups.CLAIM_COLUMNS
    params: List[object] = [period.start, previous.start, period.end]
    where = _where(filters, params)
    sums = ", ".join(f"SUM({column})" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT CASE WHEN day >= %s THEN date_trunc('week', day)::date END, {sums}
            FROM {ClaimDay._meta.db_table}
            WHERE day BETWEEN %s AND %s AND {where}
            GROUP BY 1
            """,
            params,
        )
        rows = cursor.fetchall()
    for week, *values in rows:
        counters = dict(zip(columns, (value or 0 for value in values)))
        if week is None:  # the period before
            _into_summary(counters, earlier)
            continue
        _into_summary(counters, current)
        target = weeks[max(period.start, week)]
        target.opened += counters["opened"]
        target.sla_evaluated += counters["sla_decided"]
        target.sla_met += counters["sla_met"]
        for buckets, names in (
            (target.response_buckets, RESPONSE),
            (target.resolution_buckets, RESOLUTION),
        ):
            for index, name in enumerate(names):
                buckets[index] += counters[name]


def _into_summary(counters: Dict[str, int], summary: Summary) -> None:
    summary.claim_count += counters["opened"]
    for key, names in (
        (summary.by_status, [(s, f"status_{s}") for s in STATUSES]),
        (summary.units_by_reason, [(r, f"units_{r}") for r in REASONS]),
        (summary.ratings, [(r, f"rating_{r}") for r in RATINGS]),
    ):
        for name, column in names:
            if counters[column]:
                key[name] = key.get(name, 0) + counters[column]
    summary.sla_evaluated += counters["sla_decided"]
    summary.sla_met += counters["sla_met"]
    for buckets, names in (
        (summary.response_buckets, RESPONSE),
        (summary.resolution_buckets, RESOLUTION),
    ):
        for index, name in enumerate(names):
            buckets[index] += counters[name]


def _add_late(period, previous, zone_name, filters, current, earlier, weeks) -> None:
    """Open claims already late count as decided and missed: the clock, not a
    step, makes them so, so they are read live (few: only open claims)."""
    claims = AftersalesRequest.objects.filter(
        selectors.overdue(timezone.now()),
        sla_response_due_at__isnull=False,
        concluded_at__isnull=True,
        created_at__gte=midnight(previous.start, zone_name),
        created_at__lt=midnight(period.end + timedelta(days=1), zone_name),
        type__in=filters.types,
    )
    if filters.channel is not None:
        claims = claims.filter(order__channel=filters.channel)
    rows = (
        claims.annotate(day=TruncDate("created_at", tzinfo=pytz.timezone(zone_name)))
        .order_by()
        .values_list("day")
        .annotate(n=Count("pk"))
    )
    for day, n in rows:
        if day >= period.start:
            current.sla_evaluated += n
            weeks[_week_start(day, period)].sla_evaluated += n
        else:
            earlier.sla_evaluated += n


def _refunds(period, previous, filters, days, current, earlier):
    """Refunds per day of the period by currency and method, and each period's
    totals, from one query that sums them per day and in total."""
    index = {day: offset for offset, day in enumerate(days)}
    series: Dict[Tuple[str, str], Tuple[List[Decimal], List[int]]] = {}
    totals: Dict[bool, List[Tuple[str, str, Decimal, int]]] = {True: [], False: []}
    params: List[object] = [period.start, period.start, previous.start, period.end]
    where = _where(filters, params)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT day >= %s, CASE WHEN day >= %s THEN day END, currency, method,
                   SUM(refunds), SUM(amount)
            FROM {RefundDay._meta.db_table}
            WHERE day BETWEEN %s AND %s AND {where}
            GROUP BY GROUPING SETS ((1, 3, 4), (2, 3, 4))
            HAVING SUM(refunds) <> 0
            ORDER BY 3, 4
            """,
            params,
        )
        rows = cursor.fetchall()
    for this_period, day, currency, method, count, amount in rows:
        if this_period is not None:  # a period's total
            totals[this_period].append((currency, method, amount, count))
        elif day is not None:
            amounts, counts = series.get((currency, method)) or series.setdefault(
                (currency, method), ([Decimal(0)] * len(days), [0] * len(days))
            )
            amounts[index[day]] = amount
            counts[index[day]] = count
    current.refunds, earlier.refunds = totals[True], totals[False]
    return [
        (currency, method, amounts, counts)
        for (currency, method), (amounts, counts) in sorted(series.items())
    ]


def _channels(first: date, last: date) -> List[str]:
    return list(
        ClaimDay.objects.filter(day__gte=first, day__lte=last)
        .exclude(channel="")
        .order_by("channel")
        .values_list("channel", flat=True)
        .distinct()
    )


def _return_rates(
    period: Period, filters: Filters, top: int
) -> List[ProductReturnRate]:
    """Of the units fulfilled by orders placed in the period, the share returns
    and exchanges (those the filter keeps) hold, per product; products deleted
    since count together, as in ``stats``."""
    held = [
        column
        for claim_type, column in rollups.HELD_COLUMN.items()
        if claim_type in filters.types
    ]
    params: List[object] = [period.start, period.end]
    channel = ""
    if filters.channel is not None:
        params.append(filters.channel)
        channel = " AND channel = %s"
    claimed = " + ".join(f"SUM({column})" for column in held) or "0"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_ref, MAX(product_name), SUM(units_sold), {claimed} "
            f"FROM {ProductDay._meta.db_table} "
            f"WHERE day BETWEEN %s AND %s{channel} GROUP BY product_ref",
            params,
        )
        product_rows = cursor.fetchall()
    existing = host.existing_product_refs(
        {ref for ref, _name, _sold, _held in product_rows if ref}
    )
    merged: Dict[Optional[str], List] = {}
    for ref, name, sold, claimed_units in product_rows:
        key = ref if ref in existing else None
        entry = merged.setdefault(key, ["", 0, 0])
        if key is None:
            entry[0] = DELETED_PRODUCTS
        elif name and name > entry[0]:
            entry[0] = name
        entry[1] += sold or 0
        entry[2] += claimed_units or 0
    rates = [
        ProductReturnRate(
            product_id=key,
            product_name=name,
            units_sold=sold,
            units_claimed=claimed_units,
        )
        for key, (name, sold, claimed_units) in merged.items()
        if sold > 0
    ]
    rates.sort(
        key=lambda r: (-r.units_claimed / r.units_sold, -r.units_sold, r.product_name)
    )
    return rates[:top]


def _week_start(day: date, period: Period) -> date:
    return max(period.start, day - timedelta(days=day.weekday()))
