"""One small app per framework (Starlette, Flask, Django) that logs in and links accounts with
the bundled OpenID provider, and a `Browser` that drives each through its real test client.

The same routes in every framework:

| route                        | what it does                                                  |
|------------------------------|---------------------------------------------------------------|
| GET  /                       | text `hello <username>` or `hello anonymous`                  |
| GET  /login                  | text `login page`                                             |
| POST /login                  | authenticate("local"); JSON `{"user": username}`              |
| GET  /private                | login_required; JSON `{"user": username}`                     |
| GET  /session                | JSON `{"id": session id or None, "data": {...}}`              |
| POST /cart                   | form `item=x`: `session["cart"] = x`; 204                     |
| GET  /csrf                   | Django only: a CSRF token for the next form                   |
| GET  /auth/dev               | authenticate("dev"): off to the provider                      |
| GET  /auth/dev/form-post     | the same, asking for `response_mode=form_post`                |
| GET|POST /auth/dev/callback  | authenticate("dev", success_return_to_or_redirect="/",        |
|                              |   failure_redirect="/login"); Django: `csrf_exempt`           |
| GET  /auth/dev/api           | authenticate("dev") with app state `{"return_to": ...}`       |
|                              |   and the callback below                                      |
| GET  /auth/dev/api/callback  | authenticate("dev"), no redirects: JSON `{"user", "state"}`   |
| POST /connect/dev            | login_required, same-site only, authorize("dev-link")         |
| GET|POST /connect/dev/callback | authorize("dev-link"); the view links `account.key` to    |
|                              |   the logged-in user (401 JSON when nobody is logged in)      |

"dev" logs in the local user linked to the provider identity (`Profile.key`), "dev-link"
returns the provider account itself (the `Profile`), for `authorize`. Starlette keeps its
sessions server-side (`passport_py.sessions`, session ids), Flask in its signed cookie, Django in
its cache-backed sessions (session keys); Django's client enforces CSRF checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from oauth_helpers import oauth_transport
from users import User, UserStore, local_passport

from passport_py import Authenticator, Rejected
from passport_py.options import AuthenticateOptions
from passport_py.strategies.oauth2 import OAuth2Strategy, OAuth2Tokens, Profile, ProfileEmail
from passport_py.testing.oidc_provider import OIDCProvider, ProviderClient, ProviderUser

Framework = Literal["starlette", "flask", "django"]
Kind = Literal["oauth2", "oidc"]
KINDS: tuple[Kind, ...] = ("oauth2", "oidc")

APP = "http://testserver"
CALLBACK = f"{APP}/auth/dev/callback"
API_CALLBACK = f"{APP}/auth/dev/api/callback"
LINK_CALLBACK = f"{APP}/connect/dev/callback"
CLIENT_ID = "framework-apps"
CLIENT_SECRET = "framework-apps-secret"
APP_STATE = {"return_to": "/settings"}
BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CROSS_SITE = {"sec-fetch-site": "cross-site", "origin": "https://evil.example"}

#: The provider's users: alice and bob have local accounts linked to them; carol and mallory
#: have none (mallory has alice's address, verified: an email links nothing).
PROVIDER_USERS = [
    ProviderUser("sub-alice", "alice-dev", "Alice Dev", "alice@example.test", True),
    ProviderUser("sub-bob", "bob-dev", "Bob Dev", "bob@example.test", True),
    ProviderUser("sub-carol", "carol-dev", "Carol Dev", "carol@example.test", True),
    ProviderUser("sub-mallory", "mallory-dev", "Mallory", "alice@example.test", True),
]


def start_provider() -> OIDCProvider:
    """The bundled provider, asking each user to pick an account and approve."""
    client = ProviderClient(CLIENT_ID, CLIENT_SECRET, [CALLBACK, API_CALLBACK, LINK_CALLBACK])
    return OIDCProvider(clients=[client], users=PROVIDER_USERS, auto_approve=False).start()


# -- the passport -------------------------------------------------------------------------


@dataclass
class Directory:
    """The app's users and the provider identities linked to them (by `Profile.key`)."""

    store: UserStore = field(default_factory=UserStore.default)
    links: dict[tuple[str, str], int] = field(default_factory=dict)

    def user_for(self, profile: Profile) -> User | Rejected:
        user_id = self.links.get(profile.key)
        user = self.store.users.get(user_id) if user_id is not None else None
        return user if user is not None else Rejected("No account is linked to this login.")


def response_mode(options: AuthenticateOptions) -> Mapping[str, str]:
    """`authenticate("dev", response_mode="form_post")` asks for that response mode."""
    mode = options.get("response_mode")
    return {"response_mode": mode} if mode else {}


class DevOAuth2Strategy(OAuth2Strategy):
    """Plain OAuth 2.0 against the dev provider, with its profile from /userinfo (as a
    provider preset such as GitHub's reads its user API)."""

    def __init__(self, verify: Callable[..., Any], provider: OIDCProvider, **options: Any):
        super().__init__(
            verify,
            authorization_url=provider.url("/authorize"),
            token_url=provider.url("/token"),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            scope=["openid", "profile", "email"],
            transport=oauth_transport(),
            authorization_params=response_mode,
            **options,
        )
        self.userinfo_url = provider.url("/userinfo")

    async def user_profile(self, tokens: OAuth2Tokens) -> Profile:
        doc = await self.fetch_json(self.userinfo_url, tokens)
        email = doc.get("email")
        return Profile(
            provider="dev",
            id=str(doc["sub"]),
            username=doc.get("preferred_username"),
            display_name=doc.get("name"),
            emails=(ProfileEmail(email, doc.get("email_verified") is True),) if email else (),
            raw=doc,
        )


