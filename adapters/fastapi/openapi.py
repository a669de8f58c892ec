"""The OpenAPI document of a FastAPI app our dependencies protect.

Routes are declared before `passport.use(...)` runs, so the security schemes can only be known
once the app has its `PassportMiddleware`. When the middleware's startup checks pass (at the
lifespan's startup, or at the first request of an app run without one), `install_openapi`
wraps the `openapi()` of the app and of the FastAPI apps mounted in it: the document FastAPI
builds then gets, for each operation, one security requirement per alternative strategy (with
the route's scopes) and each strategy's `openapi_scheme()` in `components.securitySchemes`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.applications import Starlette
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware

from passport_py.adapters.fastapi.dependencies import (
    AuthDependency,
    current_user,
    is_session_dependency,
)
from passport_py.adapters.starlette._checks import has_own_passport, inner_layers
from passport_py.authenticator import Authenticator
from passport_py.sessions import SessionMiddleware as ServerSessionMiddleware
from passport_py.strategy import Strategy

__all__ = [
    "SESSION_SCHEME",
    "install_openapi",
    "install_openapi_everywhere",
    "security_schemes",
    "session_cookie_name",
]

SESSION_SCHEME = "session"
"""The name `login_required` and `current_user` give the session cookie's security scheme."""
_MARK = "__passport_openapi__"

Requirement = dict[str, list[str]]

# A bound on nested mounts, so a cycle of mounted apps cannot hang startup.
_MAX_MOUNT_DEPTH = 16


def session_cookie_name(app: Any) -> str:
    """The session cookie's name, from the session middleware in `app`'s stack ("session"
    when there is none, the default of both Starlette's and passport_py's)."""
    for layer in inner_layers(getattr(app, "middleware_stack", None)):
        if isinstance(layer, StarletteSessionMiddleware):
            return str(layer.session_cookie)
        if isinstance(layer, ServerSessionMiddleware):
            return str(layer.cookie.name)
    return "session"


def install_openapi_everywhere(app: Any, passport: Authenticator[Any]) -> None:
    """`install_openapi` on `app` and on every FastAPI app mounted in it (at any depth) that
    has no `PassportMiddleware` of its own: `PassportMiddleware` calls this once its startup
    checks pass."""
    pending: list[tuple[Any, int]] = [(app, 0)]
    while pending:
        current, depth = pending.pop()
        install_openapi(current, passport)
        if depth >= _MAX_MOUNT_DEPTH:
            continue
        for route in getattr(current, "routes", ()):
            mounted = getattr(route, "app", None)
            if isinstance(mounted, Starlette) and not has_own_passport(mounted):
                pending.append((mounted, depth + 1))


def install_openapi(app: Any, passport: Authenticator[Any]) -> None:
    """Make `app.openapi()` describe the security of our dependencies (a no-op for an app
    that is not FastAPI's, or already set up for `passport`)."""
    if not isinstance(app, FastAPI):
        return
    current: Callable[[], dict[str, Any]] = app.openapi
    if getattr(current, _MARK, None) is passport:
        return
    original = getattr(current, "__wrapped__", current)
    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = original()
        # FastAPI caches the document; complete each one it builds exactly once.
        if not completed or completed[0] is not schema:
            add_security(schema, app, passport)
            completed[:] = [schema]
        return schema

    openapi.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(openapi, _MARK, passport)
    app.openapi = openapi  # type: ignore[method-assign]


def add_security(schema: dict[str, Any], app: FastAPI, passport: Authenticator[Any]) -> None:
    """Add the security requirements and schemes of our dependencies to `schema` in place."""
    schemes: dict[str, dict[str, Any]] = {}
    cookie = session_cookie_name(app)
    paths = schema.get("paths", {})
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        alternatives = _operation_security(context.dependant, passport, cookie, schemes)
        if not alternatives:
            continue
        item = paths.get(context.path_format, {})
        for method in sorted(context.methods or ()):
            operation = item.get(method.lower())
            if isinstance(operation, dict):
                security = operation.setdefault("security", [])
                security.extend(r for r in alternatives if r not in security)
                _document_refusals(operation, alternatives)
    if schemes:
        schema.setdefault("components", {}).setdefault("securitySchemes", {}).update(schemes)


_DETAIL = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
            "required": ["detail"],
        }
    }
}


def _document_refusals(operation: dict[str, Any], alternatives: list[Requirement]) -> None:
    """List the 401 (and, with scopes, the 403) our dependencies answer, so API docs and
    generated clients know them; responses the app documented itself are kept."""
    responses = operation.setdefault("responses", {})
    if {} not in alternatives:
        responses.setdefault(
            "401",
            {"description": "Not authenticated: no credentials, or wrong ones", "content": _DETAIL},
        )
    if any(scopes for requirement in alternatives for scopes in requirement.values()):
        responses.setdefault(
            "403",
            {
                "description": "Authenticated, but without a scope this operation needs",
                "content": _DETAIL,
            },
        )


def security_schemes(
    chain: tuple[str | Strategy, ...], passport: Authenticator[Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """`(name, Security Scheme Object)` for each strategy of `chain` that describes one."""
    registered = passport.strategies
    for ref in chain:
        strategy = registered.get(ref) if isinstance(ref, str) else ref
        if strategy is None:  # unknown: the startup checks report it
            continue
        scheme = strategy.openapi_scheme()
        if scheme is not None:
            yield (ref if isinstance(ref, str) else strategy.name or type(ref).__name__), scheme


def _operation_security(
    dependant: Any,
    passport: Authenticator[Any],
    cookie: str,
    schemes: dict[str, dict[str, Any]],
) -> list[Requirement]:
    """The operation's security: our dependencies are all required (their requirements
    merged), each satisfied by any of its strategies (one requirement object each)."""
    needs: list[list[Requirement]] = []
    for call, scopes in _our_dependencies(dependant):
        options: list[Requirement] = []
        if isinstance(call, AuthDependency):
            for name, scheme in security_schemes(call.chain, passport):
                schemes[name] = scheme
                options.append({name: list(scopes)})
        else:
            schemes[SESSION_SCHEME] = {"type": "apiKey", "in": "cookie", "name": cookie}
            options.append({SESSION_SCHEME: []})
            if call is current_user:
                options.append({})  # anonymous requests are served too
        if options and options not in needs:
            needs.append(options)
    if not needs:
        return []
    merged: list[Requirement] = []
    for combination in itertools.product(*needs):
        requirement: Requirement = {}
        for part in combination:
            requirement.update(part)
        if requirement not in merged:
            merged.append(requirement)
    return merged


def _our_dependencies(dependant: Any) -> Iterator[tuple[Any, tuple[str, ...]]]:
    """Our dependencies in a route's tree, each with the scopes `Security(...)` asks of it
    (its own and its parents')."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(dependant, ())]
    while stack:
        node, scopes = stack.pop()
        own = getattr(node, "own_oauth_scopes", None) or ()
        scopes = scopes + tuple(s for s in own if s not in scopes)
        call = getattr(node, "call", None)
        if isinstance(call, AuthDependency) or is_session_dependency(call):
            yield call, scopes
        stack.extend((sub, scopes) for sub in reversed(getattr(node, "dependencies", ())))
