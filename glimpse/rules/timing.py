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

# Background services (the assigner, the candle streams) start no work from just before the
# decision instant until the instant's first orders are out, so that they do not take the
# interpreter or the database from them. The order desk sends 375 first entries in 0.17-0.34 s
# at 1x (README, issue 14): the quiet lasts QUIET_AFTER_SECONDS past the instant, in wall
# seconds on a fast clock (at 60x the desk needs wall time, not market time), and never past
# the end of the minute. It used to last to the end of the minute, so a user who pressed Start
# at second 58.2 waited 1.8 s for a server, for nothing: that minute's orders were out by 58.9.
QUIET_BEFORE_SECONDS = 0.3
QUIET_AFTER_SECONDS = 0.4
# The quiet before the instant lasts at least this many wall seconds on a fast clock: the order desk
# decides the armed entries on one market read made once it has begun (operational_server.desk), and
# 0.3 market seconds are 5 wall ms at 60x, less than deciding 200 entries takes. The candles then
# seen are older in market seconds than at 1x, but no older than the candle streams' own wall floor
# between writes (glimpse.runtime.ticker) already makes them at that speed.
QUIET_BEFORE_WALL_SECONDS = 0.04


def next_decision(now: float, second: float = DEFAULT_DECISION_SECOND) -> float:
    """The first decision instant at or after `now` (epoch seconds)."""
    if not 0 <= second < 60:
        raise ValueError("the decision second must be in [0, 60)")
    minute = math.floor(now / 60) * 60
    instant = minute + second
    return instant if instant >= now else instant + 60


def quiet_before(speed: float = 1.0) -> float:
    """How many seconds of the clock the quiet before a decision instant lasts (see quiet_window)."""
    return max(QUIET_BEFORE_SECONDS, QUIET_BEFORE_WALL_SECONDS * speed)


def quiet_window(decision_second: float, speed: float = 1.0) -> tuple[float, float]:
    """The seconds of the minute (start, end) in which background services start no work.

    `speed`: market seconds per wall second (a fast clock's speed; 1 in production).
    """
    if not 0 <= decision_second < 60:
        raise ValueError("the decision second must be in [0, 60)")
    if not speed > 0:
        raise ValueError("the clock speed must be positive")
    after = QUIET_AFTER_SECONDS * max(1.0, speed)
    return max(0.0, decision_second - quiet_before(speed)), min(60.0, decision_second + after)


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
