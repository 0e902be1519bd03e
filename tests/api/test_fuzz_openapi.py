"""Requests generated from the OpenAPI document never get a server error.

schemathesis turns each operation of `/glimpse/openapi.json` into a hypothesis
strategy, and every case goes to the app in-process (WSGI, no network). Each
case carries a token drawn for it: mostly one the route accepts, so bodies
reach validation and the handlers; sometimes none, a forged one, or a real
token of a kind the route refuses.

Positive cases follow the schema. Some are mixed with a known-good sample body
(tests/api/samples.py, with codes and ids that exist in the seeded database),
so they get past the value checks a schema cannot express ("a known pair",
"an unused code") and into the handlers. Negative cases break the schema and
stay as generated.

Checked: no 5xx, and every error is a JSON object with an `error` key (not
conformance to a response schema). The test counts the cases it really sent
and fails below MIN_TOTAL_CASES, so a generator that silently runs fewer
cannot pass. Generation is derandomized: every run sends the same cases.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import schemathesis
from bson import ObjectId
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api import auth, throttle
from api.registry import ROUTES
from api.user_updates import STATUS_TRANSITIONS, VALIDATORS
from glimpse.rules.pairs import PAIR_NAMES
from glimpse.runtime import security
from glimpse.store import db as names
from glimpse.store.accounts import public_view
from glimpse.store.seed import DEMO_LOGINS, seed_database
from tests.api.replay import replayable
from tests.api.samples import SAMPLES

MIN_TOTAL_CASES = 2000
POSITIVE_EXAMPLES = 40
NEGATIVE_EXAMPLES = 25
# updateUser takes a dozen fields with checks of their own behind "a list of names and a list of
# values": an extra pass names real account fields.
ACCOUNT_FIELD_EXAMPLES = 100

# How the token of a case is chosen; a token the route accepts is the most common on purpose.
AUTH_MODES = ("accepted", "accepted", "accepted", "accepted_alt", "none", "forged", "refused")

VIEW_BY_OPERATION = {(r.method, r.path): r.view_name for r in ROUTES}


@pytest.fixture
def config(config):
    # Generated logins fail by the thousand; with the usual throttle every later login would get
    # 429 before reaching its handler.
    # Webhook URLs can only resolve on loopback here (no network): let the sample's address through.
    return config.with_(login_max_failures=1_000_000, webhook_allow_private=True)


@pytest.fixture
def app(app):
    # Likewise the rate limits (tests/api/test_security.py covers them): thousands of cases per
    # minute from one address would otherwise get 429 instead of reaching the handlers.
    throttle.limiter.enabled = False
    yield app
    throttle.limiter.enabled = True


def label_of(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


def view_of(operation) -> str:
    return VIEW_BY_OPERATION[(operation.method.upper(), operation.path)]


# ---------------------------------------------------------------- tokens


@dataclass
class Tokens:
    """Live tokens for the test user and manager, re-opened when a case ended their session
    (logout, changePassword)."""

    app: Any
    ids: dict[str, str]
    cache: dict[str, str] = field(default_factory=dict)

    def _alive(self, token: str) -> bool:
        ctx = self.app.extensions["glimpse"]
        try:
            claims = security.read_token(ctx.config.secret_key.get_secret_value(), token, ctx.clock.now())
        except security.TokenError:
            return False
        return ctx.db[names.SESSIONS].find_one({"_id": claims.session}) is not None

    def header(self, kind: str) -> dict[str, str]:
        if kind == "service":
            return {
                "Authorization": f"Bearer {self.app.extensions['glimpse'].config.service_token.get_secret_value()}"
            }
        token = self.cache.get(kind)
        if token is None or not self._alive(token):
            with self.app.app_context():
                token = auth.open_session(kind, ObjectId(self.ids[kind]))
            self.cache[kind] = token
        return {"Authorization": f"Bearer {token}"}


def _refused_kind(access: tuple[str, ...]) -> str:
    return next(kind for kind in ("user", "manager", "service") if kind not in access)


def auth_headers(tokens: Tokens, access: tuple[str, ...], mode: str) -> dict[str, str]:
    if mode == "none":
        return {}
    if mode == "forged":
        return {"Authorization": "Bearer forged.token.value"}
    if not access:  # a public route: a token changes nothing, and must not hurt either
        return tokens.header("user") if mode == "refused" else {}
    if mode == "accepted":
        return tokens.header(access[0])
    if mode == "accepted_alt":
        return tokens.header(access[-1])
    return tokens.header(_refused_kind(access))


# ---------------------------------------------------------------- data


def seed(client, db, clock, user, manager, service_headers) -> dict:
    """Data for every handler to chew on: the seed, candles, open pairs, strategies, signals,
    codes, questions, servers, a session log. Returns the sample bodies, with codes and ids that exist."""
    seed_database(db)
    start = int(clock.now()) // 60 * 60 - 15 * 60
    candles = [
        {"ativo": pair, "candles": [{"o": 1.0 + i / 1000, "c": 1.0005 + i / 1000, "h": 1.001 + i / 1000,
                                     "l": 0.999 + i / 1000, "from": start + 60 * i} for i in range(15)]}
        for pair in PAIR_NAMES
    ]  # fmt: skip
    assert (
        client.post("/glimpse/updateCandlesRealtime", json=candles, headers=service_headers).status_code
        == 200
    )
    opened = [{"ativo": pair, "open": "True", "payout": "87"} for pair in PAIR_NAMES[::2]]
    assert client.post("/glimpse/updateAtivos", json=opened, headers=service_headers).status_code == 200
    strategy = {caller.email: f"Fuzz {caller.email.split('@')[0]}" for caller in (user, manager)}
    for caller in (user, manager):
        body = SAMPLES["create_strategy"] | {"name": strategy[caller.email]}
        assert client.post("/glimpse/createStrategy", json=body, headers=caller.headers).get_json() == {
            "res": 1
        }
    assert (
        client.post(
            "/glimpse/insertSignals", json=SAMPLES["insert_signals"], headers=user.headers
        ).status_code
        == 200
    )
    signal_id = db[names.SIGNALS].find_one({"user": user.id})["signals"][0]["id"]
    created = client.post(
        "/glimpse/createCodes", json={"count": 3, "premiumDays": 7}, headers=manager.headers
    )
    assert created.status_code == 200
    codes = created.get_json()["codes"]
    assert (
        client.post(
            "/glimpse/insertQuestion", json=SAMPLES["insert_question"], headers=user.headers
        ).status_code
        == 200
    )
    now = clock.now()
    db[names.SERVERS].insert_many(
        [
            {"name": f"glimpse_0{i}", "status": "waiting", "target": "", "uptime": now, "preferential": False}
            for i in (1, 2)
        ]
    )
    db[names.OPERATIONS].insert_one(
        {"operationTime": now, "user": user.id, "operationType": "strategy", "strategy": strategy[user.email],
         "accountType": "treinamento", "expiration": 1, "money": 2, "operations": []}
    )  # fmt: skip
    return SAMPLES | {
        "check_code": {"code": codes[0]},
        "insert_user": SAMPLES["insert_user"] | {"code": codes[1]},
        "use_code": {"code": codes[2]},
        "edit_strategy": SAMPLES["edit_strategy"] | {"name": strategy[user.email]},
        "update_signal": {"id": signal_id, "status": "canceled"},
    }


# Any JSON value, for the values of updateUser fields.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


@dataclass
class Mixer:
    """Turns a generated case's body into one of several bases.

    "generated" keeps it; "sample" sends the sample as it is; "sample_over" lays some of the sample's fields over it;
    "generated_over" lays some generated fields over the sample; "account_fields" (updateUser)
    names real account fields, each with the seeded demo account's value or any JSON value.
    """

    samples: dict
    demo_account: dict

    def passes(self, operation) -> list[tuple[GenerationMode, int, tuple[str, ...]]]:
        """(generation mode, examples, bases) for each run over this operation."""
        view = view_of(operation)
        positive_bases = (
            ("generated", "sample", "sample_over", "generated_over")
            if view in self.samples
            else ("generated",)
        )
        runs: list[tuple[GenerationMode, int, tuple[str, ...]]] = [
            (GenerationMode.POSITIVE, POSITIVE_EXAMPLES, positive_bases)
        ]
        if operation.body:
            # Negative cases stay as generated: laying valid fields over them could make them valid.
            runs.append((GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES, ("generated",)))
        if view == "update_user":
            runs.append((GenerationMode.POSITIVE, ACCOUNT_FIELD_EXAMPLES, ("account_fields",)))
        return runs

    def apply(self, case, view: str, base: str, data) -> None:
        sample = self.samples.get(view)
        if base == "generated":
            return
        if base == "sample":  # the sample as it is: every route meets at least one valid body
            case.body = sample
        elif base == "account_fields":
            case.body = self._account_update(data)
        elif not (isinstance(sample, dict) and isinstance(case.body, dict)):
            case.body = sample
        elif base == "sample_over":
            keys = (
                data.draw(st.sets(st.sampled_from(sorted(sample))), label="sample fields")
                if sample
                else set()
            )
            case.body = {**case.body, **{k: sample[k] for k in keys}}
        else:
            keys = (
                data.draw(st.sets(st.sampled_from(sorted(case.body))), label="generated fields")
                if case.body
                else set()
            )
            case.body = {**sample, **{k: case.body[k] for k in keys}}

    def _account_update(self, data) -> dict:
        every = sorted({*self.demo_account, "glimpseStatus"} - {"_id"})
        # Mostly fields a user may change, so that some updates go through; any field now and then.
        changeable = sorted({*VALIDATORS, "glimpseStatus", "alerts"} & set(every))
        name = st.one_of(st.sampled_from(changeable), st.sampled_from(every))
        fields = data.draw(st.lists(name, min_size=1, max_size=3, unique=True), label="fields")
        values = []
        for field_name in fields:
            if field_name == "glimpseStatus":
                known = st.sampled_from(sorted(STATUS_TRANSITIONS))
            else:
                known = st.just(self.demo_account[field_name])
            values.append(data.draw(st.one_of(known, JSON_VALUES), label=field_name))
        return {"fields": fields, "values": values}


def test_update_user_with_a_glimpse_status_that_is_not_a_string_is_400(client, user):
    for value in ([], {}, ["waiting"], {"waiting": 1}):
        body = {"fields": ["glimpseStatus"], "values": [value]}
        response = client.post("/glimpse/updateUser", json=body, headers=user.headers)
        assert response.status_code == 400, (value, response.status_code)
        assert response.get_json()["field"] == "glimpseStatus"


# ---------------------------------------------------------------- running


@dataclass
class Tally:
    cases: Counter = field(default_factory=Counter)  # operation label -> cases sent
    statuses: dict[str, Counter] = field(default_factory=dict)  # label -> status -> count
    failures: list[str] = field(default_factory=list)


class _Tracebacks(logging.Handler):
    """Keeps what api.errors logs for a 500, to show it next to the case that caused it."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


