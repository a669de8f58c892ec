"""The contract every framework's behaviour app follows, and what they share.

`tests/test_behaviour.py` and `tests/test_bad_input.py` drive one small app per framework
(Starlette, Flask, Django) through the same HTTP requests and expect the same answers (through
`behaviour.site.Site`), each on the framework's own session and again, in the variants that
`behaviour.site.VARIANTS` lists (e.g. `starlette_server`), on passport_py's server-side sessions.
Each `<variant>_app.py` module exports:

- `make_client(store: users.UserStore) -> httpx.Client` (base URL `http://testserver`,
  redirects not followed) over an app that serves the routes below with the passport from
  `make_passport(store)`, the variant's session and the adapter's default body limit
  (1 MiB). A server error reaches the test as an exception where the client allows it
  (Starlette's TestClient; Flask with `testing` on); Django answers it with a 500. A variant
  with `redis=True` takes `make_client(store, redis_prefix=...)` and keeps its sessions in the
  real Redis under that prefix (the test's own, deleted afterwards).
- `SESSION_COOKIE`: the name of the app's session cookie.
- `session_cookie(data) -> str`: a session cookie value the app accepts as a session holding
  `data` (Starlette, Flask: signed with the app's key; Django: the key of a saved session;
  server-side sessions: `SessionCookie(key).sign(id)` of an entry saved under a new id in the
  store of the app `make_client` built last).

Sessions with ids (Django's, passport_py's server-side ones) report the id at `/session` and
get a new one on login and logout; the old id then holds nothing. Cookie sessions report None.

| route                 | what it does                                                         |
|-----------------------|----------------------------------------------------------------------|
| GET  /                | text `hello <username>` or `hello anonymous`                         |
| GET  /login           | text `login page`                                                    |
| POST /login           | authenticate("local", **LOGIN_FORM): success_return_to_or_redirect   |
|                       |   "/", failure_redirect "/login", failure_flash, success_flash       |
| POST /login-api       | authenticate("local"); the view answers JSON `{"user": username}`    |
|                       |   (the plain login the bad-input catalogue posts to)                 |
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
from typing import Any

from users import User, UserStore, local_passport

from passport_py import Authenticator, AuthRequest, AuthResult, Outcome, Strategy

TOKEN = "token-of-alice"
TOKEN_CHALLENGE = 'Token realm="api"'
BASIC_CHALLENGE = 'Basic realm="Users"'
#: The options of `POST /login`, the form login with redirects and flashes.
LOGIN_FORM: dict[str, Any] = {
    "success_return_to_or_redirect": "/",
    "failure_redirect": "/login",
    "failure_flash": True,
    "success_flash": "Welcome!",
}
#: Session keys `/session` reports (framework internals such as Flask's `_flashes` are left out).
VISIBLE_KEYS = ("passport", "return_to", "cart")


class TokenStrategy(Strategy):
    """`Authorization: Token <t>`; fails with a `Token` challenge otherwise."""

    name = "token"

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        scheme, _, token = str(request.headers.get("authorization") or "").partition(" ")
        if scheme.lower() == "token" and token == TOKEN:
            user = self.store.by_name("alice")
            if user is not None:
                return self.success(user, {"scope": "read"})
        return self.fail(TOKEN_CHALLENGE)


class BasicChallenge(Strategy):
    """Always fails with a `Basic` challenge: the second voice in the `/api` chain."""

    name = "basic"

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        return self.fail(BASIC_CHALLENGE)


class HeaderStrategy(Strategy):
    """`X-Member: <username>` (a custom strategy written as a plain `def`)."""

    name = "sync-custom"

    def __init__(self, store: UserStore) -> None:
        self.store = store

    def authenticate(self, request: AuthRequest, options: Any) -> Outcome:
        user = self.store.by_name(str(request.headers.get("x-member") or ""))
        return self.success(user) if user else self.fail("Member", 401)


class AsyncHeaderStrategy(HeaderStrategy):
    """The same strategy written as `async def`."""

    name = "async-custom"

    async def authenticate(self, request: AuthRequest, options: Any) -> Outcome:  # type: ignore[override]
        return super().authenticate(request, options)


def make_passport(store: UserStore) -> Authenticator[User]:
    """The passport every behaviour app uses."""
    passport = local_passport(store)
    passport.use(TokenStrategy(store))
    passport.use(BasicChallenge())
    passport.use(HeaderStrategy(store))
    passport.use(AsyncHeaderStrategy(store))
    return passport


def callback_body(result: AuthResult[User]) -> dict[str, Any]:
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
    """The username of a logged-in user, else None (for `{"user": ...}` bodies)."""
    return user.username if isinstance(user, User) else None
