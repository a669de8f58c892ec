"""The demo's "Log in with the development provider": OpenID Connect against the bundled
provider (`passport_py.testing.oidc_provider`), which runs in a thread on a loopback port, so
the whole dance works offline.

The provider knows alice and bob (linked to the demo users of the same names) and carol
(linked to nobody until a logged-in demo user links her account). Accounts are linked by the
provider's `(issuer, sub)`, never by email: an address can change hands, a `sub` cannot.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from passport_py import Authenticator, Rejected
from passport_py.adapters.starlette import authenticate, authorize, is_authenticated, login_required
from passport_py.redirects import safe_redirect
from passport_py.request import queue_session_flash

if TYPE_CHECKING:
    from passport_py.strategies.oauth2 import Profile
    from passport_py.strategies.oidc import OpenIDConnectStrategy
    from passport_py.testing.oidc_provider import OIDCProvider

__all__ = [
    "CALLBACK_PATH",
    "DEV_CLIENT_ID",
    "LINK_CALLBACK_PATH",
    "LINK_PATH",
    "LOGIN_PATH",
    "PROVIDER_USERS",
    "DevLogin",
    "DevProvider",
    "callback_bases",
    "login_button",
    "start_dev_provider",
]

DEV_CLIENT_ID = "passport-py-demo"
"""The demo's client id at the development provider."""
LOGIN_PATH = "/auth/dev"
"""Where the demo's "Log in with the development provider" button points."""
CALLBACK_PATH = "/auth/dev/callback"
"""The demo's callback for logins with the development provider."""
LINK_PATH = "/auth/dev/link"
"""Where a logged-in demo user starts linking a development-provider account."""
LINK_CALLBACK_PATH = "/auth/dev/link/callback"
"""The demo's callback for linking a development-provider account."""

NOT_LINKED = (
    "No demo account is linked to that development-provider account: log in with a "
    "password, then link it."
)
TAKEN = "That development-provider account is linked to another demo user."


@dataclass(frozen=True)
class ProviderAccount:
    """A user of the development provider; `demo_user` names the demo user linked at start."""

    sub: str
    username: str
    name: str
    email: str
    demo_user: str | None


PROVIDER_USERS = (
    ProviderAccount("248289761001", "alice", "Alice Liddell", "alice@example.org", "alice"),
    ProviderAccount("248289761002", "bob", "Bob the Builder", "bob@example.org", "bob"),
    ProviderAccount("248289761003", "carol", "Carol Danvers", "carol@example.org", None),
)
"""The provider's users. Their `sub`s are opaque ids, unlike the usernames, as at real providers."""


@dataclass(frozen=True)
class DevProvider:
    """Where the development provider runs and the demo's client registration there."""

    issuer: str
    client_secret: str
    client_id: str = DEV_CLIENT_ID


def callback_bases(host: str, port: int) -> list[str]:
    """The origins a browser may use for a demo served on `host:port` (127.0.0.1 and
    localhost both reach a loopback server, and each keeps cookies of its own)."""
    hosts = [host] if host not in ("0.0.0.0", "::", "") else []  # noqa: S104 - not binding
    hosts += [h for h in ("127.0.0.1", "localhost") if h not in hosts]
    return [f"http://{f'[{h}]' if ':' in h else h}:{port}" for h in hosts]


def start_dev_provider(
    bases: Sequence[str], *, auto_approve: bool = False, port: int = 0
) -> tuple[OIDCProvider, DevProvider]:
    """Start the bundled provider on 127.0.0.1:`port` (0: any free port) in a thread, with
    the demo registered for the login and link callbacks under each origin in `bases`.

    `auto_approve=False` shows the provider's page, where the user picks who logs in and
    approves. Stop it with `.stop()`.
    """
    from passport_py.testing.oidc_provider import OIDCProvider, ProviderClient, ProviderUser

    secret = secrets.token_urlsafe(32)
    redirect_uris = [
        base.rstrip("/") + path for base in bases for path in (CALLBACK_PATH, LINK_CALLBACK_PATH)
    ]
    provider = OIDCProvider(
        clients=[ProviderClient(DEV_CLIENT_ID, secret, redirect_uris, "client_secret_basic")],
        users=[
            ProviderUser(
                sub=a.sub, username=a.username, name=a.name, email=a.email, email_verified=True
            )
            for a in PROVIDER_USERS
        ],
        auto_approve=auto_approve,
        host="127.0.0.1",
        port=port,
    ).start()
    return provider, DevProvider(provider.issuer, secret)


