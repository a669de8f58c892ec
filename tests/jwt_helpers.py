"""What the JWT tests share: keys, tokens forged by hand, and a loopback JWKS server.

PyJWT refuses to produce most malformed tokens, so `forge` writes the header, payload and
signature bytes itself (base64url + `hmac` / `cryptography`), as an attacker would.
`JwksServer` is a real HTTP server on 127.0.0.1 that counts every request it receives, so a
test can prove that a token caused no outbound fetch.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from engine_helpers import authenticate, headers_named, make_passport
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from passport_py import Decision, Respond, Strategy
from passport_py.testing import TestRequest

ISSUER = "https://idp.test"
AUDIENCE = "my-api"
SECRET = b"0123456789abcdef0123456789abcdef"  # 32 bytes: the HS256 minimum
OTHER_SECRET = b"fedcba9876543210fedcba9876543210"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ED_KEY = ed25519.Ed25519PrivateKey.generate()

CHALLENGE = 'Bearer realm="Users"'


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def segment(value: Any) -> str:
    """A token segment: bytes as they are, anything else as compact JSON."""
    if isinstance(value, bytes):
        return b64url(value)
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def sign(alg: str, signing_input: bytes, key: Any) -> bytes:
    """The JWS signature of `signing_input` with `key` for `alg` (HS*, RS/PS/ES256, EdDSA)."""
    if alg.startswith("HS"):
        digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
        return hmac.new(key, signing_input, digest[alg]).digest()
    if alg == "RS256":
        return bytes(key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256()))
    if alg == "PS256":
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return bytes(key.sign(signing_input, pss, hashes.SHA256()))
    if alg == "ES256":
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "EdDSA":
        return bytes(key.sign(signing_input))
    raise ValueError(alg)


def forge(
    header: Any,
    payload: Any,
    key: Any = None,
    *,
    alg: str | None = None,
    signature: bytes | str | None = None,
) -> str:
    """A compact token from these parts, signed with `key` for `alg` (default: header's alg).

    `signature` replaces the computed one (bytes are encoded, a str is used verbatim).
    """
    signing_input = f"{segment(header)}.{segment(payload)}"
    if signature is None:
        algorithm = alg or header["alg"]
        signature = b64url(sign(algorithm, signing_input.encode(), key))
    elif isinstance(signature, bytes):
        signature = b64url(signature)
    return f"{signing_input}.{signature}"


def claims(**changes: Any) -> dict[str, Any]:
    """alice's claims for this API, valid for five minutes; `changes` override (None drops)."""
    now = int(time.time())
    base: dict[str, Any] = {"sub": "alice", "iss": ISSUER, "aud": AUDIENCE, "iat": now}
    base["exp"] = now + 300
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def hs256(payload: Any = None, secret: bytes = SECRET, **header: Any) -> str:
    """An HS256 token (valid claims by default)."""
    return forge(
        {"alg": "HS256", "typ": "JWT", **header}, claims() if payload is None else payload, secret
    )


def rs256(payload: Any = None, key: Any = RSA_KEY, **header: Any) -> str:
    """An RS256 token (valid claims by default)."""
    return forge(
        {"alg": "RS256", "typ": "JWT", **header}, claims() if payload is None else payload, key
    )


def public_pem(key: Any = RSA_KEY) -> bytes:
    """The public half of `key` as a PEM SubjectPublicKeyInfo."""
    return bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def public_key_encodings(key: Any = RSA_KEY) -> dict[str, bytes]:
    """The RSA public key in every form an attacker may use as an HMAC secret (P0-1)."""
    public = key.public_key()
    enc, fmt = serialization.Encoding, serialization.PublicFormat
    return {
        "pem-spki": public.public_bytes(enc.PEM, fmt.SubjectPublicKeyInfo),
        "pem-pkcs1": public.public_bytes(enc.PEM, fmt.PKCS1),
        "der": public.public_bytes(enc.DER, fmt.SubjectPublicKeyInfo),
        "openssh": public.public_bytes(enc.OpenSSH, fmt.OpenSSH),
        "jwk-json": RSAAlgorithm.to_jwk(public).encode(),
    }


def jwk(key: Any, kid: str | None, alg: str | None = None, **extra: Any) -> dict[str, Any]:
    """The public JWK of a private `key`, with `kid` and (optionally) `alg`."""
    public = key.public_key()
    if isinstance(key, rsa.RSAPrivateKey):
        data = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        data = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        data = OKPAlgorithm.to_jwk(public, as_dict=True)
    if kid is not None:
        data["kid"] = kid
    if alg is not None:
        data["alg"] = alg
    return {**data, "use": "sig", **extra}


# -- engine level -------------------------------------------------------------------------------


def decide(strategy: Strategy, token: str | None = None, **request: Any) -> Decision:
    """The decision of `authenticate("jwt", session=False)` for a request carrying `token` as a
    bearer token (or built from `request`, the keywords of `TestRequest`)."""
    if token is not None:
        request.setdefault("headers", {"Authorization": f"Bearer {token}"})
    request.setdefault("method", "GET")
    passport = make_passport(jwt=strategy)
    return authenticate(passport, TestRequest(session=None, **request), "jwt", session=False)


def refused(decision: Decision) -> str:
    """The `error_description` of a 401 `invalid_token` answer (asserting it is one)."""
    assert isinstance(decision, Respond), decision
    assert decision.status == 401, decision
    [challenge] = headers_named(decision, "WWW-Authenticate")
    prefix = 'Bearer realm="Users", error="invalid_token", error_description="'
    assert challenge.startswith(prefix) and challenge.endswith('"'), challenge
    return challenge[len(prefix) : -1].replace('\\"', '"')


# -- the loopback JWKS server -------------------------------------------------------------------


@dataclass
class Route:
    """What the server answers on one path."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0


class JwksServer:
    """A threaded HTTP server on 127.0.0.1 serving fixed answers by path, counting requests."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    route = server.routes.get(self.path, Route(b"not found", 404, "text/plain"))
                if route.delay:
                    time.sleep(route.delay)
                try:
                    self.send_response(route.status)
                    self.send_header("Content-Type", route.content_type)
                    self.send_header("Content-Length", str(len(route.body)))
                    if route.status in (301, 302):
                        self.send_header("Location", server.url("/elsewhere"))
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout, body too large): what the test wants

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for the next poll, once per test.
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def url(self, path: str = "/jwks") -> str:
        """The full URL of `path` on this server."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def serve(self, path: str, body: Any, **route: Any) -> None:
        """Answer `path` with `body` (a dict or list as JSON, bytes as they are)."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = Route(data, **route)

    def serve_keys(self, *keys: dict[str, Any], path: str = "/jwks") -> None:
        """Answer `path` with a JWK Set holding `keys`."""
        self.serve(path, {"keys": list(keys)})

    @property
    def requests(self) -> int:
        """Requests received so far, on any path."""
        return sum(self.hits.values())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_jwks() -> Iterator[JwksServer]:
    """A running `JwksServer` whose /jwks holds `RSA_KEY` as "k1" (RS256), shut down when the
    generator ends (a fixture does `yield from serve_jwks()`)."""
    server = JwksServer()
    server.serve_keys(jwk(RSA_KEY, "k1", "RS256"))
    try:
        yield server
    finally:
        server.close()
