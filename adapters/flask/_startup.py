"""The checks `FlaskPassport` runs once, before the app handles its first request.

Flask has no start-up hook after the routes are registered, so the first request runs them
(under a lock; every request fails until they pass, so no view is served unchecked):

- a view one of our decorators wrapped, registered itself instead of the wrapper: the
  decorator sits above `@app.route`, which registered the undecorated view (no login needed);
- the strategies every registered view names, and the serializer and deserializer its
  login session needs (`passport_py.route_checks.check_requirements`).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import Flask

from passport_py.errors import ConfigurationError
from passport_py.route_checks import RouteRequirement, check_requirements, declared

if TYPE_CHECKING:
    from passport_py.adapters.flask.extension import FlaskPassport

__all__ = ["install_startup_checks", "remember_wrapped", "run_startup_checks"]

#: Each view one of our decorators wrapped -> that decorator's name. Weak: a view defined in a
#: function (an app factory's closure) must not live as long as the process.
_WRAPPED: weakref.WeakKeyDictionary[Callable[..., Any], str] = weakref.WeakKeyDictionary()


def remember_wrapped(view: Callable[..., Any], decorator: str) -> None:
    """Record that `decorator` wrapped `view`, so `view` registered as it is means the
    decorator was applied after `@app.route` (above it in the source)."""
    # A view that cannot be weakly referenced (a bound method) is not compared later.
    with contextlib.suppress(TypeError):
        _WRAPPED.setdefault(view, decorator)


def _inner_views(view: Callable[..., Any]) -> Iterator[Any]:
    """The views `view` wraps, through every `functools.wraps` layer."""
    seen = {id(view)}
    inner = getattr(view, "__wrapped__", None)
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        yield inner
        inner = getattr(inner, "__wrapped__", None)


def _decorated_below_route(app: Flask) -> list[str]:
    """One message per view registered undecorated while a wrapper of ours exists."""
    wrapped_inside: set[int] = set()
    for view in app.view_functions.values():
        wrapped_inside.update(id(inner) for inner in _inner_views(view))
    problems = []
    for endpoint, view in app.view_functions.items():
        try:
            decorator = _WRAPPED.get(view)
        except TypeError:
            continue
        if decorator is None or id(view) in wrapped_inside:
            continue  # not ours, or also registered through the wrapper (deliberate)
        blueprint, _, _ = endpoint.rpartition(".")
        route = f"@{blueprint}.route(...)" if blueprint else "@app.route(...)"
        name = f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', endpoint)}"
        problems.append(
            f"@{decorator} is above {route} on {name} (endpoint {endpoint!r}), so Flask "
            f"registered the view without it and serves it with no authentication: put "
            f"{route} above @{decorator}"
        )
    return problems


def _requirements(app: Flask, ext: FlaskPassport[Any]) -> list[RouteRequirement]:
    needs = [need for view in app.view_functions.values() for need in declared(view)]
    if ext.restore_with:
        spec = ext.restore_with
        chain = (spec,) if not isinstance(spec, tuple) else spec
        needs.append(RouteRequirement("restore_with", "FlaskPassport", chain, session=True))
    return needs


def run_startup_checks(app: Flask, ext: FlaskPassport[Any]) -> None:
    """Raise `ConfigurationError` for a decorator above `@app.route`, an unknown strategy
    name or a login session without a serializer or deserializer."""
    problems = _decorated_below_route(app)
    if problems:
        raise ConfigurationError("; ".join(problems))
    check_requirements(ext.passport, _requirements(app, ext))


def install_startup_checks(app: Flask, ext: FlaskPassport[Any]) -> None:
    """Run `run_startup_checks` before the first request `app` handles (and before each
    later one until they pass)."""
    lock = threading.Lock()
    passed = False

    def check_once() -> None:
        nonlocal passed
        if passed:
            return
        with lock:
            if not passed:
                run_startup_checks(app, ext)
                passed = True

    # First in the list: another hook answering early must not let a request skip the check.
    app.before_request_funcs.setdefault(None, []).insert(0, check_once)
