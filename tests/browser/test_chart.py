"""The candlestick charts in the browser: the operated pair live on the dashboard with the bot's entry
marked while it trades, and a gale cycle in Operations whose levels show their own quotes and results,
through the candle that settled it. One trader of its own (a code minted by the admin), so the other
browser tests' accounts are left alone."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in, token

pytestmark = pytest.mark.browser

EMAIL = "lia@glimpse.local"
PASSWORD = "lia-pass-123"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@glimpse.local", "glimpse-admin"
STRATEGY = "Velas teste"
MONEY = {"money": 2, "gale": True, "galeCount": 1, "galeType": "dobro", "sobra": 0, "stopLoss": False,
         "stopLossValue": 0, "stopWin": False, "stopWinValue": 0}  # fmt: skip


def _quote(value: float) -> str:
    """A quote as the app prints it (up to 6 decimals, no trailing zeros)."""
    return str(Decimal(str(round(value, 6))).normalize())


def _goto(page: Page, bundle: str, section: str = "") -> None:
    page.goto(f"{bundle}/home/{section}".rstrip("/"))
    expect(page.locator("#home-content ion-title").first).to_be_visible()


@pytest.fixture(scope="module")
def page(new_context, bundle: str) -> Page:
    admin = api_call(bundle, "managerLogin", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    code = api_call(bundle, "createCodes", {"count": 1, "premiumDays": 30}, admin)["codes"][0]
    api_call(bundle, "insertUser", {"userName": "Lia Velas Souza", "userMail": EMAIL, "userPassword": PASSWORD,
                                    "code": code})  # fmt: skip
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, EMAIL, PASSWORD)
    accept_terms_if_shown(page)
    return page


def _ledger(bundle: str, bearer: str) -> list[dict]:
    return api_call(bundle, "getUserTrades", {"limit": 500}, bearer=bearer)["items"]


def _settled_gale_cycle(trades: list[dict]) -> list[dict] | None:
    """The orders of a cycle whose entry and gale both settled (entry first), if the ledger has one."""
    closed = [t for t in trades if t["status"] == "closed" and t["result"] in ("win", "loss", "doji")]
    for gale in (t for t in closed if t["galeLevel"] == 1):
        levels = sorted((t for t in closed if t["cycle"] == gale["cycle"]), key=lambda t: t["galeLevel"])
        if [t["galeLevel"] for t in levels][:2] == [0, 1]:
            return levels
    return None


@pytest.fixture(scope="module")
def traded(page: Page, bundle: str, screenshot) -> tuple[str, list[dict]]:
    """The bot trades; the dashboard's live chart marks its entry; it runs until a gale cycle settled."""
    bearer = token(page)
    api_call(bundle, "createStrategy", {"name": STRATEGY, "sequence": "-1,1,-1", "operation": "call",
                                        "mirror": True}, bearer=bearer)  # fmt: skip
    api_call(bundle, "checkIq", {"email": "lia@paper.local", "password": "paper-password-3"}, bearer=bearer)
    api_call(bundle, "updateUser", {"fields": ["iqAccountType", "mode", "strategy", "strategySettings",
                                               "preferedActives", "preferedPayout"],
                                    "values": ["treinamento", "strategy", STRATEGY, MONEY, "todos", "> 75"]},
             bearer=bearer)  # fmt: skip
    _goto(page, bundle)
    page.get_by_test_id("start").click()

    # While it operates: the operated pair's candles, and the bot's entry marked on them.
    chart = page.get_by_test_id("live-chart")
    expect(chart).to_have_attribute("data-state", "ready", timeout=90_000)
    expect(chart).to_have_attribute("data-marks", re.compile(r"^[1-9]"), timeout=90_000)
    assert int(chart.get_attribute("data-candles") or 0) >= 10
    expect(chart.locator("canvas").first).to_be_visible()
    entry = chart.get_by_test_id("chart-mark").first
    expect(entry).to_contain_text(re.compile(r"(Entrada|Gale \d) (CALL|PUT) \d"))
    # The mark shows the ledger's quote for that order.
    shown = entry.get_by_test_id("mark-open").inner_text()
    quotes = {_quote(t["openPrice"]) for t in _ledger(bundle, bearer) if t.get("openPrice") is not None}
    assert shown in quotes, (shown, quotes)
    screenshot(page, "chart-01-live-entry")

    deadline = time.monotonic() + 150
    while (cycle := _settled_gale_cycle(_ledger(bundle, bearer))) is None:
        assert time.monotonic() < deadline, "no settled gale cycle within 150 s"
        time.sleep(2)
    api_call(bundle, "updateUser", {"fields": ["glimpseStatus"], "values": ["stopping"]}, bearer=bearer)
    deadline = time.monotonic() + 60
    while api_call(bundle, "getUser", bearer=bearer)["glimpseStatus"] != "off":
        assert time.monotonic() < deadline, "the bot did not stop within 60 s"
        time.sleep(1)
    return bearer, cycle


