"""The package as users install it: one top-level package, typed, a framework-free core; an
sdist and a wheel that pass `twine check --strict` and install into a fresh virtualenv, with
each extra bringing what its part imports; a README that reads right where an index renders it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
URLS: dict[str, str] = PROJECT["urls"]


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """The sdist, and the wheel `build` makes from it, as a release would build them."""
    out = tmp_path_factory.mktemp("dist")
    # Built from a copy of the sources: setuptools would otherwise reuse the checkout's
    # build/lib, whose stale files can hide a package missing from pyproject's list.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for name in ("passport_py", "strategies", "adapters"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    # No isolation: the build uses this environment's setuptools and needs no network.
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (sdist,) = out.glob("passport_py-*.tar.gz")
    (wheel,) = out.glob("passport_py-*.whl")
    return Dist(sdist, wheel)


@pytest.fixture(scope="module")
def wheel(dist: Dist) -> zipfile.ZipFile:
    return zipfile.ZipFile(dist.wheel)


def test_wheel_has_exactly_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist() if ".dist-info" not in name}
    assert tops == {"passport_py"}


def test_wheel_ships_py_typed_strategies_and_adapters(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "passport_py/py.typed" in names
    assert "passport_py/strategies/local.py" in names
    assert "passport_py/adapters/starlette/__init__.py" in names
    assert "passport_py/demo/app.py" in names
    assert "passport_py/static/passkeys.js" in names  # package data: the passkeys script


def test_wheel_ships_every_subpackage(wheel: zipfile.ZipFile) -> None:
    """Each package of the source tree is in the wheel (pyproject lists them one by one)."""
    names = set(wheel.namelist())
    installed_as = {
        "passport_py": "passport_py",
        "strategies": "passport_py/strategies",
        "adapters": "passport_py/adapters",
    }
    expected = {
        f"{target}/{init.relative_to(ROOT / top).as_posix()}"
        for top, target in installed_as.items()
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert len(expected) > 10
    assert expected - names == set()


def test_wheel_declares_the_extras(wheel: zipfile.ZipFile) -> None:
    (meta,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(meta).decode()
    extras = {
        line.split(":", 1)[1].strip()
        for line in text.splitlines()
        if line.startswith("Provides-Extra:")
    }
    assert extras >= {"starlette", "flask", "django", "jwt", "oauth", "redis", "all", "dev"}
    assert extras >= {"demo", "test", "fastapi", "passwords", "passkeys"}


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")


def test_core_imports_no_web_framework() -> None:
    result = _run(
        "import sys, passport_py, passport_py.strategies.local, passport_py.testing\n"
        "bad = [m for m in ('starlette', 'flask', 'django', 'werkzeug') if m in sys.modules]\n"
        "print(bad)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_adapter_without_its_framework_names_the_extra_to_install() -> None:
    result = _run(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'starlette' or name.startswith('starlette.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "try:\n"
        "    import passport_py.adapters.starlette\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    assert 'pip install "passport-py[starlette]"' in result.stdout, result.stderr


def test_public_names_of_the_api_contract_are_exported() -> None:
    import passport_py

    for name in (
        "Authenticator",
        "Strategy",
        "Success",
        "Fail",
        "Redirect",
        "Pass",
        "Verified",
        "Rejected",
        "AuthenticationError",
        "PassToNext",
    ):
        assert hasattr(passport_py, name), name


# -- the distributions ------------------------------------------------------------------------


def test_twine_check_strict_passes_on_the_sdist_and_the_wheel(dist: Dist) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


def test_sdist_holds_the_license_the_readme_and_pyproject(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names


def test_wheel_ships_the_mit_license(wheel: zipfile.ZipFile) -> None:
    (license_file,) = [n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
    text = wheel.read(license_file).decode()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 passport_py developers" in text


def test_wheel_metadata_carries_the_project_urls(wheel: zipfile.ZipFile) -> None:
    (meta,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    lines = wheel.read(meta).decode().splitlines()
    assert "License-Expression: MIT" in lines
    for label, url in URLS.items():
        assert f"Project-URL: {label}, {url}" in lines
    assert set(URLS) >= {"Documentation", "Repository", "Issues"}


# -- installed into a fresh virtualenv --------------------------------------------------------


def make_venv(path: Path, requirement: str) -> Path:
    """A new virtualenv at `path` with `requirement` installed; its python.

    The venv gets no pip of its own (quicker); this environment's pip installs into it, and
    downloads the extra's dependencies from the index (or its cache)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "--disable-pip-version-check",
            "install",
            "--quiet",
            "--no-compile",  # the few modules a test imports compile faster on first import
            requirement,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return python


