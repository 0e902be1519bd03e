"""A manager's journey through the manager app (/manager/), step by step, against
the embedded bundle on a fast clock, with traders of its own (registered with
invite codes the test creates), so the trader journey's demo user is untouched.

The traders are set up and observed through the API; the manager acts only
through the app.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import api_call
from tests.browser.conftest import bundle_log_tail

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
MANAGER_APP = REPO / "apps" / "manager"
SHARED = REPO / "apps" / "shared"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@glimpse.local", "glimpse-admin"
TRADER_PASSWORD = "trader-password-1"
TRADERS = ("ana.gestao@glimpse.local", "bruno.gestao@glimpse.local")


def _newest_source_mtime() -> float:
    paths = [MANAGER_APP / n for n in ("index.html", "vite.config.ts", "package-lock.json", "tsconfig.json")]
    for folder in (MANAGER_APP / "src", MANAGER_APP / "public", SHARED / "src"):
        paths.extend(p for p in folder.rglob("*") if p.is_file())
    return max(p.stat().st_mtime for p in paths if p.exists())


def _npm(args: list[str]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("the manager journey needs the built manager app: install Node 20 (with npm)")
    done = subprocess.run([npm, *args], cwd=MANAGER_APP, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"npm {' '.join(args)} failed in {MANAGER_APP}:\n{(done.stdout + done.stderr)[-3000:]}")


@pytest.fixture(scope="module")
def manager_dist(web_dist: Path) -> Path:
    """apps/manager/dist beside the web app's dist (where the API looks), rebuilt when stale."""
    dist = web_dist.resolve().parent.parent / "manager" / "dist"
    if dist.resolve() != (MANAGER_APP / "dist").resolve():
        assert (dist / "index.html").is_file(), f"no built manager app at {dist}"
        return dist
    index = dist / "index.html"
    if not index.is_file() or index.stat().st_mtime < _newest_source_mtime():
        installed = MANAGER_APP / "node_modules" / ".package-lock.json"
        if (
            not installed.exists()
            or installed.stat().st_mtime < (MANAGER_APP / "package-lock.json").stat().st_mtime
        ):
            _npm(["ci", "--no-audit", "--no-fund"])
        _npm(["run", "build"])
    assert index.is_file()
    return dist


def _status(error: urllib.error.HTTPError) -> int:
    return error.code


def call_status(base: str, route: str, body: dict | None = None, bearer: str | None = None) -> int:
    try:
        api_call(base, route, body, bearer)
    except urllib.error.HTTPError as error:
        return _status(error)
    return 200


