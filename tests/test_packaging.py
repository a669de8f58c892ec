"""The package as users install it: one top-level package, typed, a framework-free core."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the sources: setuptools would otherwise reuse the checkout's
    # build/lib, whose stale files can hide a package missing from pyproject's list.
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("passport_py", "strategies", "adapters"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("passport_py-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_has_exactly_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist() if ".dist-info" not in name}
    assert tops == {"passport_py"}


def test_wheel_ships_py_typed_strategies_and_adapters(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "passport_py/py.typed" in names
    assert "passport_py/strategies/local.py" in names
    assert "passport_py/adapters/starlette/__init__.py" in names
    assert "passport_py/demo/app.py" in names


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
    assert "pip install 'passport-py[starlette]'" in result.stdout, result.stderr


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
