"""An app's remember-me token table, in memory, as the tests' apps keep it.

It stores what `RememberMeStrategy` hands over (`RememberToken`) by series, keyed to the user's
id as a real table would be, and records every call so tests can assert what was asked.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from users import User, UserStore, local_passport

from passport_py import Authenticator
from passport_py.strategies.remember_me import RememberMeStrategy, RememberToken


@dataclass
class RememberStore:
    """Rows `series -> (user id, token fields)`; the user is loaded back from `users`."""

    users: UserStore
    rows: dict[str, tuple[int, RememberToken]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)

    def verify(self, series: str) -> RememberToken | None:
        self.calls.append(("verify", series))
        row = self.rows.get(series)
        if row is None:
            return None
        user_id, token = row
        user = self.users.users.get(user_id)
        return replace(token, user=user) if user is not None else None

    def issue(self, token: RememberToken) -> None:
        self.calls.append(("issue", token.series))
        user: User = token.user
        self.rows[token.series] = (user.id, replace(token, user=None))

    def revoke(self, series: str) -> None:
        self.calls.append(("revoke", series))
        self.rows.pop(series, None)

    def strategy(self, **options: Any) -> RememberMeStrategy:
        return RememberMeStrategy(self.verify, self.issue, revoke=self.revoke, **options)


def remember_passport(
    users: UserStore, **options: Any
) -> tuple[Authenticator[User], RememberStore]:
    """The local strategy plus remember-me over a fresh token table."""
    passport = local_passport(users)
    tokens = RememberStore(users)
    passport.use(tokens.strategy(**options))
    return passport, tokens
