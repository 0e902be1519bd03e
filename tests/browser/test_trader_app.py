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
from tests.browser.test_trader_axe import serious_violations

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


def test_gale_calculator_follows_what_the_trader_types(page: Page, bundle: str, screenshot):
    _goto(page, bundle, "order-options")
    calc = page.get_by_test_id("gale-calculator")
    if not page.locator("ion-toggle[name=gale]").evaluate("t => t.checked"):
        page.locator("ion-toggle[name=gale]").click()
    page.locator("input[name=galeCount]").fill("2")
    page.locator("ion-radio[value=dobro]").click()
    page.locator("input[name=calc-payout]").fill("87")
    for typed in ("1.234,56", "1234.56"):
        page.locator("input[name=money]").fill(typed)
        levels = calc.get_by_test_id("calc-level")
        expect(levels).to_have_count(3)
        for level, stake in enumerate(("1.234,56", "2.469,12", "4.938,24")):
            expect(levels.nth(level)).to_contain_text(stake)
        expect(calc.get_by_test_id("calc-worst")).to_contain_text("8.641,92")
    # cobrir depends on the payout: 2,00 then 2,00 / 0,87 = 2,30; at 80 %: 2,50
    page.locator("input[name=money]").fill("2,00")
    page.locator("input[name=galeCount]").fill("1")
    page.locator("ion-radio[value=cobrir]").click()
    expect(calc.get_by_test_id("calc-level").nth(1)).to_contain_text("2,30")
    expect(calc.get_by_test_id("calc-worst")).to_contain_text("4,30")
    page.locator("input[name=calc-payout]").fill("80")
    expect(calc.get_by_test_id("calc-level").nth(1)).to_contain_text("2,50")
    expect(calc.get_by_test_id("calc-worst")).to_contain_text("4,50")
    screenshot(page, "trader-03-gale-calculator")


def test_payout_slider_swept_fast_saves_what_it_shows(page: Page, bundle: str, screenshot):
    _goto(page, bundle, "payout")
    page.locator("ion-segment-button", has_text="acima de").click()
    knob = page.locator("ion-range .range-knob-handle")
    knob.focus()
    shown = page.get_by_test_id("payout-value")
    current = int(shown.inner_text().split()[1])
    for sweep, (key, steps) in enumerate([("ArrowRight", 12), ("ArrowLeft", 7), ("ArrowRight", 9),
                                          ("ArrowLeft", 11), ("ArrowRight", 3), ("ArrowLeft", 5)]):  # fmt: skip
        for _ in range(steps):
            page.keyboard.press(key, delay=0)
        current = max(75, min(99, current + (steps if key == "ArrowRight" else -steps)))
        value = f"> {current}"
        expect(shown).to_have_text(value + " %")  # the screen ends on the sweep's last step
        deadline = time.monotonic() + 10
        while (saved := api_call(bundle, "getUser", bearer=token(page))["preferedPayout"]) != value:
            assert time.monotonic() < deadline, (
                f"sweep {sweep}: the screen shows {value!r}, the server kept {saved!r}"
            )
            time.sleep(0.2)
        page.wait_for_timeout(500)  # a late, stale save would land now
        assert api_call(bundle, "getUser", bearer=token(page))["preferedPayout"] == value, sweep
    screenshot(page, "trader-04-payout-swept")


def test_glimpse_strategy_notice_on_dashboard_and_order_options(
    page: Page, bundle: str, own_strategy, screenshot
):
    bearer = token(page)
    owned = api_call(bundle, "getUser", bearer=bearer)["ownedStrategies"]
    strategies = api_call(bundle, "getStrategies", bearer=bearer)
    glimpse = next(s for s in strategies if s["createdBy"] == "Glimpse" and s["name"] in owned)
    api_call(bundle, "updateUser", {"fields": ["mode", "strategy"], "values": ["strategy", glimpse["name"]]},
             bearer=bearer)  # fmt: skip
    _goto(page, bundle)
    notice = page.get_by_test_id("glimpse-notice")
    expect(notice).to_contain_text(glimpse["name"])
    expect(notice).to_contain_text("R$\u00a02,00")
    expect(notice).to_contain_text("1 gale")
    expect(notice).to_contain_text("sobra R$\u00a01,00")
    expect(page.get_by_test_id("block-order-options")).to_contain_text("R$\u00a02,00 · G1")
    screenshot(page, "trader-05-glimpse-notice")
    _goto(page, bundle, "order-options")
    expect(page.get_by_test_id("glimpse-notice")).to_be_visible()
    # A strategy of the trader's own: no notice.
    api_call(bundle, "updateUser", {"fields": ["strategy"], "values": [own_strategy]}, bearer=bearer)
    _goto(page, bundle)
    expect(page.get_by_test_id("block-mode")).to_contain_text(own_strategy)
    expect(page.get_by_test_id("glimpse-notice")).to_have_count(0)


