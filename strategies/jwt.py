"""`JwtStrategy`: a JSON Web Token (RFC 7519) verified with PyJWT, as passport-jwt does.

The token comes from an extractor (by default `Authorization: Bearer <token>`), is checked
(size, compact form, header, allowed algorithm, signature, time claims, exact issuer and
audience) and its claims go to `verify(claims)`, which returns the user. Keys come from one
source: a static `key`, a `key_provider(header, claims)`, or a JWKS URL (fetched through
`passport_py.transport`, one fetch at a time, `_jwt_jwks.py`). Every refused token is a 401 with
`WWW-Authenticate: Bearer realm="...", error="invalid_token", error_description="..."` (texts
in `Reason`); no token is a 401 with `Bearer realm="..."` alone. docs/jwt.md has the details
and the differences from passport-jwt; tests/test_jwt_strategy.py maps passport-jwt's tests
J1-J53, its docstring listing the adapted and not applicable ones with their reasons.
"""

from __future__ import annotations

import copy
import inspect
import logging
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from types import CoroutineType
from typing import Any, TypeAlias

from passport_py._extras import install_hint

try:
    import jwt as _pyjwt  # noqa: F401 - fails early with the extra to install
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"passport_py.strategies.jwt needs PyJWT: {install_hint('jwt')}") from exc

from jwt.exceptions import InvalidKeyError, PyJWTError

from passport_py._async import call, maybe_await
from passport_py.errors import BadRequest, ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome, Rejected, outcome_from_verify
from passport_py.request import AuthRequest
from passport_py.strategies._bearer_answers import BearerAnswers
from passport_py.strategies._jwt_extractors import (
    Extractor,
    TokenExtractor,
    from_auth_header_as_bearer_token,
    from_auth_header_with_scheme,
    from_body_field,
    from_cookie,
    from_extractors,
    from_header,
    from_query,
)
from passport_py.strategies._jwt_jwks import JwksKeys
from passport_py.strategies._jwt_keys import (
    Decoder,
    HeaderReader,
    Reason,
    TokenRejected,
    check_algorithms,
    describe,
    prepare_key,
    unverified_claims,
)
from passport_py.strategies._oauth2_request import require_https
from passport_py.strategy import Strategy
from passport_py.transport import Transport, default_transport

__all__ = [
    "Extractor",
    "JwtStrategy",
    "Reason",
    "TokenExtractor",
    "from_auth_header_as_bearer_token",
    "from_auth_header_with_scheme",
    "from_body_field",
    "from_cookie",
    "from_extractors",
    "from_header",
    "from_query",
]

logger = logging.getLogger("passport_py.strategies.jwt")

Verify = Callable[..., Any | Awaitable[Any]]
KeyProvider: TypeAlias = Callable[[dict[str, Any], dict[str, Any]], Any]

# header.payload.signature, base64url without padding: anything else (JSON serialisation, JWE's
# five parts, whitespace, "+/=") is refused before the signature or payload is decoded.
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def _names(value: str | Sequence[str] | None, option: str) -> frozenset[str] | None:
    if value is None:
        return None
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigurationError(f"JwtStrategy {option}= takes a non-empty string or list of them")
    return frozenset(names)


