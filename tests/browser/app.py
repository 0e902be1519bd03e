"""What a user does in the app, as small Playwright helpers (pt-BR texts unless said)."""

from __future__ import annotations

import itertools
import json
import re
import urllib.request

from playwright.sync_api import Page, expect

DEMO_EMAIL = "demo@glimpse.local"
DEMO_PASSWORD = "glimpse-demo"


def log_in(page: Page, base: str, email: str = DEMO_EMAIL, password: str = DEMO_PASSWORD) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(re.compile(r"/home"))


def accept_terms_if_shown(page: Page) -> bool:
    """Scroll the terms to the end and accept them; False when they were not shown."""
    terms = page.get_by_test_id("terms-text")
    try:
        terms.wait_for(timeout=3000)
    except Exception:
        return False
    terms.evaluate("el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }")
    page.get_by_role("button", name="Estou de acordo").click()
    expect(terms).to_have_count(0)
    return True


def open_home(page: Page, base: str, section: str = "") -> None:
    """Go to a page of the home shell, logging the demo user in when needed."""
    page.goto(f"{base}/home/{section}".rstrip("/"))
    page.wait_for_load_state()
    if "/login" in page.url:
        log_in(page, base)
        accept_terms_if_shown(page)
        if section:
            page.goto(f"{base}/home/{section}")
    expect(page.locator("#home-content ion-title").first).to_be_visible()


def back_home(page: Page) -> None:
    page.get_by_test_id("back-home").click()
    expect(page.get_by_test_id("glimpse-status")).to_be_visible()


def dashboard_status(page: Page):
    return page.get_by_test_id("glimpse-status")


def token(page: Page) -> str:
    return page.evaluate("() => localStorage.getItem('glimpse.token')")


_registrations = itertools.count(1)


def api_call(base: str, route: str, body: dict | None = None, bearer: str | None = None):
    """Read the server's side of the story (never to drive the app).

    Each registration (insertUser, limited per address) comes from a phone of its own: a distinct
    documentation address (RFC 5737) in X-Forwarded-For, which the bundle trusts from 127.0.0.1."""
    forwarded = (
        {"X-Forwarded-For": f"203.0.113.{next(_registrations) % 250 + 1}"} if route == "insertUser" else {}
    )
    request = urllib.request.Request(
        f"{base}/glimpse/{route}",
        data=json.dumps(body or {}).encode(),
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {bearer}"} if bearer else {}),
            **forwarded,
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
