"""`orchestrade user add|list`: the people and scripts that may use the API.

There is no default account and no default password: the first admin is created here. The
password is typed at a prompt, read from standard input, or drawn at random and printed
once; only its argon2id hash is stored.

The auth modules (argon2, PyJWT) come with the `api` extra, so they are imported when a
command runs: without the extra the rest of the CLI still works.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from orchestrade.cli.console import console, reports_user_errors
from orchestrade.cli.options import DatabaseOption, JsonOption, open_database
from orchestrade.domain.errors import OrchestradeError

if TYPE_CHECKING:
    from orchestrade.auth import AccountService, User
    from orchestrade.storage import Store

user_app = typer.Typer(
    help="Users of the API: viewers read, traders run bots and orders, admins manage users.",
    no_args_is_help=True,
)


class RoleChoice(StrEnum):
    """The roles as the command line spells them (`orchestrade.auth.Role`'s values)."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"


class ApiExtraMissingError(OrchestradeError):
    """The `api` extra (FastAPI, argon2, PyJWT, uvicorn) is not installed."""


def require_api_extra() -> None:
    """Raise `ApiExtraMissingError` naming the missing package if the extra is absent."""
    try:
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
        import jwt  # noqa: F401
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise ApiExtraMissingError(
            f"the API needs the 'api' extra ({error.name} is missing): "
            "pip install 'orchestrade[api]'"
        ) from None


@user_app.command("add")
@reports_user_errors
def add_command(
    name: Annotated[str, typer.Argument(help="User name: letters, digits, _ . @ - (max 64).")],
    role: Annotated[
        RoleChoice,
        typer.Option(
            "--role",
            case_sensitive=False,
            help="viewer (read), trader (also bots and orders), admin (also users, rules, limits).",
        ),
    ],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate-password", help="Draw a random password and print it once (not stored)."
        ),
    ] = False,
    db: DatabaseOption = None,
) -> None:
    """Add a user; with no option the password is asked for (twice, hidden)."""
    require_api_extra()
    from orchestrade.auth import Role, generate_password

    if password_stdin and generate:
        raise typer.BadParameter("--password-stdin and --generate-password exclude each other")
    if generate:
        password = generate_password()
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        raise typer.BadParameter(
            "no terminal to ask for the password: use --password-stdin or --generate-password"
        )
    with open_database(db) as store:
        user = _accounts(store).add_user(name, Role(role.value), password)
    console.print(f"added user {user.name} ({user.role})", highlight=False)
    if generate:
        console.print(
            f"one-time password for {user.name}: {password}", highlight=False, markup=False
        )
        console.print("(shown once: only its hash is stored)", highlight=False)


@user_app.command("list")
@reports_user_errors
def list_command(db: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List the users: id, name, role, whether disabled, when created."""
    require_api_extra()
    with open_database(db) as store:
        users = _accounts(store).users()
    if as_json:
        console.print_json(json.dumps([_user_dict(user) for user in users]))
        return
    table = Table(title="users", title_justify="left")
    for column in ("id", "name", "role", "status", "created"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for user in users:
        table.add_row(
            str(user.user_id),
            user.name,
            user.role.value,
            "disabled" if user.disabled else "active",
            user.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        )
    console.print(table)
    if not users:
        console.print("no users yet: orchestrade user add NAME --role admin")


def _accounts(store: Store) -> AccountService:
    from orchestrade.auth import AccountService, PasswordHasher
    from orchestrade.storage.users import UserRepository

    return AccountService(UserRepository(store), PasswordHasher(), clock=_utc_now)


def _user_dict(user: User) -> dict[str, object]:
    return {
        "id": user.user_id,
        "name": user.name,
        "role": user.role.value,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)
