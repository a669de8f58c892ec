"""HTTP authentication: `BasicStrategy` (RFC 7617) and `DigestStrategy` (RFC 7616).

Both read the `Authorization` header through `passport_py.authorization`, so a duplicated,
oversized or non-ASCII header gets the same 400 here as in every other header strategy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from passport_py._async import call, maybe_await
from passport_py.authorization import format_challenge, parse_auth_params, read_authorization
from passport_py.errors import BadRequest, ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome, Rejected, Verified
from passport_py.request import AuthRequest
from passport_py.strategies._openapi_schemes import http_scheme, realm_text
from passport_py.strategy import Strategy

__all__ = [
    "BasicStrategy",
    "DigestSecret",
    "DigestStrategy",
    "MemoryNonceCounter",
    "NonceCounter",
    "digest_ha1",
    "digest_response",
]

UserT = TypeVar("UserT")
Verify = Callable[..., Any | Awaitable[Any]]

# RFC 7617 section 2: user-ids and passwords hold no control characters (RFC 5234 CTL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BasicStrategy(Strategy):
    """HTTP Basic authentication (RFC 7617): `verify(userid, password)` checks the pair.

    No header or another scheme, an empty user-id or password and wrong credentials fail with
    401 and `WWW-Authenticate: Basic realm="..."`; a malformed header fails with 400.
    """

    name = "basic"
    amr = ("pwd",)
    vary = ("Authorization",)

    def __init__(
        self,
        verify: Verify,
        realm: str = "Users",
        *,
        pass_request: bool = False,
        charset: bool = False,
    ) -> None:
        if not callable(verify):
            raise TypeError("BasicStrategy requires a verify callable")
        self.verify = verify
        self.realm = realm
        self.pass_request = pass_request
        params: list[tuple[str, str | None]] = [("realm", realm)]
        if charset:
            params.append(("charset", "UTF-8"))
        #: The `WWW-Authenticate` value of every 401 this strategy gives.
        self.challenge = format_challenge("Basic", params)

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Decode the credentials and ask `verify`."""
        credentials = _basic_of(request)
        if credentials is None:
            return self.fail(self.challenge)
        userid, password = credentials
        if self.pass_request:
            result = await call(self.verify, request, userid, password)
        else:
            result = await call(self.verify, userid, password)
        # Every failure answers with the challenge, so a browser asks again; Basic has no
        # place for a `Rejected` message.
        if result is None or result is False or isinstance(result, Rejected):
            return self.fail(self.challenge, account=userid)
        if isinstance(result, Verified):
            return self.success(result.user, result.info)
        return self.success(result)

    def account(self, request: AuthRequest) -> str | None:
        """The user-id of Basic credentials that `verify` would check."""
        credentials = _basic_of(request)
        return credentials[0] if credentials is not None else None

    def openapi_scheme(self) -> dict[str, Any] | None:
        """`{"type": "http", "scheme": "basic"}`, its description naming the realm."""
        return http_scheme("basic", realm_text(self.realm))


def _basic_of(request: AuthRequest) -> tuple[str, str] | None:
    """`(userid, password)` of the request's Basic credentials; None when it has none or one
    of them is empty; `BadRequest` when they are malformed."""
    authorization = read_authorization(request)
    if authorization is None or authorization.scheme != "basic":
        return None
    userid, password = _basic_credentials(authorization.credentials)
    return (userid, password) if userid and password else None


def _basic_credentials(token: str) -> tuple[str, str]:
    """`(userid, password)` from a Basic token68; `BadRequest` when it is malformed."""
    if not token:
        raise BadRequest("Basic credentials are missing")
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Basic credentials are not valid base64") from None
    # Only the canonical encoding: no missing padding, no stray bits in the last character.
    if base64.b64encode(raw).decode("ascii") != token:
        raise BadRequest("Basic credentials are not valid base64")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("Basic credentials are not valid UTF-8") from None
    # The first colon separates them: a password may contain colons, a user-id may not.
    userid, colon, password = text.partition(":")
    if not colon:
        raise BadRequest("Basic credentials have no colon")
    if _CONTROL.search(text):
        raise BadRequest("Basic credentials contain a control character")
    return userid, password


# -- Digest -------------------------------------------------------------------------------

