"""Authlib's authorization server, wired to the in-memory store, the key ring and the faults.

Authlib does the protocol: request validation, client authentication, PKCE, codes, tokens,
refresh, ID tokens and userinfo. This module only supplies storage and the provider's keys,
and re-signs ID tokens when a fault asks for it.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import unquote_plus

import flask
from authlib.integrations.flask_oauth2 import (
    AuthorizationServer,
    ResourceProtector,
)
from authlib.integrations.flask_oauth2.authorization_server import create_token_generator
from authlib.oauth2.rfc6749 import (
    InvalidClientError,
    InvalidRequestError,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import (
    OpenIDCode,
    OpenIDToken,
    UserInfo,
    UserInfoEndpoint,
)
from authlib.oidc.core.grants.util import (
    validate_form_post_redirect_uri,
)

from passport_py.testing.oidc_provider._keys import KeyRing
from passport_py.testing.oidc_provider._models import (
    AUTH_METHODS,
    AuthorizationCode,
    Client,
    Faults,
    ProviderUser,
    Store,
    Token,
    merge,
)

__all__ = ["RESPONSE_MODES", "SCOPES", "Context", "ProviderServer"]

SCOPES = ("openid", "profile", "email", "offline_access")
RESPONSE_MODES = ("query", "form_post")


@dataclass
class Context:
    """What every Authlib hook needs: the store, the keys, the faults and the issuer."""

    store: Store
    keys: KeyRing
    faults: Faults
    issuer: str = ""
    scopes: tuple[str, ...] = SCOPES
    auto_approve: bool = True
    code_lifetime: float = 60.0
    access_token_lifetime: int = 3600
    #: Set when the provider stops, so a delayed answer does not hold the server open.
    stopping: threading.Event = field(default_factory=threading.Event)

    def id_token(self, encoded: str, client: Client) -> str:
        """`encoded` as is, or re-signed with the ID-token faults applied."""
        faults = self.faults
        if not faults.id_token_tampered:
            return encoded
        payload = encoded.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return self.keys.sign(
            merge(claims, faults.id_token_claims),
            signing=faults.id_token_signing,
            header=faults.id_token_header,
            hmac_secret=client.registered.client_secret,
        )


def _ctx(grant: Any) -> Context:
    return grant.server.ctx  # type: ignore[no-any-return]


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """RFC 6749 2.3.1: id and secret are form-urlencoded, joined by ':', then base64."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    # Authlib's own decoder uses unquote, which leaves '+' (a form-encoded space) as '+'.
    return unquote_plus(client_id), unquote_plus(secret)


def _authenticate_basic(query_client: Any, request: OAuth2Request) -> Client | None:
    credentials = _basic_credentials(request.headers.get("Authorization"))
    if credentials is None or not all(credentials):
        return None
    client_id, secret = credentials
    client: Client | None = query_client(client_id)
    if client is None:
        raise InvalidClientError(
            status_code=401, description="The client does not exist on this server."
        )
    return client if client.check_client_secret(secret) else None