class JwtStrategy(Strategy):
    """Authenticate with a JWT; `verify(claims)` (or `verify(request, claims)` with
    `pass_request=True`), sync or async, returns the user, None/False, `Verified` or `Rejected`.

    `algorithms` is required. Give exactly one of `key` (secret or public key), `key_provider`
    (`(header, claims) -> key`, sync or async, called before the signature is checked) or
    `jwks_url` (with `issuer`). `issuer` and `audience` take a string or a list; `leeway` is in
    seconds; `required_claims` must be present. Tokens longer than `max_token_length` are
    refused before decoding.
    """

    name = "jwt"

    def __init__(
        self,
        verify: Verify,
        *,
        algorithms: Sequence[str],
        key: Any = None,
        key_provider: KeyProvider | None = None,
        jwks_url: str | None = None,
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        allow_extra_audiences: bool = False,
        leeway: float | timedelta = 0,
        required_claims: Sequence[str] = (),
        extractor: Extractor | None = None,
        pass_request: bool = False,
        realm: str = "Users",
        max_token_length: int = 8192,
        jwks_lifespan: float = 300.0,
        jwks_cooldown: float = 30.0,
        jwks_timeout: float = 5.0,
        transport: Transport | None = None,
    ) -> None:
        if not callable(verify):
            raise TypeError("JwtStrategy requires a verify callable")
        extractor = from_auth_header_as_bearer_token() if extractor is None else extractor
        if not callable(extractor):
            raise TypeError("JwtStrategy requires an extractor callable (see from_header(...))")
        self.algorithms = check_algorithms(algorithms)
        sources = [n for n, v in (("key", key), ("key_provider", key_provider)) if v is not None]
        sources += ["jwks_url"] if jwks_url is not None else []
        if len(sources) != 1:
            raise ConfigurationError(
                "JwtStrategy needs exactly one key source: key= (a secret or public key), "
                "key_provider= (a function of the token's header and claims) or jwks_url= "
                f"(the issuer's JWKS); got {', '.join(sources) or 'none'}"
            )
        if key_provider is not None and not callable(key_provider):
            raise TypeError("JwtStrategy key_provider= must be callable")
        self.verify = verify
        self.extractor = extractor
        self.issuers = _names(issuer, "issuer")
        self.audiences = _names(audience, "audience")
        self.allow_extra_audiences = allow_extra_audiences
        self.leeway = leeway.total_seconds() if isinstance(leeway, timedelta) else float(leeway)
        if self.leeway < 0:
            raise ConfigurationError("JwtStrategy leeway= must be zero or more seconds")
        self.required_claims = tuple(required_claims)
        self.pass_request = pass_request
        self.realm = realm
        self.max_token_length = max_token_length
        self.key_provider = key_provider
        self._key = None if key is None else prepare_key(key, self.algorithms)
        self._read_header = HeaderReader(frozenset(self.algorithms))
        self._decoder = Decoder(self.algorithms, self.required_claims)
        self._jwks = None
        if jwks_url is not None:
            self._jwks = self._jwks_keys(
                jwks_url, transport, jwks_lifespan, jwks_cooldown, jwks_timeout
            )
        self.answers = BearerAnswers(realm)
        # The headers to name in `Vary` are the extractor's.
        self.vary = tuple(getattr(extractor, "vary", ()))

    def _jwks_keys(
        self,
        url: str,
        transport: Transport | None,
        lifespan: float,
        cooldown: float,
        timeout: float,
    ) -> JwksKeys:
        if self.algorithms[0].startswith("HS"):
            raise ConfigurationError(
                "JwtStrategy jwks_url= publishes public keys; HMAC algorithms need key="
            )
        # Keys fetched in the clear could be swapped on the way: the same rule as OpenID
        # Connect's discovery and keys.
        require_https(url, "JwtStrategy jwks_url")
        if self.issuers is None:
            raise ConfigurationError(
                "JwtStrategy jwks_url= needs issuer=, the iss its keys sign for (RFC 8725 §3.8)"
            )
        if not (0 < lifespan < math.inf and 0 < timeout < math.inf):
            raise ConfigurationError(
                "JwtStrategy jwks_lifespan= and jwks_timeout= must be seconds, more than zero"
            )
        if not 0 <= cooldown < math.inf:
            raise ConfigurationError("JwtStrategy jwks_cooldown= must be seconds, zero or more")
        return JwksKeys(
            url,
            transport or default_transport(),
            lifespan=lifespan,
            cooldown=cooldown,
            timeout=timeout,
        )

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Extract the token, check it, and ask `verify` for the user."""
        try:
            token = self.extractor(request)
            if token is not None and type(token) is not str:
                token = await maybe_await(token)
        except BadRequest as exc:
            return self.answers.bad_request(exc)
        if token is None or token == "":
            return self.answers.no_token
        if type(token) is not str:
            raise TypeError(f"JWT extractor {self.extractor!r} returned {type(token).__name__}")
        try:
            claims = await self.decode(token)
        except TokenRejected as exc:
            return self.answers.invalid_token(exc.description)
        result = self.verify(request, claims) if self.pass_request else self.verify(claims)
        if type(result) is CoroutineType or inspect.isawaitable(result):
            result = await result
        if result is None or result is False:
            return self.answers.invalid_token(Reason.NOT_ACCEPTED)
        if isinstance(result, Rejected):
            return self.answers.rejected(result, Reason.NOT_ACCEPTED)
        return outcome_from_verify(result)

    def openapi_scheme(self) -> dict[str, Any] | None:
        """Where the extractor looks, as an OpenAPI scheme: `{"type": "http", "scheme":
        "bearer", "bearerFormat": "JWT"}` by default, `apiKey` for a header, query parameter or
        cookie. None (left out of API docs) for an extractor OpenAPI cannot describe: a body
        field, or a function of your own (override this method to describe it)."""
        found = getattr(self.extractor, "openapi", None)
        if not isinstance(found, dict):
            return None
        scheme = copy.deepcopy(found)
        if scheme["type"] == "http" and scheme["scheme"] == "bearer":
            scheme["bearerFormat"] = "JWT"
        notes = [f"A JSON Web Token signed with {', '.join(self.algorithms)}."]
        if self.issuers:
            notes.append(f"Issued by {', '.join(sorted(self.issuers))}.")
        if scheme.get("description"):
            notes.append(scheme["description"])
        scheme["description"] = " ".join(notes)
        return scheme

    async def decode(self, token: str) -> dict[str, Any]:
        """The verified claims of `token`, or `TokenRejected` saying why not."""
        if len(token) > self.max_token_length:
            raise TokenRejected(Reason.TOO_LONG)
        if token.count(".") != 2:
            raise TokenRejected(Reason.MALFORMED)
        # The header first: an unsecured token (`alg: none`, empty signature) is refused for
        # its algorithm, not for its shape.
        header = self._read_header(token)
        if _COMPACT.fullmatch(token) is None:
            raise TokenRejected(Reason.MALFORMED)
        key = self._key
        if key is None:
            key = await self._resolve_key(header, token)
        try:
            claims: dict[str, Any] = self._decoder.decode_complete(
                token, key, self.algorithms, leeway=self.leeway
            )["payload"]
        except InvalidKeyError as exc:
            # A provided key of the wrong type or size: the app's keys need attention.
            logger.warning("jwt_unusable_key: %s", str(exc)[:200])
            raise TokenRejected(Reason.UNUSABLE_KEY) from None
        except PyJWTError as exc:
            raise TokenRejected(describe(exc)) from None
        self._check_issuer(claims)
        self._check_audience(claims)
        return claims

    async def _resolve_key(self, header: dict[str, Any], token: str) -> Any:
        claims = unverified_claims(token)
        if self._jwks is not None:
            kid = header.get("kid")
            if kid is None:
                raise TokenRejected(Reason.NO_KID)
            # The JWKS holds one issuer's keys: another issuer's token never causes a fetch.
            self._check_issuer(claims)
            return await self._jwks.signing_key(kid)
        assert self.key_provider is not None
        key = await call(self.key_provider, dict(header), claims)
        if key is None or (isinstance(key, str | bytes) and not key):
            # Never verify with an empty key: an HMAC over "" is one anybody can compute.
            raise TokenRejected(Reason.UNKNOWN_KEY)
        return key

    def _check_issuer(self, claims: dict[str, Any]) -> None:
        if self.issuers is None:
            return
        issuer = claims.get("iss")
        if issuer is None:
            raise TokenRejected(Reason.missing("iss"))
        # Exact string equality: no substring, prefix, case folding or list (CVE-2024-53861).
        if type(issuer) is not str or issuer not in self.issuers:
            raise TokenRejected(Reason.ISSUER)

    def _check_audience(self, claims: dict[str, Any]) -> None:
        if "aud" not in claims:
            if self.audiences is not None:
                raise TokenRejected(Reason.missing("aud"))
            return
        if self.audiences is None:
            raise TokenRejected(Reason.AUDIENCE)  # a token for a named audience, not for us
        audience = claims["aud"]
        values = [audience] if type(audience) is str else audience
        if type(values) is not list or not values or any(type(v) is not str for v in values):
            raise TokenRejected(Reason.AUDIENCE)
        if self.allow_extra_audiences:
            accepted = any(v in self.audiences for v in values)
        else:
            accepted = all(v in self.audiences for v in values)
        if not accepted:
            raise TokenRejected(Reason.AUDIENCE)
