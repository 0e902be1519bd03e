"""POST /glimpse/catalog and /glimpse/catalogSignals: access, bounded inputs, honest verdicts, rate limits."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from glimpse.backtest.catalog import NOTHING_SURVIVED, ReportSettings, catalog_report
from glimpse.backtest.signal_catalog import paper_colours, read_list, signal_catalog
from glimpse.backtest.sources import last_complete_minutes
from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import MoneyPlan
from glimpse.rules.quadrants import PRESETS
from glimpse.store import db as names
from tests.api.samples import SAMPLES


def _post(client, caller, route, body):
    return client.post(f"/glimpse/{route}", json=body, headers=caller.headers)


# ------------------------------------------------------------------ access


@pytest.mark.parametrize("route", ["catalog", "catalogSignals"])
def test_users_and_managers_may_catalog_strangers_may_not(client, user, manager, route):
    view = {"catalog": "catalog", "catalogSignals": "catalog_signals"}[route]
    assert client.post(f"/glimpse/{route}", json=SAMPLES[view]).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert client.post(f"/glimpse/{route}", json=SAMPLES[view], headers=bad).status_code == 401
    for caller in (user, manager):
        response = _post(client, caller, route, SAMPLES[view])
        assert response.status_code == 200, response.json


# ------------------------------------------------------------------ the catalog


def test_the_paper_market_beats_nothing_and_the_report_is_the_cores(client, user, config, clock):
    pairs = ["EURUSD", "GBPUSD"]
    body = {"pairs": pairs, "days": 3, "maxLength": 4, "gales": 2, "payout": 85, "top": 10}
    report = _post(client, user, "catalog", body).json
    assert report["verdict"] == NOTHING_SURVIVED and report["flagged"] == 0
    assert not any(row["flagged"] for row in report["ranked"])
    assert 1 <= len(report["ranked"]) <= 10
    start, minutes = last_complete_minutes(clock.now(), 3)
    assert report["period"] == {"from": start, "to": start + minutes * 60, "source": "paper"}
    # the same figures as the core's report on the same candles
    market = PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)
    series = {p: market.colours(p, start, minutes) for p in pairs}
    core = catalog_report(
        series,
        ReportSettings(
            max_length=4, gales=2, payout=85, top=10, split=0.67, quadrants=tuple(PRESETS.values())
        ),
        first_minutes=start // 60,
    )
    assert [r["label"] for r in report["ranked"]] == [r["label"] for r in core["ranked"]]
    assert report["ranked"][0]["in_sample"]["win_at"] == core["ranked"][0]["in_sample"]["win_at"]
    assert report["tests"] == core["tests"] and report["payout"] == 85


def test_payout_defaults_to_the_lowest_current_payout_of_the_pairs(client, user, db):
    db[names.OPENED_ACTIVES].insert_many(
        [
            {"ativo": "EURUSD", "open": "True", "payout": 90},
            {"ativo": "GBPUSD", "open": "True", "payout": "81"},
        ]
    )
    body = SAMPLES["catalog"] | {"pairs": ["EURUSD", "GBPUSD"]}
    body.pop("payout")
    report = _post(client, user, "catalog", body).json
    assert report["payout"] == 81
    assert report["break_even"][0] == pytest.approx(1 / 1.81)


def test_the_stored_month(client, user, db):
    rng = np.random.default_rng(3)
    text = "".join(rng.choice(list("+-0"), 2000, p=[0.49, 0.48, 0.03]))
    db[names.TEST_CANDLES].insert_one(
        {"ativo": "EURUSD", "candles": text, "start": datetime(2024, 5, 1, 3, 0)}
    )
    body = SAMPLES["catalog"] | {"days": "month", "pairs": ["EURUSD", "GBPUSD"]}
    report = _post(client, user, "catalog", body).json
    assert report["pairs"] == ["EURUSD"] and report["period"]["source"] == "stored"
    assert report["candles"]["in_sample"] + report["candles"]["out_of_sample"] == 2000
    missing = _post(client, user, "catalog", body | {"pairs": ["USDJPY"]})
    assert missing.status_code == 404 and missing.json["field"] == "days"


@pytest.mark.parametrize(
    "field, value",
    [
        ("pairs", ["EURUSD", "NOTAPAIR"]),
        ("pairs", []),
        ("days", 0),
        ("days", 31),
        ("days", "year"),
        ("maxLength", 10),
        ("maxLength", 0),
        ("gales", 4),
        ("payout", 0),
        ("payout", 101),
        ("split", 0.99),
        ("minSignals", 0),
        ("top", 101),
        ("folds", 6),
        ("quadrants", ["nope"]),
        ("galeType", "triplo"),
        ("stake", "2"),
    ],
)
def test_bad_catalog_input_is_400_naming_the_field(client, user, field, value):
    response = _post(client, user, "catalog", SAMPLES["catalog"] | {field: value})
    assert response.status_code == 400, response.json
    assert response.json["field"].split(".")[0] == field


# ------------------------------------------------------------------ signal lists


def test_a_signal_list_on_the_last_days_is_the_cores(client, user, config, clock):
    text = "M1;EURUSD;09:30;CALL\nM5;GBPUSD;10:00;PUT\nEURUSD 25:10 CALL"
    body = {"text": text, "days": 3, "gales": 2, "payout": 80, "stake": 5, "galeType": "dobro"}
    report = _post(client, user, "catalogSignals", body).json
    market = PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)
    parsed = read_list(text, clock.now(), config.zone)
    core = signal_catalog(
        parsed.signals, 3, 2, MoneyPlan.of(5, "dobro", 80), paper_colours(market), clock.now(), config.zone
    )
    assert report["days"] == core["days"] and report["total"] == core["total"]
    assert [d["date"] for d in report["days"]] == ["2024-05-31", "2024-06-01", "2024-06-02"]
    assert report["total"]["levels"][2]["signals"] == 6
    assert [s["expiry"] for s in report["signals"]] == [1, 5]
    assert len(report["rejected"]) == 1 and report["rejected"][0]["line"] == 3


@pytest.mark.parametrize(
    "field, value",
    [
        ("text", ""),
        ("text", "nada aqui"),
        ("text", 5),
        ("days", 0),
        ("days", 31),
        ("gales", 4),
        ("payout", -1),
    ],
)
def test_bad_signal_catalog_input_is_400_naming_the_field(client, user, field, value):
    response = _post(client, user, "catalogSignals", SAMPLES["catalog_signals"] | {field: value})
    assert response.status_code == 400, response.json
    assert response.json["field"] == field


# ------------------------------------------------------------------ rate limits


@pytest.mark.parametrize("route, view", [("catalog", "catalog"), ("catalogSignals", "catalog_signals")])
def test_catalogs_are_rate_limited_per_caller(client, make_user, route, view):
    ana, bia = make_user(), make_user("bia@example.com")
    body = SAMPLES[view] | {"days": 1}
    answers = [_post(client, ana, route, body) for _ in range(21)]
    assert all(r.status_code == 200 for r in answers[:20])
    assert answers[20].status_code == 429 and int(answers[20].headers["Retry-After"]) >= 1
    assert _post(client, bia, route, body).status_code == 200  # another caller's budget is untouched
