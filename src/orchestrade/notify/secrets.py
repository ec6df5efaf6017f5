"""Secrets of the notification channels: read from the environment or a file, never logged.

A bot token or a webhook URL (which embeds its secret) never appears in code or in a
settings file: the file names where to read it (``{env: NAME}`` or ``{file: PATH}``), and
the value is held as a `pydantic.SecretStr`, whose repr is masked. Every log line that could
carry one goes through `mask` (our own lines) or `SecretMaskingFilter` (lines of the HTTP
client, which logs each request's URL).
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from pydantic import SecretStr

from orchestrade.notify.errors import NotifyConfigError

MASK = "***"
"""What a secret is replaced with in log lines and error messages."""


@dataclass(frozen=True, slots=True)
class SecretSource:
    """Where a secret is read: an environment variable (`env`) or a file (`file`), one of the
    two. A file holds the secret alone; surrounding whitespace is ignored (Docker and
    Kubernetes secrets are files like that)."""

    env: str | None = None
    file: Path | None = None

    def __post_init__(self) -> None:
        if (self.env is None) == (self.file is None):
            raise NotifyConfigError("a secret source names either env or file, not both")
        if self.env is not None and not self.env.strip():
            raise NotifyConfigError("env must name an environment variable")

    def read(self, field: str, environ: Mapping[str, str] | None = None) -> SecretStr:
        """The secret's value.

        Args:
            field: the settings field it belongs to, for the error message.
            environ: the environment (default: `os.environ`).

        Raises:
            NotifyConfigError: the variable is unset, the file unreadable, or the value empty.
        """
        if self.env is not None:
            value = (os.environ if environ is None else environ).get(self.env)
            if value is None:
                raise NotifyConfigError(f"{field}: environment variable {self.env} is not set")
            where = f"environment variable {self.env}"
        else:
            assert self.file is not None
            path = self.file.expanduser()
            try:
                value = path.read_text(encoding="utf-8")
            except OSError as error:
                raise NotifyConfigError(
                    f"{field}: cannot read secret file {path}: {error.strerror or error}"
                ) from None
            where = f"secret file {path}"
        value = value.strip()
        if not value:
            raise NotifyConfigError(f"{field}: {where} is empty")
        return SecretStr(value)


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and its percent-encoded form) replaced by `MASK`."""
    for secret in _variants(secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in the records it sees (message, arguments and traceback).

    Attach it to a logger that may log a secret-bearing URL (the ``httpx`` logger logs every
    request's URL at INFO) or to a handler. Secrets can be added and removed while it is
    attached, as channels are opened and closed.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: dict[str, int] = {}
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask `secret` from now on (added twice, it needs removing twice)."""
        if secret:
            self._secrets[secret] = self._secrets.get(secret, 0) + 1

    def remove(self, secret: str) -> None:
        """Stop masking `secret` once every `add` of it has been removed."""
        count = self._secrets.get(secret, 0)
        if count <= 1:
            self._secrets.pop(secret, None)
        else:
            self._secrets[secret] = count - 1

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = mask(message, self._secrets)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info is not None and record.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = mask(text, self._secrets)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = mask(record.exc_text, self._secrets)
        return True


def _variants(secrets: Iterable[str]) -> list[str]:
    """Each secret as written and percent-encoded, longest first (a secret that contains
    another is masked whole)."""
    found: set[str] = set()
    for secret in secrets:
        if secret:
            found.add(secret)
            found.add(quote(secret, safe=""))
    return sorted(found, key=len, reverse=True)
