"""Follow a tutorial page literally: run its shell commands, apply its snippets to the files it
names, then serve the result with `manage.py runserver`.

A page's steps are the fenced blocks under the headings a test chooses, in page order:

- ```` ```console ````: each `$ ` line is a command. `django-admin` and `python` run with this
  interpreter, `cd` changes the directory of the later steps, `pip install` is skipped (the
  package under test is installed already), `createsuperuser` gets `--noinput` and the
  password through `DJANGO_SUPERUSER_PASSWORD` (what a human types at its prompt), and
  `runserver` is kept for the end: its autoreloader would pick up the later edits, the test
  starts it once they are all made.
- ```` ```diff ````: an edit of the file the paragraph above names. Lines starting with ` `
  (or empty) and `-` must appear once, together, in the file; they are replaced by the ` ` and
  `+` lines.
- ```` ```python ````: the whole file the paragraph above names, or, when the paragraph says
  "at the end of", lines appended to it.

The paragraph right above a diff or Python block must name exactly one `.py` file in backticks,
so a reader knows where the snippet goes. No pytest in here.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

FENCE = re.compile(r"^```(?P<lang>\w*)\s*$")
HEADING = re.compile(r"^(?P<level>#{1,6})\s+(?P<title>.+?)\s*$")
PY_FILE = re.compile(r"`([\w./-]+\.py)`")

#: Seconds a command or the server may take (generous: the machine is shared).
PATIENCE = 60.0


class TutorialError(AssertionError):
    """The page cannot be followed as written."""


@dataclass(frozen=True)
class Step:
    """One fenced block of a tutorial page."""

    line: int  # 1-based line of the fence
    lang: str  # "console", "diff" or "python"
    code: str
    file: str | None  # the file the paragraph above names (diff and python only)
    append: bool  # a python block added at the end of `file`


def _paragraph_above(lines: list[str], fence: int) -> str:
    """The prose paragraph ending just above line index `fence`, skipping `<!-- continue -->`."""
    i = fence - 1
    while i >= 0 and (not lines[i].strip() or lines[i].strip() == "<!-- continue -->"):
        i -= 1
    end = i
    while i >= 0 and lines[i].strip():
        i -= 1
    return " ".join(line.strip() for line in lines[i + 1 : end + 1])


def steps(page: Path, sections: tuple[str, ...]) -> list[Step]:
    """The console, diff and python blocks of `page` under the headings `sections` (each with
    its subsections), in page order."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Step] = []
    inside: int | None = None  # the level of the chosen heading we are under
    i = 0
    while i < len(lines):
        if lines[i].strip() == "<!-- test":  # a hidden check: its `# comments` are no headings
            i = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "-->") + 1
            continue
        heading = HEADING.match(lines[i])
        if heading:
            level = len(heading["level"])
            if heading["title"] in sections:
                inside = level
            elif inside is not None and level <= inside:
                inside = None
        fence = FENCE.match(lines[i])
        if fence:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
            lang = fence["lang"]
            if inside is not None and lang in {"console", "diff", "python"}:
                code = "\n".join(lines[i + 1 : end]) + "\n"
                file = None
                append = False
                if lang != "console":
                    paragraph = _paragraph_above(lines, i)
                    named = set(PY_FILE.findall(paragraph))
                    if len(named) != 1:
                        raise TutorialError(
                            f"{page.name}:{i + 1}: the paragraph above this {lang} block should "
                            f"name the one file it goes in, not {sorted(named)}: {paragraph!r}"
                        )
                    file = named.pop()
                    append = lang == "python" and "at the end of" in paragraph.lower()
                found.append(Step(i + 1, lang, code, file, append))
            i = end + 1
            continue
        i += 1
    return found


