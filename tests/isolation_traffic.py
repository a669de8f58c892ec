"""Interleaved logged-in traffic from many cookie jars against a behaviour app on a real server,
and the checks of security reference P0 23 (§5.1 R1): no response ever shows another user.

    answers = drive(base_url, members=64, threads=32, requests_per_thread=32)
    assert mismatches(answers) == []
    check_statuses_and_mix(answers, members=64)

The app is a behaviour app (tests/behaviour/common.py) whose users are `members(count)`.
`drive` logs each member in on its own `httpx.Client` (its own cookie jar); `threads` client
threads, each owning `members // threads` of those jars, then interleave their requests:
`GET /` (`hello <name>`), `GET /private`, logouts and logins (often as another member). Every
thread knows who each of its jars is logged in as, so every `Answer` is checked against exactly
one expected user. The jars share one keep-alive connection pool, as behind a proxy, so a server
thread (or task) serves one user after another (`reconnect=` closes a share of the connections).
Each request carries an `X-Req-Id`; an app that names its process in `X-Worker-Pid` has it in
`Answer.worker`. No pytest in here.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

import httpx
from users import PASSWORD, User

__all__ = ["Answer", "check_statuses_and_mix", "drive", "members", "mismatches"]

FIRST_MEMBER_ID = 100
TIMEOUT = httpx.Timeout(30.0)  # a loaded 2-core machine: generous, it only bounds a hang


def member_name(n: int) -> str:
    return f"member{n:02d}"


def members(count: int) -> list[User]:
    """The members `drive` logs in: `member00` (id 100), `member01` (id 101), ..."""
    return [User(FIRST_MEMBER_ID + n, member_name(n)) for n in range(count)]


@dataclass
class Jar:
    """One browser: a client with its own cookie jar, and who it is logged in as."""

    client: httpx.Client
    user: str | None = None


@dataclass(frozen=True)
class Answer:
    """One request and its response, as the client thread that sent it saw them."""

    req_id: str
    action: str
    expected: str | None
    """Who the jar was logged in as when it sent the request (after it, for a login)."""
    status: int
    named: str | None
    """Who the response said the user was ("anonymous" for nobody); None where it says no one."""
    location: str | None
    worker: str | None
    """The `X-Worker-Pid` of the response: the server process that answered, where it says."""


def send(
    jar: Jar, action: str, req_id: str, target: str | None = None, *, close: bool = False
) -> Answer:
    """Send one request of `action` from `jar` and update who the jar is logged in as; with
    `close`, ask the server to close the connection after it."""
    headers = {"x-req-id": req_id, **({"connection": "close"} if close else {})}
    named: str | None = None
    if action == "home":
        response = jar.client.get("/", headers=headers)
        named = response.text.removeprefix("hello ")
    elif action == "private":
        response = jar.client.get("/private", headers=headers)
        if response.status_code == 200:
            named = response.json()["user"]
        elif response.status_code == 302 and response.headers["location"].startswith("/login?"):
            named = "anonymous"
    elif action == "logout":
        response = jar.client.post("/logout", headers=headers)
        jar.user = None
    else:
        assert target is not None
        form = {"username": target, "password": PASSWORD}
        response = jar.client.post("/login", data=form, headers=headers)
        jar.user = target
    return Answer(
        req_id,
        action,
        jar.user,
        response.status_code,
        named,
        response.headers.get("location"),
        response.headers.get("x-worker-pid"),
    )


def browse(
    seed: int, jars: list[Jar], requests: int, members: int, reconnect: float
) -> list[Answer]:
    """One client thread: log its jars in, then send `requests` random requests from them, a
    `reconnect` share of them on a connection closed afterwards."""
    rng = random.Random(seed)
    answers = [
        send(jar, "login", f"{seed}-login-{n}", member_name(seed * len(jars) + n))
        for n, jar in enumerate(jars)
    ]
    for n in range(requests):
        jar = rng.choice(jars)
        action = rng.choices(["home", "private", "logout", "login"], [60, 26, 7, 7])[0]
        target = member_name(rng.randrange(members)) if action == "login" else None
        close = rng.random() < reconnect
        answers.append(send(jar, action, f"{seed}-{n}", target, close=close))
    return answers


def drive(
    base_url: str,
    *,
    members: int,
    threads: int,
    requests_per_thread: int,
    reconnect: float = 0.0,
) -> list[Answer]:
    """Log `members` members in, each on its own jar, then interleave `requests_per_thread`
    requests from each of `threads` client threads; every answer, logins first per thread.

    `reconnect` is the share of requests after which the server closes the connection, so the
    next request on it is accepted anew: with several workers on one socket, whichever is free
    takes it (a pool that is never closed stays with the worker that accepted it first).
    """
    assert members % threads == 0, "each thread owns the same number of jars"
    jars_per_thread = members // threads
    with ExitStack() as stack:
        # One connection pool for all jars (as a proxy in front of an app has): building a
        # transport per client costs ~40 ms. Each client keeps its own cookie jar.
        limits = httpx.Limits(max_connections=threads)
        transport = stack.enter_context(httpx.HTTPTransport(limits=limits))
        jars = [
            Jar(
                stack.enter_context(
                    httpx.Client(
                        transport=transport,
                        base_url=base_url,
                        # Django checks Host against ALLOWED_HOSTS; the browser asks for pages.
                        headers={"host": "testserver", "accept": "text/html"},
                        follow_redirects=False,
                        timeout=TIMEOUT,
                    )
                )
            )
            for _ in range(members)
        ]
        with ThreadPoolExecutor(threads) as pool:
            futures = [
                pool.submit(
                    browse,
                    seed,
                    jars[seed * jars_per_thread : (seed + 1) * jars_per_thread],
                    requests_per_thread,
                    members,
                    reconnect,
                )
                for seed in range(threads)
            ]
            return [answer for future in futures for answer in future.result()]


def mismatches(answers: list[Answer]) -> list[Answer]:
    """Answers naming someone other than the user whose cookie jar sent the request."""
    return [a for a in answers if a.named is not None and a.named != (a.expected or "anonymous")]


def check_statuses_and_mix(answers: list[Answer], *, members: int) -> None:
    """Every answer has the status its action calls for (anonymous only where the jar was
    logged out), and the traffic really mixed logged-in and logged-out pages of many members."""
    for a in answers:
        if a.action == "home":
            assert a.status == 200, a
        elif a.action == "private":
            assert a.status == (200 if a.expected else 302), a
        elif a.action == "logout":
            assert (a.status, a.location) == (302, "/"), a
        else:  # a successful login lands on "/" or on the page login_required sent it from
            assert (a.status, a.location) in {(302, "/"), (302, "/private")}, a
    reads = [a for a in answers if a.named is not None]
    assert len(reads) > 0.8 * (len(answers) - members)
    assert sum(a.named == "anonymous" for a in reads) > 10
    assert len({a.named for a in reads}) > members // 2