def problem_with(status: int, content: bytes) -> str | None:
    if status >= 500:
        return f"server error {status}"
    if status >= 400:
        try:
            body = json.loads(content)
        except ValueError:
            return f"{status} with a body that is not JSON"
        if not isinstance(body, dict) or "error" not in body:
            return f"{status} without an `error` key"
    return None


def run_pass(operation, mode: GenerationMode, examples: int, bases: tuple[str, ...], tokens: Tokens, mixer: Mixer,
             tally: Tally, tracebacks: _Tracebacks) -> None:  # fmt: skip
    label, view = label_of(operation), view_of(operation)
    access = tuple(a for a in operation.definition.raw["x-glimpse-access"] if a != "public")

    @replayable(examples)
    @given(
        case=operation.as_strategy(generation_mode=mode),
        auth_mode=st.sampled_from(AUTH_MODES),
        base=st.sampled_from(bases),
        data=st.data(),
    )
    def exercise(case, auth_mode, base, data):
        mixer.apply(case, view, base, data)
        case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers.update(auth_headers(tokens, access, auth_mode))
        logged = len(tracebacks.texts)
        response = case.call()
        tally.cases[label] += 1
        tally.statuses.setdefault(label, Counter())[response.status_code] += 1
        problem = problem_with(response.status_code, response.content)
        if problem:
            trace = "\n".join(tracebacks.texts[logged:]) or "(nothing logged)"
            raise AssertionError(
                f"{label} [{mode.value}, {base}, token {auth_mode}]: {problem}\nbody: {case.body!r}\n"
                f"response: {response.content[:500]!r}\n{trace}"
            )

    try:
        exercise()
    except Unsatisfiable:
        pass  # a negative pass over a body with nothing left to break
    except AssertionError as failure:  # keep going: one report lists every operation that failed
        tally.failures.append(str(failure))


