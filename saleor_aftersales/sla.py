"""Service levels in business time: when a claim must be answered and settled.

The desk's calendar (time zone, opening hours, working days, holidays) turns
"24 hours" into 24 hours of the desk being open. Due times are computed once, when
the claim is made, and stored in UTC; the elapsed business time of the first answer
and of the resolution is stored when they happen, so statistics are plain SQL.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import FrozenSet, Iterator, Tuple

import pytz

from .plugin import AftersalesSettings

# A calendar with no open day for this long is a misconfiguration, not a wait.
MAX_DAYS_SEARCHED = 3 * 366


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
    response: datetime
    resolution: datetime


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


def business_seconds(start: datetime, end: datetime, settings: AftersalesSettings):
    calendar = BusinessCalendar.from_settings(settings)
    return int(calendar.elapsed(start, end).total_seconds())
