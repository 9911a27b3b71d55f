"""When schedules run: iterations checked, stepped on a zone's wall clock, described.

Pure functions of an ``iteration`` record (the Server's ``IterationContract``
fields), a clock reading and a zone; no storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, tzinfo

from .core import Invalid, parse_time
from .zones import UTC, utc_seconds, wall_clock

__all__ = ["check_iteration", "occurrences", "next_run", "frequency", "SUB_CONTRACTS"]

# The sub-contract each iteration type needs.
SUB_CONTRACTS = {"Hourly": "hourlyContract", "Weekly": "weeklyContract", "Monthly": "monthlyContract",
                 "Custom": "customContract", "Cron": "cronContract"}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAILY = timedelta(days=1)


def check_iteration(iteration: dict, field: str, now: float, creating: bool, zone: tzinfo = UTC) -> None:
    """Refuse an iteration without its sub-contract, starting in the past (on create) or ending before it starts."""
    kind = iteration.get("iterationType")
    needed = SUB_CONTRACTS.get(kind or "")
    if needed and not iteration.get(needed):
        raise Invalid.field(f"{field}.{needed}", f"A {needed} is required for iterationType {kind}.")
    start = parse_time(iteration.get("startTime"), f"{field}.startTime", zone)
    if creating and start <= now:
        raise Invalid.field(f"{field}.startTime", "The start time must be in the future.")
    if iteration.get("endTime"):
        end = parse_time(iteration["endTime"], f"{field}.endTime", zone)
        if end <= start:
            raise Invalid.field(f"{field}.endTime", "The end time must be after the start time.")


def _step(iteration: dict) -> timedelta | None:
    """How far apart candidate runs are; ``None`` for a one-off."""
    kind = iteration.get("iterationType")
    if kind == "Hourly":
        c = iteration.get("hourlyContract") or {}
        step = timedelta(hours=c.get("hours", 1) or 0, minutes=c.get("minutes", 0) or 0)
        return step if step.total_seconds() > 0 else timedelta(hours=1)
    if kind in ("Daily", "Weekly", "Monthly", "Custom", "Cron"):
        return _DAILY
    return None


def _daily(c: dict, dt: datetime) -> bool:
    return not c.get("runOnlyWorkWeek") or dt.weekday() < 5


def _weekly(c: dict, dt: datetime) -> bool:
    return _WEEKDAYS[dt.weekday()] in (c.get("daysOfWeek") or [])


def _monthly(c: dict, dt: datetime) -> bool:
    if c.get("simpleDayOfMonth"):
        return dt.day == (c.get("dayOfMonth") or 1)
    return _WEEKDAYS[dt.weekday()] == (c.get("dayOfWeek") or "Monday") and \
        (dt.day - 1) // 7 + 1 == (c.get("occurrence") or 1)


def _custom(c: dict, dt: datetime) -> bool:
    return dt.day in (c.get("daysOfMonth") or []) and dt.month in (c.get("months") or [])


# Which local days a run may fall on, per iteration type: (sub-contract, test).
_DAYS: dict[str, tuple[str, Callable[[dict, datetime], bool]]] = {
    "Daily": ("dailyContract", _daily), "Weekly": ("weeklyContract", _weekly),
    "Monthly": ("monthlyContract", _monthly), "Custom": ("customContract", _custom)}


def _matches_day(iteration: dict, dt: datetime) -> bool:
    rule = _DAYS.get(iteration.get("iterationType") or "")
    if rule is None:
        return True
    contract, test = rule
    return test(iteration.get(contract) or {}, dt)


def _bounds(iteration: dict, zone: tzinfo) -> tuple[float, float | None] | None:
    try:
        start = parse_time(iteration.get("startTime"), "startTime", zone)
    except Invalid:
        return None
    end = parse_time(iteration["endTime"], "endTime", zone) if iteration.get("endTime") else None
    return start, end


def occurrences(iteration: dict, after: float, before: float, limit: int = 400, zone: tzinfo = UTC) -> Iterator[float]:
    """UTC epoch seconds of the runs in ``[after, before)``.

    Runs step on the zone's wall clock (a daily 02:00 stays 02:00 across
    daylight saving), and days are matched on the local date.
    """
    bounds = _bounds(iteration, zone)
    if bounds is None:
        return
    start, end = bounds
    step = _step(iteration)
    if step is None:
        if after <= start < before and (end is None or start <= end):
            yield start
        return
    t = wall_clock(start, zone)
    if start < after:  # jump close to the window, a little early for daylight-saving shifts
        seconds = step.total_seconds()
        skips = int((wall_clock(after, zone) - t).total_seconds() // seconds)
        t += step * max(skips - 1 - int(7200 // seconds), 0)
    last = None
    for _ in range(limit):
        ts = utc_seconds(t, zone)
        if ts >= before or (end is not None and ts > end):
            return
        if ts >= after and ts != last and _matches_day(iteration, t):
            yield ts
            last = ts
        t += step


def next_run(iteration: dict, now: float, zone: tzinfo = UTC) -> float | None:
    """The first run at or after *now* (within 400 days of the later of now and the start)."""
    bounds = _bounds(iteration, zone)
    if bounds is None:
        return None
    return next(occurrences(iteration, now, max(now, bounds[0]) + 400 * 86400, zone=zone), None)


def frequency(iteration: dict) -> str:
    """The schedule's frequency in words, as the views show it."""
    kind = iteration.get("iterationType", "Once")
    if kind == "Hourly":
        c = iteration.get("hourlyContract") or {}
        return f"Every {c.get('hours', 1)} hour(s) {c.get('minutes', 0)} minute(s)"
    if kind == "Weekly":
        return "Weekly on " + ", ".join((iteration.get("weeklyContract") or {}).get("daysOfWeek") or [])
    if kind == "Cron":
        return "Cron " + (iteration.get("cronContract") or {}).get("cronExpression", "")
    return kind
