"""The notifier: drains the notification queue to Telegram and webhooks.

Trading code only queues events (glimpse.runtime.notify.enqueue). This
service, in its own threads (or its own process), does the rest:
- fan-out: each queued event becomes one delivery per destination, after
  the user's switches (glimpse/store/notifications.py);
- sending: due deliveries run on a small thread pool with bounded timeouts.
  A destination has at most one delivery in flight, and a failure pushes
  back every pending delivery to it (exponential back-off), so a dead
  endpoint holds one worker for one timeout at most and never delays other
  destinations;
- Telegram links: a long-poll `getUpdates` loop with a short timeout reads
  "/start CODE" and links the chat to the user whose code it is;
- the daily summary: once a day per user with a destination, yesterday's
  settled trades (GLIMPSE_TZ) from the Trades ledger.

Run alone: python -m auxiliar.notifier
"""

from __future__ import annotations

import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from glimpse.runtime import notify
from glimpse.runtime.clock import local_datetime
from glimpse.runtime.heartbeat import beat
from glimpse.runtime.security import DecryptError, decrypt_secret
from glimpse.runtime.services import ServiceContext, run_standalone
from glimpse.store import notifications as store
from glimpse.store import trades
from glimpse.store.trades import DOJI, LOSS, WIN

log = logging.getLogger(__name__)
NAME = "Notifier"

