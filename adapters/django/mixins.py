"""Class-based view mixins: `AuthenticateMixin`, `AuthorizeMixin`, `LoginRequiredMixin`,
`FreshLoginRequiredMixin`.

Put them before `View` (or a generic view) in the bases. They work on sync and async views
(`View.view_is_async`). For a custom callback, decorate the handler instead:
`@method_decorator(authenticate("local", callback=...), name="post")`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponseBase

from passport_py.adapters.django._state import passport_state
from passport_py.adapters.django.decorators import Route, deny, deny_stale
from passport_py.adapters.django.views import is_user, preload_session
from passport_py.engine import StrategySpec
from passport_py.options import AuthenticateOptions
from passport_py.step_up import StepUp

__all__ = [
    "AuthenticateMixin",
    "AuthorizeMixin",
    "FreshLoginRequiredMixin",
    "LoginRequiredMixin",
]


class AuthenticateMixin:
    """Run `authenticate(authenticate_strategy, **authenticate_options)` before the handler.

    `authenticate_methods` limits it to some HTTP methods, e.g. `("post",)` on a login view
    whose GET shows the form; None (the default) authenticates every request. The options are
    checked when the class is defined.
    """

    authenticate_strategy: ClassVar[StrategySpec | None] = None
    authenticate_options: ClassVar[Mapping[str, Any]] = {}
    authenticate_methods: ClassVar[Collection[str] | None] = None
    #: Which attributes configure this mixin: `authenticate_*`, or `authorize_*`.
    _kind: ClassVar[str] = "authenticate"
    _passport_route: ClassVar[Route | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        strategy = getattr(cls, f"{cls._kind}_strategy")
        if strategy is None:
            cls._passport_route = None
            return
        options = AuthenticateOptions.build(**getattr(cls, f"{cls._kind}_options"))
        cls._passport_route = Route(strategy, options, None, authorize=cls._kind == "authorize")

    def _route_applies(self, request: HttpRequest) -> Route | None:
        route = self._passport_route
        if route is None:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs a strategy: set {self._kind}_strategy = 'name'"
            )
        methods = getattr(self, f"{self._kind}_methods")
        if methods is not None and str(request.method).lower() not in methods:
            return None
        return route

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """Authenticate (for the methods in `authenticate_methods`), then run the handler."""
        route = self._route_applies(request)
        handler = super().dispatch  # type: ignore[misc]
        if route is None:
            return handler(request, *args, **kwargs)
        if getattr(self, "view_is_async", False):
            return route.arun(request, handler, args, kwargs)
        return route.run(request, handler, args, kwargs)


class AuthorizeMixin(AuthenticateMixin):
    """Run `authorize(authorize_strategy, **authorize_options)` before the handler: the
    account lands on `request.account` and the logged-in user stays who they are."""

    authorize_strategy: ClassVar[StrategySpec | None] = None
    authorize_options: ClassVar[Mapping[str, Any]] = {}
    authorize_methods: ClassVar[Collection[str] | None] = None
    _kind = "authorize"


class LoginRequiredMixin:
    """Let only logged-in users reach the view: browsers are redirected to `login_url`
    (default `settings.LOGIN_URL`) with a safe `?next=`, API clients get a 401."""

    login_url: ClassVar[str | None] = None
    #: What `FreshLoginRequiredMixin` also asks of the login (None: nothing).
    _step_up: ClassVar[StepUp | None] = None

    def get_login_url(self) -> str | None:
        """The login page for this view (None: `settings.LOGIN_URL`)."""
        return self.login_url

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        """Run the handler for a logged-in user; refuse anyone else (redirect or 401)."""
        if getattr(self, "view_is_async", False):
            return self._adispatch(request, *args, **kwargs)
        if not is_user(passport_state(request).get_user()):
            return deny(request, self.get_login_url())
        step_up = self._step_up
        refusal = None if step_up is None else deny_stale(request, step_up, self.get_login_url())
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    async def _adispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not is_user(await passport_state(request).aget_user()):
            await preload_session(request)
            return deny(request, self.get_login_url())
        step_up = self._step_up
        if step_up is not None:
            await preload_session(request)
            refusal = deny_stale(request, step_up, self.get_login_url())
            if refusal is not None:
                return refusal
        response: HttpResponseBase = await super().dispatch(  # type: ignore[misc]
            request, *args, **kwargs
        )
        return response


class FreshLoginRequiredMixin(LoginRequiredMixin):
    """`LoginRequiredMixin` for sensitive views: the login must also be fresh (not
    remembered), proved at most `max_age` seconds ago (None: any time), with every method in
    `factors` among those proved. A stale login sends browsers to `reauth_url` (else the
    Authenticator's, else the login page) with a safe `next`; API clients get a 401 JSON
    `reauthentication_required`. The attributes are checked when the class is defined.
    """

    max_age: ClassVar[int | None] = None
    factors: ClassVar[Sequence[str] | None] = None
    reauth_url: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._step_up = StepUp.build(cls.max_age, cls.factors, cls.reauth_url)


FreshLoginRequiredMixin._step_up = StepUp()
