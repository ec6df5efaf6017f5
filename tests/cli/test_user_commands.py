"""`orchestrade user add|list`: no default password; hashes only; one-line errors."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrade.auth import PasswordHasher, Role
from orchestrade.cli.main import app
from orchestrade.cli.user_commands import RoleChoice
from orchestrade.storage import open_store
from orchestrade.storage.users import UserRepository

runner = CliRunner()
PASSWORD = "the first admin's password"


def invoke(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'users.db'}"


def stored_hash(db: str, name: str) -> str:
    with open_store(db) as store:
        credentials = UserRepository(store).credentials(name)
    assert credentials is not None
    return credentials.password_hash


def test_the_first_admin_gets_the_password_from_standard_input(db: str) -> None:
    code, output = invoke(
        "user",
        "add",
        "ada",
        "--role",
        "admin",
        "--db",
        db,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )

    assert (code, output.strip()) == (0, "added user ada (admin)")
    stored = stored_hash(db, "ada")
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)
    assert PASSWORD not in output


def test_a_generated_password_is_printed_once_and_works(db: str) -> None:
    code, output = invoke(
        "user", "add", "tom", "--role", "TRADER", "--db", db, "--generate-password"
    )

    assert code == 0
    match = re.search(r"one-time password for tom: (\S+)", output)
    assert match is not None
    password = match.group(1)
    assert len(password) == 24
    assert output.count(password) == 1
    assert PasswordHasher().verify(stored_hash(db, "tom"), password)
    assert "shown once" in output


def test_list_shows_users_in_a_table_and_as_json(db: str) -> None:
    invoke("user", "add", "ada", "--role", "admin", "--db", db, "--password-stdin", stdin=PASSWORD)
    invoke("user", "add", "vera", "--role", "viewer", "--db", db, "--generate-password")

    code, table = invoke("user", "list", "--db", db)
    json_code, listed = invoke("user", "list", "--db", db, "--json")

    assert (code, json_code) == (0, 0)
    assert re.search(r"1 .*ada .*admin .*active", table)
    assert re.search(r"2 .*vera .*viewer .*active", table)
    assert [(user["name"], user["role"], user["disabled"]) for user in json.loads(listed)] == [
        ("ada", "admin", False),
        ("vera", "viewer", False),
    ]
    assert "$argon2" not in table + listed


def test_an_empty_list_says_how_to_add_the_first_admin(db: str) -> None:
    code, output = invoke("user", "list", "--db", db)

    assert code == 0
    assert "orchestrade user add NAME --role admin" in output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (
            ["ada", "--role", "admin", "--password-stdin"],
            "short\n",
            "password must have at least 12",
        ),
        (["ada", "--role", "admin", "--password-stdin"], "\n", "password must have at least 12"),
        (["bad name", "--role", "admin", "--generate-password"], None, "user name must be"),
        (["ada", "--role", "owner", "--generate-password"], None, "'owner' is not one of"),
        (["ada", "--role", "admin"], None, "no terminal to ask for the password"),
        (
            ["ada", "--role", "admin", "--password-stdin", "--generate-password"],
            None,
            "exclude each other",
        ),
    ],
)
def test_user_mistakes_are_one_clear_line(
    db: str, args: list[str], stdin: str | None, message: str
) -> None:
    code, output = invoke("user", "add", *args, "--db", db, stdin=stdin)

    assert code == 2
    assert message in " ".join(output.split())
    if stdin and stdin.strip():
        assert stdin.strip() not in output.replace("password must have", "")


def test_a_taken_name_is_refused_and_the_first_password_kept(db: str) -> None:
    invoke("user", "add", "ada", "--role", "admin", "--db", db, "--password-stdin", stdin=PASSWORD)

    code, output = invoke(
        "user", "add", "ada", "--role", "viewer", "--db", db, "--generate-password"
    )

    assert code == 2
    assert "a user named 'ada' already exists" in output
    assert PasswordHasher().verify(stored_hash(db, "ada"), PASSWORD)


def test_without_the_api_extra_the_commands_say_what_to_install(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)

    code, output = invoke("user", "list", "--db", db)

    assert code == 2
    assert "the API needs the 'api' extra (uvicorn is missing)" in output
    assert "pip install 'orchestrade[api]'" in " ".join(output.split())


def test_the_role_choices_are_the_roles() -> None:
    assert [choice.value for choice in RoleChoice] == [role.value for role in Role]
