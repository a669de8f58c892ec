"""Security reference P0 23 (§5.1 R1): on a real threaded WSGI server, the Flask and Django
adapters never give one request another request's user.

Each framework's behaviour app (tests/behaviour/) runs under Werkzeug's threaded server on a
loopback port, and tests/isolation_traffic.py drives it: 64 members log in, each on its own
cookie jar; 32 client threads, each owning two of those jars, then interleave 2048 requests
(reads of pages naming the user, logouts, logins as other members), every answer checked against
exactly the user its jar is logged in as. The deserializer sleeps 0-2 ms to widen the window in
which requests overlap, and records which request (by its `X-Req-Id` header) asked it for which
user. Flask runs twice: on its cookie session and on our server-side sessions (`flask_server`,
MemoryStore).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import pytest
from app_servers import werkzeug_server
from behaviour import django_app, flask_app, flask_server_app
from isolation_traffic import Answer, check_statuses_and_mix, drive, members, mismatches
from users import User, UserStore

FRAMEWORKS = ["flask", "flask_server", "django"]
MEMBERS = 64
THREADS = 32
REQUESTS_PER_THREAD = 64  # 32 x 64 = 2048 interleaved requests per framework, ~5 s
# The control shows dozens of mismatches in 128 requests (a few in 64 already).
CONTROL_REQUESTS_PER_THREAD = 4

WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
APPS: dict[str, Callable[[UserStore], WSGIApp]] = {
    "flask": flask_app.make_app,
    "flask_server": flask_server_app.make_app,
    "django": django_app.make_wsgi_app,
}

# The request the server thread is working on, so the store can say who asked it for a user.
_request_id: ContextVar[str | None] = ContextVar("_request_id", default=None)


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
class Run:
    framework: str
    store: RecordingStore
    answers: list[Answer]


def run_traffic(framework: str, requests_per_thread: int, *, leaky: bool = False) -> Run:
    """Serve the framework's behaviour app and drive the interleaved traffic through it."""
    store = RecordingStore(leaky=leaky)
    for member in members(MEMBERS):
        store.add(member)
    with werkzeug_server(tag_requests(APPS[framework](store))) as base_url:
        answers = drive(
            base_url, members=MEMBERS, threads=THREADS, requests_per_thread=requests_per_thread
        )
    return Run(framework, store, answers)


@pytest.fixture(scope="module", params=FRAMEWORKS)
def traffic(request: pytest.FixtureRequest) -> Run:
    return run_traffic(request.param, REQUESTS_PER_THREAD)


def test_every_response_names_the_user_whose_cookies_sent_it(traffic: Run) -> None:
    """R1: 2048 interleaved requests from 64 cookie jars, zero identity mismatches, and
    anonymous only where the jar was logged out."""
    answers = traffic.answers
    assert len(answers) == THREADS * REQUESTS_PER_THREAD + MEMBERS
    assert mismatches(answers) == []
    check_statuses_and_mix(answers, members=MEMBERS)


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
