"""A trader's journey through the app, step by step, in one browser session,
against the embedded bundle (API, market services and bots) on a fast clock."""

from __future__ import annotations

import re
import time
import urllib.error
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import (
    DEMO_EMAIL,
    accept_terms_if_shown,
    api_call,
    back_home,
    dashboard_status,
    log_in,
    open_home,
    token,
)

pytestmark = pytest.mark.browser

IQ_EMAIL = "trader@paper.local"
IQ_PASSWORD = "paper-password-1"
STRATEGY = "Tres cores"
MARKET_TZ = ZoneInfo("America/Sao_Paulo")  # GLIMPSE_TZ is not set by the bundle fixture


@pytest.fixture(scope="module")
def page(new_context) -> Page:
    context = new_context("pt-BR")
    return context.new_page()


def test_1_log_in_and_accept_the_terms(page: Page, bundle: str, screenshot):
    page.goto(bundle + "/")
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    screenshot(page, "01-login")

    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Senha").fill("wrong-password")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("alert")).to_have_text("Dados incorretos.")

    log_in(page, bundle)
    accept_button = page.get_by_role("button", name="Estou de acordo")
    expect(accept_button).to_be_disabled()  # until the terms are scrolled to the end
    screenshot(page, "01-terms")
    assert accept_terms_if_shown(page)
    words = api_call(bundle, "getUser", bearer=token(page))["name"].split()
    expect(page.get_by_test_id("user-name")).to_have_text(
        " ".join([words[0], words[-1]]) if len(words) > 1 else words[0]
    )
    screenshot(page, "01-dashboard")

    # the token is kept, never the password
    stored = page.evaluate("() => JSON.stringify(localStorage)")
    assert "glimpse.token" in stored and "glimpse-demo" not in stored
    assert api_call(bundle, "getUser", bearer=token(page))["readTerms"] is True


def test_2_broker_payout_pairs_and_order_options(page: Page, bundle: str, screenshot):
    open_home(page, bundle)

    # broker: the paper broker checks (and, the first time, registers) the credentials
    page.get_by_test_id("block-broker").click()
    page.locator("input[name=iq-email]").fill(IQ_EMAIL)
    page.locator("input[name=iq-password]").fill(IQ_PASSWORD)
    page.get_by_role("button", name="Conectar").click()
    expect(page.get_by_test_id("broker-state")).to_have_text("Conectado")
    expect(page.get_by_test_id("balances")).to_contain_text("R$")
    page.locator("ion-segment-button", has_text="PRACTICE").click()
    screenshot(page, "02-broker")
    back_home(page)
    expect(page.get_by_test_id("block-broker")).to_contain_text("Conectado")

    # payout: over 80 %
    page.get_by_test_id("block-payout").click()
    page.locator("ion-segment-button", has_text="acima de").click()
    knob = page.locator("ion-range .range-knob-handle")
    knob.focus()
    current = int(page.get_by_test_id("payout-value").inner_text().split()[1])
    for _ in range(abs(current - 80)):
        knob.press("ArrowLeft" if current > 80 else "ArrowRight")
    expect(page.get_by_test_id("payout-value")).to_have_text("> 80 %")
    screenshot(page, "02-payout")
    back_home(page)
    expect(page.get_by_test_id("block-payout")).to_contain_text("> 80%")

    # pairs: two of the open ones
    page.get_by_test_id("block-pairs").click()
    tiles = page.locator("[data-testid=pair-tiles] .tile:not(.closed)")
    expect(tiles.nth(2)).to_be_visible()
    chosen = [tiles.nth(1).locator("span").inner_text(), tiles.nth(2).locator("span").inner_text()]
    tiles.nth(1).click()
    expect(tiles.nth(1)).to_have_class(re.compile("selected"))
    tiles.nth(2).click()
    expect(tiles.nth(2)).to_have_class(re.compile("selected"))
    screenshot(page, "02-pairs")
    back_home(page)
    expect(page.get_by_test_id("block-pairs")).to_contain_text(", ".join(chosen))

    # order options: R$ 2,00, one gale "Dobro", stop loss at R$ 50
    page.get_by_test_id("block-order-options").click()
    page.locator("input[name=money]").fill("2,00")
    page.locator("input[name=galeCount]").fill("1")
    page.locator("ion-radio[value=dobro]").click()
    page.locator("ion-toggle[name=stopLoss]").click()
    page.locator("input[name=stopLossValue]").fill("50")
    page.get_by_test_id("save-order-options").click()
    expect(page.locator("ion-toast", has_text="Salvo!")).to_be_visible()
    screenshot(page, "02-order-options")
    back_home(page)
    expect(page.get_by_test_id("block-order-options")).to_contain_text("R$\u00a02,00 · G1")

    account = api_call(bundle, "getUser", bearer=token(page))
    assert account["iqConnected"] is True and account["iqAccountType"] == "treinamento"
    assert account["preferedPayout"] == "> 80"
    assert sorted(account["preferedActives"].split(",")) == sorted(chosen)
    assert account["strategySettings"] == account["signalSettings"]
    assert account["strategySettings"]["money"] == 2 and account["strategySettings"]["stopLossValue"] == 50


