"""The IQ Option adapter: `iqoptionapi.stable_api.IQ_Option`, with its quirks kept in here.

The client library (PyPI `iqoption==6.8.9.1`, with `websocket-client==0.56.0`)
is used unmodified. What this adapter adds around it:

* Bounded waits. The library waits for most replies in `while x == None:
  pass` loops with no timeout. The adapter sends requests through the
  library's channel objects and waits for the reply itself, sleeping between
  looks at the library's state, with a deadline. `IQ_Option.connect()`, whose
  waits cannot be avoided, runs in a worker thread under a watchdog; on
  expiry the watchdog satisfies the awaited flags, so the library's loop ends
  instead of spinning forever, and the connection is dropped.
* Order results are read from the library's order state (`order_async`) with
  sleeps: `check_win_v3` would spin a core for the whole minute of an order.
* Buys wait for the reply to their own request id, reset before sending (the
  library resets after sending, which loses fast replies), and a buy whose
  reply is late is remembered: if IQ Option executes it after all, it shows
  up in late_orders().
* One live connection per process: the library keeps its session in module
  globals. A second connect in the process raises ConnectionInUse; closing
  a connection resets those globals, so the next one logs in afresh.
  Many users share memory instead through a pre-fork parent
  (glimpse.runtime.zygote): it calls preload(), and each forked child
  after_fork(), before its one connection.
* IQ_Option has no logout() in this version: close() logs out through the
  HTTP resource and closes the socket.
* connect() raises AttributeError when the login host is down; that, and
  every other transport failure, becomes Unreachable. A socket that drops
  during a buy or while an order runs raises Disconnected (a buy: with
  order_may_exist); reconnect() logs in again with capped exponential back-off.
* Quotes: the broker's option messages carry the open quote in `value` and
  `option-closed` the close quote in `expiration_value` (the names a public
  typed client of IQ Option's socket gives both messages; the library reads
  neither). When a message lacks one, the quote is taken from our candle
  stream and the trade says so (quote_source "stream").
* Finding an order (find_order): first what this process saw (its fills and
  the late replies), then the broker's option history (`get-options`, the
  library's get_options_v2 channel; reply `options`). An order absent from a
  complete history is "not_placed" only once its buy can no longer land:
  a buy names its expiry (at most 90 s after sending), and the broker refuses
  a buy whose expiry has passed, so after `IQTimeouts.landing` seconds from
  sending it never executes. Before that the answer is "unknown".
* Hosts default to IQ Option's; GLIMPSE_IQ_HTTP_BASE / GLIMPSE_IQ_WS_URL
  redirect them (tests, relays) by wrapping two methods of IQOptionAPI.
  The wrap also puts a timeout on the library's HTTP requests. It stays for
  the life of the process, because the library's atexit logout needs it.
* websocket-client 0.56 sends loopback traffic through a lowercase
  `http_proxy`; loopback is added to `no_proxy`.
* The library sets the `websocket` logger to DEBUG and logs its session
  cookie at DEBUG: both loggers are held at WARNING.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from glimpse.market.base import (
    AssetClosed,
    AuthError,
    Broker,
    BrokerError,
    BrokerTimeout,
    Candle,
    ConnectionInUse,
    Disconnected,
    Fill,
    OrderLookup,
    Rejected,
    Settlement,
    Unreachable,
    check_client_key,
    check_mode,
    check_order,
    check_pair,
    check_timeout,
    expiry_at,
    reconnect_with_backoff,
)
from glimpse.rules.money import cents, to_decimal
from glimpse.runtime.clock import Clock, SystemClock
from glimpse.runtime.config import DEFAULT_IQ_HTTP_BASE, DEFAULT_IQ_WS_URL, Config

log = logging.getLogger(__name__)

_REAL_HTTP_HOSTS = ("https://auth.iqoption.com", "https://event.iqoption.com")
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
POLL_SECONDS = 0.02  # between looks at the library's state while a reply is due
RESULT_POLL_SECONDS = 0.05  # between looks while an order runs (a minute or more)
RELEASE_GRACE_SECONDS = 3.0  # how long the watchdog works to end a stuck library call
STOP_QUIET_SECONDS = 0.6  # no candle for this long after an unsubscribe: the stream stopped
MAX_COUNT = 1000
RESULTS_KEPT = 1000
HISTORY_LIMIT = 100  # options asked of the history per look
HISTORY_POLL_SECONDS = 2.0  # between looks at the history while an order's close is due
SEND_SKEW_SECONDS = 5.0  # an order in the history may carry a time this much before our send time
_RESULT_NAMES = {"win": "win", "loose": "loss", "loss": "loss", "equal": "doji", "doji": "doji"}
# Words of IQ Option's buy refusals that mean the pair cannot be traded now.
_CLOSED_HINTS = ("suspend", "closed", "not available", "unavailable", "disabled", "not enabled")


@dataclass(frozen=True)
class IQTimeouts:
    """Bounds, in seconds, of every wait on IQ Option."""

    connect: float = 30.0
    request: float = 10.0  # a request and its reply (balances, assets, candles)
    send: float = 5.0  # handing one frame to the socket
    buy: float = 5.0  # the library's own "buy late" bound
    stream_start: float = 20.0  # the library's own bound
    close: float = 5.0
    http: float = 15.0  # each HTTP request the library makes (login, logout)
    slot_wait: float = 0.0  # how long connect() waits for this process's connection to be free
    # place(sent_at=...) sends no buy whose intent is older than this.
    place_deadline: float = 20.0
    # After this long from the intent (sent_at), a buy can no longer execute: it
    # was sent within place_deadline, its expiry is at most 90 s after sending,
    # and the broker refuses a buy whose expiry has passed.
    landing: float = 120.0
    reconnect_budget: float = 300.0  # reconnect() gives up after this long
    reconnect_first_pause: float = 0.5  # then doubling, up to reconnect_max_pause
    reconnect_max_pause: float = 30.0


# --- process-wide state of the library -----------------------------------------------------------

_slot = threading.Condition()
_slot_owner: IQOptionBroker | None = None
_library_stuck = False

_patch_lock = threading.Lock()
_patched = False


@dataclass(frozen=True)
class _Targets:
    http_base: str = DEFAULT_IQ_HTTP_BASE
    ws_url: str = DEFAULT_IQ_WS_URL
    http_timeout: float = 15.0


_targets = _Targets()


class _Expired(Exception):
    """A library call outlived its watchdog."""


def _library():
    """Import the client library (lazily: paper deployments never load it)."""
    import iqoptionapi.constants as constants
    import iqoptionapi.global_value as global_value
    from iqoptionapi.stable_api import IQ_Option

    # Importing iqoptionapi sets the websocket logger to DEBUG, and the library
    # logs its session cookie at DEBUG: neither may reach a DEBUG root logger.
    logging.getLogger("websocket").setLevel(logging.WARNING)
    logging.getLogger("iqoptionapi").setLevel(logging.WARNING)
    return IQ_Option, global_value, constants


def preload() -> None:
    """Import the client library now: a pre-fork parent (glimpse.runtime.zygote) shares it with its children."""
    _library()


def after_fork() -> None:
    """In a forked child: this process's own connection slot, and the library's globals as a fresh import has them."""
    global _slot, _slot_owner, _library_stuck, _patch_lock
    _slot = threading.Condition()
    _slot_owner = None
    _library_stuck = False
    _patch_lock = threading.Lock()
    global_value = sys.modules.get("iqoptionapi.global_value")
    if global_value is not None:
        _reset_globals(global_value)


def _install_patch(config: Config, timeouts: IQTimeouts) -> None:
    """Point the library at the configured hosts and bound its HTTP requests.

    Wraps IQOptionAPI.__init__ and send_http_request_v2 once per process; the
    wrappers read the current targets, and pass through when they are IQ
    Option's own hosts (apart from the HTTP timeout).
    """
    global _patched, _targets
    _targets = _Targets(config.iq_http_base.rstrip("/"), config.iq_ws_url, timeouts.http)
    with _patch_lock:
        if _patched:
            return
        import iqoptionapi.api as api_module

        cls = api_module.IQOptionAPI
        original_init, original_v2 = cls.__init__, cls.send_http_request_v2

        def __init__(self, host, username, password, proxies=None):
            original_init(self, host, username, password, proxies)
            targets = _targets
            if targets.http_base != DEFAULT_IQ_HTTP_BASE:
                self.https_url = targets.http_base + "/api"
            if targets.ws_url != DEFAULT_IQ_WS_URL:
                self.wss_url = targets.ws_url
            self.session.request = functools.partial(self.session.request, timeout=targets.http_timeout)

        def send_http_request_v2(self, url, method, data=None, params=None, headers=None):
            targets = _targets
            if targets.http_base != DEFAULT_IQ_HTTP_BASE:
                for real in _REAL_HTTP_HOSTS:
                    if url.startswith(real):
                        url = targets.http_base + url[len(real) :]
            return original_v2(self, url, method, data=data, params=params, headers=headers)

        cls.__init__ = __init__
        cls.send_http_request_v2 = send_http_request_v2
        _patched = True


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bypass_proxy_for_loopback(ws_url: str) -> None:
    """websocket-client 0.56 proxies even 127.0.0.1 when a lowercase http_proxy is set."""
    host = urlsplit(ws_url).hostname
    if host is None or not _is_loopback(host):
        return
    entries = [e for e in os.environ.get("no_proxy", "").replace(" ", "").split(",") if e]
    missing = [name for name in (*_LOOPBACK_NAMES, host) if name not in entries]
    if missing:
        os.environ["no_proxy"] = ",".join(entries + list(dict.fromkeys(missing)))


def _reset_globals(global_value) -> None:
    """The library's module globals as a fresh import has them (SSID None: next connect logs in)."""
    global_value.check_websocket_if_connect = None
    global_value.ssl_Mutual_exclusion = False
    global_value.ssl_Mutual_exclusion_write = False
    global_value.SSID = None
    global_value.check_websocket_if_error = False
    global_value.websocket_error_reason = None
    global_value.balance_id = None