def test_generated_requests_find_no_server_error(app, client, db, clock, user, manager, service_headers):
    samples = seed(client, db, clock, user, manager, service_headers)
    tokens = Tokens(app, {"user": user.id, "manager": manager.id})
    demo_email = next(email for role, email, _ in DEMO_LOGINS if role == "user")
    # The account as the app reads it (getUser): what the app would send back to updateUser.
    mixer = Mixer(samples, public_view(db[names.ACCOUNTS].find_one({"email": demo_email}, {"password": 0})))
    # From the served document rather than with from_wsgi, which leaves out the operation
    # serving the document itself.
    document = client.get("/glimpse/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    schema.app = app
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]

    tracebacks = _Tracebacks()
    errors_log = logging.getLogger("api.errors")
    errors_log.addHandler(tracebacks)
    tally = Tally()
    try:
        for operation in operations:
            for mode, examples, bases in mixer.passes(operation):
                run_pass(operation, mode, examples, bases, tokens, mixer, tally, tracebacks)
    finally:
        errors_log.removeHandler(tracebacks)

    assert tally.failures == [], "\n\n".join(tally.failures)
    documented = {label_of(op) for op in operations}
    assert documented == {f"{r.method} {r.path}" for r in ROUTES}
    assert set(tally.cases) == documented, f"never exercised: {sorted(documented - set(tally.cases))}"
    total = sum(tally.cases.values())
    assert total >= MIN_TOTAL_CASES, f"only {total} cases ran: {dict(tally.cases)}"
    for route in ROUTES:
        statuses = tally.statuses[f"{route.method} {route.path}"]
        # Every handler answered with success at least once, except resetPassword, whose code
        # only ever leaves by mail.
        if route.view_name != "reset_password":
            assert any(200 <= status < 300 for status in statuses), (route.path, statuses)
        if route.access:
            # Tokens were refused (none, forged) and accepted (anything that got past auth).
            assert statuses[401] > 0, (route.path, statuses)
            assert sum(n for status, n in statuses.items() if status not in (401, 403)) > 0, (
                route.path,
                statuses,
            )


