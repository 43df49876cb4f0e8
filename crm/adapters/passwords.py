"""Password hashing with Argon2id (argon2-cffi)."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.cache
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Argon2 verification; without a stored hash (no such member, no password) it still
    spends the same time on a decoy, so the answer's timing does not tell who exists."""
    try:
        return _hasher.verify(stored_hash or _decoy_hash(), password) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False
