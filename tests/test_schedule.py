"""glimpse.rules.schedule: weekday keys and trading windows of ActivesSchedule documents."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from glimpse.rules.pairs import PAIR_NAMES
from glimpse.rules.schedule import WEEKDAY_KEYS, hhmm, in_window, is_open, weekday_key, windows
from glimpse.runtime.clock import local_datetime
from glimpse.store.seed import COLLECTIONS_DIR, load_collection

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MONDAY = datetime(2024, 6, 3, 10, 0, tzinfo=SAO_PAULO)


def at(day_offset: int, hour: int, minute: int) -> datetime:
    return (MONDAY + timedelta(days=day_offset)).replace(hour=hour, minute=minute)


def test_weekday_keys_follow_the_calendar():
    assert [weekday_key(MONDAY + timedelta(days=i)) for i in range(7)] == [
        "segunda", "terca", "quarta", "quinta", "sexta", "sabado", "domingo",
    ]  # fmt: skip
    assert hhmm(at(0, 0, 0)) == 0 and hhmm(at(0, 13, 5)) == 1305 and hhmm(at(0, 23, 59)) == 2359


def test_window_ends_are_included_and_zero_zero_is_no_window():
    doc = {"ativo": "EURUSD", "segunda": [[900, 1700], [0, 0]]}
    assert not is_open(doc, at(0, 8, 59))
    assert is_open(doc, at(0, 9, 0)) and is_open(doc, at(0, 17, 0))
    assert not is_open(doc, at(0, 17, 1))
    assert not is_open({"ativo": "X", "segunda": [[0, 0], [0, 0]]}, at(0, 0, 0))


def test_several_windows_a_single_window_and_missing_days():
    doc = {"ativo": "EURUSD", "segunda": [[0, 1759], [1930, 2359]], "terca": [800, 900]}
    assert is_open(doc, at(0, 17, 59)) and not is_open(doc, at(0, 18, 0)) and not is_open(doc, at(0, 19, 29))
    assert is_open(doc, at(0, 19, 30)) and is_open(doc, at(0, 23, 59))
    assert is_open(doc, at(1, 8, 30)) and not is_open(doc, at(1, 9, 1))
    assert not is_open(doc, at(2, 12, 0))  # no "quarta" key: closed
    assert not is_open(None, at(0, 12, 0))  # no document: closed


def test_a_window_over_midnight_covers_both_ends_of_the_day():
    doc = {"ativo": "EURUSD", "segunda": [[2200, 200]]}
    assert is_open(doc, at(0, 23, 0)) and is_open(doc, at(0, 1, 0))
    assert not is_open(doc, at(0, 12, 0))


@pytest.mark.parametrize(
    "day, message",
    [
        ("not a list", "must be a list"),
        ([[900]], "a window must be"),
        ([[900, 2400]], "is not a time"),
        ([[960, 1000]], "is not a time"),
        ([["9:00", "10:00"]], "must be integers"),
        ([[True, 1000]], "must be integers"),
    ],
)
def test_malformed_days_raise_naming_the_pair_and_day(day, message):
    with pytest.raises(ValueError, match=message) as caught:
        is_open({"ativo": "GBPUSD", "segunda": day}, at(0, 9, 30))
    assert "GBPUSD.segunda" in str(caught.value)


def test_unknown_weekday_key_is_refused():
    with pytest.raises(ValueError, match="weekday"):
        windows({"ativo": "EURUSD"}, "monday")


@given(
    windows_=st.lists(
        st.tuples(st.integers(0, 23), st.integers(0, 59), st.integers(0, 23), st.integers(0, 59)), max_size=3
    ),
    hour=st.integers(0, 23),
    minute=st.integers(0, 59),
)
def test_is_open_matches_a_minute_by_minute_reference(windows_, hour, minute):
    day = [[h1 * 100 + m1, h2 * 100 + m2] for h1, m1, h2, m2 in windows_]
    covered: set[int] = set()
    for start, end in day:
        if (start, end) == (0, 0):
            continue
        s, e = start // 100 * 60 + start % 100, end // 100 * 60 + end % 100
        minutes = range(s, e + 1) if s <= e else [*range(s, 1440), *range(0, e + 1)]
        covered.update(minutes)
    doc = {"ativo": "EURUSD", "segunda": day}
    assert is_open(doc, at(0, hour, minute)) == (hour * 60 + minute in covered)
    assert any(in_window(hour * 100 + minute, tuple(w)) for w in day if tuple(w) != (0, 0)) == (
        hour * 60 + minute in covered
    )


def test_the_seeded_schedule_reads_as_forex_hours():
    docs = {doc["ativo"]: doc for doc in load_collection(COLLECTIONS_DIR / "ActivesSchedule.json")}
    assert set(docs) == set(PAIR_NAMES)
    for doc in docs.values():
        for key in WEEKDAY_KEYS:
            windows(doc, key)  # every document is well formed
    # Monday 2024-06-03 10:00 in São Paulo (13:00 UTC): forex open, OTC closed.
    monday_10 = local_datetime(1_717_419_600.0, SAO_PAULO)
    assert is_open(docs["EURUSD"], monday_10) and not is_open(docs["EURUSD-OTC"], monday_10)
    # Saturday noon: forex closed, OTC open.
    saturday_noon = monday_10 + timedelta(days=5, hours=2)
    assert not is_open(docs["EURUSD"], saturday_noon) and is_open(docs["EURUSD-OTC"], saturday_noon)
