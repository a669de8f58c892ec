"""`python -m benchmarks [--quick] [--profile]`: print the comparison table (exit code 0)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import statistics
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version

from . import apps, django_apps, flask_apps, oauth, passwords, sessions, throttle
from .asgi import asgi_variant, get_scope
from .fastapi import fastapi_variants
from .jwt import jwt_variants
from .loops import measure_sync_authentication
from .timing import Variant, count_calls, measure
from .wsgi import get_environ, wsgi_variant


@dataclass(frozen=True)
class Comparison:
    """One line of the table: variant `ours` against variant `base`, optionally each minus
    variant `over` (to compare the cost two extensions add to one app)."""

    number: str
    label: str
    ours: str
    base: str
    goal: float | None = None
    over: str | None = None  # subtract this variant from ours (and from base, unless...)
    base_over: str | None = None  # ...this one is base's plain app (carrying base's cookie)

    def figures(self, variants: dict[str, Variant]) -> tuple[float, float, float]:
        """(ours µs, base µs, ratio), as medians over the rounds, each round's figures paired.

        The variants of a round ran one after another, so pairing them round by round cancels
        most of the machine's drift; comparing best rounds taken at different moments would
        mostly measure noise once the difference is a few percent. An added-cost comparison
        first subtracts the plain app's time of the same round from both sides.
        """
        ours, base = variants[self.ours].samples, variants[self.base].samples
        if self.over is not None:
            plain = variants[self.over].samples
            base_plain = variants[self.base_over or self.over].samples
            ours = [o - p for o, p in zip(ours, plain, strict=True)]
            base = [b - p for b, p in zip(base, base_plain, strict=True)]
        ratios = [o / b for o, b in zip(ours, base, strict=True) if b > 0]
        return (
            statistics.median(ours),
            statistics.median(base),
            statistics.median(ratios) if ratios else float("inf"),
        )


COMPARISONS = (
    Comparison(
        "1", "Starlette logged-in GET: vs AuthenticationMiddleware", "st_ours", "st_stock", 1.00
    ),
    Comparison(
        "2", "Starlette anonymous GET: vs SessionMiddleware only", "st_anon", "st_plain", 1.10
    ),
    Comparison("", "Starlette anonymous GET: vs no middleware", "st_anon", "st_bare"),
    Comparison("", "Starlette logged-in GET, no cache headers either side", "st_nc", "st_nv"),
    Comparison(
        "4",
        "Flask logged-in GET: added cost vs Flask-Login's",
        "fl_ours",
        "fl_login",
        0.50,
        "fl_plain",
        "fl_plain_login",
    ),
    Comparison("", "Flask logged-in GET: passport_py vs Flask-Login", "fl_ours", "fl_login"),
    Comparison(
        "5", "Django logged-in GET: vs AuthenticationMiddleware", "dj_ours", "dj_stock", 1.00
    ),
    Comparison(
        "7", "JwtStrategy HS256 (iss, aud): vs jwt.decode", "jwt_hs_ours", "jwt_hs_plain", 1.10
    ),
    Comparison(
        "8", "JwtStrategy RS256 (iss, aud): vs jwt.decode", "jwt_rs_ours", "jwt_rs_plain", 1.10
    ),
    Comparison(
        "9", "Starlette logged-in GET: MemoryStore vs cookie session", "ss_memory", "st_ours", 1.00
    ),
    Comparison(
        "10", "Starlette logged-in GET: RedisStore vs cookie session", "ss_redis", "st_ours"
    ),
    Comparison(
        "12",
        "OIDC callback: OpenIDConnectStrategy vs Authlib's client",
        "oidc_ours",
        "oidc_authlib",
        1.00,
    ),
    Comparison(
        "",
        "OIDC callback: vs Authlib's client given one SSL context",
        "oidc_ours",
        "oidc_authlib_ssl",
    ),
    Comparison(
        "14",
        "FastAPI JWT GET: Depends(authenticate) vs the tutorial's",
        "fa_jwt_ours",
        "fa_jwt_tutorial",
        1.05,
    ),
    Comparison(
        "15",
        "FastAPI logged-in GET: login_required vs @requires",
        "fa_session_ours",
        "fa_session_stock",
        1.00,
    ),
    Comparison(
        "",
        "FastAPI logged-in GET: a bare Depends vs @requires",
        "fa_session_bare",
        "fa_session_stock",
    ),
    Comparison(
        "",
        "FastAPI logged-in GET: Starlette decorator vs @requires",
        "fa_session_decorator",
        "fa_session_stock",
    ),
    Comparison(
        "",
        "FastAPI logged-in GET: login_required vs a bare Depends",
        "fa_session_ours",
        "fa_session_bare",
    ),
    Comparison(
        "16",
        "FastAPI JWT GET: Depends(authenticate) vs fastapi-users",
        "fa_jwt_ours",
        "fa_jwt_users",
    ),
    Comparison(
        "20",
        "Starlette JSON login (Argon2id): vs the verify alone",
        "pw_login",
        "pw_verify",
        1.05,
    ),
)


def build_variants() -> dict[str, Variant]:
    """The app + request pairs, each checked to answer as the comparison assumes."""
    cookie = apps.session_cookie(apps.LOGGED_IN_SESSION)
    me, anonymous = get_scope("/me", cookie), get_scope("/")
    flask_ours, flask_login = flask_apps.passport_app(), flask_apps.flask_login_app()
    django_ours, django_stock = django_apps.passport_app(), django_apps.stock_app()
    variants = {
        "st_ours": asgi_variant("Starlette: Session + Passport", apps.passport_app(), me),
        "st_stock": asgi_variant(
            "Starlette: Session + AuthenticationMiddleware", apps.stock_auth_app(), me
        ),
        "st_nc": asgi_variant(
            "  the same, PassportMiddleware(cache_headers=False)",
            apps.passport_app(cache_headers=False),
            me,
        ),
        "st_nv": asgi_variant(
            "  the same, backend reads scope['session'] (no Vary)",
            apps.stock_auth_app(apps.UnmarkedSessionUserBackend()),
            me,
        ),
        "st_anon": asgi_variant(
            "Starlette: Session + Passport, anonymous", apps.passport_app(), anonymous
        ),
        "st_plain": asgi_variant(
            "Starlette: Session only, anonymous", apps.session_only_app(), anonymous
        ),
        "st_bare": asgi_variant("Starlette: no middleware, anonymous", apps.bare_app(), anonymous),
        "fl_ours": wsgi_variant(
            "Flask: FlaskPassport",
            flask_ours,
            get_environ("/me", flask_apps.logged_in_cookie(flask_ours)),
        ),
        "fl_login": wsgi_variant(
            "Flask: Flask-Login",
            flask_login,
            get_environ("/me", flask_apps.logged_in_cookie(flask_login)),
        ),
        "fl_plain": wsgi_variant(
            "Flask: no authentication (FlaskPassport's cookie)",
            flask_apps.plain_app(),
            get_environ("/me", flask_apps.logged_in_cookie(flask_ours)),
        ),
        # Flask opens the session cookie on every request, so each extension's cost is taken
        # over the plain app opening that extension's own cookie (they differ in size).
        "fl_plain_login": wsgi_variant(
            "Flask: no authentication (Flask-Login's cookie)",
            flask_apps.plain_app(),
            get_environ("/me", flask_apps.logged_in_cookie(flask_login)),
        ),
        "dj_ours": wsgi_variant(
            "Django: Session + PassportMiddleware",
            django_ours,
            get_environ("/me", django_apps.logged_in_cookie(django_ours, "/login/ours")),
        ),
        "dj_stock": wsgi_variant(
            "Django: Session + AuthenticationMiddleware",
            django_stock,
            get_environ("/me", django_apps.logged_in_cookie(django_stock, "/login/stock")),
        ),
    }
    for key, variant in variants.items():
        status, headers, body = variant.call_once()
        expected = (
            b"hello"
            if key.endswith(("_anon", "_plain", "_bare")) and key.startswith("st")
            else b"hello alice"
        )
        if status != 200 or body != expected or b"set-cookie" in headers:
            raise RuntimeError(f"{variant.name}: unexpected answer {status} {headers} {body!r}")
    return variants


def loops_per_wsgi_request(variants: dict[str, Variant], n: int) -> int:
    """Event loops created while our Flask and Django apps serve `n` logged-in requests each."""
    return count_calls(
        asyncio.BaseEventLoop,
        "__init__",
        lambda: [variants[key].run_batch(n) for key in ("fl_ours", "dj_ours")],
    )


def _round_trips(trips: sessions.RoundTrips) -> str:
    """Row 10's result: Redis round trips per request, and the commands they carried."""
    each = ", ".join(f"{count / trips.requests:g} {name}" for name, count in trips.commands.items())
    return f"{trips.per_request:.2f} round trips/request ({each})"


