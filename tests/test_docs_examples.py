"""Every Python example in README.md and docs/*.md runs, and the main ones are checked.

How to write examples in README.md and docs/*.md
------------------------------------------------

A ```` ```python ```` fence is an example. It runs in a fresh module namespace (not named
`__main__`, so `if __name__ == "__main__": uvicorn.run(app)` starts nothing), with a fresh
temporary directory as the working directory.

Two HTML comments, invisible on the site and on GitHub, extend an example:

    <!-- continue -->
    ```python
    ...
    ```

On the line right before a ```` ```python ```` fence, `<!-- continue -->` makes that block run in
the namespace left by the previous Python block of the same file: for pages that build one
example in steps (say so in the prose as well).

    <!-- test
    client = TestClient(app)
    assert client.get("/").status_code == 200
    -->

A hidden check: the lines between `<!-- test` and a line holding only `-->` run after the
preceding block, in its namespace, and assert what the example promises (usually with Starlette's
TestClient). The code must not contain `-->`.

An example, with its continuations and checks, is one test, named after the file and line of its
first block. When it leaves a Starlette application in `app`, it must carry at least one check
(a `<!-- test` comment, or an entry in `EXTERNAL_CHECKS` below for files whose examples we do not
annotate, like README.md), and the app must also answer `GET /` without a server error.

An example whose code imports Django (`django`, `passport_py.adapters.django`,
`passport_py.testing.django`) runs with the test project's settings configured (Django is set
up once per process: tests/django_project/settings.py) and its database migrated, inside a
transaction rolled back afterwards. Its checks serve the example's own views and passport with
`override_settings(ROOT_URLCONF=__name__, PASSPORT_AUTHENTICATOR=f"{__name__}.passport")`.

Inside a content tab (`=== "Flask"`, indented four spaces) Python-Markdown hides an HTML
comment only when it has no blank line and no line starting with `#`: a `<!-- test` check
there is written without either, or the site shows it as text.

Code that must not run (shell commands, output, sketches) goes in another fence: ```` ```bash ````,
```` ```console ````, ```` ```text ````. A Python fence with more words in its info string
(```` ```python title ````) is refused: MkDocs would not render it as code.
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

pytestmark = pytest.mark.docs

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

PYTHON_LANGS = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
CONTINUE = "<!-- continue -->"
TEST_OPEN = "<!-- test"
COMMENT_CLOSE = "-->"
DJANGO_IMPORT = re.compile(
    r"^\s*(?:from|import)\s+(?:django|passport_py\.(?:adapters|testing)\.django)\b", re.M
)

Kind = Literal["example", "continue", "test"]


@dataclass(frozen=True)
class Block:
    """One piece of Python code in a Markdown file."""

    path: Path
    line: int  # 1-based line of the first line of code
    code: str
    kind: Kind
    heading: str  # the nearest heading above it ("" before the first one)

    @property
    def where(self) -> str:
        return f"{_display(self.path)}:{self.line}"


@dataclass
class Example:
    """A fresh example block and the continuations and checks that follow it."""

    blocks: list[Block] = field(default_factory=list)

    @property
    def first(self) -> Block:
        return self.blocks[0]

    @property
    def id(self) -> str:
        return self.first.where

    @property
    def has_check(self) -> bool:
        return any(b.kind == "test" for b in self.blocks) or self.key in EXTERNAL_CHECKS

    @property
    def key(self) -> tuple[str, str]:
        return (self.first.path.name, self.first.heading)

    @property
    def uses_django(self) -> bool:
        return any(DJANGO_IMPORT.search(block.code) for block in self.blocks)


class DocsFormatError(Exception):
    """A Markdown file breaks the conventions in this module's docstring."""


