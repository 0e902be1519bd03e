"""A signal list pasted as Brazilian Telegram channels post it (issue 15), in the trader app:
the Signals page shows the lines the server's parser accepts and the ones it rejects, with
the reason, and the list saved keeps each signal's expiry and gale.

The trader is one of the test's own (registered with an invite code), so the trader
journey's demo user and its list are untouched.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in
from tests.browser.test_manager_journey import ADMIN_EMAIL, ADMIN_PASSWORD, TRADER_PASSWORD

pytestmark = pytest.mark.browser

EMAIL, NAME = "sara.sinais@glimpse.local", "Sara Sinais Teste"
MARKET_TZ = ZoneInfo("America/Sao_Paulo")  # GLIMPSE_TZ is not set by the bundle fixture


@pytest.fixture(scope="module")
def page(new_context, bundle: str) -> Page:
    admin = api_call(bundle, "managerLogin", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    code = api_call(bundle, "createCodes", {"count": 1, "premiumDays": 30}, admin)["codes"][0]
    api_call(
        bundle,
        "insertUser",
        {"userName": NAME, "userMail": EMAIL, "userPassword": TRADER_PASSWORD, "code": code},
    )
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, EMAIL, TRADER_PASSWORD)
    accept_terms_if_shown(page)
    return page


def _market_now(bundle: str, bearer: str) -> datetime:
    """The market clock (it runs fast), at least 40 minutes from either midnight so every time is today's."""
    while True:
        now = datetime.fromtimestamp(api_call(bundle, "status", bearer=bearer)["serverTime"], MARKET_TZ)
        if (now - timedelta(minutes=40)).date() == now.date() == (now + timedelta(minutes=100)).date():
            return now
        time.sleep(2)


def test_a_real_world_list_shows_its_accepted_and_rejected_lines(page: Page, bundle: str, screenshot):
    bearer = page.evaluate("() => localStorage.getItem('glimpse.token')")
    now = _market_now(bundle, bearer)
    at = [(now + timedelta(minutes=m)).strftime("%H:%M") for m in (60, 65, 70, 75, 80, 85, 90, 95)]
    gone = (now - timedelta(minutes=30)).strftime("%H:%M")
    pasted = "\n".join(
        [
            f"🚨 LISTA VIP M5 - {now:%d/%m} 🚨",  # 1 header: sets M5 for the list
            "Horário de Brasília (UTC-3)",  # 2 zone note
            "",  # 3
            f"🇪🇺🇺🇸 EUR/USD - {at[0]} - 🔼 COMPRA (proteção 1 gale)",  # 4 emoji, COMPRA, gale hint
            f"GBPUSD;{at[1]};PUT",  # 5
            f"⏰ {at[2]} - USDJPY - ⬇️ VENDA",  # 6 emoji direction, any order
            f"EURUSD {at[3]} ACIMA ✅",  # 7 ACIMA, a result mark
            f"XXXYYY {at[4]} CALL",  # 8 no such pair
            f"EURUSD {at[5]}",  # 9 no direction
            f"EURUSD {gone} CALL",  # 10 gone by
            f"EURUSD {at[0]} CALL",  # 11 the signal of line 4 again
            f"M15;AUDCAD;{at[6]};CALL",  # 12 a 15-minute expiry
            f"M30;EURUSD;{at[7]};PUT",  # 13 an expiry not traded
            "",  # 14
            "Evitem entrar fora do horário!",  # 15 footer
            "#sinais",  # 16 hashtag
        ]
    )
    page.goto(bundle + "/home/signals")
    page.get_by_test_id("add-signals").click()
    page.get_by_test_id("signal-text").locator("textarea").fill(pasted)
    page.get_by_test_id("verify-signals").click()

    rejected = page.get_by_test_id("rejected-lines")
    expect(rejected).to_contain_text("5 linha(s) recusada(s).")
    expect(rejected).to_contain_text("5 sinal(is) válido(s).")
    items = rejected.locator("li")
    expect(items).to_have_count(5)
    codes = [(int(li.get_attribute("data-line") or 0), li.get_attribute("data-code")) for li in items.all()]
    assert codes == [(8, "noPair"), (9, "noDirection"), (10, "past"), (11, "duplicate"), (13, "expiry")]
    expect(items.nth(2)).to_contain_text(f"o horário {gone} já passou")
    expect(items.nth(3)).to_contain_text("repete o sinal da linha 4")
    expect(items.nth(4)).to_contain_text("expiração M30 não suportada")
    # Decoration (header, zone note, footer, hashtag, blank lines) is never reported.
    for quiet in ("LISTA VIP", "Brasília", "Evitem", "#sinais"):
        expect(rejected).not_to_contain_text(quiet)
    screenshot(page, "signals-real-world-list")

    page.get_by_test_id("save-valid-signals").click()
    table = page.get_by_test_id("signal-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    stored = api_call(bundle, "getSignals", bearer=bearer)[0]["signals"]
    assert sorted((s["hora"], s["ativo"], s["operacao"], s.get("expiry"), s.get("gale")) for s in stored) == [
        (at[0], "EURUSD", "call", 5, 1),
        (at[1], "GBPUSD", "put", 5, None),
        (at[2], "USDJPY", "put", 5, None),
        (at[3], "EURUSD", "call", 5, None),
        (at[6], "AUDCAD", "call", 15, None),
    ]
    expect(table.locator("tbody tr", has_text="AUDCAD")).to_contain_text("M15")
    expect(table.locator("tbody tr", has_text="GBPUSD")).to_contain_text("M5")
    expect(page.get_by_test_id("signal-text")).to_be_hidden()  # the sheet has closed
    screenshot(page, "signals-real-world-saved")
