"""Secrets: password hashes, broker-password encryption, signed tokens.

- Login passwords are hashed with argon2id. Reset codes are short-lived
  random codes, so a keyed hash (HMAC-SHA256 under GLIMPSE_SECRET_KEY) is
  enough for them, and an unauthenticated reset request never pays for argon2.
- One password policy (`password_problem`) serves the API and the CLI.
- Broker (IQ Option) passwords must be sent to the broker, so they are
  encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key derived from
  GLIMPSE_SECRET_KEY, and stored with the prefix `enc1:`.
- Tokens are signed with the same secret (itsdangerous, HMAC-SHA256) and
  carry an expiry read from the injectable clock. Revocation lives in the
  database (see api/auth.py): a token is valid only while its session exists.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import core as argon2_core
from argon2.low_level import ffi as argon2_ffi
from argon2.low_level import lib as argon2_lib
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from itsdangerous import BadSignature, URLSafeSerializer

ENCRYPTED_PREFIX = "enc1:"
HASH_PREFIX = "$argon2id$"

_HASHERS = {
    "standard": PasswordHasher(),
    # Cheap parameters for the test suites only; verification reads the
    # parameters from the hash, so a hash of either profile verifies anywhere.
    "test": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}


# Every argon2 hash of the process runs on a few background threads: at most HASH_THREADS at
# once (each takes 64 MiB), so a flood of logins from many addresses queues for them instead of
# taking the memory and the CPU that every other request needs. Those threads are in the kernel's
# idle class (SCHED_IDLE: Linux lets any thread enter it, never leave it unprivileged; nice
# HASH_NICE where it is refused): a core running a hash counts as free, and any other task that
# wakes takes it at once. At nice 10 alone, a waking request could wait for the hash's slice, and
# under a botnet of logins the one hash thread is always running (bench/abuse.py: the victim's
# getUser p99, see the README). So that other work keeping every core busy cannot starve logins,
# each hash thread has a standby at nice HASH_NICE only: a hash that has run STARVED_AFTER
# seconds (several times its cost) is computed again by the standby, whichever finishes first
# answers (the same answer), and while a hash thread stays starved the standby takes the next
# ones in the queue too. At most twice HASH_THREADS hashes then run at once.
HASH_THREADS = max(1, (os.cpu_count() or 2) // 2)
HASH_NICE = 10
STARVED_AFTER = 1.0
_T = TypeVar("_T")


def _lower_priority(idle_class: bool) -> bool:
    """Lowers the calling thread's priority; whether it is now in the idle class."""
    try:  # Linux: a thread is a task with a niceness of its own
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)
    except (AttributeError, OSError):
        pass  # elsewhere, or not allowed: hashes still queue, at normal priority
    if not idle_class:
        return False
    try:  # 0: the calling thread
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        return False  # not Linux, or refused: nice HASH_NICE, as the standby
    return True


@dataclass(eq=False)
class _HashJob:
    work: Callable[[], object]
    future: Future = field(default_factory=Future)
    started: float = 0.0  # monotonic, when a hash thread took it
    hedged: bool = False  # a standby computes it too


class HashPool:
    """`threads` hash threads in the idle class, each with a standby (see above)."""

    def __init__(self, threads: int, starved_after: float = STARVED_AFTER) -> None:
        self.threads = max(1, threads)
        self.starved_after = starved_after
        self._queue: deque[_HashJob] = deque()
        self._running: list[_HashJob] = []  # on the hash threads
        self._cond = threading.Condition()
        self._started = False

    def run(self, work: Callable[[], _T]) -> _T:
        job = _HashJob(work)
        with self._cond:
            if not self._started:
                self._started = True
                for index in range(self.threads):
                    for idle_class, role in ((True, "hash"), (False, "standby")):
                        name = f"argon2-{role}-{index}"
                        threading.Thread(
                            target=self._serve, args=(idle_class,), name=name, daemon=True
                        ).start()
            self._queue.append(job)
            self._cond.notify_all()
        result: _T = job.future.result()
        return result

    def _next(self, idle_class: bool) -> _HashJob:
        with self._cond:
            while True:
                now = time.monotonic()
                if idle_class:
                    if self._queue:
                        job = self._queue.popleft()
                        job.started = now
                        self._running.append(job)
                        return job
                    self._cond.wait()
                    continue
                starved = [job for job in self._running if now - job.started >= self.starved_after]
                for job in starved:
                    if not job.hedged:
                        job.hedged = True
                        return job
                if starved and self._queue:
                    return self._queue.popleft()
                waits = [
                    job.started + self.starved_after - now for job in self._running if job not in starved
                ]
                self._cond.wait(min(waits) if waits else None)

    def _serve(self, idle_class: bool) -> None:
        _lower_priority(idle_class)
        while True:
            job = self._next(idle_class)
            try:
                outcome: tuple[object, BaseException | None] = (job.work(), None)
            except BaseException as exc:  # handed to the caller, as an executor does
                outcome = (None, exc)
            with self._cond:
                if idle_class:
                    self._running.remove(job)
                if not job.future.done():
                    if outcome[1] is None:
                        job.future.set_result(outcome[0])
                    else:
                        job.future.set_exception(outcome[1])
                self._cond.notify_all()


