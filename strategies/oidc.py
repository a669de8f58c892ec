"""`OpenIDConnectStrategy`: "Log in with ..." any OpenID Connect provider.

The authorization code flow of `OAuth2Strategy` (state, PKCE, the token exchange), plus what
OpenID Connect adds: the provider's endpoints and keys are discovered from its issuer, every
authorization request carries a fresh `nonce`, the authorization response's `iss` is checked
(RFC 9207, the mix-up defence), and the ID token is validated in full before `verify` sees
the user, even though it came straight from the token endpoint.

    passport.use(OpenIDConnectStrategy(
        verify, issuer="https://accounts.example.com", client_id="...", client_secret="...",
        callback_url="/auth/example",
    ))

`verify(tokens, profile)` gets the `OAuth2Tokens` and an `OIDCProfile` whose `key`
(`(issuer, sub)`) is what to find the local account by: never the email.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest
from passport_py.strategies._fetch_cache import FetchCache
from passport_py.strategies._oauth2_errors import InternalOAuthError
from passport_py.strategies._oauth2_tokens import AuthMethod
from passport_py.strategies._oauth2_transactions import new_secret
from passport_py.strategies._oidc_discovery import (
    DiscoveryError,
    ProviderMetadata,
    discover,
    get_json,
)
from passport_py.strategies._oidc_id_token import (
    HMAC_KEY_BYTES,
    IdTokenRejected,
    IdTokenValidator,
    Messages,
    check_algorithms,
)
from passport_py.strategies._oidc_keys import ProviderKeys, UnknownKey
from passport_py.strategies._openapi_schemes import pkce_text
from passport_py.strategies.oauth2 import (
    OAuth2Strategy,
    OAuth2Tokens,
    ParamsHook,
    Profile,
    ProfileEmail,
    Verify,
    require_https,
)
from passport_py.transport import Transport

__all__ = [
    "MISSING_ISS",
    "USERINFO_SUB",
    "WRONG_ISS",
    "DiscoveryError",
    "IdTokenRejected",
    "Messages",
    "OAuth2Tokens",
    "OIDCProfile",
    "OpenIDConnectStrategy",
    "Profile",
    "ProfileEmail",
    "ProviderMetadata",
]

logger = logging.getLogger("passport_py.strategies.oidc")

#: ID token claims about the token itself: a userinfo response never overrides them.
_TOKEN_CLAIMS = frozenset(
    {"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "azp", "auth_time", "acr", "amr"}
    | {"at_hash", "c_hash", "sid", "jti"}
)

WRONG_ISS = "The authorization response is not from the expected OpenID provider."
"""The failure message when the authorization response's `iss` names another provider."""
MISSING_ISS = "The authorization response does not say which OpenID provider sent it (iss)."
"""The failure message when a provider that promised `iss` in its authorization responses
left it out.
"""
USERINFO_SUB = "The userinfo response is about another user than the ID token."
"""The failure message when the userinfo response's `sub` differs from the ID token's."""


@dataclass(frozen=True, slots=True)
class OIDCProfile(Profile):
    """A `Profile` built from OpenID Connect claims.

    `claims` are the validated ID token's claims as they came; `userinfo` the userinfo
    response (None unless `userinfo=True`). `raw` is the claims with the userinfo's profile
    claims laid over them.
    """

    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)
    userinfo: Mapping[str, Any] | None = field(default=None, repr=False)


