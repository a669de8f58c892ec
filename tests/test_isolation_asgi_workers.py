"""Security reference P0 23 (§5.1 R1) across processes: uvicorn with two worker processes whose
sessions live in one Redis never gives one request another request's user.

tests/isolation_server_app.py (the Starlette behaviour app on passport_py's `SessionMiddleware`
and a `RedisStore` under a key prefix of this module's own, deleted afterwards) runs under
`uvicorn --workers 2` on a loopback port, and tests/isolation_traffic.py drives it: 48 members log
in, each on its own cookie jar; 24 client threads, each owning two of those jars, then interleave
2400 requests (reads of pages naming the user, logouts, logins as other members), every answer
checked against exactly the user its jar is logged in as. The deserializer awaits 0-2 ms, so the
requests a worker serves at once overlap. The jars share one keep-alive connection pool whose
connections close after ~10 requests and are accepted anew by either worker, so a jar's requests
reach both: a session one process writes, the other reads. The control drives the same traffic,
shorter, through the app's leaky variant and must see a mismatch.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from isolation_server_app import MEMBERS
from isolation_traffic import Answer, check_statuses_and_mix, drive, mismatches
from redis_helpers import REDIS_URL, unique_prefix
from uvicorn_servers import start_uvicorn

WORKERS = 2
THREADS = 24
REQUESTS_PER_THREAD = 100  # 24 x 100 = 2400 interleaved requests, ~10 s on a loaded machine
# The control shows over a hundred mismatches in 240 requests (dozens in 96).
CONTROL_REQUESTS_PER_THREAD = 10
# A connection serves ~10 requests of many users; the next one is accepted by either worker (a
# pool kept open stays where it was first accepted: 87/13 splits seen, 100/0 possible).
RECONNECT = 0.1
STARTUP_SECONDS = 30.0

redis_keys = contextmanager(unique_prefix)


@dataclass
class Run:
    pids: list[int]
    """The worker processes uvicorn started."""
    answers: list[Answer]


def run_traffic(factory: str, requests_per_thread: int, log: Path) -> Run:
    """Serve `isolation_server_app:<factory>` from two uvicorn workers and drive the traffic
    through them; the server is stopped and its Redis keys deleted, whatever happens."""
    with redis_keys() as prefix:
        env = {**os.environ, "REDIS_URL": REDIS_URL, "SESSION_PREFIX": prefix}
        server = start_uvicorn(
            "isolation",
            f"isolation_server_app:{factory}",
            log,
            env,
            workers=WORKERS,
            access_log=False,
        )
        try:
            server.wait_ready(time.monotonic() + STARTUP_SECONDS)
            answers = drive(
                server.url,
                members=MEMBERS,
                threads=THREADS,
                requests_per_thread=requests_per_thread,
                reconnect=RECONNECT,
            )
        finally:
            server.stop()
            print(f"--- uvicorn ---\n{server.output()}")
    return Run(server.pids, answers)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Run:
    log = tmp_path_factory.mktemp("isolation") / "uvicorn.log"
    return run_traffic("create_app", REQUESTS_PER_THREAD, log)


def test_every_response_names_the_user_whose_cookies_sent_it(traffic: Run) -> None:
    """R1: 2400 interleaved requests from 48 cookie jars through two worker processes, zero
    identity mismatches, and anonymous only where the jar was logged out."""
    answers = traffic.answers
    assert len(answers) == THREADS * REQUESTS_PER_THREAD + MEMBERS
    assert mismatches(answers) == []
    check_statuses_and_mix(answers, members=MEMBERS)


def test_both_worker_processes_served_a_good_share_of_the_requests(traffic: Run) -> None:
    """Both workers answered, each a good share: the check above ran across processes."""
    assert len(traffic.pids) == WORKERS
    served = Counter(answer.worker for answer in traffic.answers)
    assert set(served) == {str(pid) for pid in traffic.pids}
    assert min(served.values()) > 0.1 * len(traffic.answers), served


def test_the_isolation_check_catches_a_user_kept_in_a_per_process_holder(tmp_path: Path) -> None:
    """The control: a deserializer keeping the id in one attribute its process shares must show
    mismatches, so the requests above really overlap and the check can see a leak."""
    run = run_traffic("create_leaky_app", CONTROL_REQUESTS_PER_THREAD, tmp_path / "uvicorn.log")
    assert mismatches(run.answers) != []