def run_in(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # cwd outside the checkout, so nothing is imported from the sources.
    return subprocess.run([str(python), *args], capture_output=True, text=True, cwd=python.parent)


@pytest.fixture(scope="module")
def bare(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with the wheel and no extra."""
    return make_venv(tmp_path_factory.mktemp("venv") / "bare", str(dist.wheel))


def test_bare_install_imports_the_core_without_any_web_framework(bare: Path) -> None:
    done = run_in(
        bare,
        "-c",
        "import passport_py, passport_py.strategies.local, passport_py.sessions\n"
        "print(passport_py.__file__)",
    )
    assert done.returncode == 0, done.stderr
    assert "site-packages" in done.stdout


def test_bare_install_names_the_starlette_extra_when_its_adapter_is_imported(bare: Path) -> None:
    done = run_in(bare, "-c", "import passport_py.adapters.starlette")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        "ImportError: passport_py.adapters.starlette needs Starlette: "
        'pip install "passport-py[starlette]" '
        '(in a clone of the repository: pip install ".[starlette]")'
    )


def test_bare_install_runs_the_demo_to_a_one_line_message_naming_its_extra(bare: Path) -> None:
    done = run_in(bare, "-m", "passport_py.demo")
    assert done.returncode == 1
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith("The demo cannot import starlette, ")
    assert 'pip install "passport-py[demo]"' in line


# The app and the requests of the starlette-extra test: HTTP Basic through Starlette's routing
# and PassportMiddleware, called over ASGI directly (the test client would need httpx2).
ASGI_APP = """
import asyncio, base64
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware, authenticate
from passport_py.strategies.http import BasicStrategy

passport = Authenticator()
passport.use(BasicStrategy(lambda name, pw: name if (name, pw) == ("alice", "pw") else None))

@authenticate("basic", session=False)
async def home(request):
    return PlainTextResponse(f"Hello, {request.user}!")

app = Starlette(
    routes=[Route("/", home)], middleware=[Middleware(PassportMiddleware, passport=passport)]
)

async def get(authorization):
    headers = [(b"authorization", authorization)] if authorization else []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
             "root_path": "", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [(b"host", b"testserver"), *headers]}
    sent = []
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]).decode()

print(asyncio.run(get(b"Basic " + base64.b64encode(b"alice:pw"))))
print(asyncio.run(get(b"Basic " + base64.b64encode(b"alice:guess"))))
"""


def test_the_starlette_extra_alone_serves_a_passport_app(
    dist: Dist, tmp_path_factory: pytest.TempPathFactory
) -> None:
    python = make_venv(tmp_path_factory.mktemp("venv") / "starlette", f"{dist.wheel}[starlette]")
    done = run_in(python, "-c", ASGI_APP)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["(200, 'Hello, alice!')", "(401, 'Unauthorized')"]


# A user's own test of a Starlette app, as docs/starlette.md writes it: pytest, Starlette's
# TestClient and passport_py.testing, with every warning an error (Starlette warns when its
# client falls back to httpx).
USER_TEST = """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import Authenticator
from passport_py.adapters.starlette import PassportMiddleware, login_required
from passport_py.testing.starlette import login

passport = Authenticator()
passport.serialize_user(lambda user: user)
passport.deserialize_user(lambda name: name)


@login_required
async def home(request):
    return PlainTextResponse(f"Hello, {request.user}!")


app = Starlette(
    routes=[Route("/", home)],
    middleware=[
        Middleware(SessionMiddleware, secret_key="a-test-secret-of-32-or-more-bytes"),
        Middleware(PassportMiddleware, passport=passport),
    ],
)


def test_home_needs_a_login():
    client = TestClient(app)
    assert client.get("/").status_code == 401
    login(client, "alice")
    assert client.get("/").text == "Hello, alice!"
