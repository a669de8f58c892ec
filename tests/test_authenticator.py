"""Authenticator registry and the serializer / deserializer / auth-info chains.

Reference: passport-core.md 2.1 (behaviours 1-8), 2.2 (9-18), 2.3 (19-26), 2.4 (27-31).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from engine_helpers import Fixed, U, authenticate

import passport_py
from passport_py import (
    Authenticator,
    ConfigurationError,
    Fail,
    Pass,
    PassToNext,
    SerializationError,
    Strategy,
    Success,
    UnknownStrategyError,
    run_sync,
)
from passport_py.testing import TestRequest


class Named(Strategy):
    name = "default"

    def authenticate(self, request: Any, options: Any) -> Pass:
        return self.pass_()


class Nameless(Strategy):
    def authenticate(self, request: Any, options: Any) -> Pass:
        return self.pass_()


# -- 2.1 registry and exports -----------------------------------------------------------------


def test_use_registers_under_strategy_name_1() -> None:
    passport: Authenticator[Any] = Authenticator()
    strategy = Named()
    assert passport.use(strategy) is passport
    assert passport.strategies == {"default": strategy}
    assert passport.strategy("default") is strategy


def test_use_with_explicit_name_for_nameless_strategy_2() -> None:
    passport: Authenticator[Any] = Authenticator()
    strategy = Nameless()
    passport.use(strategy, "foo")
    assert passport.strategies == {"foo": strategy}


def test_explicit_name_overrides_strategy_name_3() -> None:
    passport: Authenticator[Any] = Authenticator()
    strategy = Named()
    passport.use(strategy, name="bar")
    assert list(passport.strategies) == ["bar"]
    with pytest.raises(UnknownStrategyError):
        passport.strategy("default")


def test_use_without_any_name_raises_4() -> None:
    passport: Authenticator[Any] = Authenticator()
    with pytest.raises(ConfigurationError, match="Authentication strategies must have a name"):
        passport.use(Nameless())
    assert passport.strategies == {}


def test_use_refuses_something_that_is_not_a_strategy_4() -> None:
    """Not in Passport (which duck-types): a non-Strategy is refused with the fix named."""
    passport: Authenticator[Any] = Authenticator()
    with pytest.raises(ConfigurationError, match=r"subclass passport_py\.Strategy"):
        passport.use(lambda request, options: None, "fn")  # type: ignore[arg-type]


def test_later_use_under_same_name_replaces_earlier_1() -> None:
    passport: Authenticator[Any] = Authenticator()
    first, second = Named(), Named()
    passport.use(first).use(second)
    assert passport.strategy("default") is second


def test_unuse_removes_only_that_strategy_5() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.use(Nameless(), "one").use(Nameless(), "two")
    assert passport.unuse("one") is passport
    assert list(passport.strategies) == ["two"]


def test_strategies_view_is_a_copy_5() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.use(Named())
    view = passport.strategies
    view.pop("default")  # type: ignore[attr-defined]
    assert "default" in passport.strategies


def test_fresh_authenticator_has_no_session_strategy_6() -> None:
    """Differs from Passport: no 'session' strategy is registered; the adapters' middleware
    restores the user once per request (`Authenticator.restore`)."""
    passport: Authenticator[Any] = Authenticator()
    assert passport.strategies == {}
    with pytest.raises(UnknownStrategyError):
        passport.strategy("session")


def test_unknown_strategy_raises_listing_registered_names_7() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.use(Nameless(), "local").use(Nameless(), "bearer")
    request = TestRequest()
    with pytest.raises(UnknownStrategyError) as caught:
        authenticate(passport, request, "foo")
    message = str(caught.value)
    assert "Unknown authentication strategy 'foo'" in message
    assert "'bearer', 'local'" in message
    assert caught.value.name == "foo"
    assert dict(request.session or {}) == {}


def test_unknown_strategy_with_none_registered_says_none_7() -> None:
    with pytest.raises(UnknownStrategyError, match=r"registered: none"):
        authenticate(Authenticator(), TestRequest(), "foo")


def test_unknown_strategy_in_chain_raises_only_when_reached_7() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.use(Fixed(Success(U)), "ok").use(Fixed(Fail()), "nope")
    decision = authenticate(passport, TestRequest(), ["ok", "missing"], session=False)
    assert isinstance(decision, passport_py.Proceed)
    assert decision.user == U
    with pytest.raises(UnknownStrategyError, match="'missing'"):
        authenticate(passport, TestRequest(), ["nope", "missing"])


def test_package_exports_the_public_names_8() -> None:
    """Differs from Passport: no module-level singleton instance; the class is exported."""
    assert passport_py.Authenticator is Authenticator
    assert passport_py.Strategy is Strategy
    assert not any(isinstance(v, Authenticator) for v in vars(passport_py).values())
    for name in passport_py.__all__:
        assert hasattr(passport_py, name), name


# -- 2.2 serialize_user chain -----------------------------------------------------------------


def serialize(passport: Authenticator[Any], user: Any = U, request: Any = None) -> Any:
    return run_sync(passport.serialize(user, request))


def test_no_serializers_raises_9() -> None:
    with pytest.raises(SerializationError, match="Failed to serialize user into session"):
        serialize(Authenticator())


def test_serializer_returns_id_10() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.serialize_user
    def to_id(user: dict[str, str]) -> str:
        return user["id"]

    assert to_id(U) == "1"  # the decorator returns the function unchanged
    assert serialize(passport) == "1"


def test_async_serializer_returns_id_10() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.serialize_user
    async def to_id(user: dict[str, str]) -> str:
        await asyncio.sleep(0)
        return user["id"]

    assert serialize(passport) == "1"


def test_serializer_yielding_zero_is_valid_11() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.serialize_user(lambda user: 0)
    assert serialize(passport) == 0


def test_serializer_yielding_empty_string_is_valid_12() -> None:
    """Differs from Passport (which errors on ''): an empty string is a valid id."""
    passport: Authenticator[Any] = Authenticator()
    passport.serialize_user(lambda user: "")
    assert serialize(passport) == ""


@pytest.mark.parametrize("value", [None, False])
def test_serializer_yielding_none_or_false_fails_12(value: Any) -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.serialize_user(lambda user: value)
    with pytest.raises(SerializationError, match="Failed to serialize user into session"):
        serialize(passport)


def test_serializer_error_propagates_13_14() -> None:
    """Passport hands a throw to done(err); raising is our error, so it reaches the caller."""
    passport: Authenticator[Any] = Authenticator()
    boom = RuntimeError("something went wrong")

    @passport.serialize_user
    def fails(user: Any) -> Any:
        raise boom

    with pytest.raises(RuntimeError) as caught:
        serialize(passport)
    assert caught.value is boom


def test_serializer_chain_first_result_after_pass_wins_15() -> None:
    passport: Authenticator[Any] = Authenticator()
    seen: list[str] = []

    @passport.serialize_user
    def one(user: Any) -> Any:
        seen.append("one")
        raise PassToNext

    @passport.serialize_user
    def two(user: Any) -> Any:
        seen.append("two")
        return "two"

    @passport.serialize_user
    def three(user: Any) -> Any:
        seen.append("three")
        return "three"

    assert serialize(passport) == "two"
    assert seen == ["one", "two"]


def test_serializer_returning_none_defers_to_next_16() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.serialize_user
    def one(user: Any) -> Any:
        raise PassToNext

    passport.serialize_user(lambda user: None)
    passport.serialize_user(lambda user: "three")
    assert serialize(passport) == "three"


def test_serializer_with_pass_request_receives_request_17() -> None:
    passport: Authenticator[Any] = Authenticator()
    request = TestRequest(headers={"x-tenant": "acme"})

    @passport.serialize_user(pass_request=True)
    def to_id(req: Any, user: dict[str, str]) -> str:
        return f"{req.headers.get('x-tenant')}:{user['id']}"

    assert serialize(passport, U, request) == "acme:1"


def test_serializer_chain_where_every_layer_passes_fails_18() -> None:
    passport: Authenticator[Any] = Authenticator()

    def defer(user: Any) -> Any:
        raise PassToNext

    passport.serialize_user(defer)
    passport.serialize_user(defer)
    with pytest.raises(SerializationError, match="Failed to serialize user into session"):
        serialize(passport)


def test_registering_a_non_callable_raises_9() -> None:
    passport: Authenticator[Any] = Authenticator()
    with pytest.raises(ConfigurationError, match="expected a function"):
        passport.serialize_user("user.id")  # type: ignore[call-overload]


# -- 2.3 deserialize_user chain ---------------------------------------------------------------


def deserialize(passport: Authenticator[Any], value: Any = "1", request: Any = None) -> Any:
    return run_sync(passport.deserialize(value, request))


def test_no_deserializers_raises_19() -> None:
    with pytest.raises(SerializationError, match="Failed to deserialize user out of session"):
        deserialize(Authenticator())


def test_deserializer_returns_user_20() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.deserialize_user
    async def load(user_id: str) -> Any:
        return {"id": user_id, "username": "jared"}["username"]

    assert deserialize(passport) == "jared"


@pytest.mark.parametrize("value", [None, False])
def test_deserializer_none_or_false_means_user_gone_21(value: Any) -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.deserialize_user(lambda user_id: value)
    assert deserialize(passport) is None


def test_deserializer_returning_none_is_not_an_error_22() -> None:
    """Differs from Passport (undefined -> "Failed to deserialize"): None means the user is
    gone; deferring to the next deserializer takes `raise PassToNext`."""
    passport: Authenticator[Any] = Authenticator()
    passport.deserialize_user(lambda user_id: None)
    passport.deserialize_user(lambda user_id: "never reached")
    assert deserialize(passport) is None


def test_deserializer_error_propagates_23() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.deserialize_user
    def load(user_id: Any) -> Any:
        raise LookupError("something went wrong")

    with pytest.raises(LookupError, match="something went wrong"):
        deserialize(passport)


def test_deserializer_chain_first_result_after_pass_wins_24() -> None:
    passport: Authenticator[Any] = Authenticator()

    def defer(user_id: Any) -> Any:
        raise PassToNext

    passport.deserialize_user(defer)
    passport.deserialize_user(lambda user_id: "two")
    passport.deserialize_user(lambda user_id: "three")
    assert deserialize(passport) == "two"


def test_deserializer_chain_skips_every_passing_layer_24() -> None:
    passport: Authenticator[Any] = Authenticator()

    def defer(user_id: Any) -> Any:
        raise PassToNext

    passport.deserialize_user(defer)
    passport.deserialize_user(defer)
    passport.deserialize_user(lambda user_id: "three")
    assert deserialize(passport) == "three"


def test_deserializer_chain_where_every_layer_passes_fails_24() -> None:
    passport: Authenticator[Any] = Authenticator()

    def defer(user_id: Any) -> Any:
        raise PassToNext

    passport.deserialize_user(defer)
    with pytest.raises(SerializationError, match="Failed to deserialize user out of session"):
        deserialize(passport)


def test_deserializer_false_short_circuits_the_chain_25() -> None:
    passport: Authenticator[Any] = Authenticator()
    seen: list[str] = []

    def defer(user_id: Any) -> Any:
        raise PassToNext

    def gone(user_id: Any) -> Any:
        seen.append("gone")
        return False

    def third(user_id: Any) -> Any:
        seen.append("three")
        return "three"

    for fn in (defer, gone, third):
        passport.deserialize_user(fn)
    assert deserialize(passport) is None
    assert seen == ["gone"]


@pytest.mark.parametrize("value", [0, ""])
def test_deserializer_accepts_falsy_ids_25(value: Any) -> None:
    """Differs from Passport (0 and '' are "Failed to deserialize"): falsy ids are valid."""
    passport: Authenticator[Any] = Authenticator()
    passport.deserialize_user(lambda user_id: {"id": user_id})
    assert deserialize(passport, value) == {"id": value}


def test_deserializer_with_pass_request_receives_request_26() -> None:
    passport: Authenticator[Any] = Authenticator()
    request = TestRequest(path="/account")

    @passport.deserialize_user(pass_request=True)
    def load(req: Any, user_id: str) -> Any:
        return {"id": user_id, "path": req.path}

    assert deserialize(passport, "1", request) == {"id": "1", "path": "/account"}
    assert passport.wants_request_on_restore is True


# -- 2.4 transform_auth_info chain ------------------------------------------------------------

INFO = {"clientId": "1", "scope": "write"}


def transform(passport: Authenticator[Any], info: Any = INFO, request: Any = None) -> Any:
    return run_sync(passport.transform(info, request))


def test_no_transforms_returns_original_info_27() -> None:
    result = transform(Authenticator())
    assert result is INFO
    assert result == {"clientId": "1", "scope": "write"}


def test_async_transform_replaces_info_28() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.transform_auth_info
    async def with_client(info: dict[str, str]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"clientId": info["clientId"], "client": {"name": "Foo"}}

    assert transform(passport) == {"clientId": "1", "client": {"name": "Foo"}}


def test_sync_transform_replaces_info_29() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.transform_auth_info(lambda info: {**info, "extra": True})
    assert transform(passport) == {"clientId": "1", "scope": "write", "extra": True}


def test_sync_transform_returning_none_keeps_original_29() -> None:
    passport: Authenticator[Any] = Authenticator()
    passport.transform_auth_info(lambda info: None)
    assert transform(passport) is INFO


def test_transform_error_propagates_30() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.transform_auth_info
    def broken(info: Any) -> Any:
        raise ValueError("something went wrong")

    with pytest.raises(ValueError, match="something went wrong"):
        transform(passport)


def test_transform_chain_first_result_after_pass_wins_31() -> None:
    passport: Authenticator[Any] = Authenticator()

    @passport.transform_auth_info
    def one(info: Any) -> Any:
        raise PassToNext

    passport.transform_auth_info(lambda info: "Two")
    passport.transform_auth_info(lambda info: "Three")
    assert transform(passport) == "Two"


def test_transform_with_pass_request_receives_request_31() -> None:
    passport: Authenticator[Any] = Authenticator()
    request = TestRequest(headers={"x-client": "Foo"})

    @passport.transform_auth_info(pass_request=True)
    def with_client(req: Any, info: dict[str, str]) -> dict[str, str]:
        return {**info, "client": req.headers.get("X-Client")}

    assert transform(passport, INFO, request) == {**INFO, "client": "Foo"}