#: Supported algorithms (upper-cased) -> (spelling in challenges, hashlib name, session form).
_ALGORITHMS: dict[str, tuple[str, str, bool]] = {
    "SHA-256": ("SHA-256", "sha256", False),
    "SHA-256-SESS": ("SHA-256-sess", "sha256", True),
    "MD5": ("MD5", "md5", False),
    "MD5-SESS": ("MD5-sess", "md5", True),
}
_BARE = frozenset({"algorithm", "stale"})
_NC = re.compile(r"[0-9a-fA-F]{8}")
_MIN_SECRET_BYTES = 32


def _algorithm(name: str) -> tuple[str, str, bool]:
    found = _ALGORITHMS.get(name.upper())
    if found is None:
        raise ConfigurationError(
            f"Digest algorithm {name!r} is not supported: use 'SHA-256', 'SHA-256-sess', "
            "'MD5' or 'MD5-sess'"
        )
    return found


def _hex(hash_name: str, *parts: str) -> str:
    return hashlib.new(hash_name, ":".join(parts).encode("utf-8")).hexdigest()


def digest_ha1(username: str, realm: str, password: str, algorithm: str = "SHA-256") -> str:
    """`H(username:realm:password)`: what to store instead of the password (`DigestSecret(ha1=)`).

    For the `-sess` algorithms too: the session key is derived from it per request.
    """
    return _hex(_algorithm(algorithm)[1], username, realm, password)


def digest_response(
    algorithm: str, ha1: str, *, method: str, uri: str, nonce: str, nc: str, cnonce: str
) -> str:
    """The `response` a client computes for `qop=auth` (RFC 7616 section 3.4.1)."""
    _, hash_name, session = _algorithm(algorithm)
    if session:
        ha1 = _hex(hash_name, ha1, nonce, cnonce)
    return _hex(hash_name, ha1, nonce, nc, cnonce, "auth", _hex(hash_name, method, uri))


@dataclass(frozen=True, slots=True)
class DigestSecret(Generic[UserT]):
    """What `get_secret(username)` returns for a known user: the user and exactly one of the
    plain `password` or `ha1` (see `digest_ha1`); `info` becomes the auth info on success."""

    user: UserT
    password: str | None = None
    ha1: str | None = None
    info: Any = None

    def __post_init__(self) -> None:
        if (self.password is None) == (self.ha1 is None):
            raise TypeError("DigestSecret takes exactly one of password= or ha1=")


class NonceCounter(Protocol):
    """Where a `DigestStrategy` remembers the nonce-counts it accepted (replay protection)."""

    def advance(self, nonce: str, count: int, expires_at: float) -> bool | Awaitable[bool]:
        """Record `count` for `nonce`; True only when it is higher than every count recorded
        for `nonce` before. The record may be dropped after `expires_at` (Unix time)."""
        ...


class MemoryNonceCounter:
    """The default `NonceCounter`: a bounded map in this process.

    Requests served by another process are not seen here: with several processes, pass a
    shared counter (Redis, a database). When the map is full the oldest entries are dropped,
    and nonces that expire no later than a dropped one are refused from then on (the client
    gets `stale=true` and retries with a new nonce), so forgetting never allows a replay.
    """

    def __init__(self, max_nonces: int = 10_000) -> None:
        self.max_nonces = max_nonces
        self._counts: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._floor = 0.0
        self._lock = threading.Lock()

    def advance(self, nonce: str, count: int, expires_at: float) -> bool:
        """Record `count` for `nonce`; True when it is higher than any count seen for it."""
        with self._lock:
            seen = self._counts.get(nonce)
            if (seen is None and expires_at <= self._floor) or (
                seen is not None and count <= seen[0]
            ):
                return False
            self._counts[nonce] = (count, expires_at)
            now = time.time()
            while self._counts and (
                len(self._counts) > self.max_nonces or next(iter(self._counts.values()))[1] < now
            ):
                _, (_, dropped) = self._counts.popitem(last=False)
                self._floor = max(self._floor, dropped)
            return True