BACKOFF_BASE = 2.0  # seconds of clock time before the first retry; doubles each attempt
BACKOFF_MAX = 3600.0
MAX_ATTEMPTS = 10
EVENT_LEASE = 60.0
SEND_LEASE = 120.0  # a delivery claimed by a notifier that died is taken again after this
KEEP_SECONDS = 7 * 86400


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt (1, 2, ...)."""
    return float(min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


class Notifier:
    """The notifier's work, callable step by step (tests) or run by `NotifierService` in threads."""

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        workers: int = 8,
        send_timeout: float = 5.0,
        poll_timeout: int = 5,
        resolver: notify.Resolver = notify.system_resolver,
    ):
        self.ctx = ctx
        self.db = ctx.db
        self.config = ctx.config
        self.send_timeout = send_timeout
        self.poll_timeout = poll_timeout
        self.resolver = resolver
        self.telegram = notify.telegram_client(ctx.config, timeout=send_timeout)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="notifier-send")
        self.workers = workers
        self._busy: set[str] = set()  # destinations with a delivery in flight
        self._lock = threading.Lock()
        self._offset: int | None = None
        store.ensure_indexes(self.db)

    # ------------------------------------------------------------------------- fan-out

    def fan_out(self, now: float, limit: int = 200) -> int:
        """Turn queued events into deliveries; how many events were fanned out."""
        events = store.claim_events(self.db, now, EVENT_LEASE, limit)
        for event in events:
            try:
                for channel, target in store.destinations_for(
                    self.db, event["user"], event["event"], event["data"]
                ):
                    store.add_delivery(self.db, store.new_delivery(event, channel, target, now))
            except Exception:
                log.exception(
                    "fan-out of event %s failed; it is taken again after its lease", event["eventId"]
                )
                continue
            store.event_done(self.db, event["_id"])
        return len(events)

    # ------------------------------------------------------------------------- sending

    def dispatch(self, now: float) -> int:
        """Start sending due deliveries on the pool, one per destination; how many were started."""
        started = 0
        while True:
            with self._lock:
                if len(self._busy) >= self.workers:
                    return started
                delivery = store.claim_delivery(self.db, now, SEND_LEASE, frozenset(self._busy))
                if delivery is None:
                    return started
                self._busy.add(delivery["destination"])
            self.pool.submit(self._send_and_release, delivery)
            started += 1

    def _send_and_release(self, delivery: store.Delivery) -> None:
        try:
            self.send(delivery)
        except Exception:
            log.exception("delivery %s failed unexpectedly", delivery["_id"])
        finally:
            with self._lock:
                self._busy.discard(delivery["destination"])

    def send(self, delivery: store.Delivery) -> bool:
        """One attempt at a claimed delivery; True when it was delivered."""
        if delivery["channel"] == store.TELEGRAM:
            error, retry, retry_after = self._send_telegram(delivery)
        else:
            error, retry, retry_after = self._send_webhook(delivery)
        now = self.ctx.clock.now()
        if error is None:
            store.delivery_sent(self.db, delivery["_id"], now)
            return True
        attempts = int(delivery.get("attempts", 0)) + 1
        retry_at = None
        if retry and attempts < MAX_ATTEMPTS:
            retry_at = now + max(backoff(attempts), retry_after or 0.0)
        log.warning(
            "delivery %s to %s failed (attempt %d): %s%s",
            delivery["_id"], delivery["destination"], attempts, error,
            "" if retry_at is None else f"; retry in {retry_at - now:.0f} s",
        )  # fmt: skip
        store.delivery_failed(self.db, delivery, error, now, retry_at)
        return False

    def _send_telegram(self, delivery: store.Delivery) -> tuple[str | None, bool, float | None]:
        if self.telegram is None:
            return "GLIMPSE_TELEGRAM_TOKEN is not set", False, None
        prefs = store.prefs_of(self.db, delivery["user"])
        text = notify.render(delivery["event"], delivery["data"], prefs.language)
        try:
            self.telegram.send_message(int(delivery["target"]), text)
        except notify.TelegramError as exc:
            return str(exc), not exc.permanent, exc.retry_after
        return None, False, None

    def _send_webhook(self, delivery: store.Delivery) -> tuple[str | None, bool, float | None]:
        hook = store.get_webhook(self.db, delivery["target"])
        if hook is None:
            return "the webhook was deleted", False, None
        try:
            secret = decrypt_secret(
                self.config.secret_key.get_secret_value(),
                hook.secret,
                previous=self.config.previous_secret_keys(),
            )
        except DecryptError:
            return "the webhook's secret does not decrypt with GLIMPSE_SECRET_KEY", False, None
        body = notify.webhook_body(
            delivery["eventId"], delivery["event"], delivery["user"], delivery["eventAt"], delivery["data"]
        )
        result = notify.post_webhook(
            hook.url, secret, delivery["eventId"], delivery["event"], body, self.ctx.clock.now(),
            allow_private=self.config.webhook_allow_private, timeout=self.send_timeout, resolver=self.resolver,
        )  # fmt: skip
        if result.ok:
            return None, False, None
        return result.error, not result.permanent, None

    # ------------------------------------------------------------------------- Telegram links

    def bot_name(self) -> str:
        """The bot's @username (getMe), remembered for the API; "" when Telegram is off or unreachable."""
        if self.telegram is None:
            return ""
        try:
            me = self.telegram.get_me()
        except notify.TelegramError as exc:
            log.warning("Telegram getMe failed: %s", exc)
            return ""
        name = str(me.get("username") or "")
        store.set_state(self.db, "telegram", botName=name)
        return name

    def poll_telegram(self) -> int:
        """One long poll of getUpdates; how many updates were read. Raises notify.TelegramError."""
        if self.telegram is None:
            return 0
        if self._offset is None:
            self._offset = int(store.get_state(self.db, "telegram").get("offset") or 0)
        updates = self.telegram.get_updates(self._offset, self.poll_timeout)
        for update in updates:
            update_id = update.get("update_id")
            if isinstance(update_id, int):
                self._offset = max(self._offset, update_id + 1)
            try:
                self._handle_update(update)
            except Exception:
                log.exception("Telegram update %s not handled", update_id)
        if updates:
            store.set_state(self.db, "telegram", offset=self._offset)
        return len(updates)

    def _handle_update(self, update: dict[str, Any]) -> None:
        message = update.get("message")
        if not isinstance(message, dict):
            return
        chat, sender, text = message.get("chat") or {}, message.get("from") or {}, message.get("text")
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        if not isinstance(chat_id, int) or not isinstance(text, str) or not text.startswith("/start"):
            return
        language = "en" if str(sender.get("language_code") or "").startswith("en") else "pt-BR"
        code = notify.parse_start(text)
        now = self.ctx.clock.now()
        if code is None:
            self._reply(chat_id, notify.text_of("hello", language))
            return
        chat_name = str(chat.get("username") or chat.get("title") or chat.get("first_name") or "")
        user = store.complete_link(self.db, code, chat_id, chat_name, now)
        if user is None:
            self._reply(chat_id, notify.text_of("badCode", language))
            return
        log.info("user %s linked a Telegram chat", user)
        notify.enqueue(self.db, user, store.LINKED, {"channel": store.TELEGRAM}, now)

    def _reply(self, chat_id: int, text: str) -> None:
        assert self.telegram is not None
        try:
            self.telegram.send_message(chat_id, text)
        except notify.TelegramError as exc:
            log.warning("Telegram reply failed: %s", exc)

    # ------------------------------------------------------------------------- daily summary

    def daily_summaries(self, now: float) -> int:
        """Queue yesterday's summary (GLIMPSE_TZ) for every user with a destination, once; how many were queued."""
        zone = self.config.zone
        today = local_datetime(now, zone).date()
        day = today - timedelta(days=1)
        start = datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
        end = datetime(today.year, today.month, today.day, tzinfo=zone).timestamp()
        queued = 0
        for user in store.users_with_destinations(self.db):
            if not store.prefs_of(self.db, user).wants(store.DAILY_SUMMARY):
                continue
            if not store.claim_summary_day(self.db, user, day.isoformat()):
                continue
            summary = summary_of(self.db, user, start, end)
            if summary["trades"]:
                notify.enqueue(self.db, user, store.DAILY_SUMMARY, dict(summary, day=day.isoformat()), now)
                queued += 1
        return queued