_hash_pool: HashPool | None = None
_hash_pool_lock = threading.Lock()


def _on_hash_threads(work: Callable[[], _T]) -> _T:
    global _hash_pool
    if _hash_pool is None:
        with _hash_pool_lock:
            if _hash_pool is None:
                _hash_pool = HashPool(HASH_THREADS)
    return _hash_pool.run(work)


def _forget_hash_pool() -> None:
    global _hash_pool
    _hash_pool = None  # its threads did not survive the fork (gunicorn's workers)


os.register_at_fork(after_in_child=_forget_hash_pool)


def hash_password(password: str, profile: str = "standard") -> str:
    return _on_hash_threads(lambda: _HASHERS[profile].hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; False for a mismatch or a malformed hash."""
    if not isinstance(stored_hash, str) or not stored_hash.startswith(HASH_PREFIX):
        return False

    def verify() -> bool:
        try:
            return _verify_on_one_core(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
            return False

    return _on_hash_threads(verify)


def _b64decode(text: str) -> bytes:
    """argon2's encoding: standard base64 without padding."""
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _verify_on_one_core(stored_hash: str, password: str) -> bool:
    """argon2's own verification, with its lanes computed by one thread instead of one each.

    The result is the same (lanes are part of the hash; threads only share out their work),
    but a verification then takes one core at most, not every core: under a flood of logins
    (bench/abuse.py, each from an address that has not failed, so each is verified) the other
    core stays free for every other request, for about a third more time per login (155 against
    115 ms on the 2-core machine, as the lanes share little across cores).
    """
    params = extract_parameters(stored_hash)
    salt_text, hash_text = stored_hash.rsplit("$", 2)[1:]
    salt, expected = _b64decode(salt_text), _b64decode(hash_text)
    secret = password.encode("utf-8")
    out = argon2_ffi.new("uint8_t[]", len(expected))
    c_secret, c_salt = argon2_ffi.new("uint8_t[]", secret), argon2_ffi.new("uint8_t[]", salt)
    context = argon2_ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": len(expected),
            "pwd": c_secret,
            "pwdlen": len(secret),
            "salt": c_salt,
            "saltlen": len(salt),
            "secret": argon2_ffi.NULL,
            "secretlen": 0,
            "ad": argon2_ffi.NULL,
            "adlen": 0,
            "t_cost": params.time_cost,
            "m_cost": params.memory_cost,
            "lanes": params.parallelism,
            "threads": 1,
            "allocate_cbk": argon2_ffi.NULL,
            "free_cbk": argon2_ffi.NULL,
            "flags": argon2_lib.ARGON2_DEFAULT_FLAGS,
            "version": params.version,
        },
    )
    if argon2_core(context, params.type.value) != argon2_lib.ARGON2_OK:
        raise VerificationError("argon2 could not compute the hash")
    return hmac.compare_digest(bytes(argon2_ffi.buffer(out, len(expected))), expected)


def is_hashed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


@lru_cache(maxsize=4)
def dummy_hash(profile: str = "standard") -> str:
    """A hash of a random password nobody knows, with the cost of a real one.

    Checking a login for an unknown email against it spends the same time as
    for a known one, so the answer time does not tell who has an account.
    """
    return hash_password(secrets.token_urlsafe(24), profile)


def verify_login(stored_hash: str | None, password: str, profile: str = "standard") -> bool:
    """`verify_password`, run exactly once whether or not there is a stored hash."""
    usable = isinstance(stored_hash, str) and stored_hash.startswith(HASH_PREFIX)
    matched = verify_password(stored_hash if usable and stored_hash else dummy_hash(profile), password)
    return usable and matched


