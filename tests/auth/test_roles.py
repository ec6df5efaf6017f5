"""Roles are ordered: viewer < trader < admin."""

from __future__ import annotations

import pytest

from orchestrade.auth import Role


@pytest.mark.parametrize(
    ("role", "required", "allowed"),
    [
        (Role.VIEWER, Role.VIEWER, True),
        (Role.VIEWER, Role.TRADER, False),
        (Role.VIEWER, Role.ADMIN, False),
        (Role.TRADER, Role.VIEWER, True),
        (Role.TRADER, Role.TRADER, True),
        (Role.TRADER, Role.ADMIN, False),
        (Role.ADMIN, Role.VIEWER, True),
        (Role.ADMIN, Role.TRADER, True),
        (Role.ADMIN, Role.ADMIN, True),
    ],
)
def test_a_role_allows_itself_and_the_roles_below(
    role: Role, required: Role, allowed: bool
) -> None:
    assert role.allows(required) is allowed


def test_ranks_and_spellings() -> None:
    assert [role.rank for role in Role] == [0, 1, 2]
    assert [role.value for role in Role] == ["viewer", "trader", "admin"]