class OpenIDConnectStrategy(OAuth2Strategy):
    """Authenticate with an OpenID Connect provider (Core 1.0, authorization code flow).

    `issuer` is the provider's issuer identifier exactly as its metadata writes it. The
    metadata (`discovery_url`, default `issuer + "/.well-known/openid-configuration"`) and the
    signing keys are fetched on the first login and cached. ID tokens are accepted only when
    signed with one of `id_token_signing_algs` (RS256 unless listed otherwise; HS* ones use
    the client secret as the key). `userinfo=True` also fetches the userinfo endpoint.
    `max_age`, `prompt`, `login_hint` and `acr_values` are sent with every authorization
    request, and may be set per route: `authenticate("openidconnect", prompt="login")`.
    A provider whose issuer is not one fixed string (a multi-tenant one) overrides
    `metadata_issuer()` and `expected_issuer(claims)`; the RFC 9207 check stays exact.
    Pending logins are kept in the session under `session_key` (default `oidc:<issuer>`).
    """

    name = "openidconnect"
    #: Seconds the signing keys are trusted before the next login refetches them (read when
    #: the strategy is built: set it on a subclass).
    jwks_max_age = 3600.0
    #: Shortest time between two key set refetches caused by an unknown `kid`; a failed fetch
    #: of the metadata or the keys is remembered for it, at most 5 seconds (read when the
    #: strategy is built).
    jwks_cooldown = 30.0

    def __init__(
        self,
        verify: Verify,
        *,
        issuer: str,
        client_id: str,
        client_secret: str | None = None,
        callback_url: str | None = None,
        trust_proxy: bool = False,
        scope: str | Sequence[str] = ("openid", "profile", "email"),
        id_token_signing_algs: Sequence[str] = ("RS256",),
        userinfo: bool = False,
        max_age: int | None = None,
        prompt: str | None = None,
        login_hint: str | None = None,
        acr_values: str | Sequence[str] | None = None,
        leeway: float = 60,
        pkce: bool = True,
        token_endpoint_auth_method: AuthMethod = "client_secret_basic",
        authorization_params: ParamsHook | None = None,
        token_params: ParamsHook | None = None,
        pass_request: bool = False,
        transport: Transport | None = None,
        timeout: float = 10.0,
        discovery_url: str | None = None,
        session_key: str | None = None,
        provider: str | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError(f"{type(self).__name__} requires issuer=")
        require_https(issuer, "issuer")
        if urlsplit(issuer).query or "#" in issuer:
            raise ConfigurationError(f"issuer={issuer!r} must not have a query or fragment")
        discovery_url = discovery_url or issuer.rstrip("/") + "/.well-known/openid-configuration"
        require_https(discovery_url, "discovery_url")
        # The endpoints are discovered (`endpoints()`), not configured.
        super().__init__(
            verify,
            client_id=client_id,
            client_secret=client_secret,
            callback_url=callback_url,
            trust_proxy=trust_proxy,
            scope=scope,
            pkce=pkce,
            token_endpoint_auth_method=token_endpoint_auth_method,
            authorization_params=authorization_params,
            token_params=token_params,
            pass_request=pass_request,
            session_key=session_key or f"oidc:{issuer}",
            timeout=timeout,
            transport=transport,
            name=name,
        )
        self.scope_string(scope)  # a scope that is not text fails here, not on the first login
        self.issuer = issuer
        self.discovery_url = discovery_url
        self.id_token_signing_algs = check_algorithms(id_token_signing_algs, client_secret)
        if isinstance(leeway, bool) or not isinstance(leeway, int | float) or leeway < 0:
            raise ConfigurationError("leeway= must be a number of seconds, zero or more")
        self.leeway = float(leeway)
        self.userinfo = bool(userinfo)
        self.max_age = _check_max_age(max_age)
        self.prompt = prompt
        self.login_hint = login_hint
        self.acr_values = acr_values
        self.provider = provider
        self._metadata = FetchCache(self._discover, cooldown=self.jwks_cooldown)
        self._keys = ProviderKeys(
            self._fetch_keys, max_age=self.jwks_max_age, cooldown=self.jwks_cooldown
        )
        hmac_key = None
        if self.id_token_signing_algs[0] in HMAC_KEY_BYTES:
            hmac_key = str(client_secret).encode("utf-8")
        self._validator = IdTokenValidator(
            issuer=self.expected_issuer,
            client_id=client_id,
            algorithms=self.id_token_signing_algs,
            leeway=self.leeway,
            keys=self._signing_key,
            secret=hmac_key,
        )

    # -- which issuer ------------------------------------------------------------------------

    def metadata_issuer(self) -> str:
        """The issuer the discovery document must name, exactly: `issuer` unless a subclass
        knows better (a multi-tenant provider's document names a template)."""
        return self.issuer

    def expected_issuer(self, claims: Mapping[str, Any]) -> str:
        """The exact `iss` an ID token with these claims must carry: `issuer` unless a
        subclass knows better. Called after the signature check, before any other claim is
        checked; an override may raise `IdTokenRejected` (a 403) for claims it refuses."""
        return self.issuer

    # -- discovery and keys ------------------------------------------------------------------

    async def metadata(self) -> ProviderMetadata:
        """The provider's metadata: fetched and validated on first use (one fetch for all the
        logins that need it meanwhile), then cached.

        Raises `DiscoveryError` (answered with 502) when it cannot be fetched or is not the
        configured issuer's; the failure is remembered for `jwks_cooldown` seconds (at most
        5), then the next login tries again.
        """
        metadata, _ = await self._metadata.get()
        return metadata

    async def _discover(self) -> ProviderMetadata:
        return await discover(
            self.transport, self.discovery_url, self.metadata_issuer(), timeout=self.timeout
        )

    async def endpoints(self) -> tuple[str, str]:
        """The discovered authorization and token endpoints."""
        metadata = await self.metadata()
        return metadata.authorization_endpoint, metadata.token_endpoint

    async def _signing_key(self, kid: str | None, alg: str) -> Any:
        try:
            return await self._keys.key_for(kid, alg)
        except UnknownKey:
            raise IdTokenRejected(Messages.UNKNOWN_KEY) from None

    async def _fetch_keys(self) -> Mapping[str, Any]:
        metadata = await self.metadata()
        return await get_json(
            self.transport, metadata.jwks_uri, what="the provider's keys", timeout=self.timeout
        )

    def openapi_scheme(self) -> dict[str, Any] | None:
        """`{"type": "openIdConnect", "openIdConnectUrl": <discovery_url>}`: API docs read
        the endpoints and scopes from the provider's metadata. PKCE is named in the
        description."""
        return {
            "type": "openIdConnect",
            "openIdConnectUrl": self.discovery_url,
            "description": f"OpenID Connect authorization code flow{pkce_text(self.pkce)}.",
        }

    # -- the authorization request -----------------------------------------------------------

    def scope_string(self, scope: str | Sequence[str] | None) -> str | None:
        """The scope as sent: always `openid` first, then the others once each."""
        names = scope.split() if isinstance(scope, str) else list(scope or ())
        if not all(isinstance(n, str) for n in names):
            raise ConfigurationError(f"scope={scope!r} must be a string or a list of strings")
        return " ".join(dict.fromkeys(["openid", *names]))

    def authorization_params(self, options: AuthenticateOptions) -> Mapping[str, str]:
        """The app's own parameters, then `prompt`, `login_hint` and `acr_values`."""
        params = dict(super().authorization_params(options))
        for name in ("prompt", "login_hint", "acr_values"):
            value = options.get(name, getattr(self, name))
            if value is None:
                continue
            if not isinstance(value, str):
                if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
                    raise ConfigurationError(f"{name}={value!r} must be a string")
                value = " ".join(value)
            params[name] = value
        return params

    def new_transaction(self, options: AuthenticateOptions) -> Mapping[str, Any]:
        """The nonce, the issuer, whether it sends `iss` (RFC 9207) and the `max_age` asked."""
        metadata = self._metadata.cached  # fetched by endpoints() just before
        transaction: dict[str, Any] = {
            "nonce": new_secret(),
            "issuer": self.issuer,
            "iss_required": bool(metadata and metadata.iss_parameter_supported),
        }
        max_age = _check_max_age(options.get("max_age", self.max_age))
        if max_age is not None:
            transaction["max_age"] = max_age
        return transaction

    def transaction_params(self, transaction: Mapping[str, Any]) -> list[tuple[str, str]]:
        """`nonce` (always) and `max_age` (when asked) for the authorization request."""
        params = [("nonce", str(transaction["nonce"]))]
        if transaction.get("max_age") is not None:
            params.append(("max_age", str(transaction["max_age"])))
        return params

    # -- the callback ------------------------------------------------------------------------

    def check_response(
        self, params: Mapping[str, str], transaction: Mapping[str, Any]
    ) -> Outcome | None:
        """RFC 9207: an `iss` parameter must be this issuer, compared as a plain string (it
        was decoded once with the query); it must be present when the provider said it
        always sends one. Checked for error responses too, before any token request."""
        if transaction.get("issuer") != self.issuer:
            return self.fail({"message": WRONG_ISS}, 403)
        iss = params.get("iss")
        if iss is None:
            # Required if the provider advertised it when the login started or does now.
            metadata = self._metadata.cached
            if transaction.get("iss_required") or (metadata and metadata.iss_parameter_supported):
                return self.fail({"message": MISSING_ISS}, 403)
            return None
        if iss != self.issuer:
            return self.fail({"message": WRONG_ISS}, 403)
        return None

    async def complete(
        self, request: AuthRequest, tokens: OAuth2Tokens, transaction: Mapping[str, Any]
    ) -> Outcome:
        """Validate the ID token, fetch userinfo if asked, build the profile, ask verify."""
        if tokens.id_token is None:
            raise InternalOAuthError("ID token not present in token response")
        nonce = transaction.get("nonce")
        max_age = transaction.get("max_age")
        try:
            claims = await self.validate_id_token(
                tokens.id_token,
                nonce=nonce if isinstance(nonce, str) else None,
                max_age=max_age if isinstance(max_age, int) else None,
            )
        except IdTokenRejected as exc:
            # The provider's own answer failed validation: a misconfiguration (client id,
            # issuer, algorithms) or an attack; either way the operator wants to know.
            logger.warning("oidc_id_token_rejected: %s: %s", self.issuer, exc.message)
            return self.fail({"message": exc.message}, 403)
        userinfo = None
        if self.userinfo:
            userinfo = await self.fetch_userinfo(tokens)
            # OpenID Connect Core 5.3.2: a response about another user is not used at all.
            if userinfo.get("sub") != claims["sub"]:
                return self.fail({"message": USERINFO_SUB}, 403)
        return await self.call_verify(request, tokens, self.build_profile(claims, userinfo))

    async def validate_id_token(
        self, id_token: str, *, nonce: str | None, max_age: int | None = None
    ) -> dict[str, Any]:
        """The claims of a valid ID token for the login whose `nonce` (and `max_age`) is
        given; `IdTokenRejected` (a 403) or `InternalOAuthError` (keys unavailable, 502)."""
        return await self._validator.validate(id_token, nonce=nonce, max_age=max_age)

    async def fetch_userinfo(self, tokens: OAuth2Tokens) -> dict[str, Any]:
        """The userinfo response (a JSON object), or `InternalOAuthError` (502)."""
        endpoint = (await self.metadata()).userinfo_endpoint
        if endpoint is None:
            raise InternalOAuthError(
                f"The OpenID provider {self.issuer} publishes no userinfo_endpoint; "
                "use userinfo=False"
            )
        document = await self.fetch_json(endpoint, tokens, what="user info")
        if not isinstance(document, dict):
            raise InternalOAuthError("Failed to parse user info: not a JSON object")
        return document

    def build_profile(
        self, claims: Mapping[str, Any], userinfo: Mapping[str, Any] | None = None
    ) -> OIDCProfile:
        """The `OIDCProfile` for validated `claims` (and the userinfo response, if fetched).
        Provider presets override this to read claims of their own."""
        raw = dict(claims)
        if userinfo is not None:
            if "email" in userinfo:
                # The address and whether it is verified come from the same document.
                raw.pop("email_verified", None)
            raw.update((k, v) for k, v in userinfo.items() if k not in _TOKEN_CLAIMS)
        email = _text(raw.get("email"))
        picture = _text(raw.get("picture"))
        return OIDCProfile(
            provider=self.provider or self.name,
            id=str(claims["sub"]),
            issuer=str(claims["iss"]),
            username=_text(raw.get("preferred_username")),
            display_name=_text(raw.get("name")),
            emails=(ProfileEmail(email, verified=raw.get("email_verified") is True),)
            if email
            else (),
            photos=(picture,) if picture else (),
            raw=raw,
            claims=dict(claims),
            userinfo=dict(userinfo) if userinfo is not None else None,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _check_max_age(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"max_age={value!r} must be a whole number of seconds, or None")
    return value
