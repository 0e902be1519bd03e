"""The trader app's overlays, checkbox and radios load after the first screen (issue 13: a light app
on a phone), and still work on first use: the terms, the open-pairs popover, the mode sheet, the
signal list's sheet and its confirmation alert. One trader of its own."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in, token

pytestmark = pytest.mark.browser

ADMIN_EMAIL, ADMIN_PASSWORD = "admin@glimpse.local", "glimpse-admin"
EMAIL, PASSWORD = "olga.overlays@glimpse.local", "olga-pass-123"
MARKET_TZ = ZoneInfo("America/Sao_Paulo")


def _first_screen_chunks(dist: Path) -> set[str]:
    """The chunks index.html loads or preloads, and every chunk they import statically."""
    assets = dist / "assets"
    html = (dist / "index.html").read_text()
    todo = re.findall(r'(?:src|href)="/assets/([\w.-]+\.js)"', html)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        code = (assets / name).read_text()
        # Static imports only (`import(...)` is a lazy chunk): `import{..}from"./x.js"`, `import"./x.js"`.
        todo += re.findall(r'(?:\bfrom|\bimport)\s*"\./([\w.-]+\.js)"', code)
    return seen


# A class name from each component's own styles, found in no other component's code.
MARKERS = {"ion-modal": "modal-sheet", "ion-popover": "popover-arrow", "ion-alert": "alert-button-group",
           "ion-toast": "toast-wrapper", "ion-checkbox": "checkbox-icon", "ion-radio": "radio-icon"}  # fmt: skip


def test_the_first_screen_loads_no_overlay_or_form_code(web_dist: Path):
    first = _first_screen_chunks(web_dist)
    assert any(name.startswith("HomePage-") for name in first)  # the dashboard is preloaded
    first_code = "".join((web_dist / "assets" / name).read_text() for name in first)
    all_code = "".join(path.read_text() for path in (web_dist / "assets").glob("*.js"))
    for component, marker in MARKERS.items():
        assert marker in all_code, f"{component}: the marker {marker!r} is in no chunk"
        assert marker not in first_code, f"{component} is in the first screen's chunks"


@pytest.fixture(scope="module")
def page(new_context, bundle: str) -> Page:
    admin = api_call(bundle, "managerLogin", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    code = api_call(bundle, "createCodes", {"count": 1, "premiumDays": 30}, admin)["codes"][0]
    api_call(bundle, "insertUser", {"userName": "Olga Overlays Lima", "userMail": EMAIL, "userPassword": PASSWORD,
                                    "code": code})  # fmt: skip
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, EMAIL, PASSWORD)
    return page


def test_the_terms_the_popover_and_the_mode_sheet_open_on_first_use(page: Page, bundle: str, screenshot):
    # A new trader: the terms (a modal whose code is fetched when it is needed) are shown and accepted.
    assert accept_terms_if_shown(page)
    assert api_call(bundle, "getUser", bearer=token(page))["readTerms"] is True
    expect(page.get_by_test_id("start")).to_be_visible()
    # No popover mounted before it is first opened.
    expect(page.locator("ion-popover")).to_have_count(0)
    page.get_by_test_id("open-pairs").click()
    popover = page.get_by_test_id("pairs-popover")
    expect(popover).to_be_visible()
    screenshot(page, "overlays-01-pairs-popover")
    page.keyboard.press("Escape")
    expect(popover).to_be_hidden()
    # Once used it opens again.
    page.get_by_test_id("open-pairs").click()
    expect(popover).to_be_visible()
    page.keyboard.press("Escape")
    expect(popover).to_be_hidden()

    page.get_by_test_id("block-mode").click()
    expect(page.get_by_test_id("mode-strategy")).to_be_visible()
    screenshot(page, "overlays-02-mode-sheet")
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("mode-strategy")).to_be_hidden()


def test_the_signal_sheet_and_the_clear_all_alert_work(page: Page, bundle: str, screenshot):
    bearer = token(page)
    now = datetime.fromtimestamp(api_call(bundle, "status", bearer=bearer)["serverTime"], MARKET_TZ)
    later = now + timedelta(minutes=90)
    if later.date() != now.date():
        pytest.skip("the market clock is too close to midnight for a signal later today")
    page.goto(bundle + "/home/signals")
    page.get_by_test_id("add-signals").click()
    page.get_by_test_id("signal-text").locator("textarea").fill(f"EURUSD;{later:%H:%M};CALL")
    page.get_by_test_id("verify-signals").click()  # a list with no rejected line is saved at once
    table = page.get_by_test_id("signal-table")
    expect(table.locator("tbody tr")).to_have_count(1)

    page.get_by_role("button", name="Limpar tudo").click()
    alert = page.locator("ion-alert")
    expect(alert).to_be_visible()
    screenshot(page, "overlays-03-clear-alert")
    alert.get_by_role("button", name="Cancelar").click()
    expect(alert).to_have_count(0)
    expect(table.locator("tbody tr")).to_have_count(1)  # cancelled: the list stays
    page.get_by_role("button", name="Limpar tudo").click()
    page.locator("ion-alert").get_by_role("button", name="Limpar tudo").click()
    expect(table).to_have_count(0)
    assert api_call(bundle, "getSignals", bearer=bearer)[0]["signals"] == []