def apply_diff(text: str, diff: str, where: str) -> str:
    """`text` with the one hunk of `diff` applied."""
    old: list[str] = []
    new: list[str] = []
    for line in diff.splitlines():
        mark, rest = line[:1], line[1:]
        if mark in {" ", ""}:
            old.append(rest)
            new.append(rest)
        elif mark == "-":
            old.append(rest)
        elif mark == "+":
            new.append(rest)
        else:
            raise TutorialError(f"{where}: a diff line starts with ' ', '-' or '+': {line!r}")
    before = "\n".join(old) + "\n"
    after = "\n".join(new) + "\n"
    starts = [m.start() for m in re.finditer(re.escape(before), text)]
    starts = [s for s in starts if s == 0 or text[s - 1] == "\n"]
    if len(starts) != 1:
        raise TutorialError(
            f"{where}: the lines the diff keeps or removes appear {len(starts)} times in the "
            f"file, not once:\n{before}"
        )
    return text[: starts[0]] + after + text[starts[0] + len(before) :]


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py names the project's own settings
    return env


def run_command(argv: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> str:
    """Run one command to completion; its output, or `TutorialError` with it."""
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=_environment(extra_env or {}),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=False,
    )
    if done.returncode != 0:
        raise TutorialError(f"{shlex.join(argv)} failed in {cwd}:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Project:
    """A project built by following a page: where it is, and how the page serves it."""

    directory: Path
    runserver: list[str]  # manage.py's arguments, as the page wrote them


def follow(page: Path, sections: tuple[str, ...], workdir: Path, password: str) -> Project:
    """Do what `sections` of `page` say, in `workdir`; `password` is the one typed at
    `createsuperuser`'s prompt."""
    cwd = workdir
    runserver: list[str] | None = None
    for step in steps(page, sections):
        where = f"{page.name}:{step.line}"
        if step.lang == "console":
            for line in step.code.splitlines():
                if not line.startswith("$ "):
                    continue  # a command's output
                argv = shlex.split(line[2:])
                if argv[0] == "cd":
                    cwd = cwd / argv[1]
                elif argv[0] == "pip":
                    continue
                elif argv[0] == "django-admin":
                    run_command([sys.executable, "-m", "django", *argv[1:]], cwd)
                elif argv[:3] == ["python", "manage.py", "runserver"]:
                    runserver = argv[2:]
                elif argv[:3] == ["python", "manage.py", "createsuperuser"]:
                    secret = {"DJANGO_SUPERUSER_PASSWORD": password}
                    run_command([sys.executable, *argv[1:], "--noinput"], cwd, secret)
                elif argv[0] == "python":
                    run_command([sys.executable, *argv[1:]], cwd)
                else:
                    raise TutorialError(f"{where}: no way to run {line!r}")
            continue
        assert step.file is not None
        target = cwd / step.file
        if step.lang == "diff":
            text = target.read_text(encoding="utf-8")
            target.write_text(apply_diff(text, step.code, where), encoding="utf-8")
        elif step.append:
            with target.open("a", encoding="utf-8") as sink:
                sink.write("\n\n" + step.code)
        else:
            target.write_text(step.code, encoding="utf-8")
    if runserver is None:
        raise TutorialError(f"{page.name}: the page never runs `python manage.py runserver`")
    return Project(cwd, runserver)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def runserver(project: Project, log: Path) -> Iterator[str]:
    """`python manage.py runserver` of `project` on a free loopback port (without the
    autoreloader, so that one process is started and stopped); yields the base URL once the
    server answers."""
    port = _free_port()
    argv = [sys.executable, "manage.py", *project.runserver, f"127.0.0.1:{port}", "--noreload"]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, cwd=project.directory, env=_environment({}), stdout=sink, stderr=sink
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + PATIENCE
        while True:
            if process.poll() is not None:
                raise TutorialError(f"runserver exited early:\n{log.read_text()}")
            try:
                httpx.get(base + "/", timeout=2.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise TutorialError(f"runserver did not start:\n{log.read_text()}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when runserver hangs
            process.kill()
            process.wait()
