"""Market hours: pure functions over ActivesSchedule documents.

A document holds, per pair, the trading windows of each weekday in GLIMPSE_TZ:
    {"ativo": "EURUSD", "segunda": [[0, 1759], [1930, 2359]], ..., "domingo": [[1930, 2359], [0, 0]]}
A window is [startHHMM, endHHMM], both minutes included; [0, 0] means no
window. A window whose start is after its end runs over midnight (it covers
the end of the day and the start of the same day). A day may also hold a
single window ([900, 1700]) instead of a list of them.

Nothing here reads a clock: callers pass a local datetime (see
glimpse.runtime.clock.local_datetime).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

# Python's weekday(): Monday is 0.
WEEKDAY_KEYS = ("segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo")
NO_WINDOW = (0, 0)


def weekday_key(local_dt: datetime) -> str:
    """The Portuguese weekday key (segunda..domingo) of a local datetime."""
    return WEEKDAY_KEYS[local_dt.weekday()]


def hhmm(local_dt: datetime) -> int:
    """The local time of day as an integer HHMM (13:05 -> 1305)."""
    return local_dt.hour * 100 + local_dt.minute


def _check_hhmm(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: times must be integers HHMM, got {value!r}")
    if not (0 <= value <= 2359 and value % 100 < 60):
        raise ValueError(f"{where}: {value!r} is not a time HHMM")
    return value


def windows(schedule_doc: Mapping[str, Any], day_key: str) -> list[tuple[int, int]]:
    """The trading windows of one weekday, without the empty [0, 0] ones.

    Raises ValueError naming the pair and the day when the document is malformed.
    """
    if day_key not in WEEKDAY_KEYS:
        raise ValueError(f"unknown weekday key {day_key!r}")
    where = f"ActivesSchedule {schedule_doc.get('ativo', '?')}.{day_key}"
    raw = schedule_doc.get(day_key)
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise ValueError(f"{where} must be a list of [start, end] windows, got {raw!r}")
    if len(raw) == 2 and all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        raw = [raw]
    result = []
    for window in raw:
        if not isinstance(window, (list, tuple)) or len(window) != 2:
            raise ValueError(f"{where}: a window must be [startHHMM, endHHMM], got {window!r}")
        start, end = (_check_hhmm(x, where) for x in window)
        if (start, end) != NO_WINDOW:
            result.append((start, end))
    return result


def in_window(time_hhmm: int, window: tuple[int, int]) -> bool:
    start, end = window
    if start <= end:
        return start <= time_hhmm <= end
    return time_hhmm >= start or time_hhmm <= end


def is_open(schedule_doc: Mapping[str, Any] | None, local_dt: datetime) -> bool:
    """True when `local_dt` (in the schedule's zone) falls inside a window of its weekday.

    A pair without a schedule document is closed.
    """
    if schedule_doc is None:
        return False
    now = hhmm(local_dt)
    return any(in_window(now, window) for window in windows(schedule_doc, weekday_key(local_dt)))
