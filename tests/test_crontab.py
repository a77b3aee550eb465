"""Crontab expressions mean what crontab means (robot/crontab.py), checked on real APScheduler
triggers against known dates: 0 and 7 are Sunday, and a restricted day of the month OR weekday."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from apscheduler.triggers.combining import OrTrigger

import robot.schedule as schedule
from robot.config import Schedule
from robot.crontab import CrontabError, crontab_trigger, weekday_names
from tablebot.errors import ConfigError

UTC = timezone.utc
# Wednesday 18 November 2026, 10:00 UTC
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


def fire_times(expression: str, count: int, start: datetime = START) -> list[str]:
    trigger = crontab_trigger(expression, timezone=UTC)
    times, previous, now = [], None, start
    for _ in range(count):
        moment = trigger.get_next_fire_time(previous, now)
        times.append(moment.strftime("%a %d %H:%M"))
        previous, now = moment, moment
        now = moment.replace(second=1)
    return times


@pytest.mark.parametrize("expression, expected", [
    ("0 9 * * 0", ["Sun 22 09:00", "Sun 29 09:00"]),
    ("0 9 * * 7", ["Sun 22 09:00", "Sun 29 09:00"]),
    ("0 9 * * sun", ["Sun 22 09:00", "Sun 29 09:00"]),
    ("0 9 * * 1-5", ["Thu 19 09:00", "Fri 20 09:00", "Mon 23 09:00", "Tue 24 09:00", "Wed 25 09:00", "Thu 26 09:00"]),
    ("0 9 * * mon-fri", ["Thu 19 09:00", "Fri 20 09:00", "Mon 23 09:00"]),
    ("*/15 * * * 6,0", ["Sat 21 00:00", "Sat 21 00:15", "Sat 21 00:30"]),
    ("0 12 * * */2", ["Thu 19 12:00", "Sat 21 12:00", "Sun 22 12:00", "Tue 24 12:00"]),  # 0,2,4,6
    ("0 12 * * 5-7", ["Fri 20 12:00", "Sat 21 12:00", "Sun 22 12:00", "Fri 27 12:00"]),
    ("0 12 * * sat-sun", ["Sat 21 12:00", "Sun 22 12:00", "Sat 28 12:00"]),
    ("30 10 * * 3", ["Wed 18 10:30", "Wed 25 10:30"]),
])
def test_weekdays_count_from_sunday_as_in_crontab(expression, expected):
    assert fire_times(expression, len(expected)) == expected


def test_a_restricted_day_of_month_and_weekday_run_on_either_as_in_crontab():
    # crontab(5): "the 1st and the 15th, and every Sunday", not "a 1st or 15th that is a Sunday"
    assert fire_times("0 9 1,15 * 0", 5, datetime(2026, 11, 26, tzinfo=UTC)) == [
        "Sun 29 09:00", "Tue 01 09:00", "Sun 06 09:00", "Sun 13 09:00", "Tue 15 09:00"]
    assert isinstance(crontab_trigger("0 9 1,15 * 0"), OrTrigger)
    assert fire_times("0 9 1 * *", 1) == ["Tue 01 09:00"]  # a day of the month alone still works


@pytest.mark.parametrize("field, names", [
    ("0", "sun"), ("7", "sun"), ("0,7", "sun"), ("*", "sun,mon,tue,wed,thu,fri,sat"), ("1-5", "mon,tue,wed,thu,fri"),
    ("1/2", "sun,mon,wed,fri"), ("MON,wed", "mon,wed"), ("mon-sun", "sun,mon,tue,wed,thu,fri,sat"),
])
def test_the_weekday_field_expands_to_day_names(field, names):
    assert weekday_names(field) == names


@pytest.mark.parametrize("expression, message", [
    ("0 9 * * 8", "weekday '8' is not 0-7"),
    ("0 9 * * fri-mon", "runs backwards"),
    ("0 9 * * 1/0", "step"),
    ("0 9 * *", "4 fields"),
    ("61 9 * * *", "minute"),
    ("0 9 * * ٣", "weekday '٣' is not a number"),
])
def test_what_crontab_refuses_is_refused(expression, message):
    with pytest.raises(CrontabError, match=message):
        crontab_trigger(expression)
    with pytest.raises(ConfigError, match=re.escape(f"schedule.cron {expression!r} is not a crontab expression")):
        schedule.build_trigger(Schedule(cron=expression, interval_minutes=None))


def test_build_trigger_uses_crontab_meaning():
    trigger = schedule.build_trigger(Schedule(cron="0 9 * * 0", interval_minutes=None))
    moment = trigger.get_next_fire_time(None, START.astimezone())
    assert moment.astimezone().weekday() == 6  # Sunday, in the robot's local time zone