@pytest.fixture(scope="module")
def own_strategy(page: Page, bundle: str) -> str:
    """A strategy of the trader's own (a three-candle pattern, mirrored: it fires often)."""
    api_call(bundle, "createStrategy", {"name": STRATEGY, "sequence": "-1,1,-1", "operation": "call", "mirror": True},
             bearer=token(page))  # fmt: skip
    return STRATEGY


def _open_pair(bundle: str) -> str:
    """EURUSD while forex trades, else the open pair that replaces it (EURUSD-OTC from Friday 17:00 BRT):
    a closed pair has no payout to test at."""
    open_pairs = [
        p["ativo"] for p in api_call(bundle, "ativos", {"type": "compact"}) if int(p.get("payout", 0)) > 0
    ]
    return next((p for p in ("EURUSD", "EURUSD-OTC") if p in open_pairs), open_pairs[0])


def _six_hour_nets(bundle: str, bearer: str, pair: str) -> list[tuple[float, str, str]]:
    """What each 3-candle strategy netted on `pair` over the paper market's last 6 hours, computed here
    with the core (the same deterministic market as the bundle's), at the payout the app shows."""
    from itertools import product

    from api.backtest_money import money_report
    from glimpse.backtest.sources import series_from_market
    from glimpse.market.paper_market import PaperMarket
    from glimpse.rules.patterns import Strategy
    from glimpse.runtime.config import load_config

    config = load_config({"GLIMPSE_SECRET_KEY": "x" * 40, "GLIMPSE_SERVICE_TOKEN": "y" * 32})
    market = PaperMarket(config.paper_seed, config.paper_payout_min, config.paper_payout_max)
    payout = next(
        int(p["payout"]) for p in api_call(bundle, "ativos", {"type": "full"}) if p["ativo"] == pair
    )
    end = int(api_call(bundle, "status", bearer=bearer)["serverTime"] // 60) * 60
    series = series_from_market(market, [pair], end - 6 * 3600, 6 * 60)
    nets = []
    for colours in product(("-1", "1"), repeat=3):
        for operation in ("call", "put"):
            strategy = Strategy.parse(",".join(colours), operation, False)
            report = money_report(series, strategy, 1, 2, "dobro", 0, {pair: payout})
            nets.append((report["total"]["net_profit"], ",".join(colours), operation))
    return sorted(nets)


def test_backtest_in_money_for_a_losing_and_a_winning_strategy(page: Page, bundle: str, screenshot):
    bearer = token(page)
    # Far enough from zero that the market moving on for a few seconds cannot flip the sign (one
    # cycle of 2 + 4 moves a net by at most 6). Whether some strategy cleared that over the last six
    # hours depends on the hour the test runs, so the pair is the first open one where one did.
    open_pairs = [
        p["ativo"] for p in api_call(bundle, "ativos", {"type": "compact"}) if int(p.get("payout", 0)) > 0
    ]
    first = _open_pair(bundle)
    tried = {}
    for pair in [first, *(p for p in open_pairs if p != first)]:
        nets = tried[pair] = _six_hour_nets(bundle, bearer, pair)
        if nets[0][0] < -6 and nets[-1][0] > 6:
            break
    else:
        raise AssertionError(f"no open pair has a strategy beyond ±6 over six hours: {tried}")
    api_call(bundle, "updateUser", {"fields": ["strategySettings", "preferedActives"], "values": [MONEY, pair]},
             bearer=bearer)  # fmt: skip
    cases = [("Perdedora", nets[0], "loss", "−"), ("Vencedora", nets[-1], "win", "+")]
    for name, (_net, sequence, operation), verdict, sign in cases:
        api_call(bundle, "createStrategy", {"name": name, "sequence": sequence, "operation": operation,
                                            "mirror": False}, bearer=bearer)  # fmt: skip
        _goto(page, bundle, "strategies")
        page.get_by_role("button", name=f"Detalhes de {name}", exact=True).click()
        detail = page.get_by_test_id("strategy-detail")
        detail.get_by_role("button", name="Testar").click()
        detail.locator("select[name=backtest-period]").select_option("6h")
        total = detail.get_by_test_id("backtest-total")
        expect(detail.get_by_test_id("backtest-period")).to_contain_text("R$")
        expect(total).to_have_attribute("data-verdict", verdict, timeout=30_000)
        expect(total.get_by_test_id("backtest-net")).to_contain_text(sign + " R$")
        expect(total.get_by_test_id("backtest-break-even")).to_contain_text("%")
        # Nothing green unless it made money; a card per pair.
        cards = detail.get_by_test_id("backtest-card")
        expect(cards).to_have_count(1)
        expect(cards.first).to_have_attribute("data-verdict", verdict)
        screenshot(page, f"trader-06-backtest-{verdict}")
        page.get_by_role("button", name="Fechar").click()


@pytest.fixture(scope="module")
def trading(page: Page, bundle: str, own_strategy: str, screenshot) -> str:
    """The trader's bot has run until its ledger holds a settled entry and a settled gale; then stopped."""
    bearer = token(page)
    api_call(bundle, "checkIq", {"email": "teo@paper.local", "password": "paper-password-2"}, bearer=bearer)
    api_call(bundle, "updateUser", {"fields": ["iqAccountType", "mode", "strategy", "strategySettings",
                                               "signalSettings", "preferedActives", "preferedPayout"],
                                    "values": ["treinamento", "strategy", STRATEGY, MONEY, MONEY, "todos", "> 75"]},
             bearer=bearer)  # fmt: skip
    api_call(bundle, "updateUser", {"fields": ["glimpseStatus"], "values": ["waiting"]}, bearer=bearer)
    # While it trades: the operating card (OPERANDO, the Stop button) passes axe-core too.
    _goto(page, bundle)
    expect(page.get_by_test_id("operating-card")).to_be_visible(timeout=60_000)
    found = serious_violations(page)
    assert not found, "\n".join(found)
    # Each level shows its result as soon as it settles; until then, a countdown to its expiry.
    card = page.get_by_test_id("operating-card")
    expect(card.locator("[data-testid=try][data-state=running]").first).to_contain_text(
        re.compile(r"\d:\d\d"), timeout=60_000
    )
    settled = card.locator("[data-testid=try][data-state=win], [data-testid=try][data-state=loss], "
                           "[data-testid=try][data-state=doji]").first  # fmt: skip
    expect(settled).to_contain_text(re.compile("WIN|LOSS|DOJI"), timeout=60_000)
    screenshot(page, "trader-00-operating-card")
    deadline = time.monotonic() + 120
    while True:
        items = api_call(bundle, "getUserTrades", {"limit": 200}, bearer=bearer)["items"]
        closed = [t for t in items if t["status"] == "closed"]
        if any(t["galeLevel"] == 1 for t in closed) and any(t["galeLevel"] == 0 for t in closed):
            break
        assert time.monotonic() < deadline, f"no settled entry and gale within 120 s: {items}"
        time.sleep(2)
    api_call(bundle, "updateUser", {"fields": ["glimpseStatus"], "values": ["stopping"]}, bearer=bearer)
    deadline = time.monotonic() + 60
    while api_call(bundle, "getUser", bearer=bearer)["glimpseStatus"] != "off":
        assert time.monotonic() < deadline, "the bot did not stop within 60 s"
        time.sleep(1)
    # The dashboard sums the session up when it ends.
    summary = page.get_by_test_id("session-summary")
    expect(summary).to_be_visible(timeout=15_000)
    items = api_call(bundle, "getUserTrades", {"limit": 500}, bearer=bearer)["items"]
    session = [t for t in items if t["session"] == items[0]["session"]]
    expect(summary).to_contain_text(f"{len(session)} ordens")
    net = round(sum(t["profit"] or 0 for t in session), 2)
    expect(summary.get_by_test_id("summary-net")).to_contain_text(f"{abs(net):.2f}".replace(".", ","))
    # The balance the dashboard shows is the broker's, read after the orders settled.
    shown = api_call(bundle, "getUser", bearer=bearer)["iqBalancePractice"]
    broker = api_call(bundle, "checkIq", {"email": "teo@paper.local", "password": "paper-password-2"},
                      bearer=bearer)["treinamento"]  # fmt: skip
    assert shown == broker
    expect(page.get_by_test_id("balance")).to_contain_text(
        f"{shown:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    )
    screenshot(page, "trader-00-session-summary")
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
