"""`CustomStrategy`: a strategy made from one function of the request, with no subclass."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from passport_py._async import call
from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Fail, Outcome, Pass, Redirect, Success, outcome_from_verify
from passport_py.request import AuthRequest
from passport_py.strategies._openapi_schemes import check_scheme
from passport_py.strategy import Strategy

__all__ = ["CustomStrategy"]

Check = Callable[..., Any | Awaitable[Any]]

_OUTCOMES = (Success, Fail, Redirect, Pass)


class CustomStrategy(Strategy):
    """Authenticate with `fn(request)` (or `fn(request, options)` with `pass_options=True`).

    `fn`, sync or async, returns what a verify returns: the user, None/False (401),
    `Verified(user, info)` or `Rejected(message, **info)`; raising is an error. It may also
    return an outcome (`Fail(challenge, status)`, `Pass()`, ...), used as is. `name` is the name
    `passport.use()` registers it under; `vary` lists the request headers `fn` reads
    credentials from, so caches keep responses apart. `openapi_scheme` is how API docs show
    it (an OpenAPI Security Scheme Object, checked here); without one it is left out of them.
    """

    name = "custom"

    def __init__(
        self,
        fn: Check,
        name: str = "custom",
        *,
        pass_options: bool = False,
        vary: Sequence[str] = (),
        openapi_scheme: Mapping[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError("CustomStrategy requires a callable")
        if not isinstance(name, str) or not name:
            raise ConfigurationError("CustomStrategy needs a non-empty name, such as 'api-key'")
        self.fn = fn
        self.pass_options = pass_options
        # Configured per instance: `passport.use(CustomStrategy(fn, "partner"))` registers it
        # as "partner".
        self.name = name
        self.vary = tuple(vary)
        self._openapi_scheme = (
            None
            if openapi_scheme is None
            else check_scheme(openapi_scheme, f"CustomStrategy {name!r}")
        )

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        """Call `fn` and map what it returns to an outcome."""
        if self.pass_options:
            result = await call(self.fn, request, options)
        else:
            result = await call(self.fn, request)
        if isinstance(result, _OUTCOMES):
            # Never a "user": treating a returned Fail as the authenticated user would let
            # every request in.
            return result
        return outcome_from_verify(result)

    def openapi_scheme(self) -> dict[str, Any] | None:
        """A copy of the `openapi_scheme=` given, or None (left out of API docs)."""
        return copy.deepcopy(self._openapi_scheme)
