"""`python -m passport_py.demo` where it cannot listen: a busy `DEMO_PORT`, a `DEMO_PORT` that
is not a port, a `DEMO_HOST` this machine does not have. Each ends the real process at once,
non-zero, with one line saying what to run instead, no traceback, and no provider started.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

from test_demo import free_port


def run_demo(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "passport_py.demo"],
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def only_line(finished: subprocess.CompletedProcess[str]) -> str:
    assert finished.returncode != 0
    assert finished.stdout == ""  # nothing started: no banner, no users, no provider
    lines = finished.stderr.splitlines()
    assert len(lines) == 1, finished.stderr
    return lines[0]


def test_a_busy_port_names_a_free_one_to_use_instead() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = only_line(run_demo(DEMO_HOST="127.0.0.1", DEMO_PORT=str(port)))
    match = re.fullmatch(rf"port {port} is in use: run DEMO_PORT=(\d+) make demo", line)
    assert match is not None, line
    suggested = int(match[1])
    assert suggested > port
    with socket.socket() as probe:  # the suggestion was free when it was made
        probe.bind(("127.0.0.1", suggested))


def test_a_demo_port_that_is_not_a_number_says_what_to_run() -> None:
    line = only_line(run_demo(DEMO_PORT="eighty"))
    assert line == (
        "DEMO_PORT must be a port number from 1 to 65535, not 'eighty': "
        "run DEMO_PORT=8000 make demo"
    )


def test_a_demo_port_out_of_range_says_what_to_run() -> None:
    assert only_line(run_demo(DEMO_PORT="70000")).startswith(
        "DEMO_PORT must be a port number from 1 to 65535, not '70000'"
    )


def test_a_host_this_machine_does_not_have_says_what_to_run() -> None:
    # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): no interface of this machine has it.
    line = only_line(run_demo(DEMO_HOST="192.0.2.1", DEMO_PORT=str(free_port())))
    assert line.startswith("cannot listen on DEMO_HOST=192.0.2.1 (")
    assert line.endswith("): run DEMO_HOST=127.0.0.1 make demo")
