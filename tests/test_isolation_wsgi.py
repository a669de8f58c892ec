"""Security reference P0 23 (§5.1 R1): on a real threaded WSGI server, the Flask and Django
adapters never give one request another request's user.

Each framework's behaviour app (tests/behaviour/) runs under Werkzeug's threaded server on a
loopback port. 64 members log in, each on its own `httpx.Client` (its own cookie jar); 32 client
threads, each owning two of those jars, then interleave 1024 requests: `GET /` (`hello <name>`),
`GET /private`, logouts and logins (often as another member). Every thread knows who each of its
jars is logged in as, so every answer is checked against exactly one expected user. The jars share
one keep-alive connection pool, as behind a proxy, so a server thread serves one user after
another. The deserializer sleeps 0-2 ms to widen the window in which requests overlap, and records
which request (by an `X-Req-Id` header) asked it for which user. Flask runs twice: on its
cookie session and on our server-side sessions (`flask_server`, MemoryStore).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from app_servers import werkzeug_server
from behaviour import django_app, flask_app, flask_server_app
from users import PASSWORD, User, UserStore

FRAMEWORKS = ["flask", "flask_server", "django"]
MEMBERS = 64
THREADS = 32
REQUESTS_PER_THREAD = 32  # 32 x 32 = 1024 interleaved requests per framework, ~3.5 s
# The control shows dozens of mismatches in 128 requests (a few in 64 already).
CONTROL_REQUESTS_PER_THREAD = 4
FIRST_MEMBER_ID = 100

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
APPS: dict[str, Callable[[UserStore], WSGIApp]] = {
    "flask": flask_app.make_app,
    "flask_server": flask_server_app.make_app,
    "django": django_app.make_wsgi_app,
}

# The request the server thread is working on, so the store can say who asked it for a user.
_request_id: ContextVar[str | None] = ContextVar("_request_id", default=None)


def member_name(n: int) -> str:
    return f"member{n:02d}"


@dataclass
class RecordingStore(UserStore):
    """A user store whose deserializer sleeps 0-2 ms and records `(request id, user id)`.

    `leaky=True` keeps the id being restored in one attribute shared by every thread while it
    sleeps: the control, which the isolation check must catch.
    """

    leaky: bool = False
    restores: list[tuple[str | None, Any]] = field(default_factory=list)
    _holder: Any = None

    def deserialize(self, user_id: Any) -> User | None:
        self.restores.append((_request_id.get(), user_id))
        if self.leaky:
            self._holder = user_id
            time.sleep(random.random() * 0.002)
            return super().deserialize(self._holder)
        time.sleep(random.random() * 0.002)
        return super().deserialize(user_id)


def tag_requests(app: WSGIApp) -> WSGIApp:
    """`app`, with the `X-Req-Id` of the request being served in `_request_id`."""

    def tagged(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        token = _request_id.set(environ.get("HTTP_X_REQ_ID"))
        try:
            return app(environ, start_response)
        finally:
            _request_id.reset(token)

    return tagged


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


def send(jar: Jar, action: str, req_id: str, target: str | None = None) -> Answer:
    """Send one request of `action` from `jar` and update who the jar is logged in as."""
    headers = {"x-req-id": req_id}
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
    )


def browse(seed: int, jars: list[Jar], requests: int) -> list[Answer]:
    """One client thread: log its jars in, then send `requests` random requests from them."""
    rng = random.Random(seed)
    answers = [
        send(jar, "login", f"{seed}-login-{n}", member_name(seed * len(jars) + n))
        for n, jar in enumerate(jars)
    ]
    for n in range(requests):
        jar = rng.choice(jars)
        action = rng.choices(["home", "private", "logout", "login"], [60, 26, 7, 7])[0]
        target = member_name(rng.randrange(MEMBERS)) if action == "login" else None
        answers.append(send(jar, action, f"{seed}-{n}", target))
    return answers


@dataclass
class Run:
    framework: str
    store: RecordingStore
    answers: list[Answer]


def run_traffic(framework: str, requests_per_thread: int, *, leaky: bool = False) -> Run:
    """Serve the framework's behaviour app and drive the interleaved traffic through it."""
    store = RecordingStore(leaky=leaky)
    for n in range(MEMBERS):
        store.add(User(FIRST_MEMBER_ID + n, member_name(n)))
    app = tag_requests(APPS[framework](store))
    jars_per_thread = MEMBERS // THREADS
    with werkzeug_server(app) as base_url, ExitStack() as stack:
        # One connection pool for all jars (as a proxy in front of an app has): building a
        # transport per client costs ~40 ms. Each client keeps its own cookie jar.
        limits = httpx.Limits(max_connections=THREADS)
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
                    )
                )
            )
            for _ in range(MEMBERS)
        ]
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [
                pool.submit(
                    browse,
                    seed,
                    jars[seed * jars_per_thread : (seed + 1) * jars_per_thread],
                    requests_per_thread,
                )
                for seed in range(THREADS)
            ]
            answers = [answer for future in futures for answer in future.result()]
    return Run(framework, store, answers)


def mismatches(answers: list[Answer]) -> list[Answer]:
    """Answers naming someone other than the user whose cookie jar sent the request."""
    return [a for a in answers if a.named is not None and a.named != (a.expected or "anonymous")]


@pytest.fixture(scope="module", params=FRAMEWORKS)
def traffic(request: pytest.FixtureRequest) -> Run:
    return run_traffic(request.param, REQUESTS_PER_THREAD)


def test_every_response_names_the_user_whose_cookies_sent_it(traffic: Run) -> None:
    """R1: 1024 interleaved requests from 64 cookie jars, zero identity mismatches, and
    anonymous only where the jar was logged out."""
    answers = traffic.answers
    assert len(answers) == THREADS * REQUESTS_PER_THREAD + MEMBERS
    assert mismatches(answers) == []
    assert all(a.status < 500 for a in answers)
    for a in answers:
        if a.action == "home":
            assert a.status == 200, a
        elif a.action == "private":
            assert a.status == (200 if a.expected else 302), a
        elif a.action == "logout":
            assert (a.status, a.location) == (302, "/"), a
        else:  # a successful login lands on "/" or on the page login_required sent it from
            assert (a.status, a.location) in {(302, "/"), (302, "/private")}, a
    # The traffic really mixed logged-in and logged-out pages, and many different members.
    reads = [a for a in answers if a.named is not None]
    assert len(reads) > 0.8 * THREADS * REQUESTS_PER_THREAD
    assert sum(a.named == "anonymous" for a in reads) > 10
    assert len({a.named for a in reads}) > MEMBERS // 2


def test_each_request_restores_its_own_user_at_most_once(traffic: Run) -> None:
    """The deserializer runs at most once per request, under concurrency too, and is asked for
    the user of the session that sent the request."""
    restores = traffic.store.restores
    per_request = Counter(req_id for req_id, _ in restores)
    assert None not in per_request
    assert max(per_request.values()) == 1
    restored = dict(restores)
    ids = {user.username: user.id for user in traffic.store.users.values()}
    for a in traffic.answers:
        if a.named is not None and a.expected is not None:
            assert restored.get(a.req_id) == ids[a.expected], a
        elif a.action in ("home", "private"):  # a logged-out jar: nobody to restore
            assert a.req_id not in restored, a


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_isolation_check_catches_a_user_kept_in_a_shared_holder(framework: str) -> None:
    """The control: a deserializer keeping the id in one attribute every thread shares must
    show mismatches, so the requests above really overlap and the check can see a leak."""
    run = run_traffic(framework, CONTROL_REQUESTS_PER_THREAD, leaky=True)
    assert mismatches(run.answers) != []
