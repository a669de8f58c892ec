"""What lets one decorated endpoint serve both Starlette and FastAPI.

Starlette calls an endpoint as `endpoint(request)`. FastAPI reads the endpoint's signature
(through `__signature__`, else `__wrapped__`) and calls it with one keyword argument per
parameter. A wrapper needs the `Request` either way: when the endpoint declares none, the
wrapper's signature gains a keyword-only one under a private name, taken out again before the
endpoint is called.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from passport_py._async import is_async_callable
from passport_py.errors import ConfigurationError

__all__ = ["REQUEST_PARAMETER", "EndpointShape", "endpoint_shape"]

#: The keyword-only parameter a wrapper's signature gains for FastAPI when the endpoint has
#: no `Request` parameter of its own.
REQUEST_PARAMETER = "_passport_request"

_PASSES_BY_NAME = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


class EndpointShape:
    """How to find the `Request` among a wrapper's arguments and how to call the endpoint."""

    __slots__ = ("endpoint", "is_async", "own_request", "signature")

    def __init__(
        self,
        endpoint: Callable[..., Any],
        own_request: str | None,
        signature: inspect.Signature | None,
    ) -> None:
        self.endpoint = endpoint
        self.is_async = is_async_callable(endpoint)
        #: The name of the endpoint's own `Request` parameter, if it has one.
        self.own_request = own_request
        #: What FastAPI should read as the wrapper's signature (None: the endpoint's own).
        self.signature = signature

    def request(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Request:
        """The request of this call; removes the private parameter from `kwargs`."""
        own = self.own_request
        if own is None:
            found = kwargs.pop(REQUEST_PARAMETER, None) if kwargs else None
        else:
            # Left in place: the endpoint (or an inner wrapper of ours) takes it too.
            found = kwargs.get(own)
        if found is None and args:
            found = args[0]  # Starlette's calling convention
        if not isinstance(found, Request):
            raise ConfigurationError(
                f"{_name(self.endpoint)} was called without a Request: put passport_py's "
                "decorators directly on a Starlette endpoint `(request)` or on a FastAPI path "
                "operation, outside any decorator that hides the endpoint's signature"
            )
        return found

    async def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the endpoint; a sync one runs in the threadpool, as Starlette and FastAPI do."""
        if self.is_async:
            return await self.endpoint(*args, **kwargs)
        return await run_in_threadpool(self.endpoint, *args, **kwargs)


def endpoint_shape(endpoint: Callable[..., Any], decorator: str) -> EndpointShape:
    """The shape of `endpoint`, which `decorator` (its name, for errors) is about to wrap."""
    if inspect.isgeneratorfunction(endpoint) or inspect.isasyncgenfunction(endpoint):
        # FastAPI streams a generator endpoint by unwrapping it, which would skip our checks.
        raise ConfigurationError(
            f"@{decorator} cannot wrap the generator endpoint {_name(endpoint)}: on FastAPI use "
            "the dependencies of passport_py.adapters.fastapi (Depends(...)) on a streaming "
            "endpoint; on Starlette return a StreamingResponse from a plain endpoint"
        )
    try:
        raw = inspect.signature(endpoint)
    except (TypeError, ValueError):  # a callable without a signature: Starlette-only
        return EndpointShape(endpoint, None, None)
    try:
        # What FastAPI itself would read (it evaluates string annotations the same way).
        resolved = inspect.signature(endpoint, eval_str=True)
    except Exception:  # names imported only for type checkers: FastAPI cannot use those either
        resolved = raw
    for parameter in resolved.parameters.values():
        annotation = parameter.annotation
        if (
            parameter.kind in _PASSES_BY_NAME
            and isinstance(annotation, type)
            and issubclass(annotation, Request)
        ):
            return EndpointShape(endpoint, parameter.name, None)
    parameters = list(resolved.parameters.values())
    # Keyword-only parameters must come before a `**kwargs`.
    at = next(
        (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
        len(parameters),
    )
    parameters.insert(
        at, inspect.Parameter(REQUEST_PARAMETER, inspect.Parameter.KEYWORD_ONLY, annotation=Request)
    )
    return EndpointShape(endpoint, None, resolved.replace(parameters=parameters))


def _name(endpoint: Callable[..., Any]) -> str:
    return str(getattr(endpoint, "__qualname__", None) or repr(endpoint))
