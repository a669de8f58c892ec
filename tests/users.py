"""The app-side user object and user store every test app shares.

`User` is a plain dataclass (no framework base class), as an app's own user would be.
`UserStore` holds users by id and records each call passport_py makes into it (`verify`,
`deserialize`), so tests can assert what was (or was not) asked of the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from passport_py import Authenticator, Rejected
from passport_py.strategies.local import LocalStrategy

PASSWORD = "wonderland"
WRONG = "Incorrect username or password."


@dataclass(frozen=True)
class User:
    """The app's own user object."""

    id: int
    username: str
    password: str = PASSWORD


@dataclass
class UserStore:
    """Users by id, counting the calls passport_py makes into the app."""

    users: dict[int, User] = field(default_factory=dict)
    verify_calls: list[tuple[str, str]] = field(default_factory=list)
    deserialize_calls: list[Any] = field(default_factory=list)

    @classmethod
    def default(cls) -> UserStore:
        """alice (id 1, password `PASSWORD`) and bob (id 2, password "builder")."""
        return cls({1: User(1, "alice"), 2: User(2, "bob", "builder")})

    def add(self, user: User) -> User:
        self.users[user.id] = user
        return user

    def by_name(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def verify(self, username: str, password: str) -> User | Rejected:
        self.verify_calls.append((username, password))
        user = self.by_name(username)
        if user is None or user.password != password:
            return Rejected(WRONG)
        return user

    def deserialize(self, user_id: Any) -> User | None:
        self.deserialize_calls.append(user_id)
        return self.users.get(user_id) if isinstance(user_id, int) else None


def local_passport(store: UserStore, deserialize: Any = None) -> Authenticator[User]:
    """An Authenticator with the local strategy over `store`, storing the user's id and
    restoring users with `deserialize` (by default `store.deserialize`)."""
    passport: Authenticator[User] = Authenticator()
    passport.use(LocalStrategy(store.verify))
    passport.serialize_user(lambda user: user.id)
    passport.deserialize_user(deserialize or store.deserialize)
    return passport
