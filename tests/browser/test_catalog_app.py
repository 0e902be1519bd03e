"""The Catalogador in the trader app: catalogue the paper market (independent colours, so nothing
may beat chance), read the honest verdict, and save a ranked row as one of the trader's strategies.
One trader of its own, so the journey's demo account is left alone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in, token
from tests.browser.test_manager_journey import ADMIN_EMAIL, ADMIN_PASSWORD, manager_dist  # noqa: F401 (a fixture)
from tests.browser.test_trader_axe import serious_violations

pytestmark = pytest.mark.browser

EMAIL = "cata@glimpse.local"
PASSWORD = "cata-pass-123"
SAVED = "Catalogada 1"


@pytest.fixture(scope="module")
def page(new_context, bundle: str) -> Page:
    admin = api_call(bundle, "managerLogin", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    code = api_call(bundle, "createCodes", {"count": 1, "premiumDays": 30}, admin)["codes"][0]
    api_call(bundle, "insertUser", {"userName": "Cata Logo Souza", "userMail": EMAIL, "userPassword": PASSWORD,
                                    "code": code})  # fmt: skip
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, EMAIL, PASSWORD)
    accept_terms_if_shown(page)
    return page


def test_the_catalog_finds_nothing_beyond_chance_and_a_row_becomes_a_strategy(
    page: Page, bundle: str, screenshot
):
    # The menu links the page.
    page.goto(f"{bundle}/home")
    page.locator("ion-menu-button").first.click()
    page.locator("ion-menu ion-item", has_text="Catalogador").click()
    page.wait_for_url("**/home/catalog")
    expect(page.locator("#home-content ion-title").first).to_have_text("Catalogador")

    tiles = page.get_by_test_id("catalog-pairs")
    for pair in ("EURUSD-OTC", "GBPUSD-OTC"):
        tiles.get_by_role("button", name=pair, exact=True).click()
    page.get_by_test_id("catalog-days").locator("ion-segment-button[value='3']").click()
    screenshot(page, "catalog-01-form")
    page.get_by_test_id("catalog-run").click()

    verdict = page.get_by_test_id("catalog-verdict")
    expect(verdict).to_be_visible(timeout=60_000)
    # The paper market's colours are independent: an honest catalog says so.
    expect(verdict).to_contain_text("Nenhuma estratégia superou o acaso")
    rows = page.get_by_test_id("catalog-row")
    expect(rows.first).to_be_visible()
    assert rows.count() >= 5
    expect(page.locator("[data-testid=catalog-row][data-flagged=true]")).to_have_count(0)
    expect(page.get_by_test_id("catalog-context")).to_contain_text("testes")
    heat = page.get_by_test_id("catalog-heat")
    expect(heat.locator("thead th", has_text="EURUSD-OTC")).to_have_count(1)
    expect(heat.locator("thead th", has_text="GBPUSD-OTC")).to_have_count(1)
    screenshot(page, "catalog-02-verdict")
    assert serious_violations(page) == []

    # Save the first row that can be a strategy.
    savable = page.locator("[data-testid=catalog-row]", has=page.get_by_test_id("catalog-save")).first
    label = savable.locator("td").nth(1).locator("strong").inner_text()
    savable.get_by_test_id("catalog-save").click()
    form = savable.get_by_test_id("catalog-save-form")
    form.locator("input[name=catalog-strategy-name]").fill(SAVED)
    form.get_by_test_id("catalog-save-confirm").click()
    expect(page.locator("ion-toast")).to_contain_text(f"Estratégia {SAVED} salva!")
    screenshot(page, "catalog-03-saved")

    stored = [s for s in api_call(bundle, "getStrategies", {}, token(page)) if s["name"] == SAVED]
    assert len(stored) == 1
    strategy = stored[0]
    if "quadrant" in strategy:
        assert strategy["sequence"] == "" and strategy["quadrant"]["period"] == 5
    else:
        # The label is "<sequence> <operation>[ mirror]", as the catalog wrote it.
        sequence, operation, *mirror = label.split(" ")
        assert (strategy["sequence"], strategy["operation"], strategy["mirror"]) == (
            sequence,
            operation,
            bool(mirror),
        )

    # It is the trader's own now: listed on the Strategies page.
    page.goto(f"{bundle}/home/strategies")
    expect(page.get_by_test_id("strategy-list")).to_contain_text(SAVED)
    screenshot(page, "catalog-04-strategies")


def test_the_editor_saves_mhi_as_a_quadrant_strategy(page: Page, bundle: str, screenshot):
    page.goto(f"{bundle}/home/strategies")
    page.get_by_test_id("create-strategy").click()
    editor = page.get_by_test_id("strategy-editor")
    editor.locator("input[name=strategy-name]").fill("Meu MHI")
    editor.get_by_test_id("strategy-kind").locator("ion-segment-button[value=quadrant]").click()
    editor.locator("select[name=quadrant-preset]").select_option("mhi-maioria")
    expect(editor.get_by_test_id("quadrant-rule")).to_contain_text("maioria das velas 3, 4, 5")
    expect(editor.get_by_test_id("test-strategy")).to_have_count(0)  # the backtest reads sequences only
    screenshot(page, "catalog-05-editor-quadrant")
    editor.get_by_test_id("save-strategy").click()
    expect(page.get_by_test_id("strategy-list")).to_contain_text("Meu MHI")

    stored = [s for s in api_call(bundle, "getStrategies", {}, token(page)) if s["name"] == "Meu MHI"]
    assert [s.get("quadrant") for s in stored] == [
        {"period": 5, "offset": 0, "candles": [2, 3, 4], "pick": "majority"}
    ]
    page.get_by_role("button", name="Detalhes de Meu MHI").click()
    expect(page.get_by_test_id("quadrant-summary")).to_contain_text("MHI maioria")
    screenshot(page, "catalog-06-quadrant-detail")


@pytest.mark.usefixtures("manager_dist")  # the built manager app, beside the web app's
def test_a_manager_publishes_a_catalog_row_as_a_glimpse_strategy(
    page: Page, new_context, bundle: str, screenshot
):
    manager = new_context("pt-BR").new_page()
    manager.set_viewport_size({"width": 1280, "height": 900})
    manager.goto(bundle + "/manager/")
    manager.get_by_test_id("login-email").fill(ADMIN_EMAIL)
    manager.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    manager.get_by_test_id("login-submit").click()
    manager.wait_for_url("**/manager/overview")
    manager.get_by_test_id("menu-catalog").click()
    manager.wait_for_url("**/manager/catalog")
    manager.get_by_test_id("catalog-pairs").fill("EURUSD-OTC, GBPUSD-OTC")
    manager.get_by_test_id("catalog-days").select_option("3")
    manager.get_by_test_id("catalog-run").click()
    expect(manager.get_by_test_id("catalog-verdict")).to_contain_text(
        "Nenhuma estratégia superou o acaso", timeout=60_000
    )
    expect(manager.locator("[data-testid=catalog-row][data-flagged=true]")).to_have_count(0)
    row = manager.locator("[data-testid=catalog-row]", has=manager.get_by_test_id("catalog-publish")).first
    row.locator("input").fill("Glimpse Catalogo")
    row.get_by_test_id("catalog-publish").click()
    expect(manager.locator("ion-toast")).to_contain_text("Estratégia Glimpse Catalogo publicada.")
    screenshot(manager, "catalog-07-manager-published")
    # Every trader sees it, signed Glimpse.
    listed = [
        s for s in api_call(bundle, "getStrategies", {}, token(page)) if s["name"] == "Glimpse Catalogo"
    ]
    assert [s["createdBy"] for s in listed] == ["Glimpse"]