def _display(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _closes(line: str, fence: str) -> bool:
    return re.fullmatch(rf"[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*", line) is not None


def parse(path: Path) -> list[Block]:
    """The Python blocks and hidden checks of `path`, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = _display(path)
    blocks: list[Block] = []
    heading = ""
    pending: int | None = None  # line number of a `<!-- continue -->` waiting for its fence
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        fence = FENCE.match(line)
        if fence:
            end = next(
                (j for j in range(i + 1, len(lines)) if _closes(lines[j], fence["fence"])), None
            )
            if end is None:
                raise DocsFormatError(f"{rel}:{i + 1}: code fence is never closed")
            info = fence["info"].strip()
            lang = info.split()[0].lower() if info else ""
            indent = fence["indent"]
            body = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in lines[i + 1 : end]]
            if lang in PYTHON_LANGS or "python" in info.lower():
                if info.lower() not in PYTHON_LANGS:
                    raise DocsFormatError(
                        f"{rel}:{i + 1}: write ```python alone (got ```{info}); mark a "
                        f"continuation with {CONTINUE} on the line before the fence"
                    )
                kind: Kind = "continue" if pending is not None else "example"
                blocks.append(Block(path, i + 2, "\n".join(body) + "\n", kind, heading))
            elif pending is not None:
                raise DocsFormatError(f"{rel}:{pending}: {CONTINUE} must precede a ```python fence")
            pending = None
            i = end + 1
            continue
        if pending is not None and stripped:
            raise DocsFormatError(f"{rel}:{pending}: {CONTINUE} must precede a ```python fence")
        if stripped == CONTINUE:
            pending = i + 1
        elif stripped.startswith(TEST_OPEN):
            if stripped != TEST_OPEN:
                raise DocsFormatError(f"{rel}:{i + 1}: start the check's code on the next line")
            end = next(
                (j for j in range(i + 1, len(lines)) if lines[j].strip() == COMMENT_CLOSE), None
            )
            if end is None:
                raise DocsFormatError(
                    f"{rel}:{i + 1}: {TEST_OPEN} is never closed by {COMMENT_CLOSE}"
                )
            code = textwrap.dedent("\n".join(lines[i + 1 : end])) + "\n"
            if COMMENT_CLOSE in code:
                raise DocsFormatError(f"{rel}:{i + 1}: a check's code must not contain -->")
            blocks.append(Block(path, i + 2, code, "test", heading))
            i = end + 1
            continue
        elif title := HEADING.match(line):
            heading = title["title"]
        i += 1
    if pending is not None:
        raise DocsFormatError(f"{rel}:{pending}: {CONTINUE} must precede a ```python fence")
    return blocks


def group(blocks: list[Block]) -> list[Example]:
    """Fresh examples with their continuations and checks."""
    examples: list[Example] = []
    for block in blocks:
        if block.kind == "example":
            examples.append(Example([block]))
        elif not examples:
            raise DocsFormatError(
                f"{block.where}: a {block.kind} block needs a ```python block above"
            )
        else:
            examples[-1].blocks.append(block)
    return examples


def collect() -> tuple[list[Example], list[str]]:
    examples: list[Example] = []
    problems: list[str] = []
    for path in SOURCES:
        try:
            examples.extend(group(parse(path)))
        except DocsFormatError as exc:
            problems.append(str(exc))
    return examples, problems


# -- checks kept here for files whose examples carry no hidden checks -----------------------


def check_readme_app(ns: dict[str, Any]) -> None:
    """README: the complete app shows its login form, refuses a wrong password with a message,
    logs alice in and out, guards its home page."""
    app = ns["app"]
    browser = {"accept": "text/html"}
    anonymous = TestClient(app)
    response = anonymous.get("/", headers=browser, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2F"
    assert anonymous.get("/").status_code == 401  # an API client: no text/html in Accept
    assert '<form method="post">' in anonymous.get("/login").text

    wrong = TestClient(app)
    response = wrong.post(
        "/login", data={"username": "alice", "password": "wrong"}, follow_redirects=False
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/login"
    assert "<p>Wrong username or password.</p>" in wrong.get("/login").text
    assert wrong.get("/").status_code == 401

    alice = TestClient(app)
    response = alice.post(
        "/login", data={"username": "alice", "password": "correct horse"}, follow_redirects=False
    )
    assert response.status_code == 303  # the endpoint's own redirect, after the login
    assert response.headers["location"] == "/"
    response = alice.get("/")
    assert response.status_code == 200
    assert response.text.startswith("<p>Hello, alice!</p>")
    assert alice.post("/logout", follow_redirects=False).status_code == 303
    assert alice.get("/").status_code == 401
    check_readme_flask_app(ns["flask_app"])


def check_readme_flask_app(app: Any) -> None:
    """README: the Flask version of the same app behaves the same."""
    anonymous = app.test_client()
    response = anonymous.get("/", headers={"accept": "text/html"})
    assert response.status_code == 302
    assert response.headers["location"] == "/login?next=%2F"
    assert anonymous.get("/").status_code == 401
    assert '<form method="post">' in anonymous.get("/login").text

    wrong = app.test_client()
    response = wrong.post("/login", data={"username": "alice", "password": "wrong"})
    assert (response.status_code, response.headers["location"]) == (302, "/login")
    assert "<p>Wrong username or password.</p>" in wrong.get("/login").text

    alice = app.test_client()
    response = alice.post("/login", data={"username": "alice", "password": "correct horse"})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    response = alice.get("/")
    assert response.status_code == 200
    assert response.text.startswith("<p>Hello, alice!</p>")
    assert alice.post("/logout").status_code == 303
    assert alice.get("/").status_code == 401


EXTERNAL_CHECKS: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
    ("README.md", "A complete Starlette app"): check_readme_app,
}

EXAMPLES, PROBLEMS = collect()


@contextmanager
def framework_setup(example: Example) -> Iterator[None]:
    """Django examples run with the test project's settings and a rolled-back database."""
    if not example.uses_django:
        yield
        return
    import django_project  # configures Django (once per process)

    with django_project.database():
        yield


def run(example: Example, module_name: str) -> dict[str, Any]:
    """Execute the example's blocks in order in one fresh module; return its namespace."""
    module = ModuleType(module_name)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up here
    try:
        for block in example.blocks:
            # Pad so tracebacks point at the right line of the Markdown file.
            source = "\n" * (block.line - 1) + block.code
            code = compile(source, str(block.path), "exec", dont_inherit=True)
            exec(code, module.__dict__)  # noqa: S102 - running our own documentation
    finally:
        del sys.modules[module_name]
    return module.__dict__


# -- the tests ------------------------------------------------------------------------------


def test_docs_follow_the_example_conventions() -> None:
    assert PROBLEMS == []


def test_every_page_with_examples_is_collected() -> None:
    files = {example.first.path.name for example in EXAMPLES}
    assert {
        "README.md",
        "index.md",
        "starlette.md",
        "concepts.md",
        "custom-strategy.md",
        "local.md",
        "options.md",
        "differences.md",
        "security.md",
        "django.md",
        "coming-from-django-auth.md",
        "sessions.md",
        "oauth.md",
        "openid-connect.md",
        "linking-accounts.md",
        "oauth-deployment.md",
        "providers.md",
        "fastapi.md",
        "fastapi-scopes.md",
        "coming-from-fastapi.md",
    } <= files


def test_external_checks_name_existing_examples() -> None:
    keys = {example.key for example in EXAMPLES}
    assert set(EXTERNAL_CHECKS) <= keys


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_example_runs(example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    name = "docs_example_" + re.sub(r"\W", "_", example.id)
    with framework_setup(example):
        namespace = run(example, name)
    external = EXTERNAL_CHECKS.get(example.key)
    if external is not None:
        external(namespace)
    app = namespace.get("app")
    if isinstance(app, Starlette):
        assert example.has_check, (
            f"{example.id} builds a Starlette app but nothing checks it: add a <!-- test --> "
            "comment after it (see tests/test_docs_examples.py)"
        )
        with TestClient(app) as client:
            response = client.get("/", follow_redirects=False)
        assert response.status_code < 500


# -- the conventions themselves ---------------------------------------------------------------


def _parse_text(tmp_path: Path, text: str) -> list[Example]:
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent(text), encoding="utf-8")
    return group(parse(page))


def test_continuations_and_checks_join_the_example_above(tmp_path: Path) -> None:
    examples = _parse_text(
        tmp_path,
        """\
        # Title
        ```python
        x = 1
        ```
        <!-- continue -->
        ```python
        y = x + 1
        ```
        <!-- test
        assert y == 2
        -->
        ## Next
        ```py
        z = 3
        ```
        ```bash
        echo not python
        ```
        """,
    )
    assert [[(b.kind, b.line) for b in e.blocks] for e in examples] == [
        [("example", 3), ("continue", 7), ("test", 10)],
        [("example", 14)],
    ]
    assert [e.key for e in examples] == [("page.md", "Title"), ("page.md", "Next")]
    assert examples[0].blocks[2].code == "assert y == 2\n"


def test_a_python_fence_with_more_words_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocsFormatError, match=r"page.md:1: write ```python alone"):
        _parse_text(tmp_path, "```python continue\nx = 1\n```\n")


def test_continue_must_be_followed_by_a_python_fence(tmp_path: Path) -> None:
    with pytest.raises(DocsFormatError, match=r"page.md:4: <!-- continue --> must precede"):
        _parse_text(tmp_path, "```python\nx = 1\n```\n<!-- continue -->\nSome prose.\n")


def test_a_check_needs_an_example_above(tmp_path: Path) -> None:
    with pytest.raises(DocsFormatError, match=r"page.md:2: a test block needs a ```python block"):
        _parse_text(tmp_path, "<!-- test\nassert True\n-->\n")


def test_an_unclosed_check_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocsFormatError, match=r"page.md:4: <!-- test is never closed"):
        _parse_text(tmp_path, "```python\nx = 1\n```\n<!-- test\nassert x\n")
