"""The order desk's per-order shortcuts answer exactly as the code they stand for (issue 14).

The gale plan kept per exact money values, a paper pair's open/closed kept per second, and the
option expiry kept per whole second: each is compared with a fresh computation, over values
that differ only in how they are written.
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from bson import Decimal128
from hypothesis import given, settings
from hypothesis import strategies as st

from glimpse.market import paper
from glimpse.market.base import option_expiry
from glimpse.rules.money import gale_entries
from glimpse.rules.schedule import is_open
from glimpse.runtime.clock import local_datetime
from operational_server import cycle

_AMOUNTS = st.sampled_from(["2", "2.00", "2.005", "0.004", "-1", "1e2", "abc", "10.10"])


def _written(kind: str, digits: str) -> Any:
    """One amount written one way: the same digits as a str, a Decimal, a Decimal128, a float or an int."""
    if kind == "str":
        return digits
    try:
        exact = Decimal(digits)
    except Exception:
        return digits
    if kind == "decimal":
        return exact
    if kind == "decimal128":
        return Decimal128(exact)
    if kind == "float":
        return float(exact)
    return int(exact) if exact == exact.to_integral_value() else exact


_KINDS = st.sampled_from(["str", "decimal", "decimal128", "float", "int"])


def _outcome(call: Any) -> Any:
    try:
        return ("ok", [(str(v), v.as_tuple()) for v in call()])  # the exponent too
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))


@settings(max_examples=200, deadline=None)
@given(
    stake=_AMOUNTS, sobra=_AMOUNTS, gale_type=st.sampled_from(["dobro", "cobrir", "sobra", "nope"]),
    gale=st.booleans(), count=st.integers(0, 12), kinds=st.lists(_KINDS, min_size=2, max_size=2),
)  # fmt: skip
def test_a_kept_plan_is_the_plan_computed_afresh(stake, sobra, gale_type, gale, count, kinds):
    cycle._PLANS.clear()
    # Every payout, cap and way of writing the amounts, twice: the second round reads kept plans.
    for _round, payout, cap, stake_kind, sobra_kind in [
        (r, p, c, k1, k2) for r in range(2) for p in (0, 1, 80, 87) for c in (None, 0, 1, 5)
        for k1 in kinds for k2 in kinds
    ]:  # fmt: skip
        money = {
            "money": _written(stake_kind, stake),
            "gale": gale,
            "galeCount": count,
            "galeType": gale_type,
            "sobra": _written(sobra_kind, sobra),
        }
        decision = cycle.Decision("EURUSD", "call", payout, 0.0, gale=cap)
        ctx = cast(cycle.CycleContext, SimpleNamespace(money=money))
        gales = count if gale else 0
        if cap is not None:
            gales = max(0, min(gales, cap))
        fresh = _outcome(
            lambda m=money, g=gales, p=payout: gale_entries(m["money"], m["galeType"], g, p, m["sobra"])
        )
        assert _outcome(lambda c=ctx, d=decision: cycle.plan(c, d)) == fresh


def test_a_kept_plan_is_handed_out_as_a_list_of_the_callers_own():
    def planned() -> list[Decimal]:
        ctx = cast(cycle.CycleContext, SimpleNamespace(money={"money": Decimal128("2.00")}))
        return cycle.plan(ctx, cycle.Decision("EURUSD", "call", 80, 0.0))

    planned().append(Decimal(9))
    assert planned() == [Decimal("2.00")]


_SCHEDULES = [
    {"ativo": "EURUSD", "segunda": [[0, 1759], [1930, 2359]], "terca": [[900, 1700]], "domingo": [[1930, 2359], [0, 0]]},
    {"ativo": "EURUSD", "segunda": [[1000, 1000]], "sabado": [[2300, 100]]},
    None,
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    asks=st.lists(
        st.tuples(
            # Around minute and day boundaries of São Paulo, Kathmandu (+05:45) and UTC.
            st.sampled_from([1_717_419_600.0, 1_717_437_540.0, 1_717_372_800.0, 1_717_891_140.0]),
            st.floats(-120, 120),
        ),
        min_size=1, max_size=20,
    )
)  # fmt: skip
def test_a_pair_open_in_a_second_is_what_the_schedule_says_at_that_instant(asks):
    paper._OPEN_AT.clear()
    for base, offset in asks * 2:
        t = base + offset
        for doc in _SCHEDULES:  # every schedule and zone in the same second
            for tz in ("America/Sao_Paulo", "Asia/Kathmandu", "UTC"):
                broker = object.__new__(paper.PaperBroker)
                broker._config = cast(Any, SimpleNamespace(zone=ZoneInfo(tz)))
                assert broker._is_open(doc, t) == is_open(doc, local_datetime(t, ZoneInfo(tz)))


@settings(max_examples=300, deadline=None)
@given(t=st.floats(1_700_000_000, 1_800_000_000), minutes=st.sampled_from([1, 2, 3, 4, 5, 15]))
def test_an_expiry_kept_per_second_is_the_expiry_computed_afresh(t, minutes):
    assert paper._expiry_of(int(t), minutes) == option_expiry(t, minutes)


# (profit, moneyUnit): a trade in cents holds an integer; one written before the conversion, reais.
_PROFITS = st.one_of(
    st.tuples(st.one_of(st.none(), st.integers(-(10**6), 10**6)), st.just("cents")),
    st.tuples(
        st.one_of(
            st.none(),
            st.integers(-100, 100),
            st.sampled_from([1.5, -2.0, 0.87, 3.4999, -0.005]),
            st.sampled_from(["1.25", "-3.10"]).map(lambda v: Decimal128(Decimal(v))),
        ),
        st.sampled_from([None, "reais"]),
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            _PROFITS,
            st.sampled_from(["closed", "open", "pending"]),
            st.sampled_from(["s1", "s2"]),
        ),
        max_size=8,
    )
)
def test_a_sessions_net_read_from_two_fields_is_what_its_trades_sum_to(rows):
    """session_net_cents projects profit and moneyUnit only: the same sum as reading each whole trade."""
    from bson import ObjectId

    from glimpse.store import db as names
    from glimpse.store import trades
    from glimpse.store.db import new_embedded_database

    db = new_embedded_database("Net")
    for k, ((profit, unit), status, session) in enumerate(rows):
        doc = {"_id": ObjectId(), "user": "u1", "session": session, "ativo": "EURUSD", "operacao": "call",
               "amount": 200 if unit == "cents" else 2, "status": status, "decidedAt": float(k),
               "profit": profit}  # fmt: skip
        if unit is not None:
            doc["moneyUnit"] = unit
        db[names.TRADES].insert_one(doc)
    whole = sum(
        trades.Trade.from_doc(d).profit or 0
        for d in db[names.TRADES].find({"user": "u1", "session": "s1", "status": "closed"})
    )
    assert trades.session_net_cents(db, "u1", "s1") == whole
    # The order desk's read of many sessions at once (MongoDB) sums the same trades.
    closed = {d["session"] for d in db[names.TRADES].find({"status": "closed"})}
    nets = trades.session_nets_cents(db, [("u1", "s1"), ("u1", "s2"), ("u2", "s1")])
    assert nets.get(("u1", "s1"), 0) == whole and set(nets) <= {("u1", s) for s in closed}
    assert nets.get(("u1", "s2"), 0) == trades.session_net_cents(db, "u1", "s2")
