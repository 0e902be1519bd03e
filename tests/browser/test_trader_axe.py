"""axe-core on every page of the trader app: no serious or critical violation.

axe-core is the npm package pinned in apps/web (devDependencies), injected into the page; nothing is
downloaded. Each page is checked in its resting state after it loaded."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "apps" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SECTIONS = ("", "operations", "rank", "settings", "broker", "payout", "pairs", "order-options", "strategies",
            "signals", "alerts")  # fmt: skip
EMAIL, PASSWORD = "iris@glimpse.local", "iris-pass-123"


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through DevTools, which the app's CSP (script-src 'self') rightly does not cover.
        page.evaluate(AXE.read_text() + "\n;undefined")
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations
              .filter((v) => v.impact === "serious" || v.impact === "critical")
              .map((v) => `${v.impact} ${v.id}: ${v.nodes.slice(0, 4).map((n) => n.target.join(" ") + " "
                  + (n.any[0]?.message ?? "")).join(" | ")}`);
        }"""
    )
    return list(found)


@pytest.fixture(scope="module")
def page(new_context, bundle: str) -> Page:
    api_call(bundle, "insertUser", {"userName": "Iris Axe Souza", "userMail": EMAIL, "userPassword": PASSWORD,
                                    "code": "Z4FFEV63BT"})  # fmt: skip
    page = new_context("pt-BR").new_page()
    log_in(page, bundle, EMAIL, PASSWORD)
    accept_terms_if_shown(page)
    return page


def test_the_login_page_has_no_serious_violation(new_context, bundle: str):
    login = new_context("pt-BR").new_page()
    login.goto(bundle + "/login")
    expect(login.get_by_role("button", name="Entrar")).to_be_visible()
    found = serious_violations(login)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_page_has_no_serious_violation(page: Page, bundle: str, section: str, screenshot):
    page.goto(f"{bundle}/home/{section}".rstrip("/"))
    expect(page.locator("#home-content ion-title").first).to_be_visible()
    page.wait_for_timeout(800)  # lazy pages and their first answers
    found = serious_violations(page)
    assert not found, section + ":\n" + "\n".join(found)
