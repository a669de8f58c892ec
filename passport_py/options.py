"""`authenticate()` options, validated once when a route is declared."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeAlias

from passport_py.errors import ConfigurationError

__all__ = ["AuthenticateOptions", "FlashOption", "Subject"]

FlashOption: TypeAlias = bool | str | Mapping[str, str] | None
"""`True` (use the strategy's message), a message string, or `{"type": ..., "message": ...}`."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a second-factor strategy checks a code for (`options.subject`).

    The user of the session's pending login (`pending=True`: the first factor succeeded and
    the login waits for a second), or, for re-authentication, the user already logged in.
    `serialized` is the user's id as `serialize_user` made it; `amr` what they proved so far.
    """

    user: Any
    serialized: Any
    pending: bool
    amr: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthenticateOptions:
    """Passport 0.7's options in snake_case; unknown keywords go to the strategies in `extra`.

    Immutable: a route's options are built once and shared by every request.
    """

    session: bool = True
    keep_session_info: bool = False
    success_redirect: str | None = None
    success_return_to_or_redirect: str | None = None
    failure_redirect: str | None = None
    success_flash: FlashOption = None
    failure_flash: FlashOption = None
    success_message: bool | str | None = None
    failure_message: bool | str | None = None
    fail_with_error: bool = False
    assign_property: str | None = None
    auth_info: bool = True
    #: Also issue a remember-me cookie on a session login: True always, or the name of a
    #: form / JSON field ("remember_me") the user ticks. Needs a registered RememberMeStrategy.
    remember: bool | str = False
    #: Where browsers go when the login waits for a second factor (overrides the
    #: authenticator's `second_factor_url` for this route).
    second_factor_redirect: str | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: The name the running strategy was registered under (`passport.use(s, name=...)`), or
    #: its own `name` when a route names the instance. Set by the engine for each strategy of
    #: the chain, never by routes: per-flow state (OAuth's pending requests) is bound to it.
    strategy_name: str | None = None
    #: Set by the engine, per request, for a second-factor strategy (`Strategy.second_factor`):
    #: whose code it checks. None for every other strategy; never a route option.
    subject: Subject | None = None
    # `for_strategy` copies, made once per (route options, name) and reused by every request.
    _named: dict[str | None, AuthenticateOptions] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(cls, **options: Any) -> AuthenticateOptions:
        """Split keyword options into the engine's own and strategy options (`scope`, ...)."""
        if "strategy_name" in options:
            raise ConfigurationError(
                "strategy_name= is not a route option: each strategy runs under the name "
                "passport.use(strategy, name=...) registered it with"
            )
        if "subject" in options:
            raise ConfigurationError(
                "subject= is not a route option: a second-factor strategy checks the code of "
                "the session's pending login (or of the logged-in user)"
            )
        own = _OWN_NAMES
        known = {k: v for k, v in options.items() if k in own}
        extra = {k: v for k, v in options.items() if k not in own}
        for name in extra:
            close = difflib.get_close_matches(name, own, n=1, cutoff=0.8)
            if close:
                # A misspelt engine option would otherwise reach the strategies unnoticed.
                raise ConfigurationError(
                    f"unknown authenticate option {name}=; did you mean {close[0]}=?"
                )
        for flag in ("session", "keep_session_info", "fail_with_error", "auth_info"):
            if flag in known and not isinstance(known[flag], bool):
                raise ConfigurationError(f"authenticate option {flag}= must be True or False")
        remember = known.get("remember", False)
        if not isinstance(remember, bool | str) or remember == "":
            raise ConfigurationError(
                "authenticate option remember= takes True or the name of a form field"
            )
        for flash in ("success_flash", "failure_flash"):
            value = known.get(flash)
            if isinstance(value, Mapping) and not set(value) <= {"type", "message"}:
                raise ConfigurationError(
                    f"authenticate option {flash}= takes True, a message, or "
                    f"{{'type': ..., 'message': ...}}; got keys {sorted(value)}"
                )
        return cls(**known, extra=MappingProxyType(extra) if extra else _EMPTY)

    def get(self, name: str, default: Any = None) -> Any:
        """A strategy option passed through `authenticate(..., name=value)`."""
        return self.extra.get(name, default)

    def replace(self, **changes: Any) -> AuthenticateOptions:
        """A copy with `changes` applied (options are never mutated in place)."""
        return dataclasses.replace(self, **changes)

    def for_strategy(self, name: str | None) -> AuthenticateOptions:
        """These options as the strategy registered under `name` runs with them."""
        if name == self.strategy_name:
            return self
        named = self._named.get(name)
        if named is None:
            named = self._named[name] = dataclasses.replace(self, strategy_name=name)
        return named


# What routes may set: not `extra`, nor what the engine sets (`strategy_name`, `subject`,
# the cache).
_OWN_NAMES = frozenset(f.name for f in dataclasses.fields(AuthenticateOptions) if f.init) - {
    "extra",
    "strategy_name",
    "subject",
}
DEFAULT_OPTIONS = AuthenticateOptions()
