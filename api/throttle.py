"""Rate limits and login throttles, on Flask-Limiter.

Every limit is keyed so that no stranger can spend someone else's budget:

- Failed logins count per (account, address) and per address, and only
  failures count: a correct password from an address that has not failed is
  never refused, so guessing from elsewhere cannot lock the owner out (nor a
  trader whose token expired, who logs in again to press Stop). `/login` and
  `/managerLogin` keep separate counters (the limit's scope is the route).
- Routes behind a token count per caller (the token's account), after the
  token was checked, so an unauthenticated flood spends nobody's budget.
- Public routes count per address, and `requestPasswordReset` also per email,
  the same for known and unknown emails.

The client address is `request.remote_addr`, which the app factory rewrites
from X-Forwarded-For only for GLIMPSE_TRUSTED_PROXIES (api/__init__.py).

A limit leaves as 429 with `Retry-After` (seconds) and a JSON error.

Windows run on the wall clock, not the injectable market clock: a demo at
GLIMPSE_CLOCK_SPEED=1000 must not shorten a 5-minute lockout to 0.3 s.
Storage: the process memory in the embedded bundle (one process, like its
database), MongoDB (the deployment's own database) otherwise, so every API
worker shares the counters.

Refusing is cheap (bench/abuse.py): a limit once breached is remembered by
(route, limit, key) until its moving window frees a slot (`Refusals`), and the
next request with that key is answered 429 before its body is checked, its
token is looked up or the limits are evaluated again: by a WSGI gate in front
of Flask for keys by address or token (`RefusalGate`), by the app's first
request hook for keys read from the body.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network
from typing import Any

from flask import Flask, current_app, g, jsonify, request
from flask.globals import _cv_request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_qualified_name
from limits.storage import MemoryStorage
from werkzeug.exceptions import TooManyRequests

from api.auth import client_address
from api.jsonio import request_json
from api.tarpit import HOLD_KEY
from glimpse.runtime import metrics
from glimpse.runtime.config import Config
from glimpse.store.accounts import normalize_email

log = logging.getLogger(__name__)

# Collections of the MongoDB store, in the deployment's database.
COUNTERS_COLLECTION = "RateLimitCounters"
WINDOWS_COLLECTION = "RateLimitWindows"

# The budgets (limits' notation). Login budgets come from Config (login_max_failures per
# login_window_seconds), which tests tune.
RESET_PER_EMAIL = "3 per 15 minutes"
RESET_PER_ADDRESS = "10 per 15 minutes"
INSERT_USER_PER_ADDRESS = "10 per hour"
USE_CODE_PER_USER = "10 per hour"
CHECK_IQ_PER_USER = "10 per hour"
CHECK_IQ_PER_BROKER_EMAIL = "10 per hour"
BACKTEST_PER_CALLER = "20 per minute"
EXPORT_PER_MANAGER = "10 per minute"
# An address that sprays many accounts with wrong passwords is slowed too (its own failures only).
ADDRESS_FAILURES_FACTOR = 4

limiter = Limiter(key_func=lambda: address(), strategy="moving-window", headers_enabled=False)


# ------------------------------------------------------------------ keys


def address() -> str:
    return request.remote_addr or "unknown"


def address_key() -> str:
    return "address:" + address()


def _body_field(name: str) -> str:
    try:
        data = request_json()
    except Exception:  # a malformed body is refused by the route itself; key it by address
        return ""
    value = data.get(name) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _email_field() -> str:
    raw = _body_field("email")
    try:
        return normalize_email(raw) if raw else ""
    except ValueError:
        return raw.strip().lower()


def caller() -> str:
    """The authenticated caller (the limit runs after the token check), else the address."""
    principal = g.get("principal")
    if principal is not None and principal.id is not None:
        return f"{principal.kind}:{principal.id_hex}"
    return "address:" + address()


def account_and_address() -> str:
    return f"{_email_field() or '-'}|{address()}"


def email_or_address() -> str:
    email = _email_field()
    return "email:" + email if email else "address:" + address()


# ------------------------------------------------------------------ login failures


def _login_budget(factor: int) -> Callable[[], str]:
    def budget() -> str:
        config: Config = current_app.extensions["glimpse"].config
        return f"{config.login_max_failures * factor} per {config.login_window_seconds} second"

    return budget


def _failed(response: Response) -> bool:
    return bool(g.get("login_failed"))


def mark_login_failed() -> None:
    """The login being answered failed: its counters are charged when the response leaves, and
    the metrics count it (api.metrics_route). When its address, or its account from any address,
    had failed before within the window, the answer is held by the tarpit (api.tarpit): a first
    typo is answered at once."""
    g.login_failed = True
    request.environ["glimpse.login_failed"] = True
    config: Config = current_app.extensions["glimpse"].config
    account = f"{request.path}|{_email_field()}"  # users and managers apart, as their counters
    account_failed = _failed_accounts.failed_before(account, time.time(), config.login_window_seconds)
    if account_failed or failed_before():
        request.environ[HOLD_KEY] = True


class FailedAccounts:
    """When each account (email) last failed a login, from any address: only to hold its next
    failures (api.tarpit), never to refuse. A botnet that guesses one account from fresh addresses
    fills no per-address budget, and each guess is verified; held, each of its clients sends fewer.
    The owner's correct password is not held; a wrong one is, like any repeated failure.

    In this process only (a delay needs no agreement between workers). Bounded: past MAX_ENTRIES,
    expired entries go, and if none has expired the table starts again (a forgotten failure only
    means one answer that is not held)."""

    MAX_ENTRIES = 50_000

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def failed_before(self, account: str, now: float, window: float) -> bool:
        """Whether `account` failed within `window` seconds before `now`; records this failure."""
        with self._lock:
            last = self._last.get(account)
            if account not in self._last and len(self._last) >= self.MAX_ENTRIES:
                self._last = {key: at for key, at in self._last.items() if at > now - window}
                if len(self._last) >= self.MAX_ENTRIES:
                    self._last = {}
            self._last[account] = now
        return last is not None and last > now - window


_failed_accounts = FailedAccounts()


def failed_before() -> bool:
    """Whether this login's failure counters (tested before the view, charged after it) already
    hold a failure: its account from its address, or its address."""
    for current in limiter.current_limits:
        if current.remaining < current.limit.amount:
            return True
    return False


def forget_login_failures() -> None:
    """A correct password clears this account's failures from this address."""
    for limit in limiter.current_limits:
        if limit.request_args and "|" in limit.request_args[-2]:
            limiter.limiter.clear(limit.limit, *limit.request_args)