def test_3_create_a_strategy_and_test_it(page: Page, bundle: str, screenshot):
    open_home(page, bundle, "strategies")
    page.get_by_test_id("create-strategy").click()
    editor = page.get_by_test_id("strategy-editor")

    # the original's name rules
    page.get_by_test_id("save-strategy").click()
    expect(editor.get_by_role("alert")).to_have_text("Dê um nome à sua estratégia.")
    editor.locator("input[name=strategy-name]").fill("My glimpse")
    page.get_by_test_id("save-strategy").click()
    expect(editor.get_by_role("alert")).to_have_text("Não é possível usar este nome.")

    editor.locator("input[name=strategy-name]").fill(STRATEGY)
    editor.get_by_role("button", name="Mais velas").click()
    expect(editor.get_by_test_id("candle-count")).to_have_text("4 velas")
    editor.get_by_role("button", name="Menos velas").click()
    expect(editor.get_by_test_id("candle-count")).to_have_text("3 velas")
    editor.locator("button.candle").nth(1).click()
    editor.get_by_role("button", name="Verde").click()
    expect(editor.locator("button.candle").nth(1)).to_have_class(re.compile("green"))
    editor.locator("ion-checkbox").click()  # mirror

    # Test, before saving: the backtest of the draft
    page.get_by_test_id("test-strategy").click()
    cards = page.get_by_test_id("backtest-cards")
    expect(cards).to_be_visible(timeout=30_000)
    expect(cards.get_by_test_id("backtest-total")).to_contain_text("Total")
    found = re.search(r"\d+", page.get_by_test_id("backtest-signals").inner_text())
    assert found is not None
    signals = int(found.group())
    assert signals > 0
    screenshot(page, "03-backtest")

    page.get_by_test_id("save-strategy").click()
    expect(page.locator("ion-toast", has_text="Estratégia criada!")).to_be_visible()
    row = page.get_by_test_id("strategy-list").locator("ion-item", has_text=STRATEGY)
    expect(row).to_be_visible()
    row.click()
    expect(row).to_have_class(re.compile("selected"))
    screenshot(page, "03-strategies")
    saved = [s for s in api_call(bundle, "getStrategies", bearer=token(page)) if s["name"] == STRATEGY]
    assert saved and saved[0]["sequence"] == "-1,1,-1" and saved[0]["mirror"] is True
    assert api_call(bundle, "getUser", bearer=token(page))["strategy"] == STRATEGY


def test_dashboard_makes_at_most_one_request_per_second(page: Page, bundle: str, screenshot):
    open_home(page, bundle)
    expect(dashboard_status(page)).to_be_visible()
    page.wait_for_timeout(1500)  # the first load is over
    seen: list[tuple[float, str]] = []

    def count(request):
        if "/glimpse/" in request.url:
            seen.append((time.monotonic(), request.url.rsplit("/", 1)[-1]))

    page.on("request", count)
    window_s = 10
    page.wait_for_timeout(window_s * 1000)
    page.remove_listener("request", count)
    screenshot(page, "04-dashboard-polling")
    routes = {route for _, route in seen}
    assert routes <= {"status", "updateUser"}, routes
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:], strict=False)]
    # The bot is off here: nothing moves but the odd alert, so a poll every 3 s (1 s from Start until off).
    assert dashboard_status(page).get_attribute("data-status") == "off"
    assert window_s / 3 - 1.5 <= len(seen) <= window_s / 3 + 1, seen  # it polls, every 3 s
    assert min(gaps) > 2.7, gaps


