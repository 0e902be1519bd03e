"""When the bots act.

Orders are decided at the end of a minute (the decision instant, default
second 58.5) so a 1-minute turbo order, which expires at the end of the next
minute when fewer than 30 s remain, covers the next candle. A signal for
HH:MM is traded at the decision instant just before HH:MM starts.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_DECISION_SECOND = 58.5


def next_decision(now: float, second: float = DEFAULT_DECISION_SECOND) -> float:
    """The first decision instant at or after `now` (epoch seconds)."""
    if not 0 <= second < 60:
        raise ValueError("the decision second must be in [0, 60)")
    minute = math.floor(now / 60) * 60
    instant = minute + second
    return instant if instant >= now else instant + 60


def coming_minute(decision_instant: float, zone: ZoneInfo) -> str:
    """ "HH:MM" (in `zone`) of the minute that starts right after a decision instant: the signal it trades."""
    start = math.floor(decision_instant / 60) * 60 + 60
    return datetime.fromtimestamp(start, tz=zone).strftime("%H:%M")


def minute_start(t: float) -> float:
    return math.floor(t / 60) * 60


def local_day(t: float, zone: ZoneInfo) -> str:
    """The calendar day of `t` in `zone`, as YYYY-MM-DD."""
    return datetime.fromtimestamp(t, tz=zone).strftime("%Y-%m-%d")


def seconds_until_local_midnight(t: float, zone: ZoneInfo) -> float:
    local = datetime.fromtimestamp(t, tz=zone)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp() - t