def summary_of(db: Any, user: str, start: float, end: float) -> dict[str, int]:
    """Counts and net (cents) of a user's trades settled in [start, end)."""
    rows = trades.settled_between(db, user, start, end)
    settled = [t for t in rows if t.result in (WIN, LOSS, DOJI)]
    return {
        "trades": len(settled),
        "wins": sum(1 for t in settled if t.result == WIN),
        "losses": sum(1 for t in settled if t.result == LOSS),
        "dojis": sum(1 for t in settled if t.result == DOJI),
        "net": sum(t.profit or 0 for t in settled),
    }


class Running:
    """The notifier's threads: the dispatcher, and the Telegram poller when a bot is configured."""

    def __init__(self, notifier: Notifier, interval: float = 0.5, summary_every: float = 60.0):
        self.notifier = notifier
        self.interval = interval
        # Like the tickers (glimpse/runtime/ticker.py): no database round from just before the
        # decision instant to the end of the minute, when the bots place their orders.
        self.quiet_from = notifier.config.decision_second - 0.3
        self.summary_every = summary_every
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self._dispatch_loop, name="service-notifier", daemon=True)]
        if notifier.telegram is not None:
            self.threads.append(
                threading.Thread(target=self._poll_loop, name="service-notifier-telegram", daemon=True)
            )

    def start(self) -> Running:
        for thread in self.threads:
            thread.start()
        return self

    def _dispatch_loop(self) -> None:
        n = self.notifier
        clock = n.ctx.clock
        next_summary = next_beat = next_prune = 0.0
        while not self.stop_event.is_set():
            now = clock.now()
            if now % 60 >= self.quiet_from:
                self.stop_event.wait(self.interval)
                continue
            try:
                n.fan_out(now)
                n.dispatch(now)
                if now >= next_summary:
                    n.daily_summaries(now)
                    next_summary = now + self.summary_every
                if now >= next_prune:
                    store.prune_events(n.db, now - KEEP_SECONDS)
                    next_prune = now + 3600
                if now >= next_beat:
                    beat(n.db, NAME, now)
                    next_beat = now + 1.0
            except Exception:
                log.exception("notifier: a dispatch round failed; the next one goes on")
            self.stop_event.wait(self.interval)

    def _poll_loop(self) -> None:
        n = self.notifier
        n.bot_name()
        failures = 0
        while not self.stop_event.is_set():
            try:
                n.poll_telegram()
                failures = 0
            except notify.TelegramError as exc:
                failures += 1
                log.warning("Telegram getUpdates failed (%d in a row): %s", failures, exc)
                self.stop_event.wait(min(2.0**failures, 60.0))
            except Exception:
                failures += 1
                log.exception("Telegram poll failed")
                self.stop_event.wait(min(2.0**failures, 60.0))

    def stop(self) -> None:
        self.stop_event.set()

    def join(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(timeout)
        self.notifier.pool.shutdown(wait=False, cancel_futures=True)
        if self.notifier.telegram is not None:
            self.notifier.telegram.close()


class NotifierService:
    name = "notifier"

    def __init__(self, **options: Any):
        self.options = options

    def start(self, ctx: ServiceContext) -> Running:
        return Running(Notifier(ctx, **self.options)).start()


service = NotifierService()

if __name__ == "__main__":
    sys.exit(run_standalone(service.name, service.start))
