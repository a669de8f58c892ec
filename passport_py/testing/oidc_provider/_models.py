"""The provider's registered clients and users, its issued codes and tokens, and its faults."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal

from authlib.oauth2.rfc6749 import (
    ClientMixin,
    TokenMixin,
    list_to_scope,
    scope_to_list,
)
from authlib.oidc.core import (
    AuthorizationCodeMixin,
    UserInfo,
)

__all__ = [
    "REMOVE",
    "AuthMethod",
    "Faults",
    "ProviderClient",
    "ProviderUser",
    "Removed",
    "Signing",
    "Store",
    "merge",
]

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
Signing = Literal["provider", "none", "hs256", "foreign-key", "unknown-key"]
"""How the provider signs ID tokens: with its own key (`provider`), not at all (`none`),
with the client secret (`hs256`), with another key under its own key's `kid` (`foreign-key`),
or with another key under a `kid` it does not publish (`unknown-key`)."""

AUTH_METHODS: Final = ("client_secret_basic", "client_secret_post", "none")


class Removed:
    """The type of `REMOVE`: in a fault's dict, the value that deletes the key."""

    _instance: Removed | None = None

    def __new__(cls) -> Removed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Final = Removed()
"""In a fault's dict, the value that deletes the key instead of setting it."""


def merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` laid over it; an override of `REMOVE` deletes the key."""
    merged = dict(base)
    for key, value in overrides.items():
        if value is REMOVE:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


@dataclass
class ProviderClient:
    """A client (relying party) registered at the provider.

    `token_endpoint_auth_method` is the one way the client must authenticate at /token:
    `client_secret_basic`, `client_secret_post` or `none` (a public client, no secret;
    PKCE is then required).
    """

    client_id: str
    client_secret: str | None = None
    redirect_uris: list[str] = field(default_factory=list)
    token_endpoint_auth_method: AuthMethod = "client_secret_basic"

    def __post_init__(self) -> None:
        if self.token_endpoint_auth_method not in AUTH_METHODS:
            raise ValueError(
                f"token_endpoint_auth_method must be one of {', '.join(AUTH_METHODS)}, "
                f"not {self.token_endpoint_auth_method!r}"
            )
        if self.token_endpoint_auth_method != "none" and not self.client_secret:
            raise ValueError(
                f"client {self.client_id!r} authenticates with "
                f"{self.token_endpoint_auth_method} and needs a client_secret"
            )


@dataclass
class ProviderUser:
    """A user who can log in at the provider.

    `claims` holds further claims: standard ones (`given_name`, `locale`, ...) are released
    with the scope they belong to, others always.
    """

    sub: str
    username: str
    name: str | None = None
    email: str | None = None
    email_verified: bool = False
    picture: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    def user_info(self, scope: str) -> dict[str, Any]:
        """The claims `scope` releases (OpenID Connect Core 5.4)."""
        everything = {
            "sub": self.sub,
            "name": self.name,
            "preferred_username": self.username,
            "email": self.email,
            "email_verified": self.email_verified if self.email is not None else None,
            "picture": self.picture,
            **self.claims,
        }
        present = {k: v for k, v in everything.items() if v is not None}
        released = dict(UserInfo(present).filter(scope))
        released.update((k, v) for k, v in present.items() if k not in UserInfo.REGISTERED_CLAIMS)
        return released


@dataclass
class Faults:
    """What the provider does wrong on purpose, for attack tests; `REMOVE` deletes a key.

    - `token_response`: `(status, content_type, body)` /token answers instead (the code
      is still consumed); `token_delay`: seconds /token waits before answering.
    - `id_token_claims` / `id_token_header`: merged over every ID token's claims / header.
    - `id_token_signing`: "provider", "none" (alg none, empty signature), "hs256" (HMAC
      with the client secret), "foreign-key" (the provider's kid, another key: a bad
      signature), "unknown-key" (a kid not in the JWKS).
    - `authorization_iss`: the RFC 9207 `iss` of authorization responses; `REMOVE` omits it.
    - `userinfo_claims` / `discovery`: merged over /userinfo / the discovery document.
    - `responses`: path (e.g. "/jwks") -> `(status, content_type, body)` served instead.
    - `delays`: path -> seconds the provider waits before answering there (a slow or hanging
      discovery document or key set).
    """

    token_response: tuple[int, str, bytes] | None = None
    token_delay: float = 0.0
    id_token_claims: dict[str, Any] = field(default_factory=dict)
    id_token_header: dict[str, Any] = field(default_factory=dict)
    id_token_signing: Signing = "provider"
    authorization_iss: str | Removed | None = None
    userinfo_claims: dict[str, Any] = field(default_factory=dict)
    discovery: dict[str, Any] = field(default_factory=dict)
    responses: dict[str, tuple[int, str, bytes]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)

    def reset(self) -> None:
        """Back to an honest provider (in place, so held references see it)."""
        for spec in fields(self):
            setattr(self, spec.name, getattr(Faults(), spec.name))

    @property
    def id_token_tampered(self) -> bool:
        """Whether ID tokens must be re-signed with faults applied."""
        return bool(
            self.id_token_claims or self.id_token_header or self.id_token_signing != "provider"
        )


class Client(ClientMixin):  # type: ignore[misc]
    """A `ProviderClient` as Authlib's server sees it."""

    def __init__(self, registered: ProviderClient) -> None:
        self.registered = registered
        self.client_id = registered.client_id
        self.client_metadata: dict[str, Any] = {}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Without a redirect_uri parameter only an unambiguous registration is usable.
        uris = self.registered.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return list_to_scope(scope_to_list(scope) or [])  # type: ignore[no-any-return]

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact string comparison (RFC 9700 2.1): no prefix or pattern matching.
        return redirect_uri in self.registered.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        secret = self.registered.client_secret
        return secret is not None and secrets.compare_digest(
            secret.encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if endpoint == "token":
            return method == self.registered.token_endpoint_auth_method
        return True

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass(eq=False)
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """An issued code; `used` is set by the first token request that presents it."""

    code: str
    client_id: str
    user: ProviderUser
    redirect_uri: str | None
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float
    used: bool = False

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def is_expired(self) -> bool:
        return time.time() > self.expires_at


@dataclass(eq=False)
class Token(TokenMixin):  # type: ignore[misc]
    """An issued access token with its refresh token."""

    client: Client
    user: ProviderUser
    scope: str
    access_token: str
    refresh_token: str | None
    expires_in: int
    auth_time: int
    code: str | None
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> ProviderUser:
        return self.user

    def get_client(self) -> Client:
        return self.client


class Store:
    """Everything the provider knows, in memory, behind one lock (the server is threaded)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clients: dict[str, Client] = {}
        self.users: list[ProviderUser] = []
        self.codes: dict[str, AuthorizationCode] = {}
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}

    def add_client(self, client: ProviderClient) -> None:
        with self.lock:
            self.clients[client.client_id] = Client(client)

    def add_user(self, user: ProviderUser) -> None:
        with self.lock:
            self.users = [u for u in self.users if u.sub != user.sub] + [user]

    def find_user(self, hint: str | None) -> ProviderUser | None:
        """The user a `login_hint` names (username, email or sub); the first user without one."""
        with self.lock:
            if not hint:
                return self.users[0] if self.users else None
            return next((u for u in self.users if hint in (u.username, u.email, u.sub)), None)

    def user_named(self, username: str) -> ProviderUser | None:
        with self.lock:
            return next((u for u in self.users if u.username == username), None)

    def save_code(self, code: AuthorizationCode) -> None:
        with self.lock:
            # Forget codes long expired, so a benchmark's thousands of dances stay small.
            horizon = time.time() - 600
            for stale in [c for c, item in self.codes.items() if item.expires_at < horizon]:
                del self.codes[stale]
            self.codes[code.code] = code

    def consume_code(self, code: str, client: Client) -> AuthorizationCode | None:
        """The unused, unexpired code issued to `client`, now marked used; else None.

        Presenting a used code again revokes every token issued from it (RFC 6749 4.1.2).
        """
        with self.lock:
            item = self.codes.get(code)
            if item is None or item.client_id != client.client_id:
                return None
            if item.used:
                for token in self.access_tokens.values():
                    if token.code == code:
                        token.revoked = token.refresh_revoked = True
                return None
            item.used = True
            return None if item.is_expired() else item

    def save_token(self, token: Token) -> None:
        with self.lock:
            self.access_tokens[token.access_token] = token
            if token.refresh_token:
                self.refresh_tokens[token.refresh_token] = token

    def find_access_token(self, value: str) -> Token | None:
        with self.lock:
            return self.access_tokens.get(value)

    def claim_refresh_token(self, value: str, client: Client) -> Token | None:
        """The live refresh token `value` of `client`, now revoked (rotation); else None.

        Claimed atomically, so two concurrent refreshes cannot both use one token.
        """
        with self.lock:
            token = self.refresh_tokens.get(value)
            if token is None or token.refresh_revoked or not token.check_client(client):
                return None
            token.refresh_revoked = True
            return token