def _bounded(
    fn: Callable[[], Any], timeout: float, what: str, release: Callable[[], None] | None = None
) -> Any:
    """Run a library call in a worker thread; raise _Expired if it outlives `timeout`.

    On expiry `release` is applied repeatedly until the call ends, to end
    busy waits that would otherwise spin forever. A call that still runs
    after the grace period marks the library as stuck in this process.
    """
    global _library_stuck
    done = threading.Event()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"glimpse-iq {what}", daemon=True).start()
    if done.wait(timeout):
        if "error" in box:
            raise box["error"]
        return box.get("value")
    give_up = time.monotonic() + RELEASE_GRACE_SECONDS
    while not done.is_set() and time.monotonic() < give_up:
        if release is not None:
            try:
                release()
            except Exception:
                log.debug("watchdog release for %s failed", what, exc_info=True)
        done.wait(0.05)
    if not done.is_set():
        _library_stuck = True
        log.error(
            "IQ Option client call %r is stuck after its %.1f s timeout; this process cannot reconnect",
            what,
            timeout,
        )
    raise _Expired(f"{what} did not finish within {timeout:g} s")


def _refusal(message: str) -> BrokerError:
    if any(hint in message.lower() for hint in _CLOSED_HINTS):
        return AssetClosed(message)
    return Rejected(message)


