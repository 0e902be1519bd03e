"""Copy trading in the apps (issue 15): a trader asks to be copied in the trader app, an
admin approves them with the switch on the user's page of the manager app, and a follower
chooses them on the Copy page, switches to copy mode and sees a copied trade linked to
the leader's trade in the ledger.

The module runs a bundle of its own: the leader and the follower each need one of the
bundle's operational servers, which the other browser modules' traders may hold.
The bots are started and stopped through the API (the dashboard's Start is the trader
journey's); the choices the issue asks about are made in the apps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app import accept_terms_if_shown, api_call, log_in
from tests.browser.conftest import running_bundle
from tests.browser.test_manager_journey import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    TRADER_PASSWORD,
    manager_dist,  # noqa: F401  (the fixture that builds the manager app)
    wait_for,
)
from tests.browser.test_trader_axe import serious_violations

pytestmark = pytest.mark.browser

LEADER = ("lia.lider@glimpse.local", "Lia Lider Copia")
FOLLOWER = ("fabio.seguidor@glimpse.local", "Fabio Seguidor Copia")
LEADER_STRATEGY = "Copia Lider"


@pytest.fixture(scope="module")
def copy_bundle(web_dist: Path, manager_dist: Path, tmp_path_factory) -> Iterator[str]:  # noqa: F811
    with running_bundle(web_dist, tmp_path_factory.mktemp("copy-bundle")) as base:
        yield base


class People:
    """The leader and the follower: ids and tokens (the API's side of the story), and the admin's token."""

    def __init__(self, base: str):
        self.base = base
        self.admin = api_call(base, "managerLogin", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})[
            "token"
        ]
        self.ids: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        for email, name in (LEADER, FOLLOWER):
            code = api_call(base, "createCodes", {"count": 1, "premiumDays": 30}, self.admin)["codes"][0]
            created = api_call(base, "insertUser",
                               {"userName": name, "userMail": email, "userPassword": TRADER_PASSWORD, "code": code})  # fmt: skip
            self.ids[email] = created["_id"]["$oid"]
            self.tokens[email] = api_call(base, "login", {"email": email, "password": TRADER_PASSWORD})[
                "token"
            ]
            api_call(
                base, "checkIq", {"email": "iq." + email, "password": "paper-password-1"}, self.tokens[email]
            )

    def call(self, email: str, route: str, body: dict | None = None):
        return api_call(self.base, route, body, self.tokens[email])

    def status(self, email: str) -> str:
        return self.call(email, "getUser")["glimpseStatus"]

    def set_status(self, email: str, status: str) -> None:
        self.call(email, "updateUser", {"fields": ["glimpseStatus"], "values": [status]})

    def stop(self, email: str) -> None:
        if self.status(email) not in ("off", "stopping"):
            self.set_status(email, "stopping")


@pytest.fixture(scope="module")
def people(copy_bundle: str) -> Iterator[People]:
    group = People(copy_bundle)
    try:
        yield group
    finally:
        for email, _ in (LEADER, FOLLOWER):
            group.stop(email)


def _trader_page(new_context, base: str, email: str) -> Page:
    page = new_context("pt-BR").new_page()
    # A bundle just started on a busy machine: its first page may take a while.
    page.goto(base + "/login")
    expect(page.get_by_label("Email")).to_be_visible(timeout=60_000)
    log_in(page, base, email, TRADER_PASSWORD)
    accept_terms_if_shown(page)
    page.goto(base + "/home/copy")
    expect(page.get_by_test_id("copy-opt-in")).to_be_visible()
    return page


@pytest.fixture(scope="module")
def leader_page(new_context, copy_bundle: str, people: People) -> Page:
    return _trader_page(new_context, copy_bundle, LEADER[0])


@pytest.fixture(scope="module")
def follower_page(new_context, copy_bundle: str, people: People) -> Page:
    return _trader_page(new_context, copy_bundle, FOLLOWER[0])


def test_1_the_leader_asks_to_be_copied(leader_page: Page, people: People, screenshot):
    page = leader_page
    expect(page.get_by_test_id("copy-nobody")).to_be_visible()
    page.get_by_test_id("copy-opt-in").click()
    expect(page.get_by_test_id("copy-opt-in-state")).to_have_text("Aguardando a aprovação de um gestor.")
    screenshot(page, "copy-01-leader-opts-in")
    page.reload()  # still known after a reload (getCopying's `me`), though the list holds approved traders only
    expect(page.get_by_test_id("copy-opt-in-state")).to_have_text("Aguardando a aprovação de um gestor.")
    # Not approved yet: nobody can copy them.
    assert people.call(FOLLOWER[0], "getFollowable") == []


def test_2_an_admin_approves_them_in_the_manager_app(
    new_context, copy_bundle: str, people: People, screenshot
):
    page = new_context("pt-BR").new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(copy_bundle + "/manager/")
    page.get_by_test_id("login-email").fill(ADMIN_EMAIL)
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url("**/manager/overview")

    page.goto(f"{copy_bundle}/manager/users/{people.ids[FOLLOWER[0]]}")
    expect(page.get_by_test_id("copy-not-opted-in")).to_be_visible()  # the follower never asked

    page.goto(f"{copy_bundle}/manager/users/{people.ids[LEADER[0]]}")
    card = page.get_by_test_id("user-copy")
    expect(card.get_by_test_id("copy-state")).to_have_text("Pediu para ser copiado; aguarda aprovação.")
    switch = card.get_by_test_id("copy-approve")
    expect(switch).not_to_be_checked()
    switch.click()
    expect(card.get_by_test_id("copy-state")).to_have_text("Aprovado: outros traders podem copiá-lo.")
    expect(switch).to_be_checked()
    screenshot(page, "copy-02-manager-approves")

    listed = people.call(FOLLOWER[0], "getFollowable")
    assert [(f["user"], f["followable"]) for f in listed] == [(people.ids[LEADER[0]], True)]
    records = api_call(copy_bundle, "getAudit", {"didWhat": "approveFollowable"}, people.admin)
    assert [(r["from"], r["to"]) for r in records] == [({"approved": False}, {"approved": True})]


def test_3_the_follower_chooses_the_leader_and_copy_mode(follower_page: Page, people: People, screenshot):
    page = follower_page
    page.reload()
    leader = page.get_by_test_id("copy-leader").filter(has_text=LEADER[1])
    expect(leader).to_contain_text("0 seguidor(es)")
    leader.get_by_test_id("copy-choose").click()
    value = leader.get_by_test_id("stake-value").locator("input")
    value.fill("0")
    leader.get_by_test_id("follow-confirm").click()
    expect(leader.get_by_role("alert")).to_have_text("Use um multiplicador entre 0,01 e 100.")
    value.fill("2")
    leader.get_by_test_id("follow-confirm").click()

    following = page.get_by_test_id("copy-following")
    expect(following).to_contain_text(LEADER[1])
    expect(following).to_contain_text("2× o valor de entrada do trader")
    expect(page.get_by_test_id("copy-leader").filter(has_text=LEADER[1])).to_contain_text("copiando")
    choice = people.call(FOLLOWER[0], "getCopying")["following"]
    assert (choice["leader"], choice["stakeType"], choice["multiplier"]) == (
        people.ids[LEADER[0]],
        "multiplier",
        2.0,
    )

    page.get_by_test_id("copy-use-mode").click()
    expect(page.get_by_test_id("copy-mode")).to_contain_text("Modo Copy ativo")
    assert people.call(FOLLOWER[0], "getUser")["mode"] == "copy"
    screenshot(page, "copy-03-following")
    # The dashboard's mode sheet shows copy as the mode, and its card leads back to the Copy page.
    page.goto(page.url.split("/home")[0] + "/home")
    page.get_by_test_id("block-mode").click()
    expect(page.get_by_test_id("mode-copy")).to_have_class(re.compile(r"\bselected\b"))
    page.get_by_test_id("mode-copy").click()
    expect(page.get_by_test_id("copy-following")).to_contain_text(LEADER[1])


def test_4_the_follower_sees_a_copied_trade_linked_to_the_leaders(
    follower_page: Page, copy_bundle: str, people: People, screenshot
):
    follower, leader = FOLLOWER[0], LEADER[0]
    # The follower runs first: copies are of entries made while it runs.
    people.set_status(follower, "waiting")
    wait_for(lambda: people.status(follower) == "operating", "the follower operating", 90)
    # A three-candle pattern, mirrored: it fires within minutes at any hour of the paper market.
    people.call(leader, "createStrategy", {"name": LEADER_STRATEGY, "sequence": "-1,1,-1", "operation": "call", "mirror": True})  # fmt: skip
    people.call(
        leader, "updateUser", {"fields": ["mode", "strategy"], "values": ["strategy", LEADER_STRATEGY]}
    )
    people.set_status(leader, "waiting")

    page = follower_page
    row = page.get_by_test_id("copied-trade").first
    expect(row).to_be_visible(timeout=150_000)
    copied = people.call(follower, "getCopying")
    first = copied["trades"][-1]  # newest first: the oldest is the first copy
    leader_trades = api_call(
        copy_bundle, "getTrades", {"user": people.ids[leader], "limit": 100}, people.admin
    )
    original = {t["_id"]["$oid"]: t for t in leader_trades}[first["copies"]]
    assert (first["ativo"], first["operacao"], first["galeLevel"]) == (
        original["ativo"],
        original["operacao"],
        0,
    )
    # Its gales, if any, copy the same leader entry: the row is found by its own id.
    linked = page.locator(f'[data-trade="{first["id"]["$oid"]}"][data-copies="{first["copies"]}"]')
    expect(linked.first).to_contain_text(f"cópia do trade …{first['copies'][-6:]} do trader")
    expect(linked.first).to_contain_text(f"{first['ativo']} · {first['operacao'].upper()} · Entrada")
    # It settles on its own result (a 1-minute order: seconds on the fast clock), and the tally counts it.
    expect(linked.first).to_have_attribute("data-status", "closed", timeout=60_000)
    settled = {t["id"]["$oid"]: t for t in people.call(follower, "getCopying")["trades"]}[first["id"]["$oid"]]
    shown = {"win": "WIN", "loss": "LOSS", "doji": "DOJI", "failed": "falhou", "not_placed": "não enviada"}[
        settled["result"]
    ]
    expect(linked.first.get_by_test_id("copied-result")).to_contain_text(shown)
    expect(page.get_by_test_id("copy-summary")).not_to_contain_text("0 ordens")
    screenshot(page, "copy-04-copied-trade")
    assert serious_violations(page) == []


def test_5_stop_copying(follower_page: Page, people: People, screenshot):
    page = follower_page
    people.stop(FOLLOWER[0])
    people.stop(LEADER[0])
    page.get_by_test_id("copy-unfollow").click()
    expect(page.get_by_test_id("copy-nobody")).to_be_visible()
    assert people.call(FOLLOWER[0], "getCopying")["following"] is None
    # The copies stay in the ledger and on the page.
    expect(page.get_by_test_id("copied-trade").first).to_be_visible()
    screenshot(page, "copy-05-unfollowed")