def test_4_start_shows_the_operating_card_then_an_operations_row(page: Page, bundle: str, screenshot):
    open_home(page, bundle, "operations")
    expect(
        page.get_by_test_id("operations-empty").or_(page.get_by_test_id("operations-list"))
    ).to_be_visible()
    before = page.locator(".cycle-row").count()

    open_home(page, bundle)
    page.get_by_test_id("block-mode").click()
    page.get_by_test_id("mode-strategy").click()
    page.get_by_role("button", name="OK").click()
    expect(page.get_by_test_id("block-mode")).to_contain_text(STRATEGY)
    page.get_by_test_id("start").click()
    expect(dashboard_status(page)).not_to_have_attribute("data-status", "off", timeout=5000)
    screenshot(page, "04-starting")
    card = page.get_by_test_id("operating-card")
    expect(card).to_be_visible(timeout=60_000)
    expect(card).to_contain_text(re.compile(r"(CALL|PUT)"))
    expect(card.locator("svg.ring").first).to_be_visible()
    screenshot(page, "04-operating")

    deadline = time.monotonic() + 60
    while True:
        open_home(page, bundle, "operations")
        page.wait_for_timeout(1000)
        if page.locator(".cycle-row").count() > before:
            break
        assert time.monotonic() < deadline, "no new cycle in Operations within 60 s"
        page.wait_for_timeout(2000)
    page.locator(".cycle-row").first.click()
    chart = page.get_by_test_id("cycle-details").get_by_test_id("cycle-chart")
    expect(chart).to_have_attribute("data-state", "ready", timeout=30_000)
    assert int(chart.get_attribute("data-candles") or 0) > 0
    screenshot(page, "04-operations")


def test_5_stop_ends_at_off(page: Page, bundle: str, screenshot):
    open_home(page, bundle)
    status = dashboard_status(page)
    if status.get_attribute("data-status") == "off":
        page.get_by_test_id("start").click()
    stop = page.get_by_test_id("stop")
    expect(stop).to_be_visible(timeout=30_000)
    with page.expect_request(
        lambda r: r.url.endswith("/glimpse/updateUser") and "stopping" in (r.post_data or "")
    ):
        stop.click()
    screenshot(page, "05-stopping")
    expect(status).to_have_attribute("data-status", "off", timeout=60_000)
    expect(page.get_by_test_id("start")).to_be_visible()
    screenshot(page, "05-off")
    assert api_call(bundle, "getUser", bearer=token(page))["glimpseStatus"] == "off"


def _market_minutes_ahead(bundle: str, bearer: str, minutes: int) -> tuple[str, str]:
    """Two "HH:MM" times later today on the market clock (GLIMPSE_TZ), `minutes` and `minutes` + 5 ahead."""
    while True:
        now = datetime.fromtimestamp(api_call(bundle, "status", bearer=bearer)["serverTime"], MARKET_TZ)
        first = now + timedelta(minutes=minutes)
        if (first + timedelta(minutes=5)).date() == now.date():
            return first.strftime("%H:%M"), (first + timedelta(minutes=5)).strftime("%H:%M")
        time.sleep(2)  # too close to midnight: the fast clock reaches tomorrow within a few minutes