class DigestStrategy(Strategy):
    """HTTP Digest authentication (RFC 7616), `qop=auth`, one algorithm per instance.

    `get_secret(username)` returns a `DigestSecret` or None for an unknown user. Nonces are
    signed with `nonce_secret` (so every process accepts them) and expire after
    `nonce_max_age` seconds; accepted nonce-counts go to `nonce_counter`.
    """

    name = "digest"
    amr = ("pwd",)
    vary = ("Authorization",)

    def __init__(
        self,
        get_secret: Verify,
        realm: str = "Users",
        algorithm: str = "SHA-256",
        *,
        nonce_secret: str | bytes | None = None,
        nonce_max_age: int = 300,
        qop: str = "auth",
        domain: str | Sequence[str] | None = None,
        opaque: str | None = None,
        pass_request: bool = False,
        nonce_counter: NonceCounter | None = None,
    ) -> None:
        if not callable(get_secret):
            raise TypeError("DigestStrategy requires a get_secret callable")
        self.algorithm, self._hash_name, _ = _algorithm(algorithm)
        if qop != "auth":
            raise ConfigurationError("DigestStrategy supports qop='auth' only")
        key = nonce_secret.encode("utf-8") if isinstance(nonce_secret, str) else nonce_secret
        if key is None or len(key) < _MIN_SECRET_BYTES:
            raise ConfigurationError(
                "DigestStrategy needs nonce_secret= of at least 32 random bytes, the same in "
                "every process that serves the app (e.g. secrets.token_hex(32) kept in your "
                "settings)"
            )
        if nonce_max_age <= 0:
            raise ConfigurationError("DigestStrategy's nonce_max_age must be positive (seconds)")
        self.get_secret = get_secret
        self.realm = realm
        self.nonce_max_age = nonce_max_age
        self.domain = domain if domain is None or isinstance(domain, str) else " ".join(domain)
        self.opaque = opaque
        self.pass_request = pass_request
        self.nonce_counter: NonceCounter = nonce_counter or MemoryNonceCounter()
        # The realm is in the salt: a nonce issued for one realm is worthless in another.
        self._signer = TimestampSigner(
            key, salt=f"passport_py.digest-nonce:{realm}", digest_method=hashlib.sha256
        )

    def challenge(self, *, stale: bool = False) -> str:
        """A `WWW-Authenticate` value with a new nonce."""
        nonce = self._signer.sign(secrets.token_urlsafe(12)).decode("ascii")
        return format_challenge(
            "Digest",
            [
                ("realm", self.realm),
                ("domain", self.domain),
                ("qop", "auth"),
                ("algorithm", self.algorithm),
                ("nonce", nonce),
                ("opaque", self.opaque),
                ("stale", "true" if stale else None),
            ],
            bare=_BARE,
        )

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Check the header's shape, the nonce, the response and the nonce-count, in order."""
        authorization = read_authorization(request)
        if authorization is None or authorization.scheme != "digest":
            return self.fail(self.challenge())
        params = parse_auth_params(authorization.credentials)
        if params is None:
            raise BadRequest("Digest credentials are malformed")
        username, algorithm = _digest_username(params), _client_algorithm(params)
        missing = [n for n in ("realm", "nonce", "uri", "response", "cnonce") if not params.get(n)]
        if username is None:
            missing.insert(0, "username")
        if missing:
            raise BadRequest(f"Digest credentials lack {', '.join(missing)}")
        _check_qop(params.get("qop"))
        if params.get("userhash", "false").lower() != "false":  # we never offer it
            raise BadRequest("Digest userhash is not supported")
        nc = params.get("nc", "")
        if not _NC.fullmatch(nc) or int(nc, 16) == 0:
            raise BadRequest("Digest nc must be 8 hexadecimal digits, from 00000001")
        if not _same_target(params["uri"], request):
            raise BadRequest("Digest uri does not match the request")
        # Credentials for another protection space (realm, algorithm, opaque) are not ours:
        # a challenge, so a chain can try the next strategy (one instance per algorithm).
        if (
            not username
            or params["realm"] != self.realm
            or algorithm != self.algorithm
            or (self.opaque is not None and params.get("opaque") != self.opaque)
        ):
            return self.fail(self.challenge())
        nonce = params["nonce"]
        try:
            _, signed_at = self._signer.unsign(
                nonce, max_age=self.nonce_max_age, return_timestamp=True
            )
            stale = False
        except SignatureExpired:
            stale = True
        except BadSignature:
            return self.fail(self.challenge())
        if self.pass_request:
            secret = await call(self.get_secret, request, username)
        else:
            secret = await call(self.get_secret, username)
        if secret is None or secret is False:
            return self.fail(self.challenge(), account=username)
        if not isinstance(secret, DigestSecret):
            # The type only: the value may hold a password.
            kind = type(secret).__name__
            raise TypeError(f"get_secret must return a DigestSecret or None, not {kind}")
        if secret.ha1 is not None:
            ha1 = secret.ha1.lower()
        else:
            ha1 = digest_ha1(username, self.realm, secret.password or "", algorithm)
        expected = digest_response(
            algorithm,
            ha1,
            method=request.method,
            uri=params["uri"],
            nonce=nonce,
            nc=nc,
            cnonce=params["cnonce"],
        )
        if not hmac.compare_digest(expected, params["response"].lower()):
            return self.fail(self.challenge(), account=username)
        # The client knows the password: an expired nonce or a reused count only needs a
        # new nonce, which `stale=true` lets it fetch without asking the user again.
        if stale:
            return self.fail(self.challenge(stale=True))
        expires_at = signed_at.timestamp() + self.nonce_max_age
        if not await maybe_await(self.nonce_counter.advance(nonce, int(nc, 16), expires_at)):
            return self.fail(self.challenge(stale=True))
        return self.success(secret.user, secret.info)

    def account(self, request: AuthRequest) -> str | None:
        """The username of Digest credentials for this realm (checked in full by
        `authenticate`: a malformed header is its 400, not a counted attempt)."""
        authorization = read_authorization(request)
        if authorization is None or authorization.scheme != "digest":
            return None
        params = parse_auth_params(authorization.credentials)
        if params is None or params.get("realm") != self.realm:
            return None
        return _digest_username(params) or None

    def openapi_scheme(self) -> dict[str, Any] | None:
        """`{"type": "http", "scheme": "digest"}`, naming the realm and the algorithm."""
        return http_scheme("digest", f"{realm_text(self.realm)} Algorithm {self.algorithm}.")


