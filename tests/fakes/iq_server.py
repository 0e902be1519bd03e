"""A fake IQ Option server on loopback, faithful to the wire protocol of `iqoption==6.8.9.1`.

Run it with `python -m tests.fakes.iq_server --port N` (N = 0 picks a free
port; the first line on stdout says which). Point Glimpse at it with
GLIMPSE_BROKER=iqoption, GLIMPSE_IQ_HTTP_BASE=http://127.0.0.1:N and
GLIMPSE_IQ_WS_URL=ws://127.0.0.1:N/echo/websocket.

It serves:
* POST /api/v2/login (form identifier, password): cookie `ssid`, no Domain.
* POST /api/v1.0/logout.
* GET /echo/websocket: timeSync streamed continuously; profile (after
  `ssid`), balances, api_option_init_all_result, initialization-data,
  underlying-list, instruments, candles, candle-generated (pushed until
  unsubscribed), option + result (about 50 ms after a buy), option-closed.
* Prices, candles and settlements from the paper market (glimpse.market.paper_market)
  with the server's seed, so they agree with the paper broker. Payouts are
  the paper market's payout of the UTC day. Orders settle early (after
  --settle-delay seconds) unless --settle-at-expiry: the client does not
  check expiry times, and the market knows the expiry price in advance.
* Failure switches (flags, or POST /fake/control with JSON): bad_credentials,
  suspended (pairs), insufficient_funds, buy_silent (buy replies never
  arrive), buy_reply_delay (they arrive late), never_close (option-closed
  never arrives), mute_profile (an ssid gets no profile: connect hangs),
  settle_delay, outcomes (forced results for the next settlements: win, loss,
  doji), drop_on_buy (the next buy executes, then every socket of its account
  drops before the reply), omit_quotes (buy replies and option-closed carry no
  quotes). POST /fake/drop drops every socket mid-session (TCP abort): idle,
  or with an order open.
* The account's option history: `sendMessage get-options` is answered with
  `options` ({"options": [...]}, newest first): id, active_id, direction,
  amount, created (epoch s), expired, value (open quote), status, and once
  closed result (win|loose|equal), profit_amount and expiration_value (close
  quote). The real broker's field names here are from memory, not verified.
* Quotes: the buy reply's `value` is the open quote (the paper market's price
  at the moment of the buy) and option-closed's `expiration_value` the close
  quote (the price at the expiry second).
  GET /fake/state reports orders, accounts, sessions and the message counts.
Only loopback addresses can be bound.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import secrets
import signal
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from glimpse.market.paper_market import PaperMarket
from glimpse.rules.money import cents, win_profit
from glimpse.rules.pairs import PAIR_NAMES, PAIRS

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
PRACTICE_TYPE, REAL_TYPE = 4, 1
OUTCOMES = ("win", "loss", "doji")
WRONG_CREDENTIALS = {
    "code": "invalid_credentials",
    "message": "You entered the wrong credentials. Please check that the login/password is correct.",
}


def _actives() -> dict[str, int]:
    # The client library's static name -> id table (the library addresses pairs by these ids).
    from iqoptionapi.constants import ACTIVES

    return {name: ACTIVES[name] for name in PAIR_NAMES}


@dataclass
class Switches:
    bad_credentials: bool = False
    suspended: list[str] = field(default_factory=list)
    insufficient_funds: bool = False
    buy_silent: bool = False
    buy_reply_delay: float = 0.05
    never_close: bool = False
    mute_profile: bool = False
    settle_delay: float | None = 0.5  # None: at the real expiry
    outcomes: list[str] = field(default_factory=list)
    drop_on_buy: bool = False
    omit_quotes: bool = False

    def update(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown switch {key!r}")
            if key == "suspended" and not (isinstance(value, list) and all(v in PAIRS for v in value)):
                raise ValueError("suspended must be a list of pair names")
            if key == "outcomes" and not (isinstance(value, list) and all(v in OUTCOMES for v in value)):
                raise ValueError(f"outcomes must be a list of {OUTCOMES}")
            setattr(self, key, value)


@dataclass
class Account:
    email: str
    balances: dict[int, dict]  # balance id -> {"id", "type", "amount" (Decimal), "currency"}

    def wire(self) -> list[dict]:
        return [{**b, "amount": float(b["amount"])} for b in self.balances.values()]


@dataclass(eq=False)
class Connection:
    ws: web.WebSocketResponse
    request: web.Request
    email: str | None = None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    streams: dict[tuple[int, int], asyncio.Task] = field(default_factory=dict)
    tasks: list[asyncio.Task] = field(default_factory=list)

    async def send(self, name: str, msg: Any, request_id: str | None = None) -> None:
        frame: dict[str, Any] = {"name": name, "msg": msg}
        if request_id is not None:
            frame["request_id"] = request_id
        if self.ws.closed:
            return
        async with self.send_lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(json.dumps(frame))


class FakeIQOption:
    def __init__(
        self,
        seed: int,
        password: str,
        real_balance: str = "0",
        timesync_period: float = 0.05,
        push_period: float = 0.25,
        switches: Switches | None = None,
    ):
        self.market = PaperMarket(seed)
        self.seed = seed
        self.password = password
        self.real_balance = cents(real_balance)
        self.timesync_period = timesync_period
        self.push_period = push_period
        self.switches = switches or Switches()
        self.actives = _actives()
        self.pair_of: dict[Any, str] = {active_id: name for name, active_id in self.actives.items()}
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, str] = {}  # ssid -> email
        self.connections: set[Connection] = set()
        self.orders: dict[int, dict] = {}
        self.option_ids = itertools.count(9_000_001)
        self.received: Counter[str] = Counter()
        self._background: set[asyncio.Task] = set()

    # --- accounts -------------------------------------------------------------------------------

    def _account(self, email: str) -> Account:
        account = self.accounts.get(email)
        if account is None:
            base = 1000 * (len(self.accounts) + 1)
            account = self.accounts[email] = Account(
                email,
                {
                    base + 1: {
                        "id": base + 1,
                        "type": REAL_TYPE,
                        "amount": self.real_balance,
                        "currency": "USD",
                    },
                    base + 4: {
                        "id": base + 4,
                        "type": PRACTICE_TYPE,
                        "amount": Decimal("10000.00"),
                        "currency": "USD",
                    },
                },
            )
        return account

    def _profile(self, account: Account) -> dict:
        practice = next(b for b in account.balances.values() if b["type"] == PRACTICE_TYPE)
        return {
            "balance": float(practice["amount"]),
            "balance_id": practice["id"],
            "balance_type": PRACTICE_TYPE,
            "currency": "USD",
            "email": account.email,
            "balances": account.wire(),
        }

    # --- HTTP -----------------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        email, password = str(form.get("identifier", "")), str(form.get("password", ""))
        self.received["http login"] += 1
        if self.switches.bad_credentials or not email or password != self.password:
            return web.json_response(WRONG_CREDENTIALS, status=403)
        ssid = secrets.token_hex(16)
        self.sessions[ssid] = email
        self._account(email)
        response = web.json_response({"code": "success", "ssid": ssid})
        response.set_cookie("ssid", ssid, path="/")
        return response

    async def logout(self, request: web.Request) -> web.Response:
        self.received["http logout"] += 1
        ssid = request.cookies.get("ssid")
        if ssid:
            self.sessions.pop(ssid, None)
        return web.json_response({"code": "success"})

    async def control(self, request: web.Request) -> web.Response:
        try:
            self.switches.update(await request.json())
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(asdict(self.switches))

    async def drop(self, request: web.Request) -> web.Response:
        dropped = 0
        for conn in list(self.connections):
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
                dropped += 1
        return web.json_response({"dropped": dropped})

    async def state(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "switches": asdict(self.switches),
                "orders": [
                    {k: v for k, v in o.items() if not k.startswith("_")} for o in self.orders.values()
                ],
                "accounts": {email: a.wire() for email, a in self.accounts.items()},
                "sessions": list(self.sessions),
                "connections": len(self.connections),
                "received": dict(self.received),
            },
            dumps=lambda obj: json.dumps(obj, default=str),
        )

    # --- websocket ------------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = Connection(ws, request)
        self.connections.add(conn)
        conn.tasks.append(asyncio.create_task(self._time_sync(conn)))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    continue
                if isinstance(frame, dict):
                    await self._dispatch(conn, frame)
        finally:
            self.connections.discard(conn)
            for task in [*conn.tasks, *conn.streams.values()]:
                task.cancel()
        return ws

    async def _time_sync(self, conn: Connection) -> None:
        # Streamed for the whole session: the client's connect() waits for a
        # timeSync that arrives after its profile.
        while not conn.ws.closed:
            await conn.send("timeSync", int(time.time() * 1000))
            await asyncio.sleep(self.timesync_period)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _dispatch(self, conn: Connection, frame: dict) -> None:
        name = frame.get("name")
        msg: Any = frame.get("msg")
        inner = msg.get("name") if isinstance(msg, dict) else None
        self.received[f"{name} {inner}" if inner else str(name)] += 1
        if name == "ssid":
            await self._on_ssid(conn, msg)
        elif name == "api_option_init_all":
            await conn.send("api_option_init_all_result", self._option_list())
        elif name == "sendMessage" and isinstance(msg, dict):
            await self._on_send_message(conn, inner, msg.get("body") or {}, str(frame.get("request_id", "")))
        elif name == "subscribeMessage" and inner == "candle-generated":
            self._subscribe(conn, msg)
        elif name == "unsubscribeMessage" and inner == "candle-generated":
            self._unsubscribe(conn, msg)
        # Everything else (portfolio subscriptions, setOptions, ...) needs no reply.

    async def _on_ssid(self, conn: Connection, ssid: Any) -> None:
        if self.switches.mute_profile:
            return
        email = self.sessions.get(str(ssid))
        if email is None:
            await conn.send("profile", False)
            return
        conn.email = email
        await conn.send("profile", self._profile(self._account(email)))

    async def _on_send_message(self, conn: Connection, name: str | None, body: dict, request_id: str) -> None:
        if name == "get-balances":
            account = self._account(conn.email) if conn.email else None
            await conn.send("balances", account.wire() if account else [], request_id="")
        elif name == "get-initialization-data":
            await conn.send("initialization-data", self._trading_state())
        elif name == "get-underlying-list":
            await conn.send("underlying-list", {"underlying": []})
        elif name == "get-instruments":
            await conn.send("instruments", {"instruments": []})
        elif name == "get-candles":
            await conn.send("candles", {"candles": self._candles(body)})
        elif name == "binary-options.open-option":
            self._spawn(self._buy(conn, request_id, body))
        elif name == "get-options":
            await conn.send("options", {"options": self._history(conn.email, body)}, request_id="")

    # --- market ---------------------------------------------------------------------------------

    def _actives_section(self, with_commission: bool) -> dict:
        now = time.time()
        section = {}
        for name, active_id in self.actives.items():
            entry: dict[str, Any] = {
                "name": f"front.{name}",
                "enabled": True,
                "is_suspended": name in self.switches.suspended,
            }
            if with_commission:
                entry["option"] = {
                    "profit": {"commission": 100 - self.market.payout(name, int(now // 86400))}
                }
            section[str(active_id)] = entry
        return {"actives": section}

    def _option_list(self) -> dict:
        return {
            "isSuccessful": True,
            "result": {"turbo": self._actives_section(True), "binary": self._actives_section(True)},
        }

    def _trading_state(self) -> dict:
        return {"turbo": self._actives_section(False), "binary": self._actives_section(False)}

    def _wire_candles(
        self, active_id: int, pair: str, start: int, count: int, size: int, until: float
    ) -> list[dict]:
        a = self.market.candle_arrays(pair, start, count, size, until=until)
        return [
            {
                "id": int(f) // size,
                "active_id": active_id,
                "size": size,
                "from": int(f),
                "to": int(f) + size,
                "at": int(min(until, f + size) * 1e9),
                "open": float(o),
                "close": float(c),
                "min": float(lo),
                "max": float(h),
                "volume": 0,
            }
            for f, o, c, h, lo in zip(a["from"], a["o"], a["c"], a["h"], a["l"], strict=True)
        ]

    def _candles(self, body: dict) -> list[dict]:
        active_id: Any = body.get("active_id")
        size, count = body.get("size"), body.get("count")
        pair = self.pair_of.get(active_id)
        if pair is None or not isinstance(size, int) or size <= 0 or size % 60 or not isinstance(count, int):
            return []
        now = time.time()
        until = min(float(body.get("to") or now), now)
        count = max(1, min(count, 1000))
        last = math.floor(until / size) * size
        return self._wire_candles(active_id, pair, last - size * (count - 1), count, size, until)

    def _subscribe(self, conn: Connection, msg: dict) -> None:
        filters = (msg.get("params") or {}).get("routingFilters") or {}
        try:
            key = (int(filters["active_id"]), int(filters["size"]))
        except (KeyError, TypeError, ValueError):
            return
        if key[0] not in self.pair_of or key[1] <= 0 or key[1] % 60:
            return
        task = conn.streams.get(key)
        if task is None or task.done():  # subscribing again changes nothing
            conn.streams[key] = asyncio.create_task(self._push_candles(conn, *key))

    def _unsubscribe(self, conn: Connection, msg: dict) -> None:
        filters = (msg.get("params") or {}).get("routingFilters") or {}
        with contextlib.suppress(KeyError, TypeError, ValueError):
            task = conn.streams.pop((int(filters["active_id"]), int(filters["size"])), None)
            if task is not None:
                task.cancel()

    async def _push_candles(self, conn: Connection, active_id: int, size: int) -> None:
        pair = self.pair_of[active_id]
        while not conn.ws.closed:
            now = time.time()
            start = math.floor(now / size) * size
            (candle,) = self._wire_candles(active_id, pair, start, 1, size, now)
            await conn.send("candle-generated", candle)
            await asyncio.sleep(self.push_period)

    # --- orders ---------------------------------------------------------------------------------

    def _history(self, email: str | None, body: dict) -> list[dict]:
        limit = body.get("limit")
        limit = limit if isinstance(limit, int) and 0 < limit <= 1000 else 100
        mine = [o for o in self.orders.values() if o["email"] == email and email is not None]
        mine.sort(key=lambda o: o["opened_at"], reverse=True)
        history = []
        for order in mine[:limit]:
            entry = {
                "id": order["id"],
                "active_id": order["active_id"],
                "direction": order["direction"],
                "amount": float(order["amount"]),
                "created": order["opened_at"],
                "expired": order["expired"],
                "value": order["open_quote"],
                "status": "closed" if order["status"] == "closed" else "open",
            }
            if order["status"] == "closed":
                entry.update(
                    result={"win": "win", "loss": "loose", "doji": "equal"}[order["result"]],
                    profit_amount=float(order["profit_amount"]),
                    expiration_value=order["close_quote"],
                )
            history.append(entry)
        return history

    def _drop_account(self, email: str | None) -> None:
        for conn in list(self.connections):
            if conn.email == email and conn.request.transport is not None:
                conn.request.transport.abort()

    async def _buy(self, conn: Connection, request_id: str, body: dict) -> None:
        switches = self.switches
        if switches.buy_silent:
            return
        await asyncio.sleep(switches.buy_reply_delay)
        now = time.time()
        pair = self.pair_of.get(body.get("active_id"))
        account = self._account(conn.email) if conn.email else None
        balance_id: Any = body.get("user_balance_id")
        balance = account.balances.get(balance_id) if account else None
        amount = cents(body.get("price", 0))
        expired = body.get("expired")
        error = None
        if pair is None:
            error = "Active is not found"
        elif balance is None:
            error = "Balance is not found"
        elif pair in switches.suspended:
            error = "Active is suspended"
        elif switches.insufficient_funds or amount > balance["amount"]:
            error = "Insufficient funds"
        elif amount <= 0:
            error = "Invalid price"
        elif body.get("direction") not in ("call", "put"):
            error = "Invalid direction"
        elif not isinstance(expired, int) or expired <= now:
            error = "Expiration time is invalid"
        if error is not None or pair is None or balance is None or not isinstance(expired, int):
            await conn.send("option", {"message": error}, request_id=request_id)
            await conn.send("result", {"success": False, "message": error}, request_id=request_id)
            return
        balance["amount"] -= amount
        order = {
            "id": next(self.option_ids),
            "email": conn.email,
            "ativo": pair,
            "active_id": body["active_id"],
            "direction": body["direction"],
            "amount": amount,
            "balance_id": balance["id"],
            "payout": self.market.payout(pair, int(now // 86400)),
            "opened_at": now,
            "expired": expired,
            "status": "open",
            "open_quote": float(self.market.prices(pair, [now])[0]),
            "close_quote": float(self.market.prices(pair, [expired])[0]),
            "_never_close": switches.never_close,
        }
        self.orders[order["id"]] = order
        delay = switches.settle_delay if switches.settle_delay is not None else max(0.0, expired - now)
        if switches.drop_on_buy:
            # Executed, and the socket dies before the reply: the client never learns the id.
            switches.drop_on_buy = False
            self._drop_account(conn.email)
            self._spawn(self._settle(order, delay))
            return
        reply = {"id": order["id"], "active_id": order["active_id"], "direction": order["direction"],
                 "price": float(amount), "exp": expired, "type": "turbo", "user_balance_id": balance["id"]}  # fmt: skip
        if not switches.omit_quotes:
            reply["value"] = order["open_quote"]
        await conn.send("option", reply, request_id=request_id)
        await conn.send("result", {"success": True}, request_id=request_id)
        self._spawn(self._settle(order, delay))

    async def _settle(self, order: dict, delay: float) -> None:
        await asyncio.sleep(delay)
        if order["_never_close"]:
            order["status"] = "never closed"
            return
        if self.switches.outcomes:
            result = self.switches.outcomes.pop(0)
        else:
            move = self.market.outcome(
                order["ativo"], order["direction"], order["opened_at"], order["expired"]
            )
            result = {1: "win", -1: "loss", 0: "doji"}[move]
        amount = order["amount"]
        paid = {"win": amount + win_profit(amount, order["payout"]), "loss": Decimal(0), "doji": amount}[
            result
        ]
        self.accounts[order["email"]].balances[order["balance_id"]]["amount"] += paid
        order.update(status="closed", result=result, profit_amount=paid)
        msg = {
            "option_id": order["id"],
            "amount": float(amount),
            "profit_amount": float(paid),
            "result": {"win": "win", "loss": "loose", "doji": "equal"}[result],
            "active_id": order["active_id"],
            "direction": order["direction"],
            "expiration_time": order["expired"],
        }
        if not self.switches.omit_quotes:
            msg.update(value=order["open_quote"], expiration_value=order["close_quote"])
        # To every live socket of the account: the client keeps order state per process.
        for conn in list(self.connections):
            if conn.email == order["email"]:
                await conn.send("option-closed", msg)

    # --- app ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/v2/login", self.login)
        app.router.add_post("/api/v1.0/logout", self.logout)
        app.router.add_get("/echo/websocket", self.websocket)
        app.router.add_post("/fake/control", self.control)
        app.router.add_post("/fake/drop", self.drop)
        app.router.add_get("/fake/state", self.state)
        return app


# --- a client for tests: switch failures on and off, read the state ---------------------------------


def _call(base_url: str, path: str, payload: dict | None = None, timeout: float = 10.0) -> dict:
    # No proxy: the fake is on loopback, and a test environment may set http_proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        base_url.rstrip("/") + path, data=data, method="GET" if data is None else "POST"
    )
    request.add_header("Content-Type", "application/json")
    with opener.open(request, timeout=timeout) as response:
        return json.loads(response.read())


def control(base_url: str, **switches: Any) -> dict:
    """Set failure switches (see Switches); returns them all."""
    return _call(base_url, "/fake/control", switches)


def reset(base_url: str) -> dict:
    """Every switch back to its default."""
    return control(base_url, **asdict(Switches()))


def drop(base_url: str) -> int:
    """Drop every websocket mid-session; the number dropped."""
    return _call(base_url, "/fake/drop", {})["dropped"]


def state(base_url: str) -> dict:
    return _call(base_url, "/fake/state")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.fakes.iq_server", description="Fake IQ Option server (loopback)."
    )
    p.add_argument("--host", default="127.0.0.1", choices=LOOPBACK_HOSTS)
    p.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    p.add_argument(
        "--seed", type=int, default=20240601, help="paper market seed (default: GLIMPSE_PAPER_SEED's default)"
    )
    p.add_argument("--password", default="fake-password", help="the password every account logs in with")
    p.add_argument("--real-balance", default="0", help="starting REAL balance of each account")
    p.add_argument("--timesync-period", type=float, default=0.05)
    p.add_argument("--push-period", type=float, default=0.25, help="seconds between candle-generated pushes")
    p.add_argument("--settle-delay", type=float, default=0.5, help="seconds from a buy to its option-closed")
    p.add_argument("--settle-at-expiry", action="store_true", help="settle at the real expiry instead")
    p.add_argument(
        "--suspend", action="append", default=[], metavar="PAIR", help="a suspended pair (repeatable)"
    )
    for flag in ("bad-credentials", "insufficient-funds", "buy-silent", "never-close", "mute-profile"):
        p.add_argument(f"--{flag}", action="store_true")
    return p


async def _serve(args: argparse.Namespace) -> None:
    switches = Switches(
        bad_credentials=args.bad_credentials,
        suspended=list(args.suspend),
        insufficient_funds=args.insufficient_funds,
        buy_silent=args.buy_silent,
        never_close=args.never_close,
        mute_profile=args.mute_profile,
        settle_delay=None if args.settle_at_expiry else args.settle_delay,
    )
    fake = FakeIQOption(
        args.seed, args.password, args.real_balance, args.timesync_period, args.push_period, switches
    )
    runner = web.AppRunner(fake.app(), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    server: Any = site._server
    port = server.sockets[0].getsockname()[1]
    print(f"fake IQ Option server on http://{args.host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    for pair in args.suspend:
        if pair not in PAIRS:
            print(f"--suspend: unknown pair {pair!r}", file=sys.stderr)
            return 2
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