def _counts(counts: Counter[str], sign: str = "") -> str:
    """`GET 20, SET 1`: a count of commands, in name order."""
    return ", ".join(f"{name} {sign}{n}" for name, n in sorted(counts.items())) or "none"


def _requests(requests: Sequence[tuple[str, str]]) -> str:
    """Row 13's figure: `1 request`, `2 requests`."""
    return f"{len(requests)} request{'' if len(requests) == 1 else 's'}"


def _request_lines(requests: Sequence[tuple[str, str]]) -> str:
    """What they were: `POST /token`."""
    return ", ".join(f"{method} {path}" for method, path in requests) or "none"


def _row(cells: Sequence[str]) -> str:
    number, label, ours, base, ratio, goal, result = cells
    return f"{number:<2} {label:<56} {ours:>8} {base:>8} {ratio:>9}  {goal:<8} {result}".rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 15; quick 2)")
    parser.add_argument("--requests", type=int, help="requests per round (default 4000)")
    parser.add_argument("--logins", type=int, help="OIDC logins per round (default 30)")
    parser.add_argument(
        "--fastapi-requests", type=int, help="FastAPI requests per round (default 1000)"
    )
    parser.add_argument("--logins-hashed", type=int, help="Argon2id logins per round (default 5)")
    parser.add_argument("--profile", action="store_true", help="also cProfile our variants")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 15)
    per_round = args.requests or (100 if args.quick else 4000)
    sync_n = 100 if args.quick else 5000
    footprint_n = 5_000 if args.quick else 100_000
    trips_n = 20 if args.quick else 1000
    logins = args.logins or (3 if args.quick else 30)
    fastapi_per_round = args.fastapi_requests or (50 if args.quick else 1000)
    hashed_per_round = args.logins_hashed or (1 if args.quick else 5)

    variants = build_variants()
    variants.update(jwt_variants())
    variants["ss_memory"] = sessions.memory_variant()
    redis_reason = sessions.redis_unreachable()
    redis_sessions = None if redis_reason else sessions.redis_variant()
    trips: sessions.RoundTrips | None = None
    try:
        if redis_sessions is not None:
            variants["ss_redis"] = redis_sessions.variant
        measure(list(variants.values()), rounds, per_round)
        if redis_sessions is not None:
            trips = redis_sessions.count_round_trips(trips_n)
    finally:
        if redis_sessions is not None:
            redis_sessions.close()  # deletes its keys, all under a prefix of its own
    # Rounds of their own: a FastAPI request takes several times a Starlette one, so fewer
    # requests make a batch of about the same duration.
    fastapi = fastapi_variants()
    measure(list(fastapi.values()), rounds, fastapi_per_round)
    variants.update(fastapi)
    oidc = oauth.oidc_benchmark()
    oidc_profile = io.StringIO()
    try:
        # Rounds of whole logins (milliseconds each), interleaved like the others.
        measure(list(oidc.variants.values()), rounds, logins)
        variants.update(oidc.variants)
        ours_requests = oidc.callback_requests("oidc_ours")
        authlib_requests = oidc.callback_requests("oidc_authlib")
        if args.profile:  # printed after the table, with the other profiles
            with contextlib.redirect_stdout(oidc_profile):
                oidc.profile(logins)
    finally:
        oidc.close()
    # Logins take Argon2id's tens of milliseconds: rounds of a few, interleaved like the rest.
    hashed = passwords.password_variants()
    # One login warms a variant up: each costs a whole Argon2id verify.
    measure(list(hashed.values()), rounds, hashed_per_round, warmup=1)
    variants.update(hashed)
    argon2 = passwords.hash_times(1 if args.quick else 15)
    throttled = throttle.throttle_figures(200 if args.quick else 5000, redis_reason is None)
    loops, sync_us = measure_sync_authentication(sync_n)
    wsgi_loops = loops_per_wsgi_request(variants, 100)
    footprint = sessions.memory_footprint(footprint_n)

    print(
        f"passport_py benchmarks: Python {platform.python_version()}, "
        f"Starlette {version('starlette')}, Flask {version('flask')}, "
        f"Flask-Login {version('flask-login')}, Django {version('django')}, "
        f"FastAPI {version('fastapi')}, fastapi-users {version('fastapi-users')}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
        + (" (--quick: smoke run, figures not meaningful)" if args.quick else "")
    )
    print(
        f"in-process ASGI/WSGI, {rounds} interleaved rounds x {per_round} requests each; "
        "µs per request: best round (median)"
    )
    for variant in variants.values():
        print(f"   {variant.name:<56} {variant.best:6.2f} µs ({variant.median:.2f})")
    print()
    print(_row(("#", "measurement", "ours µs", "base µs", "ratio", "goal", "result")))
    for row in COMPARISONS:
        if row.ours not in variants:  # row 10 without Redis
            print(_row((row.number, row.label, "", "", "", "", f"skipped: {redis_reason}")))
            continue
        ours, base, ratio = row.figures(variants)
        if row.goal is None:
            goal_text = "info"
            verdict = _round_trips(trips) if row.ours == "ss_redis" and trips else ""
        else:
            goal_text, verdict = f"<= {row.goal:.2f}", "PASS" if ratio <= row.goal else "MISS"
        cells = (row.number, row.label, f"{ours:.2f}", f"{base:.2f}", f"{ratio:.2f}")
        print(_row((*cells, goal_text, verdict)))
    label = f"event loops created by {sync_n} sync authentications"
    loop_cells = ("3", label, f"{sync_us:.2f}", "", f"{loops} loops", "== 0")
    print(_row((*loop_cells, "PASS" if loops == 0 else "MISS")))
    label = "event loops created by 100 Flask + 100 Django requests"
    cells = ("6", label, "", "", f"{wsgi_loops} loops", "== 0")
    print(_row((*cells, "PASS" if wsgi_loops == 0 else "MISS")))
    label = "MemoryStore: MB held by 100,000 login sessions"
    megabytes = f"{footprint.megabytes_per(100_000):.1f}"
    print(_row(("11", label, megabytes, "", "", "info", f"{footprint.per_session:.0f} B each")))
    label = "OIDC callback: requests to the provider, keys cached"
    verdict = "PASS" if ours_requests == [("POST", "/token")] else "MISS"
    verdict += f" ({_request_lines(ours_requests)})"
    print(_row(("13", label, "", "", _requests(ours_requests), "== 1", verdict)))
    label = "login throttle: CPU µs per attempt, MemoryThrottleStore"
    print(_row(("17", label, f"{throttled.memory_cpu:.2f}", "", "", "info", "")))
    label = "login throttle: CPU µs per attempt, RedisThrottleStore"
    if throttled.redis_cpu is None:
        print(_row(("18", label, "", "", "", "", f"skipped: {redis_reason}")))
        label = "login throttle: Redis round trips per failed attempt"
        print(_row(("19", label, "", "", "", "", f"skipped: {redis_reason}")))
    else:
        wall = f"{throttled.redis_wall:.0f} µs wall"
        print(_row(("18", label, f"{throttled.redis_cpu:.2f}", "", "", "info", wall)))
        label = "login throttle: Redis round trips per failed attempt"
        trips_text = f"{throttled.round_trips:g}"
        verdict = "PASS" if throttled.round_trips == 1 else "MISS"
        print(_row(("19", label, "", "", trips_text, "== 1", verdict)))
    label = "Argon2id at the defaults: hash / verify, ms"
    times = f"{argon2.hash_ms:.1f} / {argon2.verify_ms:.1f}"
    print(_row(("21", label, "", "", times, "info", argon2.parameters)))
    print("(line 3: ours µs is one run_sync(passport.authenticate(...)) with an async verify;")
    print(
        " line 4: each side is its extension's µs over the same app without authentication,"
        " given that extension's cookie;"
    )
    print(" lines 7-8: ours is run_sync(passport.authenticate(...)) on one prebuilt request;")
    print(" lines 9-10: base is line 1's ours: the same app on Starlette's cookie session;")
    if trips is not None:
        print(
            f" line 10: {trips.requests} requests made {trips.round_trips} round trips to Redis"
            f" ({_counts(trips.commands)}); Redis's commandstats: {_counts(trips.server, '+')};"
        )
    scaled = "" if footprint.sessions == 100_000 else f", x {100_000 / footprint.sessions:g}"
    print(f" line 11: tracemalloc over {footprint.sessions:,} logins saved by the store{scaled};")
    print(
        f" lines 12-13: {rounds} rounds x {logins} logins a variant against the bundled provider"
        " over loopback HTTP;"
    )
    print(
        "  the callback request alone is timed; Authlib's callback made "
        f"{_requests(authlib_requests)} ({_request_lines(authlib_requests)});"
    )
    print(
        f" lines 14-16: {rounds} rounds x {fastapi_per_round} requests a variant, each its own"
        ' FastAPI app answering {"hello": "alice"};'
    )
    print(
        f" lines 17-19: {throttled.attempts} attempts over 100 accounts from one address,"
        " limits that never refuse (each attempt checks and counts both buckets);"
    )
    print(
        f" line 20: {rounds} rounds x {hashed_per_round} logins a variant: a JSON POST through"
        " LocalStrategy(password_verify(...)) and a session login, vs the verify alone;"
    )
    print(" line 21: medians of single hashes and verifies of one password;")
    print(" table figures are medians over the rounds, each ratio paired round by round)")

    if args.profile:
        from .profiling import profile_variants

        profiled = (
            "st_ours",
            "st_anon",
            "fl_ours",
            "dj_ours",
            "jwt_hs_ours",
            "jwt_rs_ours",
            "ss_memory",
            "fa_jwt_ours",
            "fa_session_ours",
        )
        profile_variants([variants[key] for key in profiled], per_round)
        print(oidc_profile.getvalue(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
