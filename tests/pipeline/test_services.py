"""The services as programs and their pure parts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from auxiliar.lister import listing

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize(
    "module",
    ["auxiliar.lister", "auxiliar.candles_starter", "auxiliar.server_assigner", "operational_server"],
)
def test_a_service_alone_needs_a_shared_database(module):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLIMPSE_")}
    done = subprocess.run(
        [sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "GLIMPSE_MONGO_URI" in done.stderr


def test_operational_server_rejects_a_bad_worker_count():
    done = subprocess.run(
        [sys.executable, "-m", "operational_server", "--workers", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--workers" in done.stderr


def test_a_pair_is_open_only_when_the_broker_and_the_schedule_agree():
    zone = ZoneInfo("America/Sao_Paulo")
    wednesday_noon = datetime(2024, 6, 5, 12, 0, tzinfo=zone)
    schedule = {
        "EURUSD": {"ativo": "EURUSD", "quarta": [[900, 1759], [0, 0]]},
        "GBPUSD": {"ativo": "GBPUSD", "quarta": [[1300, 1400], [0, 0]]},
    }
    assets = {
        "EURUSD": {"open": True, "payout": 87},
        "GBPUSD": {"open": True, "payout": 90},
        "USDJPY": {"open": False, "payout": 80},
    }
    docs = {d["ativo"]: d for d in listing(assets, schedule, wednesday_noon)}
    assert docs["EURUSD"] == {"ativo": "EURUSD", "open": "True", "payout": "87"}
    assert docs["GBPUSD"] == {
        "ativo": "GBPUSD",
        "open": "False",
        "payout": 0,
    }  # the broker says open, the schedule not
    assert docs["USDJPY"]["open"] == "False"  # the broker says closed
    assert docs["AUDCAD"]["open"] == "False"  # a pair the broker did not list
