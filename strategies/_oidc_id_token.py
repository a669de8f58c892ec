"""ID token validation (OpenID Connect Core 3.1.3.7), also for tokens from the token endpoint.

The signature is checked with the provider's published keys (or, for HS* algorithms listed
explicitly, the client secret) and only with the pinned algorithms; then `iss` exactly, `aud`
and `azp`, `exp`, `iat`, `sub`, the transaction's `nonce` and, when `max_age` was asked,
`auth_time`. PyJWT does the cryptography and the time claims; the header and payload are
parsed strictly (`_jwt_keys`, shared with `JwtStrategy`). Every refusal is an `IdTokenRejected`
whose message the strategy answers with (403); the claim messages are passport-openidconnect's.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.exceptions import (
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    MissingRequiredClaimError,
    PyJWTError,
)

from passport_py.errors import ConfigurationError
from passport_py.strategies._jwt_keys import (
    MAX_NUMERIC_DATE,
    Decoder,
    HeaderReader,
    Reason,
    TokenRejected,
)

__all__ = [
    "HMAC_KEY_BYTES",
    "IdTokenRejected",
    "IdTokenValidator",
    "IssuerFor",
    "Messages",
    "check_algorithms",
]

KeyLookup = Callable[[str | None, str], Awaitable[Any]]
#: The exact `iss` a token with these (signature-checked) claims must carry.
IssuerFor = Callable[[Mapping[str, Any]], str]

_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: Longest ID token accepted (real ones are one to four kilobytes).
MAX_ID_TOKEN_LENGTH = 64 * 1024
#: OpenID Connect Core 2: `sub` is at most 255 ASCII characters.
MAX_SUB_LENGTH = 255
#: HS* algorithms and the client secret length (bytes) each needs (RFC 7518 3.2).
HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_REQUIRED = ("iss", "sub", "aud", "exp", "iat")
_CLAIM_NAMES = {
    "iss": "issuer",
    "sub": "subject",
    "aud": "audience",
    "exp": "expiration time",
    "iat": "issued at",
    "nbf": "not before",
    "auth_time": "authentication time",
}


class Messages:
    """The failure messages (the first seven are passport-openidconnect's, typo fixed)."""

    ISSUER = "ID token not issued by expected OpenID provider."
    AUDIENCE = "ID token not intended for this relying party."
    NO_AZP = "ID token missing authorized party claim."
    AZP = "ID token not issued to this relying party."
    EXPIRED = "ID token has expired."
    NONCE = "ID token contains invalid nonce."
    MAX_AGE = "Too much time has elapsed since last authentication."
    SIGNATURE = "ID token signature is invalid."
    ALGORITHM = "ID token signing algorithm is not allowed."
    UNKNOWN_KEY = "ID token signed with an unknown key."
    UNUSABLE_KEY = "ID token signing key cannot verify it."
    HEADER = "ID token header is not supported."
    MALFORMED = "ID token is malformed."
    ENCRYPTED = "ID token is encrypted; encrypted ID tokens are not supported."
    NOT_YET_VALID = "ID token is not yet valid."

    @staticmethod
    def missing(claim: str) -> str:
        """The message for an ID token without the required `claim`."""
        return f"ID token missing {_CLAIM_NAMES.get(claim, claim)} claim."

    @staticmethod
    def invalid(claim: str) -> str:
        """The message for an ID token whose `claim` has an unusable value."""
        return f"ID token has an invalid {_CLAIM_NAMES.get(claim, claim)} claim."


class IdTokenRejected(Exception):
    """The ID token must not be used; `message` says why (one of `Messages`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IdTokenValidator:
    """Validates one provider's ID tokens for one client.

    `issuer` is the exact `iss` every token must carry, or a function of the token's claims
    (called once the signature is checked) returning it; the function may raise
    `IdTokenRejected` itself, for claims it cannot build an issuer from (a multi-tenant
    provider's tenant id, say). `keys(kid, alg)` returns the provider's public key for a token
    (raising `IdTokenRejected` when it has none); `secret` is the key of HS* algorithms (the
    client secret, OpenID Connect Core 10.1), used only when `algorithms` are HS*.
    """

    def __init__(
        self,
        *,
        issuer: str | IssuerFor,
        client_id: str,
        algorithms: tuple[str, ...],
        leeway: float,
        keys: KeyLookup,
        secret: bytes | None = None,
    ) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.algorithms = algorithms
        self.leeway = leeway
        self._keys = keys
        self._secret = secret
        self._read_header = HeaderReader(frozenset(algorithms))
        self._decoder = Decoder(algorithms, _REQUIRED)

    async def validate(
        self, token: str, *, nonce: str | None, max_age: int | None
    ) -> dict[str, Any]:
        """The claims of `token` once every check passed; `IdTokenRejected` otherwise."""
        if len(token) > MAX_ID_TOKEN_LENGTH:
            raise IdTokenRejected(Messages.MALFORMED)
        segments = token.count(".")
        if segments == 4:
            raise IdTokenRejected(Messages.ENCRYPTED)
        if segments != 2:
            raise IdTokenRejected(Messages.MALFORMED)
        try:
            # The header first: `alg: none` is refused for its algorithm, not its empty
            # signature.
            header = self._read_header(token)
            if _COMPACT.fullmatch(token) is None:
                raise IdTokenRejected(Messages.MALFORMED)
            alg = header["alg"]
            key = (
                self._secret
                if self._secret is not None
                else await self._keys(header.get("kid"), alg)
            )
            claims: dict[str, Any] = self._decoder.decode_complete(
                token, key, [alg], leeway=self.leeway
            )["payload"]
        except PyJWTError as exc:
            raise IdTokenRejected(_message(exc)) from None
        self._check_claims(claims, nonce, max_age)
        return claims

    def _check_claims(self, claims: dict[str, Any], nonce: str | None, max_age: int | None) -> None:
        expected = self.issuer if isinstance(self.issuer, str) else self.issuer(claims)
        # Exact string equality: no trailing slash, case or prefix leniency, no list.
        if not isinstance(expected, str) or claims["iss"] != expected:
            raise IdTokenRejected(Messages.ISSUER)
        audience = claims["aud"]
        audiences = [audience] if isinstance(audience, str) else audience
        if (
            not isinstance(audiences, list)
            or not audiences
            or not all(isinstance(a, str) for a in audiences)
        ):
            raise IdTokenRejected(Messages.invalid("aud"))
        if self.client_id not in audiences:
            raise IdTokenRejected(Messages.AUDIENCE)
        azp = claims.get("azp")
        if len(audiences) > 1 and azp is None:
            raise IdTokenRejected(Messages.NO_AZP)
        if azp is not None and azp != self.client_id:
            raise IdTokenRejected(Messages.AZP)
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= MAX_SUB_LENGTH:
            raise IdTokenRejected(Messages.invalid("sub"))
        # Always required, whatever the token says about nonces (ASVS 10.5.1).
        claimed = claims.get("nonce")
        if (
            nonce is None
            or not isinstance(claimed, str)
            or not hmac.compare_digest(claimed.encode("utf-8", "surrogatepass"), nonce.encode())
        ):
            raise IdTokenRejected(Messages.NONCE)
        if max_age is not None:
            auth_time = claims.get("auth_time")
            if (
                isinstance(auth_time, bool)
                or not isinstance(auth_time, int | float)
                or not 0 <= auth_time <= MAX_NUMERIC_DATE
                or auth_time + max_age + self.leeway < time.time()
            ):
                raise IdTokenRejected(Messages.MAX_AGE)


def _message(exc: PyJWTError) -> str:
    """The `Messages` text for what PyJWT (or the strict parsers) refused."""
    if isinstance(exc, TokenRejected):
        description = exc.description
        if description == Reason.ALGORITHM:
            return Messages.ALGORITHM
        if description == Reason.HEADER:
            return Messages.HEADER
        for claim in _CLAIM_NAMES:
            if description == Reason.bad_time(claim):
                return Messages.invalid(claim)
        return Messages.MALFORMED
    if isinstance(exc, InvalidSignatureError):
        return Messages.SIGNATURE
    if isinstance(exc, InvalidAlgorithmError):
        return Messages.ALGORITHM
    if isinstance(exc, ExpiredSignatureError):
        return Messages.EXPIRED
    if isinstance(exc, ImmatureSignatureError):
        return Messages.NOT_YET_VALID
    if isinstance(exc, MissingRequiredClaimError):
        return Messages.missing(exc.claim)
    if isinstance(exc, InvalidSubjectError):
        return Messages.invalid("sub")
    if isinstance(exc, InvalidKeyError):
        return Messages.UNUSABLE_KEY
    return Messages.MALFORMED


def check_algorithms(algorithms: Sequence[str], client_secret: str | None) -> tuple[str, ...]:
    """The pinned ID token algorithms: never `none`; HS* only alone and with a long secret."""
    if isinstance(algorithms, str | bytes) or not algorithms:
        raise ConfigurationError(
            'id_token_signing_algs= must list the algorithms, for example ("RS256",)'
        )
    names = tuple(dict.fromkeys(algorithms))
    known = get_default_algorithms()
    for name in names:
        if not isinstance(name, str) or name.strip().lower() == "none":
            raise ConfigurationError(
                f"id_token_signing_algs: {name!r} is refused: unsigned ID tokens are never accepted"
            )
        if name not in known:
            raise ConfigurationError(
                f"id_token_signing_algs: unknown algorithm {name!r} "
                f"(known: {', '.join(sorted(known))})"
            )
    hmac = [n for n in names if n in HMAC_KEY_BYTES]
    if hmac and len(hmac) != len(names):
        # One client trusting both the shared secret and the provider's public keys is the
        # HS/RS confusion (RFC 8725 2.1).
        raise ConfigurationError(
            "id_token_signing_algs mixes HMAC algorithms (keyed with the client secret) with "
            "public-key ones; list one family"
        )
    for name in hmac:
        if not client_secret or len(client_secret.encode("utf-8")) < HMAC_KEY_BYTES[name]:
            raise ConfigurationError(
                f"{name} ID tokens are keyed with the client secret, which must be at least "
                f"{HMAC_KEY_BYTES[name]} bytes long"
            )
    return names
