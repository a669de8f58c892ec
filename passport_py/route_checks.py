"""What each decorated view needs from the `Authenticator`, checked before the first request.

The adapters' decorators run when a module is imported, usually before `passport.use(...)`, so
they cannot check a strategy name then. Each decorator records a `RouteRequirement` on the view
it returns; the adapter collects them from the app's routes when the app starts (or at its
first request, where the framework has no start) and calls `check_requirements`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from passport_py.errors import ConfigurationError
from passport_py.strategy import Strategy

if TYPE_CHECKING:
    from passport_py.authenticator import Authenticator
    from passport_py.engine import StrategySpec

__all__ = [
    "RouteRequirement",
    "check_requirements",
    "declare",
    "declared",
    "requirement",
    "requirement_problems",
    "strategy_chain",
]

_ATTRIBUTE = "__passport_requirements__"


@dataclass(frozen=True)
class RouteRequirement:
    """One decorator's needs: the strategies it names and whether it uses the login session.

    `decorator` is how the messages name it (`authenticate`, `login_required`, ...), `view`
    the view's qualified name.
    """

    decorator: str
    view: str
    strategies: tuple[str | Strategy, ...] = ()
    #: True when the route logs users in to the session or restores them from it.
    session: bool = True


def strategy_chain(strategies: StrategySpec) -> tuple[str | Strategy, ...]:
    """`strategies` (a name, an instance or a list of either) as a tuple, in order."""
    return (strategies,) if isinstance(strategies, str | Strategy) else tuple(strategies)


def requirement(
    decorator: str, view: Callable[..., Any], strategies: StrategySpec = (), *, session: bool
) -> RouteRequirement:
    """The requirement of `decorator` applied to `view` with `strategies`."""
    chain = strategy_chain(strategies)
    name = f"{getattr(view, '__module__', '?')}.{getattr(view, '__qualname__', repr(view))}"
    return RouteRequirement(decorator, name, chain, session)


def declare(wrapper: Callable[..., Any], needs: RouteRequirement) -> None:
    """Record `needs` on `wrapper`, after those of the views it wraps."""
    # functools.wraps copied the wrapped view's list into wrapper.__dict__: build a new one.
    inherited: Sequence[RouteRequirement] = getattr(wrapper, _ATTRIBUTE, ())
    setattr(wrapper, _ATTRIBUTE, (*inherited, needs))


def declared(view: Any) -> tuple[RouteRequirement, ...]:
    """The requirements recorded on `view` (empty for a view no decorator of ours wrapped)."""
    found = getattr(view, _ATTRIBUTE, ())
    return tuple(found) if isinstance(found, tuple) else ()


def check_requirements(passport: Authenticator[Any], needs: Iterable[RouteRequirement]) -> None:
    """Raise `ConfigurationError` naming every unknown strategy and missing (de)serializer."""
    problems = requirement_problems(passport, needs)
    if problems:
        raise ConfigurationError("; ".join(problems))


def requirement_problems(
    passport: Authenticator[Any], needs: Iterable[RouteRequirement]
) -> list[str]:
    """What `check_requirements` would report, one message a problem (none repeated)."""
    registered = passport.strategies
    known = ", ".join(repr(name) for name in sorted(registered)) or "none"
    problems: list[str] = []
    first_session: RouteRequirement | None = None
    for need in needs:
        for layer in need.strategies:
            if isinstance(layer, str) and layer not in registered:
                problems.append(
                    f"{need.decorator}({layer!r}) on {need.view}: no strategy is registered "
                    f"as {layer!r} (registered: {known}); fix the name or register it with "
                    f"passport.use(...)"
                )
        if need.session and first_session is None:
            first_session = need
    if first_session is not None:
        missing = [
            what
            for what, present in (
                ("serialize_user", passport.has_serializer),
                ("deserialize_user", passport.has_deserializer),
            )
            if not present
        ]
        if missing:
            decorators = " and ".join(f"@passport.{what}" for what in missing)
            problems.append(
                f"{first_session.decorator} on {first_session.view} uses the login session but "
                f"no {decorators} function is registered: add {decorators} (see the "
                f"quickstart), or pass session=False to authenticate() for stateless routes"
            )
    # The same view can serve several routes: say each problem once.
    return list(dict.fromkeys(problems))
