"""`python -m benchmarks [--quick] [--profile]`: print the comparison table (exit code 0)."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
from collections.abc import Sequence
from importlib.metadata import version

from .apps import (
    LOGGED_IN_SESSION,
    UnmarkedSessionUserBackend,
    bare_app,
    passport_app,
    session_cookie,
    session_only_app,
    stock_auth_app,
)
from .asgi import Variant, call_once, get_scope, measure
from .loops import measure_sync_authentication

#: (number, label, ours, baseline, goal ratio or None for information only)
COMPARISONS = (
    ("1", "logged-in GET: Passport vs AuthenticationMiddleware", "ours_in", "stock_in", 1.00),
    ("2", "anonymous GET: Passport vs SessionMiddleware only", "ours_anon", "plain_anon", 1.10),
    ("", "anonymous GET: Passport vs no middleware", "ours_anon", "bare_anon", None),
    ("", "logged-in GET, no cache headers either side", "ours_nc", "stock_nv", None),
)


def build_variants() -> dict[str, Variant]:
    """The app + request pairs, each checked to answer as the comparison assumes."""
    cookie = session_cookie(LOGGED_IN_SESSION)
    me, anonymous = get_scope("/me", cookie), get_scope("/")
    variants = {
        "ours_in": Variant("Session + Passport, logged in", passport_app(), me),
        "stock_in": Variant("Session + AuthenticationMiddleware, logged in", stock_auth_app(), me),
        "ours_nc": Variant(
            "  the same, PassportMiddleware(cache_headers=False)",
            passport_app(cache_headers=False),
            me,
        ),
        "stock_nv": Variant(
            "  the same, backend reads scope['session'] (no Vary)",
            stock_auth_app(UnmarkedSessionUserBackend()),
            me,
        ),
        "ours_anon": Variant("Session + Passport, anonymous", passport_app(), anonymous),
        "plain_anon": Variant("Session only, anonymous", session_only_app(), anonymous),
        "bare_anon": Variant("no middleware, anonymous", bare_app(), anonymous),
    }
    for key, variant in variants.items():
        status, headers, body = asyncio.run(call_once(variant.app, variant.scope))
        expected = b"hello" if key.endswith("_anon") else b"hello alice"
        if status != 200 or body != expected or b"set-cookie" in headers:
            raise RuntimeError(f"{variant.name}: unexpected answer {status} {headers} {body!r}")
    return variants


def _row(cells: Sequence[str]) -> str:
    number, label, ours, base, ratio, goal, result = cells
    return f"{number:<2} {label:<52} {ours:>8} {base:>8} {ratio:>8}  {goal:<8} {result}".rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 15; quick 2)")
    parser.add_argument("--requests", type=int, help="requests per round (default 4000)")
    parser.add_argument("--profile", action="store_true", help="also cProfile our two variants")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 15)
    per_round = args.requests or (100 if args.quick else 4000)
    sync_n = 100 if args.quick else 5000

    variants = build_variants()
    asyncio.run(measure(list(variants.values()), rounds, per_round))
    loops, sync_us = measure_sync_authentication(sync_n)

    print(
        f"passport_py benchmarks: Python {platform.python_version()}, "
        f"Starlette {version('starlette')}, {os.cpu_count()} CPUs, {platform.machine()}"
        + (" (--quick: smoke run, figures not meaningful)" if args.quick else "")
    )
    print(
        f"in-process ASGI, {rounds} interleaved rounds x {per_round} requests each; "
        "µs per request: best round (median)"
    )
    for variant in variants.values():
        print(f"   {variant.name:<54} {variant.best:6.2f} µs ({variant.median:.2f})")
    print()
    print(_row(("#", "measurement", "ours µs", "base µs", "ratio", "goal", "result")))
    for number, label, ours_key, base_key, goal in COMPARISONS:
        ours, base = variants[ours_key], variants[base_key]
        ratio = ours.best / base.best
        if goal is None:
            goal_text, verdict = "info", ""
        else:
            goal_text, verdict = f"<= {goal:.2f}", "PASS" if ratio <= goal else "MISS"
        cells = (number, label, f"{ours.best:.2f}", f"{base.best:.2f}", f"{ratio:.2f}")
        print(_row((*cells, goal_text, verdict)))
    label = f"event loops created by {sync_n} sync authentications"
    loop_cells = ("3", label, f"{sync_us:.2f}", "", f"{loops} loops", "== 0")
    print(_row((*loop_cells, "PASS" if loops == 0 else "MISS")))
    print("(line 3: ours µs is one run_sync(passport.authenticate(...)) with an async verify)")

    if args.profile:
        from .profiling import profile_variants

        profile_variants([variants["ours_in"], variants["ours_anon"]], per_round)
    return 0


if __name__ == "__main__":
    sys.exit(main())
