"""Secrets are masked in log records: message, arguments, traceback, percent-encoded form."""

from __future__ import annotations

import logging

import pytest

from orchestrade.notify import SecretMaskingFilter, SecretSource, mask
from orchestrade.notify.errors import NotifyConfigError

SECRET = "123:abc/def"


def test_mask_replaces_the_secret_and_its_percent_encoded_form() -> None:
    text = f"POST https://x/bot{SECRET}/send and https://x/bot123%3Aabc%2Fdef/send"

    assert mask(text, [SECRET]) == "POST https://x/bot***/send and https://x/bot***/send"
    assert mask("nothing here", [SECRET, ""]) == "nothing here"


def test_the_filter_masks_message_arguments_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("tests.notify.masked")
    masking = SecretMaskingFilter([SECRET])
    logger.addFilter(masking)
    try:
        logger.warning("request to %s failed", f"https://x/bot{SECRET}")
        try:
            raise RuntimeError(f"boom at {SECRET}")
        except RuntimeError:
            logger.exception("crashed")
    finally:
        logger.removeFilter(masking)

    assert SECRET not in caplog.text
    assert "request to https://x/bot*** failed" in caplog.text
    assert "RuntimeError: boom at ***" in caplog.text


def test_a_secret_added_twice_stays_masked_until_removed_twice() -> None:
    masking = SecretMaskingFilter()
    masking.add(SECRET)
    masking.add(SECRET)
    masking.remove(SECRET)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, SECRET, None, None)

    masking.filter(record)

    assert record.getMessage() == "***"
    masking.remove(SECRET)
    record = logging.LogRecord("x", logging.INFO, __file__, 1, SECRET, None, None)
    masking.filter(record)
    assert record.getMessage() == SECRET


def test_a_source_names_exactly_one_place() -> None:
    with pytest.raises(NotifyConfigError, match="either env or file"):
        SecretSource()
    assert SecretSource(env="TOKEN").read("f", {"TOKEN": " t0k \n"}).get_secret_value() == "t0k"
