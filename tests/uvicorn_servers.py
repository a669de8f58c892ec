"""uvicorn in a child process on a loopback port, for the tests that need real server processes.

    server = start_uvicorn("A", "session_server_app:create_app", log, env, workers=2)
    try:
        server.wait_ready(time.monotonic() + STARTUP_SECONDS)
        httpx.get(server.url + "/whoami")
    finally:
        server.stop()

The app is a factory in a module of tests/ (`--factory`, `--app-dir tests`); uvicorn binds port
0, so there is no port race, and reports the port it got. The server runs in a process group of
its own, and `stop()` ends the whole group: no worker outlives the test, even one whose parent
died. No pytest in here.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Server", "start_uvicorn", "uvicorn_command"]

TESTS = Path(__file__).resolve().parent
RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
STARTED = re.compile(r"Started server process \[(\d+)\]")
READY = "Application startup complete."
STOP_SECONDS = 10.0


@dataclass
class Server:
    """One uvicorn server (its supervisor, with `workers > 1`); `output()` is what it has
    printed so far."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    workers: int
    url: str = ""
    pids: list[int] = field(default_factory=list)
    """The pids of the processes serving requests, once `wait_ready` returns."""

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, deadline: float) -> None:
        """Wait for uvicorn to report its port and for every worker to have started the app."""
        while True:
            output = self.output()
            found = RUNNING.search(output)
            if found and output.count(READY) >= self.workers:
                self.url = f"http://127.0.0.1:{found[1]}"
                self.pids = [int(pid) for pid in STARTED.findall(output)]
                return
            if self._exited():
                raise AssertionError(f"server {self.name} exited early:\n{output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"server {self.name} did not start:\n{output}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (uvicorn then runs the app's shutdown in each worker), then SIGKILL to
        whatever is left of the process group; always reaped."""
        # Nothing here reaps the supervisor before the kills: while it is an unreaped child, its
        # pid (the group's id) cannot be reused, so they reach only what this server started.
        if self.process.returncode is None:
            os.kill(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_SECONDS
            while not self._exited() and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def _exited(self) -> bool:
        """Whether the supervisor has exited, without reaping it."""
        flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
        return os.waitid(os.P_PID, self.process.pid, flags) is not None


def uvicorn_command(
    target: str,
    *,
    app_dir: Path = TESTS,
    factory: bool = True,
    port: int = 0,
    workers: int = 1,
    options: tuple[str, ...] = (),
) -> list[str]:
    """The `python -m uvicorn` command line serving `target` (`module:attribute` in `app_dir`)
    on a loopback port (an unused one when `port` is 0)."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        *(["--factory"] if factory else []),
        target,
        "--app-dir",
        str(app_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *(["--workers", str(workers)] if workers > 1 else []),
        *options,
    ]


def start_uvicorn(
    name: str,
    factory: str,
    log: Path,
    env: dict[str, str],
    *,
    workers: int = 1,
    access_log: bool = True,
    app_dir: Path = TESTS,
    is_factory: bool = True,
    port: int = 0,
) -> Server:
    """Start uvicorn serving `factory` (`module:function` in tests/, or `module:app` with
    `is_factory=False`) on a loopback port, its output in `log` (with a line per request
    unless `access_log=False`); `wait_ready` before sending it requests, `stop` always."""
    options = ("--log-level", "info", *(() if access_log else ("--no-access-log",)))
    command = uvicorn_command(
        factory, app_dir=app_dir, factory=is_factory, port=port, workers=workers, options=options
    )
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**env, "PYTHONUNBUFFERED": "1"},
            cwd=app_dir if app_dir != TESTS else TESTS.parent,
            start_new_session=True,
        )
    return Server(name, process, log, workers)
