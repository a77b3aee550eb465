"""A crontab expression as an APScheduler trigger, meaning what crontab means.

APScheduler's own `CronTrigger.from_crontab` numbers weekdays from 0 = Monday, so "0 9 * * 0"
would run on Mondays and "7" would be refused; crontab counts 0 and 7 as Sunday. Here the
weekday field (numbers 0-7, names sun-sat, ranges, lists, steps) is expanded into day names,
which mean the same to both. Crontab also runs on a day that matches the day of the month *or*
the weekday when both fields are restricted (neither starts with `*`), where APScheduler
would need both: that case becomes an `OrTrigger` of one trigger per field.
The minute, hour, day-of-month and month fields mean the same in both and pass through.
"""
from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

FIELDS = ("minute", "hour", "day", "month", "day_of_week")
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab's numbering: 0 (and 7) is Sunday
SUNDAY_AS_7 = 7
DOW_MAX = 7


class CrontabError(ValueError):
    """The expression is not a five-field crontab expression; the message says which part."""


def crontab_trigger(expression: str, timezone: tzinfo | str | None = None) -> BaseTrigger:
    """The trigger for a five-field crontab expression (minute hour day month weekday)."""
    fields = expression.split()
    if len(fields) != len(FIELDS):
        raise CrontabError(f"it has {len(fields)} fields, not {len(FIELDS)}")
    minute, hour, day, month, dow = fields
    for name, value in zip(FIELDS, fields[:-1]):
        try:
            CronTrigger(**{name: value})
        except ValueError as exc:
            raise CrontabError(f"{name} field: {exc}") from None
    days = weekday_names(dow)
    if day.startswith("*") or dow.startswith("*"):
        return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=days, timezone=timezone)
    return OrTrigger([
        CronTrigger(minute=minute, hour=hour, day=day, month=month, timezone=timezone),
        CronTrigger(minute=minute, hour=hour, month=month, day_of_week=days, timezone=timezone),
    ])


def weekday_names(field: str) -> str:
    """The crontab weekday field as APScheduler day names: "0" -> "sun", "1-5" -> "mon,tue,wed,thu,fri"."""
    days: set[int] = set()
    for token in field.lower().split(","):
        part, slash, step_text = token.partition("/")
        step = _number(step_text, "step") if slash else 1
        if step < 1:
            raise CrontabError(f"weekday step {token!r} must be at least 1")
        if part == "*":
            low, high = 0, DOW_MAX
        elif "-" in part:
            first, _, last = part.partition("-")
            low, high = _weekday(first), _weekday(last)
            if high == 0 and low > 0:  # "mon-sun": Sunday ends the week
                high = SUNDAY_AS_7
        else:
            low = _weekday(part)
            high = DOW_MAX if slash else low  # "1/2": from Monday on, every other day
        if low > high:
            raise CrontabError(f"weekday range {token!r} runs backwards")
        days.update(d % SUNDAY_AS_7 for d in range(low, high + 1, step))
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def _weekday(text: str) -> int:
    if text in DAY_NAMES:
        return DAY_NAMES.index(text)
    value = _number(text, "weekday")
    if not 0 <= value <= DOW_MAX:
        raise CrontabError(f"weekday {text!r} is not 0-7 (0 and 7 are Sunday) or sun-sat")
    return value


def _number(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise CrontabError(f"{what} {text!r} is not a number")
    return int(text)
