"""The contract every framework's behaviour app follows, and what they share.

`tests/test_behaviour.py` drives one small app per framework (Starlette, Flask, Django) through
the same HTTP requests and expects the same answers. Each `<framework>_app.py` module exports
`make_client(store: MemberStore) -> httpx.Client` (base URL `http://testserver`, redirects not
followed) over an app that serves these routes with the passport from `make_passport(store)`:

| route                 | what it does                                                         |
|-----------------------|----------------------------------------------------------------------|
| GET  /                | text `hello <username>` or `hello anonymous`                         |
| GET  /login           | text `login page`                                                    |
| POST /login           | authenticate("local", success_return_to_or_redirect="/",             |
|                       |   failure_redirect="/login", failure_flash=True,                     |
|                       |   success_flash="Welcome!")                                          |
| POST /login-api       | authenticate("local"); the view answers JSON `{"user": username}`    |
| GET  /flashes         | JSON `[[category, message], ...]`, taken from the framework's own    |
|                       |   flash store (Starlette: pop_flashes; Flask: get_flashed_messages;  |
|                       |   Django: messages, category = level_tag)                            |
| GET  /api             | authenticate(["token", "basic"], session=False); JSON `{"user": ..}` |
| POST /login-callback  | authenticate("local", callback=cb); cb answers 200 JSON              |
|                       |   `callback_body(result)`                                            |
| POST /link            | login_required, then authorize("local"); JSON                        |
|                       |   `{"user": logged-in username, "account": the account's username}`  |
| POST /logout          | logout(); redirect 302 to `/`                                        |
| GET  /private         | login_required; JSON `{"user": username}`                            |
| GET  /custom/sync     | authenticate("sync-custom", session=False); JSON `{"user": ...}`     |
| GET  /custom/async    | authenticate("async-custom", session=False); JSON `{"user": ...}`    |
|                       |   (Flask and Django: an `async def` view)                            |
| GET  /session         | JSON `session_snapshot(session_id, session)`                         |
| POST /cart            | form `item=x`: `session["cart"] = x`; 204                            |

The login page for `login_required` is `/login`. POST routes are exempt from the framework's
CSRF protection where it has one (Django): the behaviour suite is not about CSRF.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from passport_py import Authenticator, AuthRequest, AuthResult, Outcome, Rejected, Strategy
from passport_py.strategies.local import LocalStrategy

PASSWORD = "wonderland"
WRONG = "Incorrect username or password."
TOKEN = "token-of-alice"
TOKEN_CHALLENGE = 'Token realm="api"'
BASIC_CHALLENGE = 'Basic realm="Users"'
#: Session keys `/session` reports (framework internals such as Flask's `_flashes` are left out).
VISIBLE_KEYS = ("passport", "return_to", "cart")


@dataclass(frozen=True)
class Member:
    """The app's own user object (no framework base class)."""

    id: int
    username: str
    password: str = PASSWORD


@dataclass
class MemberStore:
    """Members by id, counting the calls passport_py makes into the app."""

    members: dict[int, Member] = field(default_factory=dict)
    deserialize_calls: list[Any] = field(default_factory=list)

    @classmethod
    def default(cls) -> MemberStore:
        """alice (id 1) and bob (id 2), both with `PASSWORD`."""
        return cls({1: Member(1, "alice"), 2: Member(2, "bob")})

    def by_name(self, username: str) -> Member | None:
        return next((m for m in self.members.values() if m.username == username), None)

    def verify(self, username: str, password: str) -> Member | Rejected:
        member = self.by_name(username)
        if member is None or member.password != password:
            return Rejected(WRONG)
        return member

    def deserialize(self, member_id: Any) -> Member | None:
        self.deserialize_calls.append(member_id)
        return self.members.get(member_id) if isinstance(member_id, int) else None


class TokenStrategy(Strategy):
    """`Authorization: Token <t>`; fails with a `Token` challenge otherwise."""

    name = "token"

    def __init__(self, store: MemberStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        scheme, _, token = str(request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "token" and token == TOKEN:
            member = self.store.by_name("alice")
            if member is not None:
                return self.success(member, {"scope": "read"})
        return self.fail(TOKEN_CHALLENGE)


class BasicChallenge(Strategy):
    """Always fails with a `Basic` challenge: the second voice in the `/api` chain."""

    name = "basic"

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        return self.fail(BASIC_CHALLENGE)


class HeaderStrategy(Strategy):
    """`X-Member: <username>` (a custom strategy written as a plain `def`)."""

    name = "sync-custom"

    def __init__(self, store: MemberStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        member = self.store.by_name(str(request.headers.get("x-member") or ""))
        return self.success(member) if member else self.fail("Member", 401)


class AsyncHeaderStrategy(HeaderStrategy):
    """The same strategy written as `async def`."""

    name = "async-custom"

    async def authenticate(self, request: AuthRequest, options: Any) -> Outcome:  # type: ignore[override]
        return super().authenticate(request, options)


def make_passport(store: MemberStore) -> Authenticator[Member]:
    """The passport every behaviour app uses."""
    passport: Authenticator[Member] = Authenticator()
    passport.use(LocalStrategy(store.verify))
    passport.use(TokenStrategy(store))
    passport.use(BasicChallenge())
    passport.use(HeaderStrategy(store))
    passport.use(AsyncHeaderStrategy(store))
    passport.serialize_user(lambda member: member.id)
    passport.deserialize_user(store.deserialize)
    return passport


def callback_body(result: AuthResult[Member]) -> dict[str, Any]:
    """What `/login-callback` answers for the custom callback's `result`."""
    challenge = result.challenge
    return {
        "ok": result.ok,
        "user": result.user.username if result.user else None,
        "challenge": challenge.get("message") if isinstance(challenge, Mapping) else challenge,
        "status": result.status,
    }


def session_snapshot(session_id: str | None, session: Mapping[str, Any]) -> dict[str, Any]:
    """What `/session` answers: the session id (None where the session has none) and the
    visible keys."""
    return {"id": session_id, "data": {k: session[k] for k in VISIBLE_KEYS if k in session}}


def username(user: Any) -> str | None:
    """The username of a logged-in member, else None (for `{"user": ...}` bodies)."""
    return user.username if isinstance(user, Member) else None
