"""How `JwtStrategy` checks a token: configuration checks and the PyJWT decoder.

Everything cryptographic is PyJWT's. What is ours: refusing unsafe configurations up front,
reading the unverified header strictly, and the claim-type checks PyJWT leaves open. JWKS keys
are in `_jwt_jwks.py`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm, get_default_algorithms
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidAudienceError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidKeyError,
    InvalidSignatureError,
    InvalidSubjectError,
    InvalidTokenError,
    MissingRequiredClaimError,
    PyJWTError,
)

from passport_py.errors import ConfigurationError

HMAC_HASHES = {
    "HS256": HMACAlgorithm.SHA256,
    "HS384": HMACAlgorithm.SHA384,
    "HS512": HMACAlgorithm.SHA512,
}
#: Latest NumericDate accepted (9999-12-31T23:59:59Z): beyond it a time claim is garbage.
MAX_NUMERIC_DATE = 253_402_300_799
_TIME_CLAIMS = ("exp", "nbf", "iat")
#: JWS header parameters we do not implement; a token that relies on one is refused.
_UNSUPPORTED_HEADERS = ("crit", "b64", "zip", "enc")


class Reason:
    """The `error_description` of each refusal: stable texts clients and tests may rely on."""

    TOO_LONG = "The token is too long"
    MALFORMED = "The token is malformed"
    ALGORITHM = "The token's algorithm is not allowed"
    HEADER = "The token's header is not supported"
    SIGNATURE = "The token's signature is invalid"
    EXPIRED = "The token has expired"
    NOT_YET_VALID = "The token is not yet valid"
    ISSUER = "The token's issuer is not accepted"
    AUDIENCE = "The token's audience is not accepted"
    NO_KID = "The token does not name its signing key (kid)"
    UNKNOWN_KEY = "The token's signing key is unknown"
    UNUSABLE_KEY = "The token's signing key cannot verify it"
    KEYS_UNAVAILABLE = "The signing keys are unavailable"
    NOT_ACCEPTED = "The token was not accepted"

    @staticmethod
    def missing(claim: str) -> str:
        """The text for a token without the required `claim`."""
        return f"The token is missing the {claim} claim"

    @staticmethod
    def bad_time(claim: str) -> str:
        """The text for a time `claim` (`exp`, `nbf`, `iat`) that is not a valid NumericDate."""
        return f"The token's {claim} claim is not a valid time"

    @staticmethod
    def bad_claim(claim: str) -> str:
        """The text for a `claim` whose value is not acceptable."""
        return f"The token's {claim} claim is invalid"


class TokenRejected(InvalidTokenError):
    """A token refused for `description` (one of `Reason`'s texts)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


def describe(exc: PyJWTError) -> str:
    """The `Reason` text for an exception PyJWT raised while decoding."""
    if isinstance(exc, TokenRejected):
        return exc.description
    if isinstance(exc, InvalidSignatureError):
        return Reason.SIGNATURE
    if isinstance(exc, InvalidAlgorithmError):
        return Reason.ALGORITHM
    if isinstance(exc, ExpiredSignatureError):
        return Reason.EXPIRED
    if isinstance(exc, ImmatureSignatureError):
        return Reason.NOT_YET_VALID
    if isinstance(exc, MissingRequiredClaimError):
        return Reason.missing(exc.claim)
    if isinstance(exc, InvalidIssuedAtError):
        return Reason.bad_time("iat")
    if isinstance(exc, InvalidSubjectError):
        return Reason.bad_claim("sub")
    if isinstance(exc, InvalidJTIError):
        return Reason.bad_claim("jti")
    if isinstance(exc, InvalidIssuerError):
        return Reason.ISSUER
    if isinstance(exc, InvalidAudienceError):
        return Reason.AUDIENCE
    if isinstance(exc, InvalidKeyError):
        return Reason.UNUSABLE_KEY
    if type(exc) is InvalidTokenError:  # PyJWT's header checks (kid type, crit, b64)
        return Reason.HEADER
    return Reason.MALFORMED


# -- configuration ------------------------------------------------------------------------------


def check_algorithms(algorithms: Sequence[str] | None) -> tuple[str, ...]:
    """The allow-list, refused when empty, holding `none`, or mixing HMAC and public keys."""
    example = 'for example algorithms=["RS256"] or algorithms=["HS256"]'
    if algorithms is None:
        raise ConfigurationError(
            f"JwtStrategy needs algorithms=, the list of algorithms your tokens are signed with "
            f"({example}); it has no default"
        )
    if isinstance(algorithms, str | bytes):
        # A lone string would be read letter by letter as algorithm names.
        name = (
            algorithms.decode("ascii", "replace") if isinstance(algorithms, bytes) else algorithms
        )
        raise ConfigurationError(
            f'JwtStrategy algorithms must be a list of names, e.g. algorithms=["{name}"], '
            f"not the string {algorithms!r}"
        )
    names = tuple(dict.fromkeys(algorithms))
    if not names:
        raise ConfigurationError(f"JwtStrategy algorithms= is empty; list at least one ({example})")
    known = get_default_algorithms()
    for name in names:
        if not isinstance(name, str) or name.strip().lower() == "none":
            raise ConfigurationError(
                f"JwtStrategy refuses algorithm {name!r}: unsigned tokens are never accepted"
            )
        if name not in known:
            raise ConfigurationError(
                f"JwtStrategy: unknown algorithm {name!r} (PyJWT knows {', '.join(sorted(known))})"
            )
    hmac = [n for n in names if n in HMAC_HASHES]
    if hmac and len(hmac) != len(names):
        # One key read as an HMAC secret and as a public key is the HS/RS confusion (RFC 8725
        # §2.1, CVE-2022-23541): a key source serves one family only.
        raise ConfigurationError(
            f"JwtStrategy algorithms= mixes HMAC ({', '.join(hmac)}) with public-key algorithms; "
            "register two strategies, one per key family"
        )
    return names


def prepare_key(key: Any, algorithms: tuple[str, ...]) -> Any:
    """`key` checked against every algorithm and loaded once (PEM parsed, secret checked)."""
    if isinstance(key, jwt.PyJWK):
        if key.algorithm_name not in algorithms:
            raise ConfigurationError(
                f"JwtStrategy key= is a JWK for {key.algorithm_name}, which is not in algorithms="
            )
        return key
    if isinstance(key, str | bytes) and not key:
        raise ConfigurationError("JwtStrategy key= is empty; give the secret or public key")
    prepared: Any = None
    for name in algorithms:
        algorithm = get_default_algorithms()[name]
        try:
            loaded = algorithm.prepare_key(key)
        except (InvalidKeyError, ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"JwtStrategy key= cannot verify {name} tokens: {exc}"
            ) from None
        if name not in HMAC_HASHES and hasattr(loaded, "public_key"):
            loaded = loaded.public_key()  # a private key was given: verify with its public half
        short = algorithm.check_key_length(loaded)
        if short:
            raise ConfigurationError(
                f"JwtStrategy key= is too weak for {name}: {short} Generate an HMAC secret with "
                "secrets.token_bytes(32) (64 for HS512)"
            )
        prepared = loaded
    return _Secret(prepared) if algorithms[0] in HMAC_HASHES else prepared


# -- decoding -----------------------------------------------------------------------------------


class _Secret(bytes):
    """An HMAC secret checked once, at configuration, by `prepare_key`."""


class _PreparedHMAC(HMACAlgorithm):
    # PyJWT checks an HMAC secret on every decode (is it a PEM, SSH, DER or JWK key?); the
    # configured secret passed those checks once already. Any other key is checked as usual.
    def prepare_key(self, key: str | bytes) -> bytes:
        if type(key) is _Secret:
            return key
        return super().prepare_key(key)


def b64decode(segment: str | bytes) -> bytes:
    """A base64url segment decoded strictly: no padding, only the alphabet, canonical."""
    data = segment.encode("ascii", "replace") if isinstance(segment, str) else segment
    try:
        decoded = base64.urlsafe_b64decode(data + b"=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        raise DecodeError("Invalid base64url segment") from None
    # Re-encoding gives the segment back only if it held nothing but the alphabet, no padding
    # and zero unused bits: one token, one encoding.
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != data:
        raise DecodeError("Invalid base64url segment")
    return decoded


class _Jws(jwt.PyJWS):
    # PyJWT checks each segment byte by byte in Python; `b64decode` makes the same checks
    # (and refuses padding) in C. The override only changes speed: if PyJWT renames the hook,
    # its own check runs instead.
    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        return b64decode(segment)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member")
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# Built once: `json.loads` with hooks builds a decoder on every call.
STRICT_JSON = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def parse_segment(segment: str | bytes) -> dict[str, Any]:
    """A header or payload segment as a JSON object: UTF-8 only, no duplicate members, no
    NaN or Infinity. `TokenRejected(MALFORMED)` otherwise."""
    try:
        value = STRICT_JSON.decode(b64decode(segment).decode("utf-8"))
    except (DecodeError, ValueError, RecursionError):
        raise TokenRejected(Reason.MALFORMED) from None
    if type(value) is not dict:
        raise TokenRejected(Reason.MALFORMED)
    return value


class HeaderReader:
    """Reads unverified headers, refusing those whose `alg` is not allowed.

    An issuer's tokens share one header segment (the same `alg`, `typ`, `kid`), so accepted
    headers are remembered by their segment: the JSON is parsed once, not on every request.
    The memory is bounded and holds only headers that passed; callers must not mutate them.
    """

    def __init__(self, algorithms: frozenset[str], size: int = 256) -> None:
        self.algorithms = algorithms
        self.size = size
        self._known: dict[str, dict[str, Any]] = {}

    def __call__(self, token: str) -> dict[str, Any]:
        segment = token[: token.index(".")]
        header = self._known.get(segment)
        if header is None:
            header = self._check(parse_segment(segment))
            if len(self._known) >= self.size:
                self._known.clear()
            self._known[segment] = header
        return header

    def _check(self, header: dict[str, Any]) -> dict[str, Any]:
        alg = header.get("alg")
        if type(alg) is not str or alg not in self.algorithms:
            raise TokenRejected(Reason.ALGORITHM)
        kid = header.get("kid")
        if (kid is not None and type(kid) is not str) or any(
            name in header for name in _UNSUPPORTED_HEADERS
        ):
            raise TokenRejected(Reason.HEADER)
        return header


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a compact token, before its signature is checked."""
    start = token.index(".") + 1
    return parse_segment(token[start : token.index(".", start)])


class Decoder(jwt.PyJWT):
    """PyJWT's decoder with options built once, strict payload parsing and time-claim types.

    `iss` and `aud` are checked by the strategy (exact comparisons of its own); PyJWT checks the
    signature, `exp`, `nbf`, `iat`, `sub`, `jti` and the required claims.
    """

    def __init__(self, algorithms: tuple[str, ...], required_claims: Iterable[str]) -> None:
        super().__init__(
            {
                "verify_iss": False,
                "verify_aud": False,
                "require": list(required_claims),
                "enforce_minimum_key_length": True,
            }
        )
        jws = _Jws(algorithms, {"verify_signature": True, "enforce_minimum_key_length": True})
        for name in algorithms:
            if name in HMAC_HASHES:
                jws.unregister_algorithm(name)
                jws.register_algorithm(name, _PreparedHMAC(HMAC_HASHES[name]))
        # PyJWT's own seam (its module-level decoder is wired the same way).
        self._jws = jws

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        # Called after the signature is verified, before PyJWT validates the claims.
        try:
            payload = STRICT_JSON.decode(decoded["payload"].decode("utf-8"))
        except (ValueError, RecursionError):
            raise TokenRejected(Reason.MALFORMED) from None
        if type(payload) is not dict:
            raise TokenRejected(Reason.MALFORMED)
        for claim in _TIME_CLAIMS:
            if claim in payload:
                value = payload[claim]
                # bool is an int to Python and a string passes int(): PyJWT would take both.
                if type(value) not in (int, float) or not 0 <= value <= MAX_NUMERIC_DATE:
                    raise TokenRejected(Reason.bad_time(claim))
        return payload
