"""`python -m benchmarks --quick` runs and reports; the headers its fast paths must keep.

No timing is asserted here: benchmarks inform, they don't gate. The Redis row (10) runs on the
real Redis and must count one GET per request; without Redis it is skipped with its reason,
and the rest of the table still prints. The OpenID Connect rows (12, 13) run real logins
against the bundled provider, and our callback must make exactly one request to it. The
FastAPI rows (14 to 16) compare apps that must do the same checks: the tests below show each
side greeting alice's token or session and refusing what it should (and the one check
fastapi-users' JWT backend does not make, the issuer). The header tests pin what
`PassportMiddleware`'s send wrapper (optimised for the benchmark) gives in each of its
branches, so a faster version cannot change behaviour unnoticed.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
import redis_helpers
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from benchmarks import apps as bench_apps
from benchmarks import fastapi as bench_fastapi
from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware, login

ROOT = Path(__file__).resolve().parents[1]
USERS = {1: "alice"}


def run_quick_benchmark(redis_url: str = redis_helpers.REDIS_URL) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=ROOT,
        env={**os.environ, "REDIS_URL": redis_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@functools.cache
def quick_benchmark() -> str:
    """One quick run, shared by the tests that read it (each run takes seconds)."""
    return run_quick_benchmark()


def numbered_lines(output: str) -> dict[str, str]:
    return {line.split()[0]: line for line in output.splitlines() if re.match(r"\d+ ", line)}


#: Each numbered line of the quick benchmark: what it measures and the verdict it ends with.
QUICK_LINES = {
    "1": ("Starlette logged-in GET: vs AuthenticationMiddleware", r"<= 1\.00\s+(PASS|MISS)$"),
    "2": ("Starlette anonymous GET: vs SessionMiddleware only", r"<= 1\.10\s+(PASS|MISS)$"),
    "3": ("event loops created by", r" 0 loops\s+== 0\s+PASS$"),
    "4": ("Flask logged-in GET: added cost vs Flask-Login's", r"<= 0\.50\s+(PASS|MISS)$"),
    "5": ("Django logged-in GET: vs AuthenticationMiddleware", r"<= 1\.00\s+(PASS|MISS)$"),
    "6": ("Flask + 100 Django requests", r" 0 loops\s+== 0\s+PASS$"),
    "7": ("JwtStrategy HS256 (iss, aud): vs jwt.decode", r"<= 1\.10\s+(PASS|MISS)$"),
    "8": ("JwtStrategy RS256 (iss, aud): vs jwt.decode", r"<= 1\.10\s+(PASS|MISS)$"),
    "9": ("Starlette logged-in GET: MemoryStore vs cookie session", r"<= 1\.00\s+(PASS|MISS)$"),
    "10": ("Starlette logged-in GET: RedisStore vs cookie session", r"\S$"),
    "11": ("MemoryStore: MB held by 100,000 login sessions", r" \d+\.\d\s+info\s+\d+ B each$"),
    "12": ("OIDC callback: OpenIDConnectStrategy vs Authlib's client", r"<= 1\.00\s+(PASS|MISS)$"),
    "13": ("OIDC callback: requests to the provider, keys cached", r"\S$"),
    "14": ("FastAPI JWT GET: Depends(authenticate) vs the tutorial's", r"<= 1\.05\s+(PASS|MISS)$"),
    "15": ("FastAPI logged-in GET: login_required vs @requires", r"<= 1\.00\s+(PASS|MISS)$"),
    "16": ("FastAPI JWT GET: Depends(authenticate) vs fastapi-users", r"\d\.\d\d\s+info$"),
    "17": ("login throttle: CPU µs per attempt, MemoryThrottleStore", r"\d\.\d\d\s+info$"),
    "18": ("login throttle: CPU µs per attempt, RedisThrottleStore", r"info\s+\d+ µs wall$"),
    "19": ("login throttle: Redis round trips per failed attempt", r" 1\s+== 1\s+PASS$"),
    "20": ("Starlette JSON login (Argon2id): vs the verify alone", r"<= 1\.05\s+(PASS|MISS)$"),
    "21": ("Argon2id at the defaults: hash / verify, ms", r"info\s+m=65536,t=3,p=4$"),
}


def test_quick_benchmark_prints_every_measurement_and_creates_no_event_loop() -> None:
    numbered = numbered_lines(quick_benchmark())
    assert sorted(numbered) == sorted(QUICK_LINES)
    for number, (title, verdict) in QUICK_LINES.items():
        assert title in numbered[number]
        assert re.search(verdict, numbered[number]), numbered[number]


def test_quick_benchmark_times_redis_sessions_at_one_get_per_request() -> None:
    redis_helpers.require_redis()
    output = quick_benchmark()
    row = numbered_lines(output)["10"]
    assert re.search(r"info\s+1\.00 round trips/request \(1 GET\)$", row), row
    counted = re.search(
        r" line 10: (\d+) requests made (\d+) round trips to Redis \(GET (\d+)\)", output
    )
    assert counted is not None, output
    assert counted[1] == counted[2] == counted[3]


def test_quick_benchmark_skips_the_redis_row_with_its_reason_when_redis_is_unreachable() -> None:
    port = redis_helpers.unused_port()
    output = run_quick_benchmark(f"redis://127.0.0.1:{port}/0")
    row = numbered_lines(output)["10"]
    assert re.search(
        rf"skipped: no Redis at redis://127\.0\.0\.1:{port}/0 \(\w+; set REDIS_URL\)$", row
    )
    assert "line 10:" not in output
    assert sorted(numbered_lines(output)) == sorted(QUICK_LINES)  # every other row still runs


def test_quick_benchmark_counts_one_provider_request_per_oidc_callback() -> None:
    output = quick_benchmark()
    row = numbered_lines(output)["13"]
    assert re.search(r" 1 request\s+== 1\s+PASS \(POST /token\)$", row), row
    assert "Authlib's callback made 1 request (POST /token)" in output
    info = next(line for line in output.splitlines() if "given one SSL context" in line)
    assert re.search(r"\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+info$", info), info


ROW_15_PARTS = (
    "FastAPI logged-in GET: a bare Depends vs @requires",
    "FastAPI logged-in GET: Starlette decorator vs @requires",
    "FastAPI logged-in GET: login_required vs a bare Depends",
)


def test_quick_benchmark_prints_the_parts_of_row_15_for_information() -> None:
    lines = quick_benchmark().splitlines()
    for label in ROW_15_PARTS:
        line = next((line for line in lines if label in line), None)
        assert line is not None, label
        assert re.search(r"\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+info$", line), line


# -- rows 14 to 16: the FastAPI apps do the work they are compared on --------------------------


def fastapi_get(app: ASGIApp, bearer: str | None = None, cookie: bytes | None = None) -> Any:
    headers = {"Accept": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    client = TestClient(app, follow_redirects=False)
    if cookie is not None:
        client.cookies.set("session", cookie.decode())
    return client.get("/me", headers=headers)


def other_token(**claims: Any) -> str:
    """A token like the benchmark's, with `claims` changed, signed with the same key."""
    now = int(time.time())
    base = {"sub": "alice", "iss": bench_fastapi.ISSUER, "aud": bench_fastapi.AUDIENCE}
    base |= {"iat": now, "exp": now + 60}
    return jwt.encode(base | claims, bench_fastapi.SECRET, "HS256")


