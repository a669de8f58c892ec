"""`OAuth2Strategy`: "Log in with ..." through the OAuth 2.0 authorization code flow.

The base of every provider strategy (GitHub, Discord, ...) and of `OpenIDConnectStrategy`.
One route serves both halves of the dance: a request without `code` or `error` is sent to the
provider; the provider sends the user back to the same route with them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge

from passport_py._async import call, maybe_await
from passport_py._redaction import provider_text
from passport_py.errors import BadRequest, ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome, Success, outcome_from_verify
from passport_py.request import AuthRequest, is_cross_site
from passport_py.strategies._oauth2_errors import (
    AuthorizationError,
    InternalOAuthError,
    TokenError,
)
from passport_py.strategies._oauth2_profile import Profile, ProfileEmail
from passport_py.strategies._oauth2_request import (
    callback_params,
    check_callback_url,
    forwarded_base,
    get_document,
    merge_query,
    require_https,
)
from passport_py.strategies._oauth2_tokens import AuthMethod, OAuth2Tokens, request_tokens
from passport_py.strategies._oauth2_transactions import (
    begin_transaction,
    consume_transaction,
    new_secret,
)
from passport_py.strategies._openapi_schemes import pkce_text, scope_names
from passport_py.strategy import Strategy
from passport_py.transport import Transport

__all__ = [
    "CODE_REFUSED",
    "AuthorizationError",
    "InternalOAuthError",
    "OAuth2Strategy",
    "OAuth2Tokens",
    "Profile",
    "ProfileEmail",
    "TokenError",
    "merge_query",
    "require_https",
]

logger = logging.getLogger("passport_py.strategies.oauth2")

Verify = Callable[..., Any]
ParamsHook = Callable[[AuthenticateOptions], Mapping[str, str]]
ProfileHook = Callable[[OAuth2Tokens], Any]
SkipProfile = bool | Callable[[OAuth2Tokens], bool | Awaitable[bool]]

#: Longest authorization code accepted (Microsoft's run to about 1,500 characters).
MAX_CODE_LENGTH = 4096

CODE_REFUSED = (
    "The provider refused the authorization code (it expired, was used already, or belongs "
    "to another login); please log in again."
)
"""The failure message when the provider's token endpoint refuses the authorization code."""


