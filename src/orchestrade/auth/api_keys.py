"""API keys for scripts: `ot_` and 43 random URL-safe characters, shown once, stored hashed.

A key carries 256 random bits, so one SHA-256 is the right hash: unlike a password it
cannot be guessed, and a fast hash lets every request look its key up by hash. The first
characters (`prefix`) are kept in clear to tell keys apart in a list.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

KEY_PREFIX = "ot_"
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 8
_KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly drawn key: `key` is for its user's eyes once; `key_hash` is what is stored."""

    key: str = field(repr=False)
    prefix: str
    key_hash: str


def generate_api_key() -> NewApiKey:
    """A new random key with its displayable prefix and its hash."""
    key = KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    return NewApiKey(key, key[:SHOWN_PREFIX_LENGTH], hash_api_key(key))


def hash_api_key(key: str) -> str:
    """The stored form of a key: its SHA-256 as 64 hex digits."""
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_api_key(credential: str) -> bool:
    """True for a credential shaped like our keys (a login token never starts with `ot_`)."""
    return credential.startswith(KEY_PREFIX)