class DemoUser(Protocol):
    """What the development login needs of a demo user."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class Link:
    """A provider account linked to a demo user: the user's id and the account's username."""

    user_id: int
    label: str


class DevLogin:
    """The development provider's strategies ("dev" logs in, "dev-link" links an account to
    the logged-in user), the links `(issuer, sub) -> demo user`, and the routes."""

    def __init__(
        self,
        passport: Authenticator[Any],
        dev: DevProvider,
        users: Mapping[str, DemoUser],
    ) -> None:
        self.users_by_id = {user.id: user for user in users.values()}
        self.links: dict[tuple[str, str], Link] = {}
        for account in PROVIDER_USERS:
            user = users.get(account.demo_user) if account.demo_user else None
            if user is not None:
                self.links[(dev.issuer, account.sub)] = Link(user.id, account.username)
        self.return_to_key = passport.return_to_key
        passport.use(self._strategy(dev, self._verify_login, CALLBACK_PATH, "dev"))
        passport.use(self._strategy(dev, self._verify_link, LINK_CALLBACK_PATH, "dev-link"))

    @staticmethod
    def _strategy(dev: DevProvider, verify: Any, callback: str, name: str) -> OpenIDConnectStrategy:
        from passport_py.strategies.oidc import OpenIDConnectStrategy

        # A relative callback is resolved against the request, so the provider sends the
        # browser back to the origin (and the session cookie) the login started from.
        return OpenIDConnectStrategy(
            verify,
            issuer=dev.issuer,
            client_id=dev.client_id,
            client_secret=dev.client_secret,
            callback_url=callback,
            name=name,
        )

    def _verify_login(self, tokens: Any, profile: Profile) -> DemoUser | Rejected:
        link = self.links.get(profile.key)
        user = self.users_by_id.get(link.user_id) if link else None
        return user if user is not None else Rejected(NOT_LINKED)

    def _verify_link(self, tokens: Any, profile: Profile) -> Profile:
        return profile  # authorize() puts it on request.state.account

    def linked_to(self, user_id: int) -> list[str]:
        """The usernames of the provider accounts linked to the demo user `user_id`."""
        return sorted(link.label for link in self.links.values() if link.user_id == user_id)

    def home_fragment(self, request: Request) -> str:
        """The home page's part: the login button, or the user's links and the link button."""
        if not is_authenticated(request):
            return login_button(css="secondary")
        names = ", ".join(escape(n) for n in self.linked_to(request.user.id)) or "none yet"
        return (
            '<div class="card"><h2>Development provider</h2>'
            f"<p>Development-provider accounts linked to you: {names}.</p>"
            "<p>A linked account logs you in here with the provider's button, no password "
            "needed.</p>"
            f'<form method="post" action="{LINK_PATH}">'
            '<button class="secondary">Link your development-provider account</button></form>'
            "</div>"
        )

    def login_form_fragment(self, target: str) -> str:
        """The login form's part: the button, returning to `target` (the form's `next`)."""
        return f'<p class="or">or</p>{login_button(target, css="secondary wide")}'

    def routes(self) -> list[Route]:
        """The login and link routes (each serves both halves of its dance)."""

        @authenticate(
            "dev",
            success_return_to_or_redirect="/",
            success_flash="Welcome! You logged in with the development provider.",
            failure_redirect="/login",
            failure_flash=True,
        )
        async def log_in(request: Request) -> Response:  # pragma: no cover - always redirects
            return RedirectResponse("/", 303)

        async def start_login(request: Request) -> Response:
            # The login form's `next` survives the trip to the provider as the return-to URL.
            target = safe_redirect(request.query_params.get("next"), "")
            if target:
                request.session[self.return_to_key] = target
            return await log_in(request)

        @login_required
        @authorize("dev-link", failure_redirect="/", failure_flash=True)
        async def link(request: Request) -> Response:
            profile: Profile = request.state.account
            current = self.links.get(profile.key)
            if current is not None and current.user_id != request.user.id:
                queue_session_flash(request.session, "error", TAKEN)
            else:
                label = profile.username or profile.id
                self.links[profile.key] = Link(request.user.id, label)
                message = f"Linked the development-provider account {label}."
                queue_session_flash(request.session, "success", message)
            return RedirectResponse("/", 303)

        return [
            Route(LOGIN_PATH, start_login, methods=["GET", "POST"]),
            Route(CALLBACK_PATH, log_in, methods=["GET", "POST"]),
            Route(LINK_PATH, link, methods=["GET", "POST"]),
            Route(LINK_CALLBACK_PATH, link, methods=["GET", "POST"]),
        ]


def login_button(target: str = "", css: str = "") -> str:
    """The "Log in with the development provider" button (returning to `target` after);
    `css` is the button's class."""
    action = LOGIN_PATH + (f"?next={escape(quote(target, safe='/'))}" if target else "")
    button = f'<button class="{escape(css)}">' if css else "<button>"
    return (
        f'<form method="post" action="{action}">'
        f"{button}Log in with the development provider</button></form>"
    )
