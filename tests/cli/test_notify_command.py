"""`orchestrade notify test`: a test message through a configured channel, checked at a local
stand-in for Telegram; every mistake is one clear line that never shows the secret."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from notify.local_server import LocalHttpServer, Reply
from orchestrade.cli.main import app

runner = CliRunner()
TOKEN = "987654:cli-secret-token"


@pytest.fixture
def server() -> Iterator[LocalHttpServer]:
    stand_in = LocalHttpServer()
    try:
        yield stand_in
    finally:
        stand_in.close()


def settings_file(tmp_path: Path, server: LocalHttpServer) -> Path:
    path = tmp_path / "notify.yaml"
    path.write_text(
        f"""
notify:
  channels:
    ops:
      type: telegram
      token: {{env: CLI_TG_TOKEN}}
      chat_id: "-100777"
      base_url: {server.url}
  routes:
    - {{channel: ops, events: [AnomalyDetected]}}
""",
        encoding="utf-8",
    )
    return path


def invoke(*args: str, token: str | None = TOKEN) -> tuple[int, str]:
    # None unsets the variable for the command.
    result = runner.invoke(app, ["notify", "test", *args], env={"CLI_TG_TOKEN": token})
    assert "Traceback" not in result.output, result.output
    return result.exit_code, " ".join(result.output.split())


def test_a_test_message_reaches_the_channel(tmp_path: Path, server: LocalHttpServer) -> None:
    path = settings_file(tmp_path, server)

    code, output = invoke("--channel", "ops", "--config", str(path))

    assert code == 0, output
    assert output == "sent a test message to ops (telegram) in 1 attempt"
    [request] = server.requests
    assert request.path == f"/bot{TOKEN}/sendMessage"
    body = request.json()
    assert body["chat_id"] == "-100777"
    assert body["text"].startswith("orchestrade test message: channel ops (telegram) works (")


def test_a_refused_message_is_one_line_without_the_token(
    tmp_path: Path, server: LocalHttpServer
) -> None:
    path = settings_file(tmp_path, server)
    server.script(f"/bot{TOKEN}/sendMessage", Reply(401, f"Unauthorized bot{TOKEN}"))

    code, output = invoke("--channel", "ops", "--config", str(path))

    assert code == 2
    assert output == (
        "error: channel ops (telegram): test message not delivered after 1 attempt: "
        "HTTP 401: Unauthorized bot***"
    )
    assert TOKEN not in output


def test_an_unknown_channel_lists_the_configured_ones(
    tmp_path: Path, server: LocalHttpServer
) -> None:
    path = settings_file(tmp_path, server)

    code, output = invoke("--channel", "opz", "--config", str(path))

    assert code == 2
    assert output == f"error: {path}: no notification channel named 'opz' (channels: ops)"
    assert server.requests == []


def test_a_missing_secret_names_the_field_and_the_variable(
    tmp_path: Path, server: LocalHttpServer
) -> None:
    path = settings_file(tmp_path, server)

    code, output = invoke("--channel", "ops", "--config", str(path), token=None)

    assert code == 2
    assert output == (
        f"error: {path}: channels.ops.token: environment variable CLI_TG_TOKEN is not set"
    )


def test_a_missing_settings_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"

    code, output = invoke("--channel", "ops", "--config", str(missing))

    assert code == 2
    assert output == (
        f"error: {missing}: cannot read notification settings: No such file or directory"
    )