# ---------------------------------------------------------------- hostile bodies

SURROGATES = ("\ud800", "\udfff", "a\ud83d", "\ud83d\ude00\udc00")


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _hostile_bodies(sample: Any) -> list[str]:
    """Raw JSON texts that once gave 500: nesting 1,000 deep (bare, and under each field of the
    sample), lone surrogates in each string field and in a key, and `userKey` with one."""
    bodies = [_nested(1000), '{"a":' * 1000 + "1" + "}" * 1000, '{"userKey": "\\ud800"}', '{"\\udfff": 1}']
    if isinstance(sample, dict):
        for key, value in sample.items():
            bodies.append(json.dumps(sample | {key: json.loads(_nested(100))}))
            if isinstance(value, str):
                for bad in SURROGATES:
                    bodies.append(json.dumps(sample | {key: bad}))  # ensure_ascii writes \udxxx escapes
    return bodies


def test_deep_nesting_and_lone_surrogates_never_give_a_server_error(
    app, client, db, clock, user, manager, service_headers
):
    samples = seed(client, db, clock, user, manager, service_headers)
    tokens = Tokens(app, {"user": user.id, "manager": manager.id})
    document = client.get("/glimpse/openapi.json").get_json()
    sent = 0
    failures = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method.upper() == "GET":
                continue
            route = next(r for r in ROUTES if r.path == path and r.method == method.upper())
            access = tuple(a for a in operation["x-glimpse-access"] if a != "public")
            for headers in ({}, auth_headers(tokens, access, "accepted")):
                for raw in _hostile_bodies(samples.get(route.view_name)):
                    response = client.open(
                        path,
                        method=method.upper(),
                        data=raw,
                        content_type="application/json",
                        headers=headers,
                    )
                    sent += 1
                    problem = problem_with(response.status_code, response.data)
                    if problem or response.status_code != 400:
                        failures.append(
                            f"{method.upper()} {path} {raw[:80]!r}: {response.status_code} {problem}"
                        )
    assert failures == [], "\n".join(failures[:40])
    assert sent >= 400
