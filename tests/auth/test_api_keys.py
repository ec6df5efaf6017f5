"""API keys: `ot_` + 43 URL-safe characters; stored as SHA-256; a short prefix shown."""

from __future__ import annotations

import hashlib
import re

from orchestrade.auth import generate_api_key, hash_api_key
from orchestrade.auth.api_keys import looks_like_api_key


def test_a_new_key_has_its_prefix_and_its_sha256() -> None:
    new = generate_api_key()

    assert re.fullmatch(r"ot_[A-Za-z0-9_-]{43}", new.key)
    assert new.prefix == new.key[:11]
    assert new.key_hash == hashlib.sha256(new.key.encode()).hexdigest()
    assert hash_api_key(new.key) == new.key_hash
    assert new.key not in repr(new)


def test_keys_are_unique_and_recognizable() -> None:
    keys = {generate_api_key().key for _ in range(100)}

    assert len(keys) == 100
    assert all(looks_like_api_key(key) for key in keys)
    assert not looks_like_api_key("eyJhbGciOiJIUzI1NiJ9.e30.x")


def test_the_hash_of_a_known_key() -> None:
    # sha256("ot_test") computed independently with coreutils' sha256sum.
    assert hash_api_key("ot_test") == (
        "ccc2c332f2c49f3069ad6148abfbfc0a48198fbf0279f09151d8c488cca1fc8f"
    )
