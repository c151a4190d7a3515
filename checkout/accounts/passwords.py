"""Password hashing (argon2id) and the password policy.

Parameters come from settings: production uses argon2-cffi's RFC 9106 low-memory profile
(time 3, 64 MiB, 4 lanes); tests set cheaper ones. `needs_rehash` lets login upgrade old
hashes when the parameters are raised.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_LIST = Path(__file__).resolve().parent / "common_passwords.txt"
MAX_LENGTH = 256


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism,
                          hash_len=32, salt_len=16, type=Type.ID)


def check_policy(password: str, min_length: int, email: str = "", display_name: str = "") -> str | None:
    """Return why a password is not acceptable, or None when it is."""
    if len(password) < min_length:
        return f"Use at least {min_length} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    low = password.lower()
    if low in common_passwords() or len(set(low)) < 4:
        return "This password is too common; choose one that is harder to guess."
    local = email.split("@", 1)[0].lower()
    if (len(local) >= 4 and local in low) or (len(display_name) >= 4 and display_name.lower() in low):
        return "Do not use your email address or name in your password."
    return None


def verify(ph: PasswordHasher, stored_hash: str, password: str) -> bool:
    if not stored_hash:
        return False
    try:
        return ph.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