def test_gale_cycle_chart_shows_each_levels_quote_and_result(page: Page, bundle: str, traded, screenshot):
    bearer, settled = traded
    cycle = settled[0]["cycle"]
    # Every order of that cycle that reached the broker (a doji repeats its level), in the order placed.
    levels = sorted(
        (
            t
            for t in _ledger(bundle, bearer)
            if t["cycle"] == cycle and t["result"] not in ("not_placed", "failed")
        ),
        key=lambda t: (t.get("openedAt") or t["decidedAt"], t["galeLevel"]),
    )
    first_gale = next(i for i, t in enumerate(levels) if t["galeLevel"] == 1)
    entry, gale = levels[first_gale - 1], levels[first_gale]
    # A gale follows a lost entry, one candle later, at a quote of its own.
    assert entry["galeLevel"] == 0 and entry["result"] == "loss" and entry["openPrice"] != gale["openPrice"]
    _goto(page, bundle, "operations")
    row = page.locator(f".cycle-row[data-cycle='{cycle}']")
    row.scroll_into_view_if_needed()
    row.click()
    chart = page.get_by_test_id("cycle-chart")
    expect(chart).to_have_attribute("data-state", "ready")
    marks = chart.get_by_test_id("chart-mark")
    expect(marks).to_have_count(len(levels))
    expect(chart).to_have_attribute("data-marks", str(len(levels)))
    for mark, trade in zip((marks.nth(i) for i in range(len(levels))), levels, strict=True):
        expect(mark).to_have_attribute("data-level", str(trade["galeLevel"]))
        expect(mark).to_have_attribute("data-result", trade["result"])
        expect(mark.get_by_test_id("mark-open")).to_have_text(_quote(trade["openPrice"]))
        if trade.get("closePrice") is not None:
            expect(mark.get_by_test_id("mark-close")).to_contain_text(_quote(trade["closePrice"]))
    expect(marks.nth(first_gale - 1)).to_contain_text("Entrada")
    expect(marks.nth(first_gale - 1)).to_contain_text("derrota")
    expect(marks.nth(first_gale)).to_contain_text("Gale 1")
    # The chart runs from before the entry through the candle that settled the last level.
    last = levels[-1]
    settling = int((last["expiresAt"] - 1) // 60 * 60)
    expect(chart).to_have_attribute("data-last", re.compile(r"^\d+$"))
    assert int(chart.get_attribute("data-last") or 0) >= settling
    assert int(chart.get_attribute("data-first") or 0) < int(levels[0]["decidedAt"])
    chart.scroll_into_view_if_needed()
    screenshot(page, "chart-02-gale-cycle")


def test_trades_sort_on_a_phone(page: Page, bundle: str, traded, screenshot):
    """On a phone's width the table's header is hidden (rows become cards): a sort control replaces it."""
    bearer, _levels = traded
    assert page.viewport_size is not None and page.viewport_size["width"] <= 640
    _goto(page, bundle, "operations")
    rows = page.get_by_test_id("trade-row")
    expect(rows.first).to_be_visible()
    head = page.locator(".trades-table thead").bounding_box()
    assert head is not None and head["height"] <= 1  # the header is out of sight (kept for screen readers)
    control = page.get_by_test_id("trade-sort")
    expect(control).to_be_visible()
    control.locator("select[name=sortKey]").select_option("profit")
    direction = control.locator("button[name=sortDir]")
    expect(direction).to_have_attribute("aria-pressed", "false")  # descending first: the best row on top
    ledger = [t for t in _ledger(bundle, bearer) if t["profit"] is not None]
    best, worst = max(t["profit"] for t in ledger), min(t["profit"] for t in ledger)
    expect(rows.first).to_contain_text(f"{abs(best):.2f}".replace(".", ","))
    direction.click()
    expect(direction).to_have_attribute("aria-pressed", "true")
    expect(rows.first).to_contain_text(f"{abs(worst):.2f}".replace(".", ","))
    screenshot(page, "chart-03-trades-sorted-on-a-phone")
