"""The demo: a Starlette app with a login form (and "remember me"), "Log in with the
development provider" (OpenID Connect against the bundled provider, `dev_login.py`), a page that
needs login, "Your sessions" (each browser logged in, ending one or all others), logout,
"log out everywhere", and a JSON API (a FastAPI app at `/api`, `api.py`,
with its Swagger UI at `/api/docs`) that takes each user's token as a bearer token or an API key.

Sessions are server-side (`passport_py.sessions`): in this process's memory, or in Redis when
the `REDIS_URL` environment variable is set.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import escape
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from passport_py import Authenticator, Verified
from passport_py.adapters.starlette import (
    PassportMiddleware,
    authenticate,
    is_authenticated,
    login_required,
    logout,
    logout_everywhere,
)
from passport_py.demo.api import READ, WRITE, build_api
from passport_py.demo.errors import FriendlyErrors, server_error
from passport_py.demo.factors import FactorStore, use_factors
from passport_py.demo.mailbox import Mailbox, mailbox_body
from passport_py.demo.pages import account_body, anonymous_body, login_body, page
from passport_py.demo.passkeys import PasskeyStore, login_fragment, passkey_party, passkey_routes
from passport_py.demo.sessions_page import sessions_routes
from passport_py.demo.two_factor_pages import two_factor_routes
from passport_py.passwords import hash_password, password_verify
from passport_py.redirects import safe_redirect
from passport_py.request import queue_session_flash
from passport_py.sessions import MemoryStore, SessionMiddleware, SessionStore
from passport_py.strategies.apikey import ApiKeyStrategy, hash_key
from passport_py.strategies.bearer import BearerStrategy
from passport_py.strategies.local import LocalStrategy
from passport_py.strategies.remember_me import RememberMeStrategy, RememberToken
from passport_py.throttle import LoginThrottle

if TYPE_CHECKING:
    from passport_py.demo.dev_login import DevProvider

#: The demo's users and their passwords (printed at start; only Argon2id hashes are kept).
DEMO_USERS = {"alice": "wonderland", "bob": "builder"}

#: What each user's API token may do (OAuth 2.0 scopes, space-separated): only alice's may
#: remove items.
API_SCOPES = {"alice": f"{READ} {WRITE}", "bob": READ}

#: Where the demo keeps its sessions in Redis (so they never mix with an app's own keys).
REDIS_PREFIX = "passport-py-demo:session:"

#: Where the demo counts failed logins in Redis.
THROTTLE_PREFIX = "passport-py-demo:throttle:"

#: The login form's answer to a username or password left empty.
MISSING = "Enter both your username and your password."


@dataclass(frozen=True)
class User:
    """A demo user: an id, a name, an Argon2id hash of the password and an email address."""

    id: int
    username: str
    password_hash: str
    email: str


def make_users() -> dict[str, User]:
    """The demo users, their passwords hashed with `passport_py.passwords` (Argon2id)."""
    return {
        name: User(number, name, hash_password(password), f"{name}@example.com")
        for number, (name, password) in enumerate(DEMO_USERS.items(), start=1)
    }


def session_store() -> SessionStore:
    """`RedisStore` on `REDIS_URL` when that is set (sessions then outlive the process and are
    shared by every process using that Redis), else a `MemoryStore`."""
    url = os.environ.get("REDIS_URL")
    if url:
        from passport_py.sessions import RedisStore

        return RedisStore(url, prefix=REDIS_PREFIX)
    return MemoryStore()


def login_throttle() -> LoginThrottle:
    """The login form's throttle: the default limits (an account waits after 5 failures in a
    row, 30 s, then twice as long after each further failure, at most 15 minutes; an address
    after 100 in 15 minutes), counted in Redis when `REDIS_URL` is set, else in memory."""
    url = os.environ.get("REDIS_URL")
    if url:
        from passport_py.throttle import RedisThrottleStore

        return LoginThrottle(RedisThrottleStore(url, prefix=THROTTLE_PREFIX))
    return LoginThrottle()


def describe_store(store: SessionStore) -> str:
    """One sentence on where `store` keeps the sessions (shown on the home page)."""
    if isinstance(store, MemoryStore):
        return "Sessions live in the memory of this process; set REDIS_URL to keep them in Redis."
    from passport_py.sessions import RedisStore  # imported only when not in memory: needs redis

    if isinstance(store, RedisStore):
        return "Sessions live in Redis (REDIS_URL), shared by every process that uses it."
    return f"Sessions live in a {type(store).__name__}."


def build_app(
    secret_key: str | None = None,
    store: SessionStore | None = None,
    dev: DevProvider | None = None,
    throttle: LoginThrottle | None = None,
    origins: Sequence[str] = (),
) -> Starlette:
    """The demo app. `secret_key` signs the session cookie (`DEMO_SECRET`, else random per
    process); `store` keeps the sessions (`session_store()` by default); `dev` is the running
    development provider (`dev_login.start_dev_provider`), without which the demo has no
    "Log in with the development provider"; `throttle` limits failed logins
    (`login_throttle()` by default); `origins` are where browsers reach the demo (passkeys are
    registered for the first one named by a domain, else http://localhost:8000)."""
    store = store if store is not None else session_store()
    signing_key = secret_key or os.environ.get("DEMO_SECRET") or secrets.token_hex(32)
    where = escape(describe_store(store))
    users = make_users()
    by_id = {user.id: user for user in users.values()}
    passport: Authenticator[User] = Authenticator(
        throttle=throttle if throttle is not None else login_throttle(),
        second_factor_url="/login/second-factor",
        reauth_url="/account/confirm",
    )

    def find_user(username: str) -> tuple[User, str] | None:
        user = users.get(username)
        return None if user is None else (user, user.password_hash)

    # Unknown names get a dummy verify, so both failures take the same time.
    verify = password_verify(find_user, message="Incorrect username or password.")
    passport.use(LocalStrategy(verify, bad_request_message=MISSING))

    # Remember-me rows (series -> user id and token), as a table in your database would hold them.
    remembered: dict[str, tuple[int, RememberToken]] = {}

    def load_token(series: str) -> RememberToken | None:
        row = remembered.get(series)
        user = by_id.get(row[0]) if row else None
        return replace(row[1], user=user) if row and user else None

    def save_token(token: RememberToken) -> None:
        remembered[token.series] = (token.user.id, replace(token, user=None))

    def delete_token(series: str) -> None:
        remembered.pop(series, None)

    def forget_remembered(user_id: int) -> None:
        """Revoke every remember-me series of the user (every browser that ticked the box)."""
        for series in [s for s, (owner, _) in remembered.items() if owner == user_id]:
            delete_token(series)

    passport.use(RememberMeStrategy(load_token, save_token, revoke=delete_token))

    # Second factors (authenticator app, recovery codes) and login by a mailed code.
    factors, mailbox = FactorStore(), Mailbox()
    by_email = {user.email: user for user in users.values()}
    use_factors(passport, factors, mailbox, by_email, signing_key)
    rp = passkey_party(origins)
    passkeys = PasskeyStore(by_id)

    # One API token per user for the JSON API; only their SHA-256 digests are kept. It is
    # taken as a bearer token or as an API key (X-API-Key), with the user's scopes either way.
    api_tokens = {user.id: secrets.token_urlsafe(32) for user in users.values()}
    by_token_hash = {hash_key(token): by_id[user_id] for user_id, token in api_tokens.items()}

    def verify_token(token: str) -> Verified[User] | None:
        user = by_token_hash.get(hash_key(token))
        return Verified(user, {"scope": API_SCOPES[user.username]}) if user else None

    passport.use(BearerStrategy(verify_token, realm="demo"))
    passport.use(ApiKeyStrategy(verify_token))

    dev_login = None
    if dev is not None:
        from passport_py.demo.dev_login import DevLogin

        dev_login = DevLogin(passport, dev, users)

    @passport.serialize_user
    def serialize(user: User) -> int:
        return user.id

    @passport.deserialize_user
    def deserialize(user_id: int) -> User | None:
        return by_id.get(user_id)

    async def home(request: Request) -> Response:
        links = dev_login.home_fragment(request) if dev_login is not None else ""
        if is_authenticated(request):
            user: User = request.user
            token, api_url = api_tokens[user.id], f"{request.base_url}api/me"
            body = account_body(user.username, token, API_SCOPES[user.username], api_url, links)
            return page(request, "Your account", body, footer=where)
        return page(request, "passport_py demo", anonymous_body(links, DEMO_USERS), footer=where)

    async def login_form(request: Request) -> Response:
        target = safe_redirect(request.query_params.get("next"), "")
        action = "/login" + (f"?next={escape(target)}" if target else "")
        fragment = dev_login.login_form_fragment(target) if dev_login is not None else ""
        fragment = login_fragment(rp) + fragment
        return page(request, "Log in", login_body(action, fragment, DEMO_USERS), slim=True)

    @authenticate(
        "local",
        success_return_to_or_redirect="/",
        failure_redirect="/login",
        failure_flash=True,
        success_flash="Welcome back!",
        remember="remember_me",
    )
    async def login_post(request: Request) -> Response:  # pragma: no cover - always redirects
        return RedirectResponse("/", 303)

    @login_required
    async def secret(request: Request) -> Response:
        name = escape(request.user.username)
        body = (
            f'<div class="card"><p class="lead">Only logged-in users see this, {name}.</p>'
            "<p>Visitors who are not logged in are sent to the login page first, and come "
            'back here afterwards.</p><a class="button secondary" href="/">Back to your '
            "account</a></div>"
        )
        return page(request, "The secret page", body)

    async def logout_post(request: Request) -> Response:
        await logout(request)
        return RedirectResponse("/", 303)

    async def logout_everywhere_post(request: Request) -> Response:
        # A POST form like logout: SameSite=Lax keeps the session cookie off cross-site posts.
        if not is_authenticated(request):
            return RedirectResponse("/", 303)
        # Tokens first: no browser can be recalled by its remember-me cookie meanwhile.
        forget_remembered(request.user.id)
        ended = await logout_everywhere(request)
        plural = "" if ended == 1 else "s"
        queue_session_flash(request.session, "success", f"Logged out of {ended} session{plural}.")
        return RedirectResponse("/", 303)

    async def show_mailbox(request: Request) -> Response:
        return page(request, "Mailbox", mailbox_body(mailbox.messages()))

    api = build_api()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login_post, methods=["POST"]),
            Route("/secret", secret),
            Route("/logout", logout_post, methods=["POST"]),
            Route("/logout-everywhere", logout_everywhere_post, methods=["POST"]),
            *sessions_routes(page),
            *two_factor_routes(page, factors),
            *passkey_routes(page, passport, passkeys, rp),
            Route("/mailbox", show_mailbox),
            Mount("/api", app=api),
            *(dev_login.routes() if dev_login is not None else ()),
        ],
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=signing_key,
                store=store,
                same_site="lax",
                https_only=False,
            ),
            Middleware(
                PassportMiddleware,
                passport=passport,
                login_url="/login",
                restore_with=("remember-me",),
            ),
            # Innermost, so an error page knows who is logged in for its navigation.
            Middleware(FriendlyErrors),
        ],
        exception_handlers={500: server_error},
    )
