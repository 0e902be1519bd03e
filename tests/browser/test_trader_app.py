"""The trader's money views in the browser: the trades table filtered and exported (checked against
the ledger), the gale calculator, the Glimpse-strategy notice, the payout slider swept fast, the
backtest in money, and axe-core on every page. One trader of its own, so the journey's demo account
is left alone."""

from __future__ import annotations

import csv
import io
import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in, token

pytestmark = pytest.mark.browser

EMAIL = "teo@glimpse.local"
PASSWORD = "teo-pass-123"
STRATEGY = "Ordens teste"
MONEY = {"money": 2, "gale": True, "galeCount": 1, "galeType": "dobro", "sobra": 0, "stopLoss": False,
         "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip


def _goto(page: Page, bundle: str, section: str = "") -> None:
    page.goto(f"{bundle}/home/{section}".rstrip("/"))
    expect(page.locator("#home-content ion-title").first).to_be_visible()


@pytest.fixture(scope="module")
def page(new_context, bundle: str) -> Page:
    api_call(bundle, "insertUser", {"userName": "Teo Trader Lima", "userMail": EMAIL, "userPassword": PASSWORD,
                                    "code": "KBBGCGDWY7"})  # fmt: skip
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, EMAIL, PASSWORD)
    accept_terms_if_shown(page)
    return page


@pytest.fixture(scope="module")
def trading(page: Page, bundle: str) -> str:
    """The trader's bot has run until its ledger holds a settled entry and a settled gale; then stopped."""
    bearer = token(page)
    api_call(bundle, "checkIq", {"email": "teo@paper.local", "password": "paper-password-2"}, bearer=bearer)
    api_call(bundle, "createStrategy", {"name": STRATEGY, "sequence": "-1,1,-1", "operation": "call", "mirror": True},
             bearer=bearer)  # fmt: skip
    api_call(bundle, "updateUser", {"fields": ["iqAccountType", "mode", "strategy", "strategySettings",
                                               "signalSettings", "preferedActives", "preferedPayout"],
                                    "values": ["treinamento", "strategy", STRATEGY, MONEY, MONEY, "todos", "> 75"]},
             bearer=bearer)  # fmt: skip
    api_call(bundle, "updateUser", {"fields": ["glimpseStatus"], "values": ["waiting"]}, bearer=bearer)
    deadline = time.monotonic() + 120
    while True:
        items = api_call(bundle, "getUserTrades", {"limit": 200}, bearer=bearer)["items"]
        settled = [t for t in items if t["status"] == "closed"]
        if any(t["galeLevel"] == 1 for t in settled) and any(t["galeLevel"] == 0 for t in settled):
            break
        assert time.monotonic() < deadline, f"no settled entry and gale within 120 s: {items}"
        time.sleep(2)
    api_call(bundle, "updateUser", {"fields": ["glimpseStatus"], "values": ["stopping"]}, bearer=bearer)
    deadline = time.monotonic() + 60
    while api_call(bundle, "getUser", bearer=bearer)["glimpseStatus"] != "off":
        assert time.monotonic() < deadline, "the bot did not stop within 60 s"
        time.sleep(1)
    return bearer


def test_trades_table_filtered_sorted_and_exported(
    page: Page, bundle: str, trading: str, screenshot, tmp_path
):
    _goto(page, bundle, "operations")
    table = page.get_by_test_id("trades-table")
    expect(table).to_be_visible()
    ledger = api_call(bundle, "getUserTrades", {"limit": 500}, bearer=trading)
    rows = page.get_by_test_id("trade-row")
    expect(rows).to_have_count(len(ledger["items"]))
    # A gale cycle: its levels show their own quotes and results.
    gale = next(t for t in ledger["items"] if t["galeLevel"] == 1 and t["status"] == "closed")
    entry = next(t for t in ledger["items"] if t["cycle"] == gale["cycle"] and t["galeLevel"] == 0)
    gale_row, entry_row = (
        page.locator(f"[data-id='{gale['_id']}']"),
        page.locator(f"[data-id='{entry['_id']}']"),
    )
    expect(gale_row).to_contain_text("Gale 1")
    expect(entry_row).to_contain_text("Entrada")
    expect(entry_row).to_contain_text(str(Decimal(str(entry["openPrice"])).normalize()))
    expect(gale_row).to_contain_text(str(Decimal(str(gale["openPrice"])).normalize()))
    # A gale follows a lost entry, one candle later, at a quote of its own.
    assert entry["result"] == "loss" and entry["openPrice"] != gale["openPrice"]
    expect(entry_row).to_contain_text("Derrota")
    net = ledger["totals"]["net"]
    expect(page.get_by_test_id("trade-net")).to_contain_text(f"{abs(net):.2f}".replace(".", ","))
    screenshot(page, "trader-01-trades")

    # Sort by profit, ascending: the first row is the worst one.
    page.locator("th button.sort", has_text="Lucro").evaluate("b => b.click()")
    page.locator("th button.sort", has_text="Lucro").evaluate("b => b.click()")
    worst = min(t["profit"] for t in ledger["items"] if t["profit"] is not None)
    expect(rows.first).to_contain_text(f"{abs(worst):.2f}".replace(".", ","))

    # Filter: losses only.
    page.locator("select[name=result]").select_option("loss")
    page.get_by_test_id("apply-filters").click()
    losses = [t for t in ledger["items"] if t["result"] == "loss"]
    expect(rows).to_have_count(len(losses))
    screenshot(page, "trader-02-trades-losses")

    # Export: the CSV holds the filtered trades, exact to the cent, as the ledger.
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    path = tmp_path / "trades.csv"
    download.value.save_as(path)
    exported = list(csv.DictReader(io.StringIO(path.read_text())))
    assert {r["id"] for r in exported} == {t["_id"] for t in losses}
    by_id = {t["_id"]: t for t in losses}
    for r in exported:
        assert Decimal(r["profit"]) == Decimal(str(by_id[r["id"]]["profit"])).quantize(Decimal("0.01"))
        assert Decimal(r["amount"]) == Decimal(str(by_id[r["id"]]["amount"])).quantize(Decimal("0.01"))
        assert re.search(r"-03:00$", r["time"])