JWT_APPS = {
    "ours": bench_fastapi.passport_jwt_app,
    "tutorial": bench_fastapi.tutorial_jwt_app,
    "fastapi-users": bench_fastapi.fastapi_users_app,
}


@pytest.mark.parametrize("name", sorted(JWT_APPS))
def test_each_fastapi_jwt_app_greets_the_benchmark_tokens_user(name: str) -> None:
    response = fastapi_get(JWT_APPS[name](), bearer=bench_fastapi.token())
    assert response.status_code == 200
    assert response.content == bench_fastapi.HELLO_ALICE


@pytest.mark.parametrize("name", sorted(JWT_APPS))
def test_each_fastapi_jwt_app_refuses_a_token_for_another_audience(name: str) -> None:
    response = fastapi_get(JWT_APPS[name](), bearer=other_token(aud="https://other.example"))
    assert response.status_code == 401


@pytest.mark.parametrize("name", sorted(JWT_APPS))
def test_each_fastapi_jwt_app_refuses_a_token_signed_with_another_key(name: str) -> None:
    forged = jwt.encode(
        jwt.decode(bench_fastapi.token(), options={"verify_signature": False}),
        "another-secret-of-at-least-32-bytes",
        "HS256",
    )
    assert fastapi_get(JWT_APPS[name](), bearer=forged).status_code == 401