class OAuth2Strategy(Strategy):
    """Authenticate with an OAuth 2.0 provider (authorization code flow, RFC 6749).

    `verify(tokens, profile)` (or `verify(request, tokens, profile)` with `pass_request=True`)
    gets the `OAuth2Tokens` and the profile (`user_profile`'s result, None when skipped) and
    returns the user, None/False, `Verified` or `Rejected`. State is always sent and checked;
    PKCE (S256) is on unless `pkce=False`. Subclasses override `authorization_params`,
    `token_params` and `user_profile`; the keyword arguments of the same names do the same
    for one instance.
    """

    name = "oauth2"
    #: Token endpoint errors that refuse this code (swapped, expired, replayed, or sent with
    #: another login's PKCE verifier): the user's request failed, not the app, so the login
    #: fails with 403 `CODE_REFUSED` instead of raising `TokenError`.
    refused_code_errors: frozenset[str] = frozenset({"invalid_grant"})

    def __init__(
        self,
        verify: Verify,
        *,
        authorization_url: str | None = None,
        token_url: str | None = None,
        client_id: str,
        client_secret: str | None = None,
        callback_url: str | None = None,
        trust_proxy: bool = False,
        scope: str | Sequence[str] | None = None,
        scope_separator: str = " ",
        pkce: bool | Literal["S256"] = True,
        token_endpoint_auth_method: AuthMethod = "client_secret_basic",
        authorization_params: ParamsHook | None = None,
        token_params: ParamsHook | None = None,
        user_profile: ProfileHook | None = None,
        skip_user_profile: SkipProfile = False,
        pass_request: bool = False,
        session_key: str | None = None,
        state_max_age: float = 600.0,
        timeout: float = 10.0,
        transport: Transport | None = None,
        name: str | None = None,
    ) -> None:
        if not callable(verify):
            raise TypeError(f"{type(self).__name__} requires a verify callable")
        # A subclass that finds its endpoints itself (OpenID Connect discovery) overrides
        # `endpoints()` and passes neither URL.
        discovers = type(self).endpoints is not OAuth2Strategy.endpoints
        required: list[tuple[str, str | None]] = [("client_id", client_id)]
        if not discovers:
            required += [("authorization_url", authorization_url), ("token_url", token_url)]
        for option, value in required:
            if not isinstance(value, str) or not value:
                raise ConfigurationError(f"{type(self).__name__} requires {option}=")
        if pkce not in (True, False, "S256"):
            # RFC 7636 4.2 / RFC 9700 2.1.1: S256 only; "plain" protects nothing.
            raise ConfigurationError(f"pkce={pkce!r}: use True (S256, the default) or False")
        if token_endpoint_auth_method not in ("client_secret_basic", "client_secret_post", "none"):
            raise ConfigurationError(
                f"token_endpoint_auth_method={token_endpoint_auth_method!r}: use "
                "'client_secret_basic', 'client_secret_post' or 'none'"
            )
        if token_endpoint_auth_method != "none" and not client_secret:
            raise ConfigurationError(
                f"{type(self).__name__} needs client_secret= with "
                f"token_endpoint_auth_method={token_endpoint_auth_method!r} (a public client "
                "without a secret uses token_endpoint_auth_method='none')"
            )
        if not pkce:
            # RFC 9700 2.1.1: PKCE is recommended for confidential clients too.
            logger.warning("%s: PKCE is turned off (pkce=False)", type(self).__name__)
        for option, url in (("authorization_url", authorization_url), ("token_url", token_url)):
            if url is not None:
                require_https(url, option)
        if session_key is None and authorization_url is None:
            raise ConfigurationError(f"{type(self).__name__} requires session_key=")
        if callback_url is not None:
            check_callback_url(callback_url)
        self.verify = verify
        self.authorization_url = authorization_url
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.callback_url = callback_url
        self.trust_proxy = trust_proxy
        self.scope = scope
        self.scope_separator = scope_separator
        self.pkce = bool(pkce)
        self.token_endpoint_auth_method: AuthMethod = token_endpoint_auth_method
        self._authorization_params = authorization_params
        self._token_params = token_params
        self._user_profile = user_profile
        self.skip_user_profile = skip_user_profile
        self.pass_request = pass_request
        self.session_key = session_key or f"oauth2:{urlsplit(authorization_url or '').netloc}"
        self.state_max_age = state_max_age
        self.timeout = timeout
        self._transport = transport
        if name is not None:
            self.name = name

    # -- hooks -------------------------------------------------------------------------------

    def authorization_params(self, options: AuthenticateOptions) -> Mapping[str, str]:
        """Extra parameters for the authorization request (`prompt`, `login_hint`, ...)."""
        return self._authorization_params(options) if self._authorization_params else {}

    def token_params(self, options: AuthenticateOptions) -> Mapping[str, str]:
        """Extra parameters for the token request."""
        return self._token_params(options) if self._token_params else {}

    async def user_profile(self, tokens: OAuth2Tokens) -> Any:
        """The user's profile (a `Profile` for the providers); None in the base class."""
        if self._user_profile is None:
            return None
        return await maybe_await(self._user_profile(tokens))

    @property
    def transport(self) -> Transport:
        """The HTTP client for the provider's endpoints (httpx2 unless one was given)."""
        if self._transport is None:
            from passport_py.httpx2_transport import default_oauth_transport

            self._transport = default_oauth_transport()
        return self._transport

    async def fetch_json(
        self,
        url: str,
        tokens: OAuth2Tokens,
        *,
        headers: Mapping[str, str] | None = None,
        what: str = "user profile",
    ) -> Any:
        """GET `url` with the access token; the JSON document, or `InternalOAuthError`."""
        return await get_document(
            self.transport,
            url,
            what=what,
            timeout=self.timeout,
            headers={**(headers or {}), "Authorization": f"Bearer {tokens.access_token}"},
        )

    # -- the dance ---------------------------------------------------------------------------

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Send the user to the provider, or finish the login the provider sent back."""
        params = await callback_params(request)
        if "error" in params:
            return await self._provider_error(request, options, params)
        if "code" in params:
            return await self._callback(request, options, params)
        return await self._start(request, options)

    async def _start(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        if options.assign_property and is_cross_site(request):
            # Another site must not make a logged-in user link an account it chose (login CSRF
            # of account linking, OmniAuth CVE-2015-9284).
            return self.fail({"message": "Cross-site account linking refused"}, 403)
        authorization_url, _ = await self.endpoints()
        redirect_uri = self._redirect_uri(request, options)
        transaction: dict[str, Any] = self._binding(authorization_url, options)
        if redirect_uri is not None:
            transaction["redirect_uri"] = redirect_uri
        verifier = new_secret() if self.pkce else None
        if verifier is not None:
            transaction["verifier"] = verifier
        app_state = options.get("state")
        if app_state is not None:
            transaction["app_state"] = app_state
        transaction.update(self.new_transaction(options))
        state = begin_transaction(request, self.session_key, transaction)

        query: list[tuple[str, str]] = list(self.authorization_params(options).items())
        query.append(("response_type", "code"))
        if redirect_uri is not None:
            query.append(("redirect_uri", redirect_uri))
        scope = self.scope_string(options.get("scope", self.scope))
        if scope:
            query.append(("scope", scope))
        if verifier is not None:
            query.append(("code_challenge", create_s256_code_challenge(verifier)))
            query.append(("code_challenge_method", "S256"))
        query.extend(self.transaction_params(transaction))
        query.append(("state", state))
        query.append(("client_id", self.client_id))
        return self.redirect(merge_query(authorization_url, query))

    async def _provider_error(
        self, request: AuthRequest, options: AuthenticateOptions, params: Mapping[str, str]
    ) -> Outcome:
        # The state is checked first: an error response is the provider's answer only to a
        # request this user agent started (and it ends that request).
        transaction = await self._consume(request, options, params)
        if not isinstance(transaction, dict):
            return transaction
        refused = self.check_response(params, transaction)
        if refused is not None:
            return refused
        error = provider_text(params["error"], 80)
        description = params.get("error_description")
        message = provider_text(description) if description else None
        if error == "access_denied":
            return self.fail({"message": message})
        uri = params.get("error_uri")
        raise AuthorizationError(message, error, provider_text(uri) if uri else None)

    async def _callback(
        self, request: AuthRequest, options: AuthenticateOptions, params: Mapping[str, str]
    ) -> Outcome:
        transaction = await self._consume(request, options, params)
        if not isinstance(transaction, dict):
            return transaction
        code = params["code"]
        if not 0 < len(code) <= MAX_CODE_LENGTH or not all(" " <= c <= "~" for c in code):
            raise BadRequest("Malformed authorization response: the code is not a valid code")
        refused = self.check_response(params, transaction)
        if refused is not None:
            return refused
        _, token_url = await self.endpoints()
        body = [("grant_type", "authorization_code"), ("code", code)]
        if "redirect_uri" in transaction:
            body.append(("redirect_uri", str(transaction["redirect_uri"])))
        if "verifier" in transaction:
            body.append(("code_verifier", str(transaction["verifier"])))
        body.extend(self.token_params(options).items())
        try:
            tokens = await request_tokens(
                self.transport,
                token_url,
                body,
                client_id=self.client_id,
                client_secret=self.client_secret,
                auth_method=self.token_endpoint_auth_method,
                timeout=self.timeout,
            )
        except TokenError as exc:
            if exc.code not in self.refused_code_errors:
                raise
            # A client-side failure like a replayed state: the browser may try again, the
            # operator sees why (RFC 6749 5.2, security 2.2).
            logger.warning("oauth2_code_refused: %s: %s", type(self).__name__, exc.message)
            return self.fail({"message": CODE_REFUSED}, 403)
        outcome = await self.complete(request, tokens, transaction)
        app_state = transaction.get("app_state")
        if app_state is not None and type(outcome) is Success:
            info = outcome.info if isinstance(outcome.info, Mapping) else {}
            outcome = replace(outcome, info={**info, "state": app_state})
        return outcome

    async def _consume(
        self, request: AuthRequest, options: AuthenticateOptions, params: Mapping[str, str]
    ) -> dict[str, Any] | Outcome:
        authorization_url, _ = await self.endpoints()
        return consume_transaction(
            request,
            self.session_key,
            params.get("state"),
            self.state_max_age,
            self._binding(authorization_url, options),
        )

    def _binding(self, authorization_url: str, options: AuthenticateOptions) -> dict[str, Any]:
        # What ties a transaction to the route that started it: another client of the same
        # provider, another registration of this client (a step-up with max_age=0, linking)
        # or the same registration used to link rather than log in shares the session key
        # but cannot finish it. The registered name, not the class's: several registrations
        # of one class share `self.name`.
        return {
            "provider": authorization_url,
            "client_id": self.client_id,
            "strategy": options.strategy_name or self.name,
            "link": bool(options.assign_property),
        }

    async def complete(
        self, request: AuthRequest, tokens: OAuth2Tokens, transaction: Mapping[str, Any]
    ) -> Outcome:
        """With the tokens granted: load the profile (unless skipped) and ask verify."""
        profile = None if await self._skip_profile(tokens) else await self.user_profile(tokens)
        return await self.call_verify(request, tokens, profile)

    async def call_verify(
        self, request: AuthRequest, tokens: OAuth2Tokens, profile: Any
    ) -> Outcome:
        """`verify(tokens, profile)` (the request first with `pass_request`) as an outcome."""
        if self.pass_request:
            result = await call(self.verify, request, tokens, profile)
        else:
            result = await call(self.verify, tokens, profile)
        return outcome_from_verify(result)

    async def _skip_profile(self, tokens: OAuth2Tokens) -> bool:
        skip = self.skip_user_profile
        if callable(skip):
            return bool(await call(skip, tokens))
        return bool(skip)

    def openapi_scheme(self) -> dict[str, Any] | None:
        """An `oauth2` scheme with the `authorizationCode` flow: this instance's endpoints and
        scopes (each with an empty description), PKCE named in the description. Never the
        password flow. None when the endpoints are found at run time (`endpoints()`)."""
        if self.authorization_url is None or self.token_url is None:
            return None
        flow = {
            "authorizationUrl": self.authorization_url,
            "tokenUrl": self.token_url,
            "scopes": dict.fromkeys(scope_names(self.scope, self.scope_separator), ""),
        }
        return {
            "type": "oauth2",
            "description": f"OAuth 2.0 authorization code flow{pkce_text(self.pkce)}.",
            "flows": {"authorizationCode": flow},
        }

    # -- hooks for OpenID Connect ------------------------------------------------------------

    async def endpoints(self) -> tuple[str, str]:
        """The authorization and token endpoints (OpenID Connect discovers them)."""
        # Both are set: __init__ requires them unless a subclass overrides this method.
        assert self.authorization_url is not None and self.token_url is not None
        return self.authorization_url, self.token_url

    def new_transaction(self, options: AuthenticateOptions) -> Mapping[str, Any]:
        """More to keep with a new authorization request (OpenID Connect: the nonce)."""
        return {}

    def transaction_params(self, transaction: Mapping[str, Any]) -> list[tuple[str, str]]:
        """Authorization request parameters taken from the transaction (the nonce)."""
        return []

    def check_response(
        self, params: Mapping[str, str], transaction: Mapping[str, Any]
    ) -> Outcome | None:
        """A failure for an authorization response this client must not use, else None
        (OpenID Connect checks RFC 9207's `iss` here, before any token request)."""
        return None

    # -- helpers -----------------------------------------------------------------------------

    def scope_string(self, scope: str | Sequence[str] | None) -> str | None:
        """`scope` as sent: a list joined with `scope_separator`."""
        if scope is None or isinstance(scope, str):
            return scope or None
        return self.scope_separator.join(scope) or None

    def _redirect_uri(self, request: AuthRequest, options: AuthenticateOptions) -> str | None:
        url = options.get("callback_url", self.callback_url)
        if url is None:
            return None
        url = str(url)
        if urlsplit(url).scheme:
            return url
        base = request.url
        if self.trust_proxy:
            base = forwarded_base(request, base)
        return urljoin(base, url)
