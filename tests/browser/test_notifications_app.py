"""Settings › Notifications in the trader app (issue 15): link Telegram with the one-time
code the page shows, send a test message, and choose the events, against a bundle
whose notifier talks to the fake Telegram Bot API on loopback (tests/fakes/telegram.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in, token
from tests.browser.test_manager_journey import wait_for
from tests.browser.test_trader_axe import serious_violations
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.browser

CHAT = 777_001


@pytest.fixture(scope="module")
def page(new_context, telegram_bundle: str) -> Page:
    page = new_context("pt-BR").new_page()
    # A bundle just started on a busy machine: its first page may take a while.
    page.goto(telegram_bundle + "/login")
    expect(page.get_by_label("Email")).to_be_visible(timeout=60_000)
    log_in(page, telegram_bundle)
    accept_terms_if_shown(page)
    return page


def _open_notifications(page: Page, base: str) -> None:
    page.goto(base + "/home/settings")
    page.get_by_test_id("settings-notifications").click()
    expect(page.get_by_test_id("telegram-state")).to_be_visible()


def test_1_link_telegram_with_the_code_the_page_shows(
    page: Page, telegram_bundle: str, fake_telegram: FakeTelegram, screenshot
):
    _open_notifications(page, telegram_bundle)
    expect(page.get_by_test_id("telegram-state")).to_have_text("Nenhum chat ligado.")
    page.get_by_test_id("telegram-link").click()
    command = page.get_by_test_id("telegram-command")
    expect(command).to_contain_text("/start ")
    expect(page.get_by_text("Abra o bot @GlimpseTestBot no Telegram")).to_be_visible()
    screenshot(page, "notifications-01-link-code")

    # The trader sends the command to the bot; the notifier reads it with getUpdates.
    fake_telegram.user_says(CHAT, command.inner_text().strip(), username="ana_trader")
    sent = fake_telegram.wait_for_messages(CHAT, 1, timeout=30)
    assert sent and "ligado" in sent[0].lower()

    page.get_by_test_id("telegram-check").click()
    expect(page.get_by_test_id("telegram-state")).to_have_text("Ligado ao chat ana_trader")
    settings = api_call(telegram_bundle, "getNotifications", bearer=token(page))
    assert settings["telegram"]["linked"] is True
    assert settings["bot"] == {"configured": True, "name": "GlimpseTestBot"}
    screenshot(page, "notifications-01-linked")


def test_2_send_a_test_message(page: Page, fake_telegram: FakeTelegram, screenshot):
    before = len(fake_telegram.messages_to(CHAT))
    page.get_by_test_id("telegram-test").click()
    expect(page.get_by_text("Mensagem de teste enviada.")).to_be_visible()
    sent = fake_telegram.wait_for_messages(CHAT, before + 1, timeout=30)
    assert len(sent) == before + 1
    assert sent[-1] == "🔔 Teste de notificação do Glimpse: está funcionando."
    screenshot(page, "notifications-02-test-sent")


def test_3_event_switches_and_message_language(
    page: Page, telegram_bundle: str, fake_telegram: FakeTelegram, screenshot
):
    cycle = page.get_by_test_id("event-cycleResult")
    expect(cycle).to_have_class(re.compile(r"\btoggle-checked\b"))
    cycle.click()
    expect(cycle).not_to_have_class(re.compile(r"\btoggle-checked\b"))
    page.get_by_test_id("notifications-language").locator('ion-segment-button[value="en"]').click()
    bearer = token(page)

    def saved() -> dict:
        return api_call(telegram_bundle, "getNotifications", bearer=bearer)

    wait_for(lambda: saved()["language"] == "en", "the message language saved", 15)
    current = saved()
    assert current["events"]["cycleResult"] is False and current["events"]["stopLoss"] is True
    assert current["language"] == "en"
    screenshot(page, "notifications-03-switches")
    assert serious_violations(page) == []

    # The next message comes in the language chosen.
    before = len(fake_telegram.messages_to(CHAT))
    page.get_by_test_id("telegram-test").click()
    sent = fake_telegram.wait_for_messages(CHAT, before + 1, timeout=30)
    assert sent[-1] == "🔔 Glimpse test notification: it works."