"""


def test_the_test_extra_runs_a_starlette_apps_tests(
    dist: Dist, tmp_path_factory: pytest.TempPathFactory
) -> None:
    venv = tmp_path_factory.mktemp("venv")
    python = make_venv(venv / "test", f"{dist.wheel}[starlette,test]")
    (venv / "test_app.py").write_text(USER_TEST)
    done = run_in(python, "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider", str(venv))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_demo_extra_runs_the_demo_and_its_development_login(
    dist: Dist, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from passport_py.demo.dev_login import LOGIN_PATH

    python = make_venv(tmp_path_factory.mktemp("venv") / "demo", f"{dist.wheel}[demo]")
    port = free_port()
    env = {**os.environ, "DEMO_HOST": "127.0.0.1", "DEMO_PORT": str(port)}
    env.pop("REDIS_URL", None)
    log = python.parent / "demo.log"
    with log.open("wb") as sink:
        demo = subprocess.Popen(
            [str(python), "-m", "passport_py.demo"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=python.parent,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert demo.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as home:
                    assert home.status == 200
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
        # The development login fetches the provider's discovery document (httpx2, Authlib)
        # and sends the browser to the provider: every part of the extra is used.
        opener = urllib.request.build_opener(NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(f"http://127.0.0.1:{port}{LOGIN_PATH}", timeout=10)
        redirect.value.close()
        assert redirect.value.code in (302, 303), log.read_text()
        issuer = re.search(r"Development OpenID provider on (\S+?)/? ", log.read_text())
        assert issuer is not None, log.read_text()
        assert redirect.value.headers["location"].startswith(issuer.group(1) + "/")
    finally:
        demo.terminate()
        demo.wait(timeout=10)


# -- the README as an index renders it, and the install commands ------------------------------

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK_TARGETS = (
    re.compile(r"\]\(\s*<?([^)\s>]*)"),  # [text](target) and ![alt](target)
    re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE),  # [label]: target
    re.compile(r"""(?:href|src)\s*=\s*["']([^"']*)["']"""),  # HTML
)


def link_targets(markdown: str) -> list[str]:
    """The targets of the links and images of `markdown`, outside code."""
    prose = CODE_SPAN.sub("", FENCE.sub("", markdown))
    return [target for pattern in LINK_TARGETS for target in pattern.findall(prose)]


def test_link_targets_finds_every_kind_of_link() -> None:
    sample = (
        "[a](docs/a.md) ![b](img/b.png) [c](<docs/c.md>) [d](#d)\n[e]: e.md\n"
        '<a href="f.md">f</a> <img src="https://x/g.png"> `[h](h.md)`\n```\n[i](i.md)\n```\n'
    )
    targets = link_targets(sample)
    assert targets == [
        "docs/a.md",
        "img/b.png",
        "docs/c.md",
        "#d",
        "e.md",
        "f.md",
        "https://x/g.png",
    ]


def test_readme_has_no_relative_links() -> None:
    """An index shows README.md away from the repository, where a relative link is broken."""
    targets = link_targets((ROOT / "README.md").read_text())
    assert len(targets) > 5
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
    assert relative == []


def test_readme_links_to_the_docs_site_reach_pages_that_exist() -> None:
    site = URLS["Documentation"]
    pages = [
        t[len(site) :].split("#")[0]
        for t in link_targets((ROOT / "README.md").read_text())
        if t.startswith(site)
    ]
    assert "starlette/" in pages
    for page in pages:
        assert page == "" or page.endswith("/"), page
        assert (ROOT / "docs" / (page.rstrip("/") or "index")).with_suffix(".md").is_file(), page


def test_readme_links_to_the_repository_of_pyproject() -> None:
    readme = (ROOT / "README.md").read_text()
    github = {t for t in link_targets(readme) if "github.com" in t}
    assert github
    assert all(t.startswith(URLS["Repository"]) for t in github), github


def test_mkdocs_site_url_is_the_documentation_url() -> None:
    site_url = re.search(r"^site_url: (\S+)$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)
    assert site_url is not None
    assert site_url[1] == URLS["Documentation"]


def install_pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_install_commands_in_the_docs_work_before_the_first_release() -> None:
    """Until passport-py is on the index, a command must install from a clone (`.`) or from
    the repository; the index name appears only in prose that says it is for once released."""
    extras = set(PROJECT["optional-dependencies"])
    from_repository = re.compile(
        rf"^passport-py\[([a-z,]+)\] @ git\+{re.escape(URLS['Repository'])}$"
    )
    from_clone = re.compile(r"^\.\[([a-z,]+)\]$")
    commands = 0
    for page in install_pages():
        text = page.read_text()
        for block in FENCE.findall(text):
            for line in block.splitlines():
                if "pip install" not in line:
                    continue
                commands += 1
                words = shlex.split(line.split("pip install", 1)[1])
                passport = [w for w in words if w.startswith(("passport-py", "."))]
                assert len(passport) == 1, f"{page.name}: {line}"
                found = from_repository.match(passport[0]) or from_clone.match(passport[0])
                assert found, f"{page.name}: {line}"
                assert set(found[1].split(",")) <= extras, f"{page.name}: {line}"
        for paragraph in FENCE.sub("", text).split("\n\n"):
            if re.search(r"pip install ['\"]passport-py\[[a-z,]+\]['\"]", paragraph):
                assert "released" in paragraph, f"{page.name}: {paragraph}"
    assert commands >= 8