def _digest_username(params: dict[str, str]) -> str | None:
    """`username`, or `username*` in RFC 8187 form (`UTF-8''...`), never both; None if absent."""
    extended = params.get("username*")
    if extended is None:
        return params.get("username")
    charset, _, rest = extended.partition("'")
    _, quote, encoded = rest.partition("'")
    if "username" in params or charset.upper() != "UTF-8" or not quote:
        raise BadRequest("Digest username* is malformed")
    try:
        return unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("Digest username* is malformed") from None


def _client_algorithm(params: dict[str, str]) -> str:
    """The client's algorithm in our spelling; absent means MD5 (RFC 7616 section 3.4)."""
    found = _ALGORITHMS.get(params.get("algorithm", "MD5").upper())
    if found is None:
        raise BadRequest("Digest algorithm is not supported")
    return found[0]


def _check_qop(qop: str | None) -> None:
    # Without qop (RFC 2069) there is no cnonce or nonce-count, hence no replay protection.
    if qop is None:
        raise BadRequest("Digest credentials lack qop")
    if qop.lower() == "auth-int":
        raise BadRequest("Digest qop auth-int is not supported")
    if qop.lower() != "auth":
        raise BadRequest("Digest qop is not supported")


# An absolute-form target: `scheme://authority`, then the rest.
_ABSOLUTE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)(.*)", re.DOTALL)


def _same_target(uri: str, request: AuthRequest) -> bool:
    """True when `uri` is the request-target this request was sent with, exactly.

    No decoding, no re-encoding: `%2F` is not `/`, `%26` not `&`, `+` not `%2B` and `%2f` not
    `%2F`, since an app may read each differently, so a response made for one must not be
    accepted on the other. Two allowances: an empty query is no query (`/a?` is `/a`: ASGI
    servers do not say whether the `?` was sent), and either side may be in absolute form
    (RFC 7616 section 3.4 names the effective request URI), whose scheme and host must then
    be this request's.
    """
    sent, sent_site = _split_target(uri)
    here, here_site = _split_target(request.target)
    if sent != here:
        return False
    if sent_site is None:
        return True
    if here_site is None:
        url = urlsplit(request.url)
        here_site = f"{url.scheme}://{url.netloc}"
    return sent_site.lower() == here_site.lower()


def _split_target(target: str) -> tuple[str, str | None]:
    """`(path and query, scheme://authority or None)`, an empty query dropped:
    `http://h/a?` -> `("/a", "http://h")`, `/a?b` -> `("/a?b", None)`."""
    found = _ABSOLUTE.fullmatch(target)
    site, rest = (found[1], found[2]) if found else (None, target)
    if site is not None and not rest.startswith("/"):
        rest = "/" + rest  # `http://h?q` is `http://h/?q`
    path, _, query = rest.partition("?")
    return (rest if query else path), site
