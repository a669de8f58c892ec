"""`passport_py.route_checks`: what decorators record on a view, and what is reported against
a real `Authenticator`. The adapters' use of it is tested through real apps
(test_starlette_startup_checks.py for Starlette and FastAPI)."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from passport_py import Authenticator
from passport_py.errors import ConfigurationError
from passport_py.route_checks import (
    RouteRequirement,
    check_requirements,
    declare,
    declared,
    requirement,
    requirement_problems,
)
from passport_py.strategies.local import LocalStrategy


def view(request: Any) -> str:
    return "view"


def passport_with(*names: str, serializers: bool = True) -> Authenticator[Any]:
    passport: Authenticator[Any] = Authenticator()
    for name in names:
        passport.use(LocalStrategy(lambda username, password: None), name)
    if serializers:
        passport.serialize_user(lambda user: user)
        passport.deserialize_user(lambda user_id: user_id)
    return passport


def test_a_requirement_names_the_view_by_module_and_qualified_name() -> None:
    need = requirement("authenticate", view, "local", session=True)
    assert need == RouteRequirement("authenticate", f"{__name__}.view", ("local",), True)


def test_a_chain_of_strategies_is_kept_in_order() -> None:
    assert requirement("authorize", view, ["a", "b"], session=False).strategies == ("a", "b")


def test_a_view_no_decorator_wrapped_declares_nothing() -> None:
    assert declared(view) == ()
    assert declared(None) == ()


def test_a_wrapper_declares_after_the_views_it_wraps_without_changing_them() -> None:
    inner_need = requirement("login_required", view, session=True)
    outer_need = requirement("authenticate", view, "local", session=True)

    @functools.wraps(view)
    def inner(request: Any) -> str:
        return view(request)

    declare(inner, inner_need)

    @functools.wraps(inner)  # copies inner's recorded requirements into outer.__dict__
    def outer(request: Any) -> str:
        return inner(request)

    declare(outer, outer_need)
    assert declared(outer) == (inner_need, outer_need)
    assert declared(inner) == (inner_need,)


def test_known_names_and_both_serializers_pass() -> None:
    needs = [requirement("authenticate", view, ["local", "bearer"], session=True)]
    check_requirements(passport_with("local", "bearer"), needs)


def test_every_unknown_name_is_listed_with_the_registered_ones() -> None:
    needs = [
        requirement("authenticate", view, ["local", "locale"], session=False),
        requirement("authorize", view, "github", session=False),
    ]
    with pytest.raises(ConfigurationError) as caught:
        check_requirements(passport_with("local", "bearer"), needs)
    assert str(caught.value) == (
        f"authenticate('locale') on {__name__}.view: no strategy is registered as 'locale' "
        "(registered: 'bearer', 'local'); fix the name or register it with passport.use(...); "
        f"authorize('github') on {__name__}.view: no strategy is registered as 'github' "
        "(registered: 'bearer', 'local'); fix the name or register it with passport.use(...)"
    )


def test_an_empty_registry_is_named_none() -> None:
    [problem] = requirement_problems(
        passport_with(), [requirement("authenticate", view, "x", session=False)]
    )
    assert "(registered: none)" in problem


def test_a_strategy_instance_needs_no_registration() -> None:
    strategy = LocalStrategy(lambda username, password: None)
    needs = [requirement("authenticate", view, strategy, session=False)]
    assert requirement_problems(passport_with(), needs) == []


def test_missing_serializers_are_reported_only_when_a_route_uses_the_session() -> None:
    passport = passport_with("local", serializers=False)
    stateless = requirement("authenticate", view, "local", session=False)
    assert requirement_problems(passport, [stateless]) == []
    login = requirement("login_required", view, session=True)
    assert requirement_problems(passport, [stateless, login]) == [
        f"login_required on {__name__}.view uses the login session but no "
        "@passport.serialize_user and @passport.deserialize_user function is registered: add "
        "@passport.serialize_user and @passport.deserialize_user (see the quickstart), or pass "
        "session=False to authenticate() for stateless routes"
    ]


def test_a_missing_deserializer_alone_is_named_alone() -> None:
    passport = passport_with("local", serializers=False)
    passport.serialize_user(lambda user: user)
    [problem] = requirement_problems(passport, [requirement("x", view, session=True)])
    assert "no @passport.deserialize_user function" in problem
    assert "serialize_user and" not in problem


def test_a_view_serving_several_routes_is_reported_once() -> None:
    need = requirement("authenticate", view, "locale", session=False)
    assert len(requirement_problems(passport_with("local"), [need, need])) == 1
