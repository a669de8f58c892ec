"""Every public name has a docstring of its own, and no docstring points outside the project.

The public names are those in `__all__` of every module of `passport_py`,
`passport_py.strategies` and `passport_py.adapters` whose dotted name has no part starting with
an underscore, plus the public methods and properties of the public classes. The API reference
(docs/reference/) is generated from these docstrings.

A constant or type alias cannot carry a docstring at run time, so its docstring is the string
literal right after its assignment (what the API reference shows), found in the module that
assigns it.

A class that implements one of our protocols structurally (the adapters' requests implement
`AuthRequest`, the stores `SessionStore`) may leave a member to the protocol's docstring.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import django_project  # noqa: F401  (importing the Django adapter needs configured settings)
import pytest

import passport_py
import passport_py.adapters
import passport_py.strategies
from passport_py.request import AuthRequest
from passport_py.sessions import SessionStore, SyncSessionStore

PROTOCOLS: dict[str, tuple[type, ...]] = {
    "StarletteAuthRequest": (AuthRequest,),
    "FlaskAuthRequest": (AuthRequest,),
    "DjangoAuthRequest": (AuthRequest,),
    "MemoryStore": (SessionStore,),
    "RedisStore": (SessionStore,),
    "SyncMemoryStore": (SyncSessionStore,),
    "SyncRedisStore": (SyncSessionStore,),
}
FORBIDDEN = ("API.md", "../shared")


def public_modules() -> list[str]:
    names = ["passport_py", "passport_py.strategies", "passport_py.adapters"]
    for package in (passport_py, passport_py.strategies, passport_py.adapters):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            parts = info.name.split(".")
            if not any(part.startswith("_") for part in parts):
                names.append(info.name)
    return sorted(set(names))


MODULES = public_modules()


def public_names(module: ModuleType) -> list[str]:
    return [name for name in getattr(module, "__all__", ()) if name != "__version__"]


def documented(obj: Any) -> str:
    """The object's own docstring, not one generated for it or inherited from a builtin."""
    doc = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
    if not isinstance(doc, str):
        return ""
    doc = doc.strip()
    # dataclasses and NamedTuple write "Name(field, ...)" when the class has no docstring.
    if inspect.isclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc


def class_members(cls: type) -> Iterator[tuple[str, Any]]:
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            yield name, value.fget
        elif isinstance(value, staticmethod | classmethod):
            yield name, value.__func__
        elif inspect.isfunction(value):
            yield name, value


def member_doc(cls: type, name: str, function: Any) -> str:
    doc = documented(function)
    for base in cls.__mro__[1:]:
        if doc:
            break
        if base.__module__.startswith("passport_py") and name in vars(base):
            doc = inspect.getdoc(getattr(base, name)) or ""
    for protocol in PROTOCOLS.get(cls.__name__, ()):
        if doc:
            break
        doc = inspect.getdoc(getattr(protocol, name, None)) or ""
    return doc


@cache
def module_tree(module_name: str) -> ast.Module:
    module = importlib.import_module(module_name)
    return ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))


def attribute_docstring(module_name: str, name: str) -> str:
    """The string literal after `name`'s assignment, following `from x import name`."""
    tree = module_tree(module_name)
    for statement, following in zip(tree.body, [*tree.body[1:], None], strict=True):
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, ast.AnnAssign):
            targets = [statement.target]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                return following.value.value.strip()
            return ""
        if isinstance(statement, ast.ImportFrom) and statement.module:
            for alias in statement.names:
                if (alias.asname or alias.name) == name:
                    package = importlib.import_module(module_name).__package__
                    source = importlib.util.resolve_name(
                        "." * statement.level + statement.module, package
                    )
                    return attribute_docstring(source, alias.name)
    return ""


def missing_docstrings(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    missing = [] if documented(module) else ["(the module itself)"]
    for name in public_names(module):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            if not documented(obj):
                missing.append(name)
            for member, function in class_members(obj):
                if not member_doc(obj, member, function):
                    missing.append(f"{name}.{member}")
        elif inspect.isroutine(obj):
            if not documented(obj):
                missing.append(name)
        elif not attribute_docstring(module_name, name):
            missing.append(name)
    return missing


def all_docstrings(module_name: str) -> Iterator[tuple[str, str]]:
    module = importlib.import_module(module_name)
    yield module_name, module.__doc__ or ""
    for name in public_names(module):
        obj = getattr(module, name)
        if inspect.isclass(obj):
            yield name, obj.__doc__ or ""
            for member, function in class_members(obj):
                yield f"{name}.{member}", getattr(function, "__doc__", None) or ""
        elif inspect.isroutine(obj):
            yield name, obj.__doc__ or ""
        else:
            yield name, attribute_docstring(module_name, name)


def test_the_public_modules_include_the_strategies_and_adapters() -> None:
    assert "passport_py.strategies.local" in MODULES
    assert "passport_py.adapters.django.middleware" in MODULES
    assert "passport_py.sessions.redis" in MODULES
    assert not [name for name in MODULES if "._" in name]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_has_a_docstring(module_name: str) -> None:
    assert missing_docstrings(module_name) == []


@pytest.mark.parametrize("module_name", MODULES)
def test_no_docstring_points_outside_the_project(module_name: str) -> None:
    offending = [
        name
        for name, doc in all_docstrings(module_name)
        if any(forbidden in doc for forbidden in FORBIDDEN)
    ]
    assert offending == []
