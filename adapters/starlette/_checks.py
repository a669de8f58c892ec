"""What `PassportMiddleware` checks once, before it serves: its place in the middleware stack
and what the app's routes need from the `Authenticator`.

Starlette builds the middleware stack inside out, so when `PassportMiddleware` runs, every
middleware inside it is built and reachable through the `.app` attributes; the app's routes are
at the end of that chain (the router) or on `scope["app"]`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware

from passport_py.route_checks import RouteRequirement, declared
from passport_py.sessions import SessionMiddleware as ServerSessionMiddleware

__all__ = ["ON_CHECKED", "inner_layers", "misorder_problem", "route_requirements"]

#: Called as `hook(app, passport)` once `PassportMiddleware`'s checks pass (`app` is
#: `scope["app"]`). The FastAPI adapter registers its OpenAPI hook here when imported.
ON_CHECKED: list[Callable[[Any, Any], None]] = []

#: Session middleware we recognise; subclasses count too. Recognising others by name would
#: stop correct apps (a database-session middleware is no HTTP session).
SESSION_MIDDLEWARE: tuple[type, ...] = (StarletteSessionMiddleware, ServerSessionMiddleware)

# A bound on chains and route trees, so a cycle of `.app` attributes cannot hang startup.
_MAX_DEPTH = 64


def inner_layers(app: Any) -> Iterator[Any]:
    """`app`, then each app it wraps through an `.app` attribute, innermost last."""
    seen: set[int] = set()
    layer = app
    while layer is not None and id(layer) not in seen and len(seen) < _MAX_DEPTH:
        seen.add(id(layer))
        yield layer
        layer = getattr(layer, "app", None)


def _session_class(layer: Any) -> type | None:
    """The session middleware class `layer` is, or (for a Starlette app not yet built) one
    it lists in its `user_middleware`."""
    if isinstance(layer, SESSION_MIDDLEWARE):
        return type(layer)
    if isinstance(layer, Starlette):
        for entry in layer.user_middleware:
            if isinstance(entry.cls, type) and issubclass(entry.cls, SESSION_MIDDLEWARE):
                return entry.cls
    return None


def misorder_problem(inner: Any) -> str | None:
    """Why the stack is misordered, when a session middleware runs inside `PassportMiddleware`
    (whose inner app is `inner`), else None."""
    for layer in inner_layers(inner):
        found = _session_class(layer)
        if found is not None:
            name = found.__name__
            return (
                f"PassportMiddleware runs before {found.__module__}.{name}, so it never sees "
                "the session: logins would seem to work but nobody is restored on the next "
                f"request. Put the session middleware outside it: in middleware=[...], list "
                f"Middleware({name}, ...) before Middleware(PassportMiddleware, ...); with "
                "app.add_middleware (Starlette and FastAPI put each new middleware outermost), "
                f"add PassportMiddleware first, then {name}"
            )
    return None


def _has_own_passport(app: Any) -> bool:
    """True for a mounted Starlette app with its own `PassportMiddleware`: it checks itself."""
    from passport_py.adapters.starlette.middleware import PassportMiddleware

    return isinstance(app, Starlette) and any(
        isinstance(entry.cls, type) and issubclass(entry.cls, PassportMiddleware)
        for entry in app.user_middleware
    )


def _walk(routes: Iterable[Any], depth: int) -> Iterator[RouteRequirement]:
    if depth > _MAX_DEPTH:
        return
    for route in routes:
        yield from declared(getattr(route, "endpoint", None))
        dependant = getattr(route, "dependant", None)  # FastAPI's tree of dependencies
        if dependant is not None:
            yield from _dependency_requirements(dependant, getattr(route, "endpoint", None))
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):  # an included APIRouter: its routes with include_router's deps
            for context in contexts():
                yield from _dependency_requirements(context.dependant, context.endpoint)
        if _has_own_passport(getattr(route, "app", None)):
            continue
        nested = getattr(route, "routes", None)  # Mount, Host, a mounted router or app
        if nested is None:
            # FastAPI (0.165) keeps an included APIRouter whole, as `original_router`.
            nested = getattr(getattr(route, "original_router", None), "routes", None)
        if nested:
            yield from _walk(nested, depth + 1)


def _dependency_requirements(dependant: Any, endpoint: Any) -> Iterator[RouteRequirement]:
    """The requirements declared on the dependencies (`Depends(authenticate("jwt"))`, the
    router's and app's `dependencies=[...]` included) of a FastAPI route, named after its
    endpoint."""
    if dependant is None:
        return
    view = f"{getattr(endpoint, '__module__', '?')}.{getattr(endpoint, '__qualname__', '?')}"
    stack: list[tuple[Any, int]] = [(dependant, 0)]
    while stack:
        node, depth = stack.pop()
        for need in declared(getattr(node, "call", None)):
            yield dataclasses.replace(need, view=view)
        if depth < _MAX_DEPTH:
            stack.extend((sub, depth + 1) for sub in getattr(node, "dependencies", ()))


def route_requirements(inner: Any, scope_app: Any) -> list[RouteRequirement]:
    """The requirements declared on the routes `PassportMiddleware` (inner app `inner`) serves.

    The routes are those of the innermost layer that has any (the router, in a Starlette or
    FastAPI stack), else `scope["app"]`'s.
    """
    routes: Any = None
    for layer in inner_layers(inner):
        routes = getattr(layer, "routes", None) or routes
    if not routes:
        routes = getattr(scope_app, "routes", None)
    return list(_walk(routes or (), 0))