def test_6_a_signal_list_with_a_bad_line(page: Page, bundle: str, screenshot):
    open_home(page, bundle, "signals")
    at, later = _market_minutes_ahead(bundle, token(page), 60)  # 60 market minutes = 2 real minutes
    page.get_by_test_id("add-signals").click()
    replace = page.get_by_role("button", name="Continuar")  # asked only when a list exists
    if replace.is_visible():
        replace.click()
    pasted = f"M1;EURUSD-OTC;{at};PUT\nEUR/USD 25:61 CALL\nGBPUSD-OTC | {at} | call\nUSDJPY {later}:00 PUT M1"
    page.get_by_test_id("signal-text").locator("textarea").fill(pasted)
    page.get_by_test_id("verify-signals").click()
    rejected = page.get_by_test_id("rejected-lines")
    expect(rejected).to_contain_text("1 linha(s) recusada(s).")
    expect(rejected).to_contain_text("Linha 2:")
    expect(rejected).to_contain_text("EUR/USD 25:61 CALL")
    expect(rejected).to_contain_text("horário inválido: 25:61")
    screenshot(page, "06-rejected-line")

    page.get_by_test_id("save-valid-signals").click()
    table = page.get_by_test_id("signal-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    stored = api_call(bundle, "getSignals", bearer=token(page))[0]["signals"]
    assert sorted((s["hora"], s["ativo"], s["operacao"]) for s in stored) == [
        (at, "EURUSD-OTC", "put"),
        (at, "GBPUSD-OTC", "call"),
        (later, "USDJPY", "put"),
    ]

    # cancel one signal: only its own row, not the other one at the same time
    eur = table.locator("tbody tr", has_text="EURUSD-OTC")
    gbp = table.locator("tbody tr", has_text="GBPUSD-OTC")
    eur.get_by_role("button", name="Cancelar sinal").click()
    expect(eur).to_have_attribute("data-status", "canceled")
    expect(gbp).to_have_attribute("data-status", "active")
    screenshot(page, "06-canceled")
    eur.get_by_role("button", name="Reativar sinal").click()
    expect(eur).to_have_attribute("data-status", "active")
    statuses = {
        s["ativo"]: s["status"] for s in api_call(bundle, "getSignals", bearer=token(page))[0]["signals"]
    }
    assert statuses == {"EURUSD-OTC": "active", "GBPUSD-OTC": "active", "USDJPY": "active"}


def test_7_register_with_an_invite_code(new_context, bundle: str, screenshot):
    page = new_context("pt-BR").new_page()
    page.goto(bundle + "/login")
    page.get_by_role("button", name="Possui um código?").click()
    page.get_by_label("Código").fill("NOT-A-CODE")
    page.get_by_role("button", name="Validar").click()
    expect(page.get_by_role("alert")).to_have_text("Código expirado ou inexistente")
    page.get_by_label("Código").fill("JLX43ARKXH")
    page.get_by_role("button", name="Validar").click()

    page.get_by_label("Nome e sobrenome").fill("Nova Trader Silva")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Senha").fill("nova-senha-123")
    page.get_by_role("button", name="Registrar").click()
    expect(page.get_by_role("alert")).to_have_text("Endereço de email em uso.")
    screenshot(page, "07-email-in-use")

    page.get_by_label("Email").fill("nova@glimpse.local")
    page.get_by_role("button", name="Registrar").click()
    page.wait_for_url(re.compile(r"/home"))
    assert accept_terms_if_shown(page)
    expect(page.get_by_test_id("user-name")).to_have_text("Nova Silva")
    screenshot(page, "07-registered")
    account = api_call(bundle, "getUser", bearer=token(page))
    assert account["email"] == "nova@glimpse.local" and account["premiumDays"] == 30


def test_8_change_the_language(new_context, bundle: str, screenshot):
    english = new_context("en-US").new_page()
    english.goto(bundle + "/login")
    expect(english.get_by_role("button", name="Log in")).to_be_visible()  # the browser's language

    page = new_context("pt-BR").new_page()
    log_in(page, bundle)
    accept_terms_if_shown(page)
    expect(page.get_by_test_id("start")).to_have_text("Iniciar")
    page.locator("ion-menu-button").first.click()
    menu = page.locator("ion-menu")
    expect(menu.get_by_text("Operações")).to_be_visible()
    menu.get_by_test_id("lang-en").click()
    expect(menu.get_by_text("Operations")).to_be_visible()
    expect(menu.get_by_text("Logout")).to_be_visible()
    screenshot(page, "08-english-menu")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("start")).to_have_text("Start")
    page.reload()
    expect(page.get_by_test_id("start")).to_have_text("Start")  # remembered
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "08-english-dashboard")