@pytest.mark.parametrize("name", ["ours", "tutorial"])
def test_row_14s_apps_both_refuse_a_token_from_another_issuer(name: str) -> None:
    response = fastapi_get(JWT_APPS[name](), bearer=other_token(iss="https://other.example"))
    assert response.status_code == 401


def test_the_fastapi_users_baseline_does_not_check_the_issuer() -> None:
    """Its `JWTStrategy` has no issuer option: row 16's baseline does one check fewer."""
    response = fastapi_get(
        bench_fastapi.fastapi_users_app(), bearer=other_token(iss="https://other.example")
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "make_app", [bench_fastapi.passport_session_app, bench_fastapi.requires_session_app]
)
def test_row_15s_apps_both_greet_the_logged_in_session(make_app: Any) -> None:
    cookie = bench_apps.session_cookie(bench_apps.LOGGED_IN_SESSION)
    response = fastapi_get(make_app(), cookie=cookie)
    assert response.status_code == 200
    assert response.content == bench_fastapi.HELLO_ALICE
    assert "set-cookie" not in response.headers


def test_row_15s_login_required_refuses_an_api_client_without_a_session() -> None:
    assert fastapi_get(bench_fastapi.passport_session_app()).status_code == 401


def test_row_15s_requires_baseline_refuses_a_client_without_a_session() -> None:
    assert fastapi_get(bench_fastapi.requires_session_app()).status_code == 403


# -- the send wrapper's branches ---------------------------------------------------------------


def make_passport() -> Authenticator[str]:
    passport: Authenticator[str] = Authenticator()
    passport.serialize_user(lambda name: next(i for i, n in USERS.items() if n == name))
    passport.deserialize_user(USERS.get)
    return passport


async def log_in(request: Request) -> Response:
    await login(request, "alice")
    return PlainTextResponse("in")


async def reads_session(request: Request) -> Response:
    return PlainTextResponse(str(len(request.session)))


async def own_vary(request: Request) -> Response:
    return PlainTextResponse("x", headers={"Vary": "Accept-Encoding"})


async def plain(request: Request) -> Response:
    return PlainTextResponse(str(request.user))


def logged_in_client() -> TestClient:
    app = Starlette(
        routes=[
            Route("/login", log_in, methods=["POST"]),
            Route("/reads-session", reads_session),
            Route("/own-vary", own_vary),
        ],
        middleware=[
            Middleware(SessionMiddleware, secret_key="benchmark-tests-secret"),
            Middleware(PassportMiddleware, passport=make_passport()),
        ],
    )
    client = TestClient(app)
    assert client.post("/login").status_code == 200
    return client


def test_vary_cookie_appears_once_when_the_app_also_reads_the_session() -> None:
    response = logged_in_client().get("/reads-session")
    assert response.text == "1"
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers.get_list("vary") == ["Cookie"]


def test_vary_cookie_joins_the_apps_own_vary_header() -> None:
    response = logged_in_client().get("/own-vary")
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers.get_list("vary") == ["Accept-Encoding, Cookie"]


class DictSession:
    """A session middleware whose session is a plain dict (no Starlette read markers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session: dict[str, Any] = {"passport": {"user": 1}}
        scope["session"] = session
        await self.app(scope, receive, send)


def test_a_plain_dict_session_still_gets_no_store_and_vary_cookie() -> None:
    app = Starlette(
        routes=[Route("/", plain)],
        middleware=[
            Middleware(DictSession),
            Middleware(PassportMiddleware, passport=make_passport()),
        ],
    )
    response = TestClient(app).get("/")
    assert response.status_code == 200
    assert response.text == "alice"
    assert response.headers.get_list("cache-control") == ["no-store"]
    assert response.headers.get_list("vary") == ["Cookie"]
