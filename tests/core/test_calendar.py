"""The desk's business calendar: pure arithmetic of the core, run on both hosts'
Pythons (3.8 with Django 3.0 in the main suite, 3.12 with Django 5.2 in
``.venv-app``). No Saleor, no database."""

from datetime import datetime, timedelta

import pytest
import pytz
from django.core.exceptions import ValidationError

from saleor_aftersales import sla
from saleor_aftersales.settings import DEFAULTS, settings_from_configuration

UTC = pytz.utc
BERLIN = pytz.timezone("Europe/Berlin")


def utc(*args):
    return UTC.localize(datetime(*args))


def calendar(**configuration):
    settings = settings_from_configuration(configuration)
    return sla.BusinessCalendar.from_settings(settings)


# Calendar arithmetic ---------------------------------------------------------------


def test_default_calendar_counts_only_weekday_opening_hours():
    desk = calendar()  # UTC, 08:00-20:00, Monday to Friday
    friday_evening = utc(2026, 11, 27, 18)
    # Friday 2 h, Monday 12 h, Tuesday 10 h.
    assert desk.add(friday_evening, timedelta(hours=24)) == utc(2026, 12, 1, 18)
    assert desk.elapsed(friday_evening, utc(2026, 12, 1, 18)) == timedelta(hours=24)
    # The weekend adds nothing.
    assert desk.elapsed(utc(2026, 11, 28, 9), utc(2026, 11, 30, 8)) == timedelta(0)


def test_a_claim_made_at_night_starts_counting_at_opening():
    desk = calendar()
    tuesday_night = utc(2026, 12, 1, 23, 30)
    assert desk.add(tuesday_night, timedelta(hours=1)) == utc(2026, 12, 2, 9)
    # Exactly two full days: due at Thursday's closing, not Friday's opening.
    assert desk.add(tuesday_night, timedelta(hours=24)) == utc(2026, 12, 3, 20)
    assert desk.elapsed(tuesday_night, utc(2026, 12, 2, 7)) == timedelta(0)


def test_holidays_are_skipped():
    desk = calendar(Holidays="2026-12-25, 2026-12-28")
    # Thursday 24th 1 h; Friday 25th holiday; weekend; Monday 28th holiday;
    # Tuesday 12 h; Wednesday 11 h.
    assert desk.add(utc(2026, 12, 24, 19), timedelta(hours=24)) == utc(2026, 12, 30, 19)


def test_time_zone_and_summer_time_change():
    desk = calendar(
        **{"Business time zone": "Europe/Berlin", "Business hours": "09:00-17:00"}
    )
    # Friday 26 March 2027, 16:00 in Berlin (CET, UTC+1); clocks go forward on
    # Sunday. One hour on Friday, seven on Monday (CEST, UTC+2): 16:00 local.
    start = BERLIN.localize(datetime(2027, 3, 26, 16))
    due = desk.add(start, timedelta(hours=8))
    assert due == utc(2027, 3, 29, 14)
    assert due.astimezone(BERLIN).hour == 16
    assert desk.elapsed(start, due) == timedelta(hours=8)


def test_working_days_and_hours_are_configurable():
    desk = calendar(**{"Working days": "Sat,Sun", "Business hours": "10:00-14:00"})
    monday = utc(2026, 11, 30, 9)
    assert desk.add(monday, timedelta(hours=6)) == utc(2026, 12, 6, 12)


def test_adding_then_measuring_gives_back_the_same_duration():
    desk = calendar(Holidays="2026-12-25")
    start = utc(2026, 12, 20, 3, 17)
    for minutes in (0, 1, 59, 720, 721, 1440, 5000, 20000):
        due = desk.add(start, timedelta(minutes=minutes))
        assert desk.elapsed(start, due) == timedelta(minutes=minutes)


def test_resolution_is_due_after_working_days():
    monday_ten = utc(2026, 11, 30, 10)
    due = sla.due_times(monday_ten, DEFAULTS)
    # 24 business hours: Monday 10 h, Tuesday 12 h, Wednesday 2 h.
    assert due.response == utc(2026, 12, 2, 10)
    # 3 working days of 12 h: Monday 10, Tuesday 12, Wednesday 12, Thursday 2.
    assert due.resolution == utc(2026, 12, 3, 10)


@pytest.mark.parametrize(
    "name, value",
    [
        ("Business hours", "20:00-08:00"),
        ("Business hours", "8 to 20"),
        ("Working days", "Mon,Funday"),
        ("Working days", ""),
        ("Holidays", "25.12.2026"),
        ("Business time zone", "Mars/Olympus"),
        ("First response within business hours", "-1"),
    ],
)
def test_bad_calendars_are_refused(name, value):
    with pytest.raises(ValidationError) as error:
        settings_from_configuration({name: value})
    # On that setting, with Saleor's code for a bad plugin value.
    assert {
        field: [e.code for e in errors]
        for field, errors in error.value.error_dict.items()
    } == {name: ["invalid"]}
    assert name in error.value.error_dict[name][0].message
