"""Service levels in business time: when a claim must be answered and settled.

The desk's calendar (time zone, opening hours, working days, holidays) turns
"24 hours" into 24 hours of the desk being open. Due times are computed when the
claim is made and stored in UTC. The resolution clock stops while the claim waits
on the customer (an answer, the goods, a quote decision): leaving such a state
pushes the resolution due time back by the business time spent there. The
business time of the first answer and of the resolution is stored when they
happen, so statistics are plain SQL.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Callable, FrozenSet, Iterator, Optional, Tuple

import pytz

from .enums import RequestStatus
from .settings import AftersalesSettings

# A calendar with no open day for this long is a misconfiguration, not a wait.
MAX_DAYS_SEARCHED = 10 * 366

# The customer owes the next step: answer, send the goods, accept the quote.
WAITING_ON_CUSTOMER = (
    RequestStatus.NEEDS_INFO,
    RequestStatus.APPROVED,
    RequestStatus.QUOTED,
)


@dataclass(frozen=True)
class BusinessCalendar:
    zone: "pytz.BaseTzInfo"
    opens_at: time
    closes_at: time
    working_days: FrozenSet[int]
    holidays: FrozenSet[date]

    @classmethod
    def from_settings(cls, settings: AftersalesSettings) -> "BusinessCalendar":
        return cls(
            zone=pytz.timezone(settings.business_time_zone),
            opens_at=settings.opens_at,
            closes_at=settings.closes_at,
            working_days=frozenset(settings.working_days),
            holidays=frozenset(settings.holidays),
        )

    @property
    def working_day_length(self) -> timedelta:
        return datetime.combine(date.min, self.closes_at) - datetime.combine(
            date.min, self.opens_at
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_days and day not in self.holidays

    def _local(self, day: date, moment: time) -> datetime:
        # localize() picks the right offset on either side of a DST change.
        return self.zone.normalize(self.zone.localize(datetime.combine(day, moment)))

    def open_periods(self, start: datetime) -> Iterator[Tuple[datetime, datetime]]:
        """The desk's open periods from ``start`` on (the first one clipped)."""
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS_SEARCHED):
            if self.is_working_day(day):
                opens = self._local(day, self.opens_at)
                closes = self._local(day, self.closes_at)
                if closes > start:
                    yield max(opens, start), closes
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of open time after ``start``."""
        left = duration
        for opens, closes in self.open_periods(start):
            if closes - opens >= left:
                return (opens + left).astimezone(pytz.utc)
            left -= closes - opens
        raise ValueError("The business calendar has no working days.")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Open time between two moments (zero if ``end`` is not after ``start``)."""
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self.open_periods(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total


@dataclass(frozen=True)
class DueTimes:
    response: Optional[datetime]
    resolution: Optional[datetime]


def due_times(created_at: datetime, settings: AftersalesSettings) -> DueTimes:
    calendar = BusinessCalendar.from_settings(settings)
    return DueTimes(
        response=calendar.add(
            created_at, timedelta(hours=settings.first_response_hours)
        ),
        resolution=calendar.add(
            created_at, calendar.working_day_length * settings.resolution_days
        ),
    )


def check_calendar(settings: AftersalesSettings) -> None:
    """Raises ValueError if the targets can't be met in this calendar at all."""
    due_times(datetime.now(pytz.utc), settings)


def is_overdue(request, now: datetime) -> bool:
    if request.status in RequestStatus.FINISHED:
        return False
    late_answer = (
        request.first_response_at is None
        and request.sla_response_due_at is not None
        and request.sla_response_due_at < now
    )
    late_resolution = (
        request.sla_paused_at is None
        and request.sla_resolution_due_at is not None
        and request.sla_resolution_due_at < now
    )
    return late_answer or late_resolution


def track_step(
    request,
    from_status: str,
    answers: bool,
    now: datetime,
    settings: Callable[[], AftersalesSettings],
) -> Tuple[str, ...]:
    """Move the claim's clocks for one step (``answers``: a public step by the
    desk); returns the fields it changed. ``settings`` is called only when the
    calendar is needed."""
    fields: Tuple[str, ...] = ()
    calendar: Optional[BusinessCalendar] = None

    def open_seconds(start: datetime) -> int:
        # The plugin's settings (a query) are read once per step, if at all.
        nonlocal calendar
        if calendar is None:
            calendar = BusinessCalendar.from_settings(settings())
        return int(calendar.elapsed(start, now).total_seconds())

    was_waiting = from_status in WAITING_ON_CUSTOMER
    waiting = request.status in WAITING_ON_CUSTOMER
    if was_waiting and not waiting and request.sla_paused_at is not None:
        paused = open_seconds(request.sla_paused_at)
        request.sla_paused_seconds += paused
        if request.sla_resolution_due_at is not None:
            request.sla_resolution_due_at = calendar.add(
                request.sla_resolution_due_at, timedelta(seconds=paused)
            )
        request.sla_paused_at = None
        fields += ("sla_paused_at", "sla_paused_seconds", "sla_resolution_due_at")
    elif waiting and not was_waiting:
        request.sla_paused_at = now
        fields += ("sla_paused_at",)
    if answers and request.first_response_at is None:
        request.first_response_at = now
        request.response_business_seconds = open_seconds(request.created_at)
        fields += ("first_response_at", "response_business_seconds")
    if request.concluded_at is None and request.status in RequestStatus.CONCLUDED:
        request.concluded_at = now
        request.resolution_business_seconds = max(
            0, open_seconds(request.created_at) - request.sla_paused_seconds
        )
        fields += ("concluded_at", "resolution_business_seconds")
    return fields


def reopen(request, now: datetime, settings: AftersalesSettings) -> Tuple[str, ...]:
    """An appeal reopens a concluded claim: a new resolution target from now."""
    request.concluded_at = None
    request.resolution_business_seconds = None
    request.resolution_breached_at = None
    request.sla_resolution_due_at = resolution_due(now, settings)
    return (
        "concluded_at",
        "resolution_business_seconds",
        "resolution_breached_at",
        "sla_resolution_due_at",
    )


def resolution_due(start: datetime, settings: AftersalesSettings) -> Optional[datetime]:
    try:
        return due_times(start, settings).resolution
    except ValueError:
        return None