def login_throttled(view: Callable) -> Callable:
    """Failed logins per (account, address) and per address; a success costs nothing."""
    per_account = limiter.limit(
        _login_budget(1),
        key_func=account_and_address,
        deduct_when=_failed,
        error_message="too many failed logins: wait a few minutes and try again",
    )
    per_address = limiter.limit(
        _login_budget(ADDRESS_FAILURES_FACTOR),
        key_func=address_key,
        deduct_when=_failed,
        error_message="too many failed logins from this address: wait a few minutes and try again",
    )
    in_flight = at_most_in_flight(LOGINS_IN_FLIGHT_PER_ADDRESS, address, "another login from this address")
    return in_flight(per_address(per_account(view)))


# ------------------------------------------------------------------ requests in flight

_in_flight: Counter[str] = Counter()
_in_flight_lock = threading.Lock()
# How many requests that hash a password one address (or one caller) may have waiting at once.
# Argon2 runs on a few threads only (glimpse/runtime/security.py): a burst from one address
# would otherwise hold every worker thread while its hashes queue, before its failures count.
LOGINS_IN_FLIGHT_PER_ADDRESS = 2
CHECKS_IN_FLIGHT_PER_CALLER = 1


def at_most_in_flight(limit: int, key_func: Callable[[], str], what: str) -> Callable[[Callable], Callable]:
    """429 (Retry-After: 1) when `limit` requests with the same key are already being answered.
    A concurrency cap of this process, not a rate: nothing is left counting once they finish."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            key = f"{view.__name__}:{key_func()}"
            with _in_flight_lock:
                if _in_flight[key] >= limit:
                    raise TooManyRequests(f"{what} already in progress: try again in a second", retry_after=1)
                _in_flight[key] += 1
            try:
                return view(*args, **kwargs)
            finally:
                with _in_flight_lock:
                    _in_flight[key] -= 1
                    if _in_flight[key] <= 0:
                        del _in_flight[key]

        return guarded

    return decorate


# ------------------------------------------------------------------ route limits


def per_caller(budget: str, message: str = "too many requests: try again later") -> Any:
    """A limit per authenticated caller (user or manager)."""
    return limiter.limit(budget, key_func=caller, error_message=message)


def per_address(budget: str, message: str = "too many requests from this address: try again later") -> Any:
    return limiter.limit(budget, key_func=address_key, error_message=message)


def per_email(budget: str, message: str) -> Any:
    return limiter.limit(budget, key_func=email_or_address, error_message=message)


def per_body_field(budget: str, name: str, message: str) -> Any:
    """A limit per value of a body field (e.g. the broker email checkIq is asked about)."""

    def key() -> str:
        value = _body_field(name).strip().lower()
        return f"{name}:{value}" if value else "address:" + address()

    return limiter.limit(budget, key_func=key, error_message=message)


check_in_flight = at_most_in_flight(CHECKS_IN_FLIGHT_PER_CALLER, caller, "another broker check of yours")
backtest_limit = per_caller(BACKTEST_PER_CALLER, "too many backtests: try again in a minute")
export_limit = per_caller(EXPORT_PER_MANAGER, "too many exports: try again in a minute")


# ------------------------------------------------------------------ refusals already decided


class Refusals:
    """Limits already breached, by (method, path, limit, key), until their window frees a slot.

    Under a flood the same refused key comes back hundreds of times a second, and each time the
    route parsed and checked the body, looked its token up in the database and let Flask-Limiter
    derive every limit again, only to answer the same 429. A moving window that is full cannot
    free a slot before its oldest entry expires (a refused request adds no entry; only a correct
    login clears a login key, and a correct login cannot pass while its key is refused), so the
    refusal is exact until then and is answered from a dictionary.

    Keys by address or by caller are answered by `RefusalGate`, before Flask; keys read from the
    body by the app's first request hook. A limit keyed by the caller is remembered by the token
    that was refused: it costs no database read, and nobody without that token can reach the
    entry. On routes behind a token nothing else is remembered, so a request without a valid
    token still gets its 401 first. On public routes, keys read from the body (emails) come from
    the parse the route needs anyway; a body that does not parse is left to the route.
    """

    # Past it, expired entries are dropped (at most once a second: a table full of live entries
    # must not make every refusal copy it); new ones are not remembered until there is room.
    MAX_ENTRIES = 50_000

    def __init__(self) -> None:
        # (method, path, (key_func, limit), key) -> (until, message, route label)
        self._until: dict[tuple[str, str, Any, str], tuple[float, str, str]] = {}
        self._limits: dict[tuple[str, str], tuple[tuple[Callable[[], str], str], ...]] = {}
        self._lock = threading.Lock()
        self._next_purge = 0.0

    def remember(self, route: tuple[str, str], key_func: Callable[[], str], limit: str, key: str,
                 until: float, message: str, label: str) -> None:  # fmt: skip
        with self._lock:
            if len(self._until) >= self.MAX_ENTRIES:
                now = time.time()
                if now >= self._next_purge:
                    self._next_purge = now + 1.0
                    self._until = {k: v for k, v in self._until.items() if v[0] > now}
                if len(self._until) >= self.MAX_ENTRIES:
                    return
            self._until[(*route, (key_func, limit), key)] = (until, message, label)
            known = self._limits.get(route, ())
            if (key_func, limit) not in known:
                self._limits[route] = (*known, (key_func, limit))

    def limits(self, route: tuple[str, str]) -> tuple[tuple[Callable[[], str], str], ...]:
        return self._limits.get(route, ())

    def find(self, route: tuple[str, str], limit: tuple[Callable[[], str], str], key: str,
             now: float) -> tuple[str, int, str] | None:  # fmt: skip
        """(message, seconds to wait, route label) while `key` is refused by `limit` on `route`."""
        entry = self._until.get((*route, limit, key)) if key else None
        if entry is None or entry[0] <= now:
            return None
        return entry[1], max(1, math.ceil(entry[0] - now)), entry[2]

    def refusal(self, route: tuple[str, str]) -> tuple[str, int] | None:
        """In a request context: (message, seconds to wait) when a remembered refusal covers it."""
        now = time.time()
        for limit in self.limits(route):
            key_func = limit[0]
            try:
                key = _token_key() if key_func is caller else key_func()
            except Exception:  # noqa: BLE001 - a body the route refuses itself (400), in its own order
                continue
            found = self.find(route, limit, key, now)
            if found is not None:
                return found[0], found[1]
        return None

    def clear(self) -> None:
        with self._lock:
            self._until.clear()
            self._limits.clear()


class RefusalGate:
    """WSGI middleware, outermost: answers a remembered refusal keyed by the client's address or
    by the presented token without entering Flask (no request context, no hooks), with the
    headers every answer carries and the same JSON, and counts it in the request metrics.

    Anything else, and a request from a browser origin it cannot answer for exactly as
    flask-cors would, goes on to the app."""

    def __init__(self, app: Any, refusals: Refusals, trusted: Sequence[IPv4Network | IPv6Network],
                 headers: Iterable[tuple[str, str]], origins: Iterable[str]) -> None:  # fmt: skip
        self.app = app
        self.refusals = refusals
        self.trusted = tuple(trusted)
        self.headers = list(headers)
        self.origins = frozenset(origins)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        route = (environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""))
        limits = self.refusals.limits(route)
        if limits and limiter.enabled:
            found = self._refused(environ, route, limits)
            if found is not None:
                origin = environ.get("HTTP_ORIGIN")
                if origin is None or origin in self.origins:
                    return self._answer(environ, start_response, *found, origin)
        return self.app(environ, start_response)

    def _refused(self, environ: dict[str, Any], route: tuple[str, str],
                 limits: Iterable[tuple[Callable[[], str], str]]) -> tuple[str, int, str] | None:  # fmt: skip
        now = time.time()
        for limit in limits:
            if limit[0] is address_key:
                peer = environ.get("REMOTE_ADDR") or ""
                if self.trusted:  # as api.TrustedProxies rewrites it for the app
                    peer = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR", ""), self.trusted)
                key = "address:" + (peer or "unknown")
            elif limit[0] is caller:
                header = environ.get("HTTP_AUTHORIZATION", "")
                token = header[len("Bearer ") :].strip() if header.startswith("Bearer ") else ""
                key = "token:" + token if token else ""
            else:
                continue
            found = self.refusals.find(route, limit, key, now)
            if found is not None:
                return found
        return None

    def _answer(self, environ: dict[str, Any], start_response: Any, message: str, retry_after: int,
                label: str, origin: str | None) -> list[bytes]:  # fmt: skip
        body = (
            json.dumps({"error": message, "retryAfter": retry_after}, separators=(",", ":")) + "\n"
        ).encode()
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(retry_after)),
            *self.headers,
        ]
        if origin is not None:
            headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        start_response("429 TOO MANY REQUESTS", headers)
        metrics.API_REQUESTS.labels(route=label, method=environ.get("REQUEST_METHOD", ""), status="429").inc()
        metrics.count_throttled(label)
        return [body]


def _token_key() -> str:
    """The presented token, standing for the caller it authenticated when it was refused."""
    header = request.headers.get("Authorization", "")
    token: object = None
    if header.startswith("Bearer "):
        token = header[len("Bearer ") :].strip()
    else:
        data = request_json()
        token = data.get("userKey") if isinstance(data, dict) else None
    return "token:" + token if isinstance(token, str) and token else ""


def _remember_refusal(refusals: Refusals, exc: RateLimitExceeded) -> None:
    current = limiter.current_limit
    if current is None or not current.breached or request.url_rule is None:
        return
    key_func = exc.limit.key_func
    route = (request.method, request.environ.get("PATH_INFO", ""))
    label = request.url_rule.rule
    if key_func is not caller and g.get("principal") is not None:
        # Behind a token, only the token's own refusal is answered before the token is checked:
        # a stranger without one learns nothing of a broker email's budget, and gets 401 first.
        _remember_spent_caller_limits(refusals, route, label)
        return
    key = _token_key() if key_func is caller else current.request_args[-2]
    if key:
        reset_time = current.window[0]  # when the oldest entry leaves the window
        refusals.remember(
            route, key_func, str(exc.limit.limit), key, reset_time, exc.description or "", label
        )


def _remember_spent_caller_limits(refusals: Refusals, route: tuple[str, str], label: str) -> None:
    """A route behind a token refused by another limit first (Flask-Limiter stops at the first
    breach): the caller's own limits of the route are read, and remembered if they are spent."""
    token = _token_key()
    view = current_app.view_functions.get(request.endpoint or "")
    if not token or view is None:
        return
    for lim in limiter.limit_manager.decorated_limits(get_qualified_name(view)):
        if lim.key_func is not caller:
            continue
        args = (caller(), lim.scope_for(request.endpoint or "", request.method))
        if not limiter.limiter.test(lim.limit, *args):
            reset_time = limiter.limiter.get_window_stats(lim.limit, *args).reset_time
            message = lim.error_message() if callable(lim.error_message) else lim.error_message
            refusals.remember(route, caller, str(lim.limit), token, reset_time, message or "", label)


