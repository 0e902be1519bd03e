"""A password verification computes argon2's lanes on one thread (glimpse/runtime/security.py,
issue 12's bench/abuse.py) and answers exactly as argon2-cffi's own verification does."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from glimpse.runtime import security

HASHERS = [
    PasswordHasher(time_cost=1, memory_cost=64, parallelism=4),  # the standard profile's shape
    PasswordHasher(time_cost=2, memory_cost=32, parallelism=1),
    PasswordHasher(time_cost=1, memory_cost=16, parallelism=2, hash_len=16, salt_len=8),
]
PASSWORDS = ["correct horse battery", "", "pässwörd ünïcode ✓", "x" * 300]


def reference(stored: str, password: str) -> bool:
    try:
        return PasswordHasher().verify(stored, password)
    except VerificationError:  # a mismatch included
        return False


@pytest.mark.parametrize("hasher", HASHERS)
def test_the_one_thread_verification_answers_as_argon2_does(hasher):
    for password in PASSWORDS:
        stored = hasher.hash(password)
        for guess in (password, password + "!", password.upper() + "?"):
            assert security.verify_password(stored, guess) is reference(stored, guess), (stored, guess)
        assert security.verify_password(stored, password) is True


def test_the_lanes_are_computed_by_one_thread(monkeypatch):
    seen: list[tuple[int, int]] = []
    real = security.argon2_core

    def recording(context, kind):
        seen.append((context.lanes, context.threads))
        return real(context, kind)

    monkeypatch.setattr(security, "argon2_core", recording)
    stored = HASHERS[0].hash("a password")
    assert security.verify_password(stored, "a password") is True
    assert security.verify_password(stored, "another") is False
    assert seen == [(4, 1), (4, 1)]


def test_a_damaged_hash_verifies_nothing():
    stored = HASHERS[0].hash("a password")
    head, salt, digest = stored.rsplit("$", 2)
    damaged = [
        stored[:-4],  # a shorter digest than the one computed
        f"{head}${salt}${digest[:-2]}!!",  # not base64
        f"{head}$${digest}",  # no salt
        head.replace("m=64", "m=abc") + f"${salt}${digest}",  # unreadable parameters
        "$argon2id$nonsense",
        "",
    ]
    for text in damaged:
        assert security.verify_password(text, "a password") is False, text