def _login_refusal(reason: Any) -> BrokerError:
    """connect()'s (False, reason): a JSON body from the login host is a refusal; anything else is transport."""
    text = str(reason)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and ("code" in body or "message" in body):
        return AuthError(str(body.get("message") or body.get("code")))
    return Unreachable(f"IQ Option is unreachable: {text}")


def _candle(raw: dict) -> Candle:
    return {"from": int(raw["from"]), "o": raw["open"], "c": raw["close"], "h": raw["max"], "l": raw["min"]}


class IQOptionBroker(Broker):
    def __init__(
        self,
        config: Config,
        email: str,
        password: str,
        clock: Clock | None = None,
        timeouts: IQTimeouts | None = None,
    ):
        self._config = config
        self._email = (email or "").strip()
        self._password = password or ""
        # The library runs on the wall clock (its expiry maths reads time.time()).
        self._clock = clock or SystemClock()
        self.timeouts = timeouts or IQTimeouts()
        self._iq: Any = None  # the library's IQ_Option (untyped)
        self._connected = False
        self._mode = "PRACTICE"
        self._streams: dict[str, int] = {}
        self._lock = threading.RLock()
        self._request_ids = itertools.count(1)
        self._unconfirmed: dict[str, dict] = {}  # request id -> buy whose reply was late
        self._late: list[dict] = []
        self._results: dict[int, float] = {}
        self._fills: dict[str, Fill] = {}  # client key -> what the broker reported
        # client key -> how much later than a 1-minute buy a longer option's buy may still land (seconds)
        self._landing_extra: dict[str, float] = {}
        self._in_flight: dict[str, tuple[str, float]] = {}  # client key -> (request id, send time)
        self._orders: dict[int, dict] = {}  # order id -> {pair, direction, amount, client_key, expires_at}
        self._claimed: dict[int, str] = {}  # order id -> the client key find_order matched it to
        self._settlements: dict[int, Settlement] = {}

    # --- the process slot -----------------------------------------------------------------------

    def _claim_slot(self) -> None:
        global _slot_owner
        with _slot:
            if _library_stuck:
                raise BrokerError(
                    "the IQ Option client library is stuck in this process after a timeout; restart the process"
                )
            deadline = time.monotonic() + self.timeouts.slot_wait
            while _slot_owner is not None and _slot_owner is not self:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConnectionInUse(
                        "this process already holds a live IQ Option connection; the client library keeps its "
                        "session in module globals, so each process can hold only one (close it first)"
                    )
                _slot.wait(remaining)
            _slot_owner = self

    def _release_slot(self) -> None:
        global _slot_owner
        with _slot:
            if _slot_owner is self:
                _slot_owner = None
                _slot.notify_all()

    # --- connection -----------------------------------------------------------------------------

    def connect(self) -> None:
        if not self._email or not self._password:
            raise AuthError("email and password are required")
        with self._lock:
            self._claim_slot()
            try:
                self._connect()
            except BaseException:
                self._drop()
                self._release_slot()
                raise

    def _connect(self) -> None:
        IQ_Option, global_value, _ = _library()
        _install_patch(self._config, self.timeouts)
        _bypass_proxy_for_loopback(self._config.iq_ws_url)
        if self._iq is not None:
            self._drop()
        _reset_globals(global_value)
        iq = self._iq = IQ_Option(self._email, self._password)
        try:
            ok, reason = _bounded(iq.connect, self.timeouts.connect, "connect", release=self._release_connect)
        except _Expired as exc:
            raise BrokerTimeout(f"IQ Option login did not complete: {exc}") from None
        except Exception as exc:  # the library raises AttributeError when the login host is down
            # Debug only: reconnect() retries this, and logs once per state change.
            log.debug("IQ Option connect failed: %s: %s", type(exc).__name__, exc)
            raise Unreachable(f"IQ Option is unreachable ({type(exc).__name__}: {exc})") from None
        if not ok:
            raise _login_refusal(reason)
        self._connected = True
        if self._mode != "PRACTICE":
            self._change_balance(self._mode)
        for pair, keep in list(self._streams.items()):
            self._start_stream(pair, keep)

    def _release_connect(self) -> None:
        """Satisfy every flag IQ_Option.connect() may be spinning on, and close its socket."""
        _, global_value, _ = _library()
        global_value.ssl_Mutual_exclusion = False
        global_value.ssl_Mutual_exclusion_write = False
        global_value.check_websocket_if_error = True
        global_value.websocket_error_reason = "stopped by the Glimpse watchdog"
        if global_value.balance_id is None:
            global_value.balance_id = -1
        api = getattr(self._iq, "api", None)
        if api is not None:
            if api.profile.msg is None:
                api.profile.msg = False
            api.timesync.server_timestamp = time.time() * 1000
            try:
                api.websocket.close()
            except Exception:
                log.debug("closing the socket of a stuck connect failed", exc_info=True)

    def _owns_slot(self) -> bool:
        with _slot:
            return _slot_owner is self

    def _drop(self) -> None:
        """Close the socket (bounded) and forget the session; keeps the process slot.

        Only the slot's owner touches the library: the globals it resets
        belong to whichever broker holds this process's connection.
        """
        iq, self._iq = self._iq, None
        self._connected = False
        if not self._owns_slot():
            return
        _, global_value, _ = _library()
        api = getattr(iq, "api", None)
        if api is not None and getattr(api, "websocket_client", None) is not None:
            try:
                _bounded(api.close, self.timeouts.close, "close", release=self._release_sends)
            except _Expired:
                log.warning("closing the IQ Option socket took longer than %.1f s", self.timeouts.close)
            except Exception:
                log.debug("closing the IQ Option socket failed", exc_info=True)
        _reset_globals(global_value)

    def close(self) -> None:
        with self._lock:
            iq = self._iq
            if iq is not None and self._connected and self._alive():
                self._logout(iq)
            self._drop()
            self._streams.clear()
            self._release_slot()

    def _logout(self, iq) -> None:
        try:
            _bounded(lambda: iq.api.logout(), self.timeouts.close, "logout")
        except Exception as exc:
            log.warning("IQ Option logout failed: %s", exc)

    def _alive(self) -> bool:
        api = getattr(self._iq, "api", None)
        if api is None:
            return False
        _, global_value, _ = _library()
        thread = getattr(api, "websocket_thread", None)
        return global_value.check_websocket_if_connect == 1 and thread is not None and thread.is_alive()

    def is_connected(self) -> bool:
        return self._connected and self._alive()

    def _api(self):
        if not self._connected or self._iq is None:
            raise Unreachable("not connected to IQ Option: call connect() first")
        if not self._alive():
            self._connected = False
            raise Unreachable("the connection to IQ Option was lost")
        return self._iq.api

    # --- requests -------------------------------------------------------------------------------

    def _release_sends(self) -> None:
        # A callback that raised leaves the library's send mutex set; clear it.
        _, global_value, _ = _library()
        global_value.ssl_Mutual_exclusion = False
        global_value.ssl_Mutual_exclusion_write = False

    def _send(self, what: str, fn: Callable[[], Any], *, order_may_exist: bool = False) -> None:
        try:
            _bounded(fn, self.timeouts.send, what, release=self._release_sends)
        except _Expired:
            raise BrokerTimeout(
                f"could not send {what} to IQ Option", order_may_exist=order_may_exist
            ) from None
        except Exception as exc:
            self._connected = False
            raise Unreachable(
                f"sending {what} to IQ Option failed: {exc}", order_may_exist=order_may_exist
            ) from None

    def _request(
        self, what: str, reset: Callable[[], None], send: Callable[[], Any], reply: Callable[[], Any]
    ) -> Any:
        """Send a request and wait (sleeping) for the library to store its reply."""
        self._api()
        reset()
        self._send(what, send)
        deadline = time.monotonic() + self.timeouts.request
        while True:
            value = reply()
            if value is not None:
                return value
            if not self._alive():
                self._connected = False
                raise Unreachable(f"the connection to IQ Option was lost while waiting for {what}")
            if time.monotonic() >= deadline:
                raise BrokerTimeout(f"IQ Option did not answer {what} within {self.timeouts.request:g} s")
            time.sleep(POLL_SECONDS)

    # --- balances -------------------------------------------------------------------------------

    def change_balance(self, mode: str) -> None:
        check_mode(mode)
        with self._lock:
            self._change_balance(mode)

    def _change_balance(self, mode: str) -> None:
        api = self._api()
        balances = (api.profile.msg or {}).get("balances") or []
        wanted = 4 if mode == "PRACTICE" else 1
        if not any(b.get("type") == wanted for b in balances):
            raise Rejected(f"this IQ Option account has no {mode} balance")
        self._send(f"change_balance {mode}", lambda: self._iq.change_balance(mode))
        self._mode = mode

    def get_balance(self) -> float:
        with self._lock:
            api = self._api()
            raw = self._request(
                "get-balances",
                reset=lambda: setattr(api, "balances_raw", None),
                send=lambda: api.get_balances(),
                reply=lambda: api.balances_raw,
            )
            _, global_value, _ = _library()
            for balance in raw.get("msg") or []:
                if balance.get("id") == global_value.balance_id:
                    return float(balance["amount"])
            raise BrokerError(f"IQ Option sent no {self._mode} balance")

    # --- market ---------------------------------------------------------------------------------

    def open_assets(self) -> dict[str, dict]:
        with self._lock:
            api = self._api()
            options = self._request(
                "api_option_init_all",
                reset=lambda: setattr(api, "api_option_init_all_result", None),
                send=lambda: api.get_api_option_init_all(),
                reply=lambda: api.api_option_init_all_result,
            )
            trading = self._request(
                "get-initialization-data",
                reset=lambda: setattr(api, "api_option_init_all_result_v2", None),
                send=lambda: api.get_api_option_init_all_v2(),
                reply=lambda: api.api_option_init_all_result_v2,
            )
        try:
            if not options.get("isSuccessful"):
                raise Rejected("IQ Option refused the list of options")
            open_now = {
                str(active["name"]).split(".", 1)[1]: bool(active["enabled"]) and not active["is_suspended"]
                for active in trading["turbo"]["actives"].values()
            }
            return {
                str(active["name"]).split(".", 1)[1]: {
                    "open": open_now.get(str(active["name"]).split(".", 1)[1], False),
                    "payout": round(100 - active["option"]["profit"]["commission"]),
                }
                for active in options["result"]["turbo"]["actives"].values()
            }
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            log.error("unexpected option list from IQ Option: %s: %s", type(exc).__name__, exc)
            raise BrokerError(
                f"unexpected option list from IQ Option ({type(exc).__name__}: {exc})"
            ) from None

    def _active_id(self, pair: str) -> int:
        check_pair(pair)
        _, _, constants = _library()
        if pair not in constants.ACTIVES:
            raise ValueError(f"the IQ Option client library does not know the pair {pair!r}")
        return constants.ACTIVES[pair]

    def _server_time(self, api) -> float:
        try:
            return float(api.timesync.server_timestamp)
        except TypeError:  # no timeSync yet
            return time.time()

    def _raw_candles(self, pair: str, size: int, count: int, end: float | None) -> list[dict]:
        active = self._active_id(pair)
        api = self._api()
        end = self._server_time(api) if end is None else end
        raw = self._request(
            f"get-candles {pair}",
            reset=lambda: setattr(api.candles, "candles_data", None),
            send=lambda: api.getcandles(active, size, count, end),
            reply=lambda: api.candles.candles_data,
        )
        return sorted(raw, key=lambda c: c["from"])

    def candles(self, pair: str, size: int, count: int, end: float | None = None) -> list[Candle]:
        check_pair(pair)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 60:
            raise ValueError(f"size must be a positive multiple of 60 seconds, got {size!r}")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
            raise ValueError(f"count must be an integer from 1 to {MAX_COUNT}, got {count!r}")
        with self._lock:
            return [_candle(c) for c in self._raw_candles(pair, size, count, end)]

    def start_stream(self, pair: str, keep: int = 15) -> None:
        self._active_id(pair)
        if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= MAX_COUNT:
            raise ValueError(f"keep must be an integer from 1 to {MAX_COUNT}, got {keep!r}")
        with self._lock:
            self._start_stream(pair, keep)
            self._streams[pair] = keep

    def _start_stream(self, pair: str, keep: int) -> None:
        """start_candles_stream(pair, 60, keep), with bounded waits and no reconnect loop."""
        active = self._active_id(pair)
        api = self._api()
        # Set before any candle can arrive: a candle for a pair without its
        # table raises inside the library's callback.
        api.real_time_candles_maxdict_table[pair][60] = keep
        history = self._raw_candles(pair, 60, keep, None)
        table = api.real_time_candles[pair][60]
        table.clear()
        for raw in history:
            table[int(raw["from"])] = raw
        api.candle_generated_check[pair][60] = {}
        deadline = time.monotonic() + self.timeouts.stream_start
        while True:
            self._send(f"subscribe {pair}", lambda: api.subscribe(active, 60))
            resend = min(time.monotonic() + 1.0, deadline)
            while time.monotonic() < resend:
                if api.candle_generated_check[pair][60] is True:
                    return
                time.sleep(POLL_SECONDS)
            if time.monotonic() >= deadline:
                raise BrokerTimeout(
                    f"IQ Option streamed no candle of {pair} within {self.timeouts.stream_start:g} s"
                )
            self._api()

    def stream_candles(self, pair: str) -> list[Candle]:
        if pair not in self._streams:
            raise ValueError(f"no candle stream for {pair}: call start_stream() first")
        api = self._api()
        items = list(api.real_time_candles[pair][60].items())  # one C-level copy: the socket thread writes it
        return [_candle(raw) for _, raw in sorted(items)]

    def stop_stream(self, pair: str) -> None:
        with self._lock:
            if self._streams.pop(pair, None) is None or not self.is_connected():
                return
            active = self._active_id(pair)
            api = self._iq.api
            # A candle already in flight when the unsubscribe goes out means
            # the server may still be pushing: unsubscribe again, a few times.
            for _ in range(3):
                api.candle_generated_check[pair][60] = {}
                self._send(f"unsubscribe {pair}", lambda: api.unsubscribe(active, 60))
                quiet_until = time.monotonic() + STOP_QUIET_SECONDS
                while time.monotonic() < quiet_until and api.candle_generated_check[pair][60] is not True:
                    time.sleep(POLL_SECONDS)
                if api.candle_generated_check[pair][60] is not True:
                    return
            log.warning("IQ Option kept streaming %s after three unsubscribes", pair)

    # --- orders ---------------------------------------------------------------------------------

    def buy(self, amount, pair: str, direction: str, minutes: int = 1) -> int:
        stake = check_order(amount, pair, direction, minutes)
        active = self._active_id(pair)
        with self._lock:
            order = {"pair": pair, "direction": direction, "amount": float(stake)}
            reply = self._buy(stake, active, minutes, order)
            return int(reply["id"])

    def place(
        self,
        amount,
        pair: str,
        direction: str,
        minutes: int = 1,
        *,
        client_key: str,
        sent_at: float | None = None,
    ) -> Fill:
        """buy() with an idempotency key; see Broker.place.

        `sent_at` (optional, epoch seconds): when the ledger wrote the intent.
        A buy is not sent when the intent is older than IQTimeouts.place_deadline
        (a process that was paused): find_order's "not_placed" rests on it.
        """
        check_client_key(client_key)
        stake = check_order(amount, pair, direction, minutes)
        active = self._active_id(pair)
        with self._lock:
            self._collect_late_orders()
            known = self._fills.get(client_key)
            if known is not None:
                return known  # the same key again: the order the broker already took
            if client_key in self._in_flight:
                raise BrokerTimeout(
                    f"a buy with key {client_key} is still unanswered: the order may exist (ask find_order)",
                    order_may_exist=True,
                )
            if sent_at is not None:
                age = self._server_time(self._api()) - sent_at
                if age > self.timeouts.place_deadline:
                    raise Rejected(
                        f"the order {client_key} was written {age:.0f} s ago: too late to send it "
                        f"(more than {self.timeouts.place_deadline:g} s)"
                    )
            order = {
                "pair": pair,
                "direction": direction,
                "amount": float(stake),
                "client_key": client_key,
                "minutes": minutes,
            }
            if minutes != 1:
                # The buy names a later expiry, so the broker would still take it later than landing.
                sent = self._server_time(self._api())
                if len(self._landing_extra) >= RESULTS_KEPT:
                    self._landing_extra.pop(next(iter(self._landing_extra)))
                self._landing_extra[client_key] = float(expiry_at(sent, minutes) - expiry_at(sent, 1))
            reply = self._buy(stake, active, minutes, order)
            return self._record_fill(reply, order, minutes)

    def _buy(self, stake, active: int, minutes: int, order: dict) -> dict:
        """Send one buy and wait for its reply; the reply carrying the order id."""
        api = self._api()
        self._collect_late_orders()
        request_id = f"glimpse-buy-{next(self._request_ids)}"
        key = order.get("client_key")
        if key is not None:
            self._in_flight[key] = (request_id, self._server_time(api))
        try:
            self._send(
                f"buy {order['pair']}",
                lambda: api.buyv3(float(stake), active, order["direction"], minutes, request_id),
                order_may_exist=True,
            )
        except Unreachable as exc:
            self._unconfirmed[request_id] = order
            raise Disconnected(str(exc), order_may_exist=True) from None
        except BrokerTimeout:
            self._unconfirmed[request_id] = order
            raise
        deadline = time.monotonic() + self.timeouts.buy
        while True:
            reply = api.buy_multi_option.pop(request_id, None)
            if reply is not None:
                if key is not None:
                    self._in_flight.pop(key, None)
                if "message" in reply:
                    raise _refusal(str(reply["message"]))
                if "id" in reply:
                    return reply
                raise BrokerError(f"unexpected buy reply from IQ Option: {reply!r}")
            if not self._alive():
                self._connected = False
                self._unconfirmed[request_id] = order
                log.warning(
                    "the IQ Option socket dropped during a buy of %s %s", order["pair"], order["direction"]
                )
                raise Disconnected(
                    "the connection to IQ Option was lost after a buy was sent: the order may exist",
                    order_may_exist=True,
                )
            if time.monotonic() >= deadline:
                self._unconfirmed[request_id] = order
                log.warning(
                    "IQ Option did not confirm a buy of %s %s within %.1f s",
                    order["pair"],
                    order["direction"],
                    self.timeouts.buy,
                )
                raise BrokerTimeout(
                    f"IQ Option did not confirm the buy within {self.timeouts.buy:g} s: the order may exist",
                    order_may_exist=True,
                )
            time.sleep(POLL_SECONDS)

    def _stream_quote(self, pair: str, at: float | None) -> float | None:
        """A quote from our candle stream: the open of the candle starting at `at`, or the last close."""
        if pair not in self._streams or self._iq is None:
            return None
        try:
            table = dict(self._iq.api.real_time_candles[pair][60])
        except Exception:  # noqa: BLE001 - no stream table: no quote
            return None
        if at is not None:
            candle = table.get(int(at))
            return float(candle["open"]) if candle is not None else None
        if not table:
            return None
        return float(table[max(table)]["close"])

    def _record_fill(self, reply: dict, order: dict, minutes: int) -> Fill:
        order_id = int(reply["id"])
        quote, source = _number(reply.get("value")), "broker"
        if quote is None:
            quote = self._stream_quote(order["pair"], None)
            source = "stream" if quote is not None else "none"
        expires = _number(reply.get("exp")) or float(expiry_at(self._server_time(self._iq.api), minutes))
        fill = Fill(order_id, quote, expires, source)
        key = order.get("client_key")
        self._orders[order_id] = {**order, "expires_at": expires}
        if key is not None:
            self._fills[key] = fill
            self._claimed[order_id] = key
            self._in_flight.pop(key, None)
        return fill

    def _collect_late_orders(self) -> None:
        """Move buys that timed out but got their reply after all into late_orders()."""
        if self._iq is None:
            return
        replies = self._iq.api.buy_multi_option
        for request_id in list(self._unconfirmed):
            reply = replies.pop(request_id, None)
            if reply is None:
                continue
            order = self._unconfirmed.pop(request_id)
            key = order.get("client_key")
            if key is not None and self._in_flight.get(key, ("", 0.0))[0] == request_id:
                self._in_flight.pop(key, None)
            if "id" in reply:
                late = {
                    "order_id": int(reply["id"]),
                    **{k: order[k] for k in ("pair", "direction", "amount")},
                }
                if key is not None:
                    self._record_fill(reply, order, order.get("minutes", 1))
                self._late.append(late)
                log.warning("IQ Option executed a buy after its timeout: %s", late)

    def late_orders(self) -> list[dict]:
        with self._lock:
            self._collect_late_orders()
            late, self._late = self._late, []
            return late

    def order_result(self, order_id: int, timeout: float) -> float:
        return float(self.settlement(order_id, timeout).profit)

    def settlement(self, order_id: int, timeout: float) -> Settlement:
        timeout = check_timeout(timeout)
        key = int(order_id)
        if key in self._settlements:
            return self._settlements[key]
        deadline = time.monotonic() + timeout
        next_history = time.monotonic() + HISTORY_POLL_SECONDS
        while True:
            iq = self._iq
            if iq is None:
                raise Unreachable("not connected to IQ Option: call connect() first")
            api = iq.api
            # order_async is the library's class-level order state: a result that
            # arrived before this call is there already.
            closed = (api.order_async.get(key) or {}).get("option-closed")
            if closed:
                api.order_async.pop(key, None)
                return self._remember(key, self._settlement_from(closed["msg"], key))
            if not self._alive():
                self._connected = False
                log.warning("the IQ Option socket dropped while order %s was running", order_id)
                raise Disconnected(f"the connection to IQ Option was lost while order {order_id} was running")
            if time.monotonic() >= next_history and self._close_due(key):
                # An option-closed sent while our socket was down never comes again: ask the history.
                next_history = time.monotonic() + HISTORY_POLL_SECONDS
                entry = self._history_entry(key)
                if entry is not None and entry.get("closed"):
                    return self._remember(key, entry["settlement"])
            if time.monotonic() >= deadline:
                raise BrokerTimeout(f"order {order_id} did not settle within {timeout:g} s")
            time.sleep(min(RESULT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def _close_due(self, order_id: int) -> bool:
        expires = (self._orders.get(order_id) or {}).get("expires_at")
        return expires is None or self._server_time(self._iq.api) >= expires

    def _remember(self, order_id: int, settlement: Settlement) -> Settlement:
        for cache in (self._settlements, self._results):
            if len(cache) >= RESULTS_KEPT:
                cache.pop(next(iter(cache)))
        self._settlements[order_id] = settlement
        self._results[order_id] = float(settlement.profit)
        return settlement

    def _settlement_from(self, msg: dict, order_id: int) -> Settlement:
        profit = cents(to_decimal(msg["profit_amount"]) - to_decimal(msg["amount"]))
        closed_at = _number(msg.get("expiration_time")) or (self._orders.get(order_id) or {}).get(
            "expires_at"
        )
        closed_at = float(closed_at) if closed_at is not None else time.time()
        quote, source = _number(msg.get("expiration_value")), "broker"
        if quote is None:
            pair = (self._orders.get(order_id) or {}).get("pair")
            quote = self._stream_quote(pair, closed_at) if pair else None
            source = "stream" if quote is not None else "none"
        return Settlement(profit, quote, closed_at, source)

    # --- the broker's option history ------------------------------------------------------------

    def _history(self) -> list[dict]:
        """The account's latest options (open and closed), newest first, as the broker lists them."""
        with self._lock:
            api = self._api()
            raw = self._request(
                "get-options",
                reset=lambda: setattr(api, "get_options_v2_data", None),
                send=lambda: api.get_options_v2(HISTORY_LIMIT, "turbo,binary"),
                reply=lambda: api.get_options_v2_data,
            )
        msg = raw.get("msg") if isinstance(raw, dict) else None
        options = msg.get("options") if isinstance(msg, dict) else msg
        if not isinstance(options, list):
            raise BrokerError(f"unexpected option history from IQ Option: {str(raw)[:200]}")
        return [entry for entry in (self._history_item(o) for o in options) if entry is not None]

    def _history_item(self, raw: Any) -> dict | None:
        try:
            order_id = int(raw["id"])
            amount = cents(to_decimal(raw["amount"]))
            expires = _number(raw.get("expired") or raw.get("expiration_time"))
            entry: dict[str, Any] = {
                "id": order_id,
                "active_id": int(raw["active_id"]),
                "direction": str(raw["direction"]),
                "amount": amount,
                "created": _number(raw.get("created") or raw.get("open_time")),
                "expires_at": expires,
            }
            opened = _number(raw.get("value"))
            entry["fill"] = Fill(
                order_id, opened, float(expires or 0.0), "broker" if opened is not None else "none"
            )
            result = _RESULT_NAMES.get(str(raw.get("result") or raw.get("win") or ""))
            entry["closed"] = result is not None and raw.get("profit_amount") is not None
            if entry["closed"]:
                entry["settlement"] = self._settlement_from(
                    {
                        "profit_amount": raw["profit_amount"],
                        "amount": raw["amount"],
                        "expiration_time": expires,
                        "expiration_value": raw.get("expiration_value"),
                    },
                    order_id,
                )
            return entry
        except (KeyError, TypeError, ValueError, ArithmeticError):
            log.debug("skipping an option of the history that cannot be read: %r", raw)
            return None

    def _history_entry(self, order_id: int) -> dict | None:
        try:
            history = self._history()
        except BrokerError as exc:
            log.debug("IQ Option option history unavailable: %s", exc)
            return None
        return next((entry for entry in history if entry["id"] == order_id), None)

    def find_order(
        self,
        client_key: str,
        *,
        pair: str,
        direction: str,
        amount,
        sent_at: float,
        order_id: int | None = None,
        minutes: int = 1,
    ) -> OrderLookup:
        check_client_key(client_key)
        stake = check_order(amount, pair, direction, 1)
        active = self._active_id(pair)
        with self._lock:
            self._collect_late_orders()
            fill = self._fills.get(client_key)
        known_id = fill.order_id if fill is not None else order_id
        if known_id is not None and known_id in self._settlements:
            return OrderLookup("settled", fill or self._bare_fill(known_id), self._settlements[known_id])
        if not self.is_connected():
            return OrderLookup("open", fill) if fill is not None else OrderLookup("unknown")
        try:
            history = self._history()
        except BrokerError as exc:
            log.info("cannot read the IQ Option option history now: %s", exc)
            return OrderLookup("open", fill) if fill is not None else OrderLookup("unknown")
        entry = self._match(history, client_key, known_id, active, direction, stake, sent_at, minutes)
        if entry is not None:
            self._claimed[entry["id"]] = client_key
            self._orders.setdefault(
                entry["id"],
                {"pair": pair, "direction": direction, "amount": float(stake), "client_key": client_key,
                 "expires_at": entry["expires_at"]},
            )  # fmt: skip
            found = fill or entry["fill"]
            self._fills.setdefault(client_key, found)
            if entry["closed"]:
                return OrderLookup("settled", found, self._remember(entry["id"], entry["settlement"]))
            return OrderLookup("open", found)
        if fill is not None:
            return OrderLookup("open", fill)  # the broker took it (we hold its reply); the history lags
        if known_id is not None:
            return OrderLookup("unknown")  # an order id the history does not list (yet)
        sent = max(sent_at, self._in_flight.get(client_key, ("", sent_at))[1])
        if self._server_time(self._iq.api) < sent + self._landing(client_key, sent, minutes):
            return OrderLookup("unknown")  # the buy may still land
        oldest = min((e["created"] for e in history if e["created"] is not None), default=None)
        if len(history) >= HISTORY_LIMIT and (oldest is None or oldest > sent_at - SEND_SKEW_SECONDS):
            return OrderLookup("unknown")  # the history we got does not reach back to the send
        return OrderLookup("not_placed")

    def _landing(self, client_key: str, sent: float | None = None, minutes: int = 1) -> float:
        """How long after sending a buy with this key may still execute (longer for 5- and 15-minute options).

        The process that sent it knows the expiry; another one (after a crash) is told it by
        the ledger (`minutes`).
        """
        extra = self._landing_extra.get(client_key, 0.0)
        if sent is not None and minutes > 1:
            extra = max(extra, float(expiry_at(sent, minutes) - expiry_at(sent, 1)))
        return self.timeouts.landing + extra

    def _bare_fill(self, order_id: int) -> Fill:
        expires = (self._orders.get(order_id) or {}).get("expires_at") or 0.0
        return Fill(order_id, None, float(expires), "none")

    def _match(
        self,
        history: list[dict],
        client_key: str,
        order_id: int | None,
        active: int,
        direction: str,
        stake,
        sent_at: float,
        minutes: int = 1,
    ) -> dict | None:
        if order_id is not None:
            return next((e for e in history if e["id"] == order_id), None)
        candidates = [
            e
            for e in history
            if e["active_id"] == active
            and e["direction"] == direction
            and e["amount"] == stake
            and e["created"] is not None
            and sent_at - SEND_SKEW_SECONDS
            <= e["created"]
            <= sent_at + self._landing(client_key, sent_at, minutes)
            and self._claimed.get(e["id"], client_key) == client_key
        ]
        # The earliest after the send: a later twin belongs to a later buy.
        return min(candidates, key=lambda e: e["created"], default=None)

    # --- reconnecting ---------------------------------------------------------------------------

    def reconnect(self, *, budget: float | None = None) -> None:
        """Log in again after a dropped socket, with capped exponential back-off.

        Keeps the balance mode and the candle streams. Raises AuthError at
        once, Unreachable once `budget` (default IQTimeouts.reconnect_budget)
        seconds have gone without a connection.
        """
        reconnect_with_backoff(
            self.connect,
            "IQ Option",
            budget=self.timeouts.reconnect_budget if budget is None else budget,
            first_pause=self.timeouts.reconnect_first_pause,
            max_pause=self.timeouts.reconnect_max_pause,
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None