def test_8b_a_language_that_cannot_be_fetched_leaves_the_switch_on_the_language_shown(
    new_context, bundle: str
):
    page = new_context("pt-BR").new_page()
    log_in(page, bundle)
    accept_terms_if_shown(page)
    page.route(re.compile(r"/assets/en-[^/]*\.js"), lambda route: route.abort())  # offline for English
    page.locator("ion-menu-button").first.click()
    menu = page.locator("ion-menu")
    expect(menu.get_by_text("Operações")).to_be_visible()
    menu.get_by_test_id("lang-en").click()
    expect(menu.get_by_test_id("lang-pt-BR")).to_have_class(re.compile(r"segment-button-checked"))
    expect(menu.get_by_test_id("lang-en")).not_to_have_class(re.compile(r"segment-button-checked"))
    expect(menu.get_by_text("Operações")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "pt-BR")


def test_9_alerts_rank_and_a_password_change(new_context, bundle: str, screenshot):
    api_call(
        bundle,
        "insertUser",
        {
            "userName": "Rosa Alves",
            "userMail": "rosa@glimpse.local",
            "userPassword": "rosa-pass-1",
            "code": "XLPUFWWS4B",
        },
    )
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, "rosa@glimpse.local", "rosa-pass-1")
    accept_terms_if_shown(page)

    # alerts: the welcome alert, unread until tapped
    page.get_by_test_id("alerts-bell").click()
    card = page.get_by_test_id("alert-card").first
    expect(card).to_have_class(re.compile("unread"))
    card.click()
    expect(card).to_contain_text("Configure sua corretora")
    expect(card).not_to_have_class(re.compile("unread"))
    screenshot(page, "09-alerts")
    assert all(a["read"] for a in api_call(bundle, "getUser", bearer=token(page))["alerts"])

    # rank: the caller by name, highlighted; the others under pseudonyms
    open_home(page, bundle, "rank")
    me = page.locator("[data-testid=rank-table] tr.me")
    expect(me).to_have_count(1)
    expect(me).to_contain_text("Rosa Alves")
    expect(page.locator("[data-testid=rank-table] tbody tr", has_text="Demo")).to_have_count(0)
    screenshot(page, "09-rank")

    # settings › notifications: the page answers from the server (no Telegram token in this bundle)
    open_home(page, bundle, "settings")
    page.get_by_test_id("settings-notifications").click()
    expect(page.get_by_test_id("telegram-off")).to_contain_text("Telegram não está configurado")
    screenshot(page, "09-notifications")

    # settings: the current password is checked; the new token replaces the old one
    open_home(page, bundle, "settings")
    page.locator("#home-content ion-item", has_text="Conta").click()
    expect(page.get_by_test_id("account-email")).to_have_text("rosa@glimpse.local")
    page.get_by_role("button", name="Alterar senha").click()
    old_token = token(page)
    page.locator("input[name=current-password]").fill("not-my-password")
    page.locator("input[name=new-password]").fill("rosa-pass-2")
    page.locator("input[name=confirm-password]").fill("rosa-pass-2")
    page.locator("form").get_by_role("button", name="Alterar senha").click()
    expect(page.get_by_role("alert")).to_have_text("A senha atual está incorreta.")
    page.locator("input[name=current-password]").fill("rosa-pass-1")
    page.locator("form").get_by_role("button", name="Alterar senha").click()
    expect(page.locator("ion-toast", has_text="Senha alterada!")).to_be_visible()
    assert token(page) != old_token
    with pytest.raises(urllib.error.HTTPError) as refused:
        api_call(bundle, "getUser", bearer=old_token)
    assert refused.value.code == 401
    assert api_call(bundle, "getUser", bearer=token(page))["email"] == "rosa@glimpse.local"
    screenshot(page, "09-password-changed")
    assert api_call(bundle, "login", {"email": "rosa@glimpse.local", "password": "rosa-pass-2"})["res"] == 1