# ------------------------------------------------------------------ password policy

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def password_problem(password: str) -> str | None:
    """Why `password` may not be chosen, or None when it may. Shared by the API and the CLI."""
    from glimpse.runtime.common_passwords import COMMON_PASSWORDS
    from glimpse.store.seed import DEMO_LOGINS  # here: glimpse.store imports this module

    if not password.strip():
        return "the password must not be blank"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    folded = password.strip().casefold()
    if any(folded == demo.casefold() for _, _, demo in DEMO_LOGINS):
        return "the password is one of the published demo passwords; choose another"
    if folded in COMMON_PASSWORDS:
        return "the password is among the most common passwords; choose another"
    return None


# ------------------------------------------------------------------ reset codes

RESET_HASH_PREFIX = "hmac-sha256:"


def hash_reset_code(secret_key: str, code: str) -> str:
    digest = hmac.new(_derive(secret_key, "glimpse/reset-code"), code.encode(), hashlib.sha256).hexdigest()
    return RESET_HASH_PREFIX + digest


def verify_reset_code(secret_key: str, stored_hash: str, code: str) -> bool:
    """Checks a code against its keyed hash, or against an argon2 hash written by older code."""
    if isinstance(stored_hash, str) and stored_hash.startswith(RESET_HASH_PREFIX):
        return hmac.compare_digest(stored_hash.encode(), hash_reset_code(secret_key, code).encode())
    return verify_password(stored_hash, code)


def is_reset_code_hash(value: object) -> bool:
    return isinstance(value, str) and (value.startswith(RESET_HASH_PREFIX) or is_hashed(value))


def _derive(secret_key: str, purpose: str) -> bytes:
    return hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def encrypt_secret(secret_key: str, plaintext: str) -> str:
    key = base64.urlsafe_b64encode(_derive(secret_key, "glimpse/broker-password"))
    return ENCRYPTED_PREFIX + Fernet(key).encrypt(plaintext.encode()).decode()


class DecryptError(ValueError):
    """The stored secret was not written with this key (or was tampered with)."""


def _secret_fernet(secret_key: str, previous: Sequence[str] = ()) -> MultiFernet:
    # MultiFernet encrypts with the first key and decrypts with any: the current key, then the old ones.
    keys = [secret_key, *(k for k in previous if k and k != secret_key)]
    return MultiFernet(
        [Fernet(base64.urlsafe_b64encode(_derive(k, "glimpse/broker-password"))) for k in keys]
    )


def decrypt_secret(secret_key: str, stored: str, previous: Sequence[str] = ()) -> str:
    """The plaintext of `stored`, written under `secret_key` or one of the `previous` keys (rotation)."""
    if not isinstance(stored, str) or not stored.startswith(ENCRYPTED_PREFIX):
        raise DecryptError("not an encrypted secret")
    try:
        return _secret_fernet(secret_key, previous).decrypt(stored[len(ENCRYPTED_PREFIX) :].encode()).decode()
    except InvalidToken:
        raise DecryptError("the secret does not decrypt with GLIMPSE_SECRET_KEY") from None


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)


def rotate_secret(secret_key: str, stored: str, previous: Sequence[str] = ()) -> str:
    """`stored` re-encrypted under `secret_key` (it may have been written under a previous key)."""
    if not is_encrypted(stored):
        raise DecryptError("not an encrypted secret")
    try:
        token = _secret_fernet(secret_key, previous).rotate(stored[len(ENCRYPTED_PREFIX) :].encode())
    except InvalidToken:
        raise DecryptError("the secret decrypts with none of the configured keys") from None
    return ENCRYPTED_PREFIX + token.decode()


@dataclass(frozen=True)
class TokenClaims:
    subject: str  # Accounts/ManagerAccounts _id hex
    kind: str  # "user" | "manager"
    session: str  # Sessions _id
    expires: float  # epoch seconds


class TokenError(ValueError):
    """The token is malformed, forged or expired."""


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="glimpse/token/v1")


def sign_token(secret_key: str, claims: TokenClaims) -> str:
    return _serializer(secret_key).dumps(
        {"sub": claims.subject, "knd": claims.kind, "sid": claims.session, "exp": claims.expires}
    )


def read_token(secret_key: str, token: str, now: float) -> TokenClaims:
    try:
        data = _serializer(secret_key).loads(token)
    except BadSignature:
        raise TokenError("invalid token") from None
    if not isinstance(data, dict) or not {"sub", "knd", "sid", "exp"} <= data.keys():
        raise TokenError("invalid token")
    claims = TokenClaims(str(data["sub"]), str(data["knd"]), str(data["sid"]), float(data["exp"]))
    if claims.expires <= now:
        raise TokenError("token expired")
    return claims


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def new_code(length: int = 10) -> str:
    """A random code of unambiguous upper-case letters and digits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
