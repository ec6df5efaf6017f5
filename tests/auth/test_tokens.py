"""Login tokens: HS256 JWTs that expire on the injected clock; where the signing key comes from."""

from __future__ import annotations

import base64
import json
import logging
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from fakes.auth import JWT_SECRET, T0, FakeClock
from orchestrade.auth import (
    AuthConfigurationError,
    AuthenticationError,
    Role,
    TokenIssuer,
    User,
    load_jwt_secret,
)
from orchestrade.settings import ApiSettings, Settings

ALICE = User(7, "alice", Role.TRADER, T0)


def issuer(clock: FakeClock, lifetime_s: int = 900, secret: str = JWT_SECRET) -> TokenIssuer:
    return TokenIssuer(secret.encode(), lifetime_s=lifetime_s, clock=clock)


def test_a_token_names_its_user_and_expires_after_its_lifetime() -> None:
    clock = FakeClock()
    tokens = issuer(clock)

    issued = tokens.issue(ALICE)
    claims = tokens.verify(issued.token)

    assert (claims.user_id, claims.name) == (7, "alice")
    assert claims.issued_at == T0
    assert claims.expires_at == issued.expires_at == T0 + timedelta(seconds=900)
    assert issued.lifetime_s == 900
    assert issued.token not in repr(issued)


def test_the_payload_is_a_standard_hs256_jwt() -> None:
    issued = issuer(FakeClock()).issue(ALICE)

    header = jwt.get_unverified_header(issued.token)
    payload = jwt.decode(
        issued.token, JWT_SECRET, algorithms=["HS256"], options={"verify_exp": False}
    )

    assert header["alg"] == "HS256"
    assert payload["sub"] == "7"
    assert payload["iss"] == "orchestrade"
    assert payload["exp"] - payload["iat"] == 900
    assert payload["iat"] == int(T0.timestamp())


def test_a_token_is_accepted_until_the_last_second_and_refused_from_expiry_on() -> None:
    clock = FakeClock()
    tokens = issuer(clock, lifetime_s=60)
    token = tokens.issue(ALICE).token

    clock.advance(59.999)
    assert tokens.verify(token).user_id == 7
    clock.advance(0.001)
    with pytest.raises(AuthenticationError, match="token expired"):
        tokens.verify(token)


def test_tokens_of_another_key_tampered_or_unsigned_are_refused() -> None:
    clock = FakeClock()
    tokens = issuer(clock)
    other = issuer(clock, secret="another-signing-key-of-at-least-32-bytes")
    token = tokens.issue(ALICE).token
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "1"}).encode()).rstrip(b"=")
    unsigned_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")

    for bad in (
        other.issue(ALICE).token,
        f"{header}.{forged.decode()}.{signature}",
        f"{unsigned_header.decode()}.{payload}.",
        "not a token",
        "",
    ):
        with pytest.raises(AuthenticationError, match="invalid token"):
            tokens.verify(bad)


def test_a_token_without_expiry_is_refused() -> None:
    token = jwt.encode({"sub": "7", "iat": 1, "iss": "orchestrade"}, JWT_SECRET, algorithm="HS256")

    with pytest.raises(AuthenticationError, match="invalid token"):
        issuer(FakeClock()).verify(token)


def test_short_secrets_and_bad_lifetimes_are_refused() -> None:
    with pytest.raises(AuthConfigurationError, match="at least 32 bytes"):
        TokenIssuer(b"x" * 31, lifetime_s=60, clock=FakeClock())
    with pytest.raises(AuthConfigurationError, match="lifetime"):
        TokenIssuer(JWT_SECRET.encode(), lifetime_s=0, clock=FakeClock())


def test_the_secret_comes_from_the_settings_then_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "jwt"
    secret_file.write_text("from-a-file-0123456789abcdef0123456789\n", encoding="utf-8")

    assert load_jwt_secret(ApiSettings(jwt_secret=SecretStr(JWT_SECRET))) == JWT_SECRET.encode()
    assert load_jwt_secret(ApiSettings(jwt_secret_file=secret_file)) == (
        b"from-a-file-0123456789abcdef0123456789"
    )


def test_the_environment_sets_the_secret_and_settings_never_show_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORCHESTRADE_API__JWT_SECRET", JWT_SECRET)

    settings = Settings()

    assert load_jwt_secret(settings.api) == JWT_SECRET.encode()
    assert JWT_SECRET not in repr(settings)
    assert JWT_SECRET not in settings.model_dump_json()


def test_without_a_secret_each_call_draws_a_random_key_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="orchestrade.auth.tokens"):
        first = load_jwt_secret(ApiSettings())
        second = load_jwt_secret(ApiSettings())

    assert len(first) == 32
    assert first != second
    assert "random key of this process" in caplog.text
    assert first.hex() not in caplog.text


def test_unusable_secret_settings_are_one_clear_error(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("tiny", encoding="utf-8")

    with pytest.raises(
        AuthConfigurationError, match=r"api.jwt_secret: .* at least 32 bytes, got 5"
    ):
        load_jwt_secret(ApiSettings(jwt_secret=SecretStr("12345")))
    with pytest.raises(AuthConfigurationError, match="at least 32 bytes, got 4") as raised:
        load_jwt_secret(ApiSettings(jwt_secret_file=short))
    assert "tiny" not in str(raised.value)
    with pytest.raises(AuthConfigurationError, match="cannot read the JWT secret file"):
        load_jwt_secret(ApiSettings(jwt_secret_file=tmp_path / "missing"))
