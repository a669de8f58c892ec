"""Shared helpers for the framework-free engine tests (reference passport-core.md section 2).

The reference harness: a fresh Authenticator, a request with an optional session, and "S(x)", a
registered strategy whose `authenticate` immediately returns outcome x. `U` is the reference
user. Everything runs through the public API with `run_sync`, the sync-framework path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from passport_py import (
    AuthenticateOptions,
    Authenticator,
    Decision,
    Outcome,
    Respond,
    Strategy,
    run_sync,
)
from passport_py.request import AuthRequest

U: dict[str, str] = {"id": "1", "username": "jaredhanson"}

#: Users the default deserializer knows, by id.
USERS: dict[str, dict[str, str]] = {"1": U}


class Fixed(Strategy):
    """S(x): returns `outcome` (or raises it, when it is an exception) on every request.

    `calls` records the `(request, options)` each call saw, so tests can tell whether the
    engine reached this strategy and what it passed.
    """

    def __init__(self, outcome: Outcome | BaseException) -> None:
        self.outcome = outcome
        self.calls: list[tuple[AuthRequest, AuthenticateOptions]] = []

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        self.calls.append((request, options))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def make_passport(**strategies: Strategy) -> Authenticator[Any]:
    """An Authenticator with the given strategies and an id serializer / dict deserializer."""
    passport: Authenticator[Any] = Authenticator()
    for name, strategy in strategies.items():
        passport.use(strategy, name)
    passport.serialize_user(lambda user: user["id"])
    passport.deserialize_user(lambda user_id: USERS.get(user_id))
    return passport


def authenticate(
    passport: Authenticator[Any],
    request: AuthRequest,
    strategies: str | Strategy | Sequence[str | Strategy],
    *,
    callback: bool = False,
    **options: Any,
) -> Decision:
    """`passport.authenticate(...)` with keyword options, driven by `run_sync`."""
    opts = AuthenticateOptions.build(**options)
    return run_sync(passport.authenticate(request, strategies, opts, callback=callback))


def headers_named(response: Respond, name: str) -> list[str]:
    """Every value of header `name` in `response`, in order."""
    return [value for key, value in response.headers if key.lower() == name.lower()]


#: The user of passport-local's tests (strategies.md section 1).
USER = {"id": "1234", "username": "johndoe"}


class Verify:
    """A verify callable that records its calls and answers with `result`."""

    def __init__(self, result: Any = USER) -> None:
        self.result = result
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> Any:
        self.calls.append(args)
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result