def wait_for(
    check: Callable[[], object], what: str, timeout: float = 60, why: Callable[[], str] | None = None
) -> object:
    """`check()` once it is truthy; a failure after `timeout` s also shows `why()` (what the bundle was doing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s" + (f"\n{why()}" if why else "")
        time.sleep(0.5)


class Traders:
    """The test's traders: their ids and live tokens (the API's side of the story)."""

    def __init__(self, base: str):
        self.base = base
        self.admin = api_call(base, "managerLogin", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})[
            "token"
        ]
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}

    def register(self, email: str, name: str) -> None:
        code = api_call(self.base, "createCodes", {"count": 1, "premiumDays": 30}, self.admin)["codes"][0]
        created = api_call(self.base, "insertUser",
                           {"userName": name, "userMail": email, "userPassword": TRADER_PASSWORD, "code": code})  # fmt: skip
        self.ids[email] = created["_id"]["$oid"]
        self.log_in(email)

    def log_in(self, email: str) -> None:
        answer = api_call(self.base, "login", {"email": email, "password": TRADER_PASSWORD})
        self.tokens[email] = answer["token"]

    def start(self, email: str) -> None:
        token = self.tokens[email]
        api_call(self.base, "checkIq", {"email": "iq." + email, "password": "paper-password-1"}, token)
        # A three-candle pattern, mirrored: it fires within minutes at any hour of the paper market
        # (the default strategy, nine reds in a row, can stay silent for an hour).
        name = f"Jornada {sorted(self.ids).index(email) + 1}"
        api_call(self.base, "createStrategy", {"name": name, "sequence": "-1,1,-1", "operation": "call", "mirror": True},
                 token)  # fmt: skip
        api_call(
            self.base,
            "updateUser",
            {"fields": ["readTerms", "mode", "strategy"], "values": [True, "strategy", name]},
            token,
        )
        api_call(self.base, "updateUser", {"fields": ["glimpseStatus"], "values": ["waiting"]}, token)

    def account(self, email: str) -> dict:
        return api_call(self.base, "getUserDetail", {"user": self.ids[email]}, self.admin)

    def status(self, email: str) -> str:
        return self.account(email)["user"]["glimpseStatus"]

    def premium_days(self, email: str) -> int:
        """The days left on the trader's subscription, as the API has them now: registered with 30, but
        the bundle's fast clock takes a day off at the market's midnight, which a run near it crosses."""
        return int(self.account(email)["user"]["premiumDays"])

    def trades(self, email: str, **query) -> list[dict]:
        return api_call(self.base, "getTrades", {"user": self.ids[email], **query}, self.admin)

    def story(self, email: str) -> str:
        """What a failed wait on this trader shows: their account's state, latest trades, the bundle's log."""
        user = self.account(email)["user"]
        state = {k: user.get(k) for k in ("glimpseStatus", "server", "operating", "premiumDays", "blocked")}
        keys = ("status", "galeLevel", "sentAt", "placedAt", "expiresAt", "closedAt", "result", "server")
        latest = [{k: t.get(k) for k in keys} for t in self.trades(email)[:3]]
        return f"account: {state}\nlatest trades: {latest}\nbundle log:\n{bundle_log_tail(self.base)}"


@pytest.fixture(scope="module")
def traders(bundle: str) -> Traders:
    group = Traders(bundle)
    for email, name in zip(TRADERS, ("Ana Gestao Teste", "Bruno Gestao Teste"), strict=True):
        group.register(email, name)
        group.start(email)
    return group


@pytest.fixture(scope="module")
def page(new_context, manager_dist) -> Page:
    page = new_context("pt-BR").new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    return page


def goto(page: Page, base: str, path: str) -> None:
    page.goto(f"{base}/manager{path}")
    expect(page.get_by_test_id("page-title").last).to_be_visible()


def test_1_log_in_and_see_the_overview_with_a_trading_user(
    page: Page, bundle: str, traders: Traders, screenshot
):
    wait_for(
        lambda: traders.status(TRADERS[0]) == "operating",
        "the first trader operating",
        90,
        lambda: traders.story(TRADERS[0]),
    )
    page.goto(bundle + "/manager/")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    page.get_by_test_id("login-email").fill(ADMIN_EMAIL)
    page.get_by_test_id("login-password").fill("wrong password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Email ou senha incorretos.")
    screenshot(page, "manager-01-login")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/manager/overview")
    operating = page.get_by_test_id("status-operating").locator("td.num")
    expect(operating).not_to_have_text("0", timeout=30_000)
    expect(page.get_by_test_id("servers-board")).to_contain_text("glimpse_")
    expect(page.get_by_test_id("me")).to_contain_text("Administrador")
    screenshot(page, "manager-01-overview")


def test_2_find_the_user_see_their_trades_and_export_csv(
    page: Page, bundle: str, traders: Traders, screenshot
):
    email = TRADERS[0]
    wait_for(lambda: traders.trades(email), "a first trade of the trader", 120, lambda: traders.story(email))
    goto(page, bundle, "/users")
    page.get_by_test_id("users-search").fill("ana.gestao")
    page.get_by_test_id("users-go").click()
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(email)
    screenshot(page, "manager-02-users")
    rows.first.click()
    expect(page.get_by_test_id("user-email")).to_have_text(email)
    expect(page.get_by_test_id("trade-row").first).to_be_visible(timeout=30_000)
    screenshot(page, "manager-02-user-detail")
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    text = Path(download.value.path()).read_text()
    rows_csv = list(csv.DictReader(io.StringIO(text)))
    assert rows_csv and {r["user"] for r in rows_csv} == {traders.ids[email]}
    assert {"ativo", "operacao", "amount", "result", "profit"} <= set(rows_csv[0])
    assert {r["mode"] for r in rows_csv} == {"strategy"}
    # The ledger of every user, filtered by the mode that placed each trade.
    goto(page, bundle, "/trades")
    page.get_by_test_id("trades-user").fill(traders.ids[email])
    page.get_by_test_id("trades-mode").select_option("copy")
    page.get_by_role("button", name="Buscar").click()
    expect(page.locator("p.empty")).to_be_visible()  # loaded, and nothing copied
    expect(page.get_by_test_id("trade-row")).to_have_count(0)
    page.get_by_test_id("trades-mode").select_option("strategy")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_test_id("trade-row").first).to_contain_text("Estratégia")
    screenshot(page, "manager-02-trades-by-mode")


def test_3_grant_days_block_and_unblock(page: Page, bundle: str, traders: Traders, screenshot):
    email = TRADERS[0]
    days = traders.premium_days(email)
    goto(page, bundle, f"/users/{traders.ids[email]}")
    expect(page.get_by_test_id("user-days")).to_have_text(str(days))
    page.get_by_test_id("days-input").fill("10")
    page.get_by_test_id("grant-days").click()
    expect(page.get_by_test_id("user-days")).to_have_text(str(days + 10))

    assert traders.status(email) in ("operating", "assigning", "waiting")
    page.get_by_test_id("block").click()
    expect(page.get_by_test_id("user-blocked")).to_have_text("Bloqueado")
    screenshot(page, "manager-03-blocked")
    # The login is refused, and the token the trader had no longer works.
    assert call_status(bundle, "login", {"email": email, "password": TRADER_PASSWORD}) == 403
    assert call_status(bundle, "getUser", {}, traders.tokens[email]) == 401
    # The bot stops through the user's own life cycle: stopping, then off once the order in flight settled.
    wait_for(
        lambda: traders.status(email) == "off",
        "the blocked trader's bot off",
        90,
        lambda: traders.story(email),
    )
    assert traders.trades(email, status="pending") == [] and traders.trades(email, status="open") == []
    expect(page.get_by_test_id("user-status")).to_have_text("Desligado", timeout=10_000)
    screenshot(page, "manager-03-stopped")

    page.get_by_test_id("unblock").click()
    expect(page.get_by_test_id("user-blocked")).to_have_text("Liberado")
    traders.log_in(email)  # the login works again
    audit = api_call(bundle, "getAudit", {"who": ADMIN_EMAIL}, traders.admin)
    assert [r["didWhat"] for r in audit[:3]] == ["unblockUser", "blockUser", "grantPremiumDays"]


def test_4_force_stop_another_users_bot(page: Page, bundle: str, traders: Traders, screenshot):
    email = TRADERS[1]
    wait_for(
        lambda: traders.status(email) == "operating",
        "the second trader operating",
        90,
        lambda: traders.story(email),
    )
    goto(page, bundle, f"/users/{traders.ids[email]}")
    expect(page.get_by_test_id("user-status")).to_have_text("Operando")
    page.get_by_test_id("force-stop").click()
    wait_for(
        lambda: traders.status(email) == "off", "the force-stopped bot off", 90, lambda: traders.story(email)
    )
    expect(page.get_by_test_id("user-status")).to_have_text("Desligado", timeout=10_000)
    screenshot(page, "manager-04-force-stopped")
    assert traders.trades(email, status="open") == []
    records = api_call(bundle, "getAudit", {"didWhat": "forceStop"}, traders.admin)
    assert records[0]["target"] == email and records[0]["to"] == {"glimpseStatus": "stopping"}


def test_5_create_codes_and_register_with_one(page: Page, bundle: str, traders: Traders, screenshot):
    goto(page, bundle, "/codes")
    page.get_by_test_id("codes-count").fill("2")
    page.get_by_test_id("codes-days").fill("7")
    page.get_by_test_id("codes-create").click()
    created = page.get_by_test_id("codes-created").locator("li")
    expect(created).to_have_count(2)
    code = created.first.inner_text().strip()
    api_call(bundle, "insertUser", {"userName": "Clara Codigo", "userMail": "clara.codigo@glimpse.local",
                                    "userPassword": TRADER_PASSWORD, "code": code})  # fmt: skip
    page.get_by_test_id("codes-used").select_option("yes")
    expect(page.get_by_test_id("codes-table")).to_contain_text("clara.codigo@glimpse.local")
    screenshot(page, "manager-05-codes")


def test_6_publish_a_glimpse_strategy_the_trader_sees(page: Page, bundle: str, traders: Traders, screenshot):
    goto(page, bundle, "/strategies")
    page.get_by_test_id("strategy-name").fill("Glimpse Jornada")
    page.get_by_test_id("strategy-sequence").fill("1,1,-1")
    page.get_by_test_id("strategy-save").click()
    expect(page.get_by_test_id("strategies-table")).to_contain_text("Glimpse Jornada")
    screenshot(page, "manager-06-strategies")
    listed = api_call(bundle, "getStrategies", {}, traders.tokens[TRADERS[1]])
    assert {"name": "Glimpse Jornada", "createdBy": "Glimpse"}.items() <= next(
        s for s in listed if s["name"] == "Glimpse Jornada"
    ).items()


def test_7_answer_a_question_and_the_trader_gets_it(page: Page, bundle: str, traders: Traders, screenshot):
    token = traders.tokens[TRADERS[1]]
    api_call(bundle, "insertQuestion", {"question": "Como funciona o stop loss?"}, token)
    goto(page, bundle, "/support")
    question = page.get_by_test_id("question").filter(has_text="Como funciona o stop loss?")
    question.get_by_test_id("answer-text").fill("Ele para o robô quando a perda da sessão chega ao valor.")
    question.get_by_test_id("answer-send").click()
    expect(question).to_have_count(0)  # it left the unanswered list
    screenshot(page, "manager-07-support")
    alerts = api_call(bundle, "getUser", {}, token)["alerts"]
    assert "Ele para o robô" in alerts[-1]["description"]


def _trader_app(new_context, bundle: str, locale: str, email: str) -> Page:
    """The trader app in `locale`, logged in as `email` (the login page's words in that language)."""
    trader = new_context(locale).new_page()
    trader.goto(bundle + "/login")
    english = locale.startswith("en")
    trader.get_by_label("Email").fill(email)
    trader.get_by_label("Password" if english else "Senha").fill(TRADER_PASSWORD)
    trader.get_by_role("button", name="Log in" if english else "Entrar").click()
    trader.wait_for_url(re.compile(r"/home"))
    return trader


def test_8_maintenance_on_and_off(page: Page, new_context, bundle: str, traders: Traders, screenshot):
    token = traders.tokens[TRADERS[1]]
    goto(page, bundle, "/settings")
    page.get_by_test_id("maintenance-message").fill("Voltamos em 10 minutos")
    page.get_by_test_id("maintenance-on").click()
    expect(page.get_by_test_id("maintenance-state")).to_contain_text("Ligado")
    status = api_call(bundle, "status", {}, token)
    assert status["maintenance"] is True and status["maintenanceMessage"] == "Voltamos em 10 minutos"
    screenshot(page, "manager-08-maintenance-on")

    # The trader app shows its maintenance page with the manager's message, in either language.
    trader = _trader_app(new_context, bundle, "pt-BR", TRADERS[1])
    note = trader.get_by_test_id("maintenance-note")
    expect(note).to_contain_text("Aviso da equipe")
    expect(note).to_contain_text("Voltamos em 10 minutos")
    expect(trader.get_by_text("O Glimpse está em manutenção")).to_be_visible()
    expect(trader.get_by_test_id("start")).to_have_count(0)  # no dashboard behind it
    screenshot(trader, "manager-08-trader-maintenance")
    english = _trader_app(new_context, bundle, "en-US", TRADERS[1])
    expect(english.get_by_test_id("maintenance-note")).to_contain_text("A note from the team")
    expect(english.get_by_test_id("maintenance-note")).to_contain_text("Voltamos em 10 minutos")
    english.close()

    page.get_by_test_id("maintenance-off").click()
    expect(page.get_by_test_id("maintenance-state")).to_contain_text("Desligado")
    status = api_call(bundle, "status", {}, token)
    assert status["maintenance"] is False and status["maintenanceMessage"] == ""
    trader.reload()
    expect(trader.get_by_test_id("start")).to_be_visible(timeout=15_000)
    expect(trader.get_by_test_id("maintenance-note")).to_have_count(0)
    trader.close()


def test_9_a_support_manager_is_refused_an_admin_action(page: Page, new_context, bundle: str, traders: Traders,
                                                        screenshot):  # fmt: skip
    goto(page, bundle, "/managers")
    page.get_by_test_id("manager-email").fill("suporte@glimpse.local")
    page.get_by_test_id("manager-name").fill("Suporte Jornada")
    page.get_by_test_id("manager-password").fill("support-password-1")
    page.get_by_test_id("manager-role").select_option("support")
    page.get_by_test_id("manager-create").click()
    expect(page.get_by_test_id("managers-table")).to_contain_text("suporte@glimpse.local")

    support = new_context("pt-BR").new_page()
    support.set_viewport_size({"width": 1280, "height": 900})
    support.goto(bundle + "/manager/login")
    support.get_by_test_id("login-email").fill("suporte@glimpse.local")
    support.get_by_test_id("login-password").fill("support-password-1")
    support.get_by_test_id("login-submit").click()
    support.wait_for_url("**/manager/overview")
    expect(support.get_by_test_id("me")).to_contain_text("Suporte")
    email = TRADERS[1]
    days = traders.premium_days(email)
    support.goto(f"{bundle}/manager/users/{traders.ids[email]}")
    expect(support.get_by_test_id("user-days")).to_have_text(str(days))
    support.get_by_test_id("grant-days").click()
    expect(support.locator("ion-toast.toast-error")).to_be_visible()
    screenshot(support, "manager-09-support-refused")
    expect(support.get_by_test_id("user-days")).to_have_text(str(days))
    token = support.evaluate("() => localStorage.getItem('glimpse.manager.token')")
    assert call_status(bundle, "grantPremiumDays", {"user": traders.ids[email], "days": 5}, token) == 403
    assert call_status(bundle, "getUsers", {}, token) == 200  # support reads everything