class _S256Only(CodeChallenge):  # type: ignore[misc]
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        # Without a method RFC 7636 means "plain", which this provider does not support.
        if data.get("code_challenge") and not data.get("code_challenge_method"):
            raise InvalidRequestError("Unsupported 'code_challenge_method': only S256.")


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    DEFAULT_RESPONSE_MODE = "query"

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        mode = self.request.payload.data.get("response_mode")
        if mode is not None and mode not in RESPONSE_MODES:
            raise InvalidRequestError(
                f"Unsupported response_mode {mode!r}: use query or form_post.",
                redirect_uri=redirect_uri,
                state=self.request.payload.state,
            )
        validate_form_post_redirect_uri(self, redirect_uri)
        return redirect_uri

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        _ctx(self).store.save_code(
            AuthorizationCode(
                code=code,
                client_id=request.client.client_id,
                user=request.user,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=int(time.time()),
                expires_at=time.time() + _ctx(self).code_lifetime,
            )
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        return _ctx(self).store.consume_code(code, client)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: the code was marked used when the token request presented it."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> ProviderUser:
        return authorization_code.user


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh returns a new refresh token

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        return _ctx(self).store.claim_refresh_token(refresh_token, self.request.client)

    def authenticate_user(self, refresh_token: Token) -> ProviderUser:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Nothing to do: the old refresh token was revoked when it was claimed."""


class _IDTokenSource:
    """What Authlib's ID-token code asks the provider: key, header, claims, user info."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def resolve_client_private_key(self, client: Client) -> Any:
        return self.ctx.keys.current

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": str(self.ctx.keys.current.kid)}

    def get_client_claims(self, client: Client) -> dict[str, str]:
        return {"iss": self.ctx.issuer, "aud": client.client_id, "azp": client.client_id}

    def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
        return UserInfo(user.user_info(scope))


class _OpenIDCode(_IDTokenSource, OpenIDCode):  # type: ignore[misc]
    def __init__(self, ctx: Context) -> None:
        _IDTokenSource.__init__(self, ctx)
        OpenIDCode.__init__(self, require_nonce=False)

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        # OpenID Connect leaves nonce replay checks to the client (which binds it to the
        # session); refusing reuse here would only make hand-written tests fail oddly.
        return False

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        return self.ctx.id_token(super().encode_id_token(token, request), request.client)


class _OpenIDRefresh(_IDTokenSource, OpenIDToken):  # type: ignore[misc]
    """ID tokens on refresh: no nonce, and the auth_time of the original login."""

    def get_compatible_claims(self, request: OAuth2Request) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_compatible_claims(request)
        claims["auth_time"] = request.refresh_token.auth_time
        return claims

    def encode_id_token(self, token: dict[str, Any], request: OAuth2Request) -> str:
        return self.ctx.id_token(super().encode_id_token(token, request), request.client)


class _UserInfo(UserInfoEndpoint):  # type: ignore[misc]
    def __init__(self, ctx: Context, protector: ResourceProtector) -> None:
        super().__init__(resource_protector=protector)
        self.ctx = ctx

    def generate_user_info(self, user: ProviderUser, scope: str) -> UserInfo:
        return UserInfo(merge(user.user_info(scope), self.ctx.faults.userinfo_claims))

    def get_issuer(self) -> str:
        return self.ctx.issuer

    def resolve_private_key(self) -> Any:
        return self.ctx.keys.current


class _AccessTokens(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.store.find_access_token(token_string)


class ProviderServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask authorization server with this provider's grants and endpoints."""

    def __init__(self, app: flask.Flask, ctx: Context) -> None:
        self.ctx = ctx
        app.config.update(OAUTH2_SCOPES_SUPPORTED=list(ctx.scopes))
        super().__init__(app, query_client=ctx.store.clients.get, save_token=self._save)
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                create_token_generator(True, 42),
                create_token_generator(True, 48),
                # Read on every token, so a test may shorten it on a running provider.
                lambda client, grant_type: ctx.access_token_lifetime,
            ),
        )
        self.register_client_auth_method("client_secret_basic", _authenticate_basic)
        self.register_grant(_CodeGrant, [_S256Only(required=True), _OpenIDCode(ctx)])
        self.register_grant(_RefreshGrant, [_OpenIDRefresh(ctx)])
        protector = ResourceProtector()
        protector.register_token_validator(_AccessTokens(ctx.store))
        self.register_endpoint(_UserInfo(ctx, protector))

    def _save(self, token: dict[str, Any], request: OAuth2Request) -> None:
        # The code grant sets authorization_code, the refresh grant refresh_token.
        origin: AuthorizationCode | Token = request.authorization_code or request.refresh_token
        self.ctx.store.save_token(
            Token(
                client=request.client,
                user=request.user,
                scope=token.get("scope", ""),
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                expires_in=int(token.get("expires_in", 0)),  # Authlib omits a lifetime of 0
                auth_time=origin.auth_time,
                # Tokens remember their code, so replaying it revokes every rotation too.
                code=origin.code,
            )
        )