def _too_many(message: str, retry_after: int) -> Response:
    response = jsonify({"error": message, "retryAfter": retry_after})
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


# ------------------------------------------------------------------ storage


class PacedMemoryStorage(MemoryStorage):
    """limits' in-memory storage, with its expired entries swept at most once a second.

    The parent starts a timer thread 10 ms after any hit that finds none running, and that
    thread walks every key: under a flood, a hundred threads a second, each scanning every
    address and email the flood named; and it keeps an empty list for every key it ever saw.
    Expired entries never count (each read checks the time), so the sweep only returns memory
    and can wait: here it runs inline, once a second, in whichever request comes first, and
    drops the keys it empties.
    """

    STORAGE_SCHEME = ["glimpse-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the parent's private timer start
        if time.monotonic() < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = time.monotonic() + self.SWEEP_SECONDS
            self.sweep()
        finally:
            self._sweeping.release()

    def sweep(self) -> None:
        now = time.time()
        for key in list(self.events):
            with self.locks[key]:  # the lock acquire_entry holds while it inserts
                events = self.events.get(key)
                if events:  # newest first: keep those that have not expired
                    events = events[: bisect.bisect_left(events, -now, key=lambda entry: -entry.expiry)]
                if events:
                    self.events[key] = events
                else:
                    self.events.pop(key, None)
                    self.locks.pop(key, None)
        for key, expiry in list(self.expirations.items()):
            if expiry <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


# ------------------------------------------------------------------ the app


def _limiter_hooks_only_when_used(app: Flask) -> None:
    """The limiter's response hook (the deductions of `deduct_when` limits, the headers) runs only
    for a request whose limits it evaluated, and its teardown not at all.

    Both read the limiter's per-request state, which it keeps on Flask's request context and
    creates on first use: a request that met no limit (most do: getUser, the lists) has none, so
    the hook had nothing to deduct, yet created the state to find that out; the teardown only
    cleared that state, which ends with its request context anyway."""
    hooks = app.after_request_funcs.get(None, [])
    for at, hook in enumerate(hooks):
        if getattr(getattr(hook, "func", None), "__name__", "") == "__inject_headers":

            def when_used(response: Response, inject: Any = hook) -> Response:
                context = _cv_request.get(None)
                if context is None or not hasattr(context, "_limiter_request_context"):
                    return response
                return inject(response)

            hooks[at] = when_used
    teardowns = app.teardown_request_funcs.get(None, [])
    app.teardown_request_funcs[None] = [
        hook for hook in teardowns if getattr(hook, "__name__", "") != "__release_context"
    ]


def _storage(config: Config) -> tuple[str, dict[str, Any]]:
    if config.mongo_uri is None:
        return "glimpse-memory://", {}
    return config.mongo_uri.get_secret_value(), {
        "database_name": config.db_name,
        "counter_collection_name": COUNTERS_COLLECTION,
        "window_collection_name": WINDOWS_COLLECTION,
    }


def refusals_of(app: Flask) -> Refusals:
    refusals: Refusals = app.extensions["glimpse_refusals"]
    return refusals


def init_app(app: Flask, config: Config, *, enabled: bool = True) -> None:
    uri, options = _storage(config)
    app.config["RATELIMIT_ENABLED"] = enabled  # explicit: the limiter object outlives one app
    app.config["RATELIMIT_STORAGE_URI"] = uri
    app.config["RATELIMIT_STORAGE_OPTIONS"] = options
    refusals = app.extensions["glimpse_refusals"] = Refusals()

    # The app's first request hook (registered before the limiter's and the routes' own).
    @app.before_request
    def _refuse_known() -> Response | None:
        if not limiter.enabled:
            return None
        refused = refusals.refusal((request.method, request.environ.get("PATH_INFO", "")))
        return _too_many(*refused) if refused is not None else None

    from api import SECURITY_HEADERS  # here: the package imports this module first

    app.wsgi_app = RefusalGate(  # type: ignore[method-assign]
        app.wsgi_app, refusals, config.trusted_proxies, SECURITY_HEADERS.items(), config.cors_origins
    )

    limiter.init_app(app)
    manager = limiter.limit_manager
    if not (
        manager.application_limits or manager.default_limits or getattr(manager, "_blueprint_limits", True)
    ):
        # The limiter's own request hook checks application, default and blueprint limits only
        # (each route's limits run in its decorator), and there are none: it would cost every
        # request (a quarter of a ping) for nothing.
        hooks = app.before_request_funcs.get(None, [])
        app.before_request_funcs[None] = [hook for hook in hooks if hook != limiter._check_request_limit]

    _limiter_hooks_only_when_used(app)

    @app.errorhandler(RateLimitExceeded)
    def _throttled(exc: RateLimitExceeded):
        current = limiter.current_limit
        retry_after = 60
        if current is not None:
            retry_after = max(1, math.ceil(current.reset_at - time.time()))
        log.info("throttled %s %s from %s", request.method, request.path, address())
        _remember_refusal(refusals, exc)
        return _too_many(exc.description or "too many requests", retry_after)
