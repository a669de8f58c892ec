"""The login waiting for a second factor, for Django's second-factor page:
`pending_login(request)` (`apending_login` in async views) and `cancel_pending(request)`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from passport_py._async import run_sync
from passport_py.adapters.django._request import DjangoAuthRequest
from passport_py.adapters.django._state import passport_state
from passport_py.adapters.django.views import preload_session, settle

__all__ = ["apending_login", "cancel_pending", "pending_login"]


def pending_login(request: HttpRequest) -> tuple[Any, tuple[str, ...]] | None:
    """`(user, factors)` of the login waiting for a second factor in this session (whom the
    second-factor page is for, which factors to offer); None when there is none."""
    state = passport_state(request)
    neutral = DjangoAuthRequest(request, state.config)
    return run_sync(state.config.passport.pending_login(neutral))


async def apending_login(request: HttpRequest) -> tuple[Any, tuple[str, ...]] | None:
    """`pending_login` for async views (an `async def` deserializer is awaited)."""
    state = passport_state(request)
    neutral = DjangoAuthRequest(request, state.config, deferred=True)
    await preload_session(request)
    try:
        return await state.config.passport.pending_login(neutral)
    finally:
        await settle(neutral)


def cancel_pending(request: HttpRequest) -> None:
    """Forget the login waiting for a second factor in this session ("use another account")."""
    state = passport_state(request)
    state.config.passport.cancel_pending(DjangoAuthRequest(request, state.config))