def dev_strategy(
    kind: Kind, verify: Callable[..., Any], provider: OIDCProvider, **options: Any
) -> Any:
    """The dev provider's strategy of this kind."""
    if kind == "oauth2":
        return DevOAuth2Strategy(verify, provider, **options)
    from passport_py.strategies.oidc import OpenIDConnectStrategy

    return OpenIDConnectStrategy(
        verify,
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        transport=oauth_transport(),
        authorization_params=response_mode,
        **options,
    )


def identity_key(kind: Kind, provider: OIDCProvider, sub: str) -> tuple[str, str]:
    """`Profile.key` of the provider user `sub` as this kind of strategy reports it."""
    return (provider.issuer if kind == "oidc" else "dev", sub)


def make_passport(kind: Kind, provider: OIDCProvider, directory: Directory) -> Authenticator[Any]:
    """Local logins, "dev" (log in the linked user) and "dev-link" (the provider account)."""
    for sub, user_id in (("sub-alice", 1), ("sub-bob", 2)):
        directory.links[identity_key(kind, provider, sub)] = user_id
    passport = local_passport(directory.store)

    def login_verify(tokens: OAuth2Tokens, profile: Profile) -> User | Rejected:
        return directory.user_for(profile)

    def link_verify(tokens: OAuth2Tokens, profile: Profile) -> Profile:
        return profile

    passport.use(dev_strategy(kind, login_verify, provider, callback_url=CALLBACK, name="dev"))
    passport.use(
        dev_strategy(kind, link_verify, provider, callback_url=LINK_CALLBACK, name="dev-link")
    )
    return passport


def link(directory: Directory, user: Any, account: Any) -> dict[str, Any]:
    """Link `account` (a Profile) to the logged-in `user`; the JSON the link views answer."""
    assert isinstance(account, Profile)
    directory.links[account.key] = user.id
    return {"user": user.username, "account": list(account.key)}


def session_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """The session as JSON (framework internals such as Flask's `_flashes` left out)."""
    return {
        k: v for k, v in json.loads(json.dumps(dict(data), default=repr)).items() if k[0] != "_"
    }


def same_site(headers: Any, host: str) -> bool:
    """False for a browser request from another site: OmniAuth's CVE-2015-9284 started
    account linking with a cross-site request. Clients that send neither header pass."""
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    return origin is None or urlsplit(origin).netloc == host


# -- driving an app -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """A response, the same in every framework."""

    status: int
    location: str | None
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


class Browser:
    """One user agent (its own cookies) on a framework's app, through its real test client.

    Each framework's subclass reads its client's responses (`_reply`) and session cookie;
    Django's also posts its own way (`_post`).
    """

    framework: Framework

    def __init__(self, client: Any) -> None:
        self.client = client

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self._reply(self.client.get(path, headers=dict(headers or {})))

    def post(
        self,
        path: str,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        csrf: bool = True,
    ) -> Reply:
        """POST a form; in Django with the CSRF token unless `csrf=False` (a cross-site form,
        such as the provider's `form_post` page, has none)."""
        return self._reply(self._post(path, dict(data or {}), dict(headers or {}), csrf))

    def session_cookie(self) -> str | None:
        raise NotImplementedError

    def _post(self, path: str, form: dict[str, str], headers: dict[str, str], csrf: bool) -> Any:
        """The client's response to a form POST (the client encodes the form itself)."""
        return self.client.post(path, data=form, headers=headers)

    def _reply(self, response: Any) -> Reply:
        raise NotImplementedError


class App(Protocol):
    """One app, serving any number of browsers."""

    framework: Framework

    def browser(self) -> Browser: ...


def on_app(url: str) -> str:
    """The path and query of an absolute URL at the app (what the test clients request)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" in (APP, ""), url
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- the provider's side ------------------------------------------------------------------


class _Form(HTMLParser):
    """The first form of a page: its action and its named inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def read_form(page: str) -> tuple[str, dict[str, str]]:
    form = _Form()
    form.feed(page)
    assert form.action is not None, page[:500]
    return form.action, form.fields


@dataclass(frozen=True)
class Answer:
    """The provider's authorization response, as the browser would take it back to the app:
    a GET of `path` (query mode) or a POST of `fields` to `path` (form_post)."""

    method: Literal["GET", "POST"]
    path: str
    fields: dict[str, str] = field(default_factory=dict)

    def deliver(self, browser: Browser) -> Reply:
        if self.method == "GET":
            return browser.get(self.path)
        # The provider's page is another site: its form carries no CSRF token of ours.
        return browser.post(self.path, self.fields, csrf=False)


def at_provider(authorization_url: str, user: str, decision: str = "approve") -> Answer:
    """The user at the provider, over real HTTP one hop at a time: the consent page, then
    `user` (a provider username) picked and `decision` ("approve" or "deny") pressed."""
    with httpx.Client(follow_redirects=False, timeout=10.0) as http:
        page = http.get(authorization_url)
        assert page.status_code == 200, (page.status_code, page.text[:500])
        action, _ = read_form(page.text)
        response = http.post(
            urljoin(authorization_url, action), data={"username": user, "decision": decision}
        )
    if response.status_code == 302:
        return Answer("GET", on_app(response.headers["location"]))
    assert response.status_code == 200, (response.status_code, response.text[:500])
    action, fields = read_form(response.text)  # the form_post page
    return Answer("POST", on_app(action), fields)


def start_and_authorize(
    browser: Browser, start: str, user: str, *, decision: str = "approve", post: bool = False
) -> Answer:
    """Start at the app (`post=True`: a same-site form POST), then at the provider."""
    reply = browser.post(start) if post else browser.get(start)
    assert reply.status == 302 and reply.location, (reply.status, reply.text)
    return at_provider(reply.location, user, decision)
