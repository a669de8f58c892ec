"""Passport's conformance behaviours through a real Starlette app.

Every test drives Starlette + SessionMiddleware + PassportMiddleware with Starlette's TestClient,
through `passport_py.adapters.starlette`, and names the behaviours it checks: passport-core.md
section 2 (numbers) and strategies.md section 1 (L1-L17). The engine-level twins are in the files
named below. A behaviour an existing Starlette test already covers is not repeated here; that
test's docstring cites it ("adapter:" is test_starlette_adapter.py, "bad_input:" test_bad_input.py
(run on Starlette among others), "redirects:" test_redirects.py; unprefixed names are here).

What is observed: `request.user`, `request.auth` and `request.state` (the endpoints answer with
them as JSON), the signed session cookie (decoded), `pop_flashes(request)` on the next page for
flashes and `session["messages"]` for messages. Registry behaviours are exercised by a request to
a route using the strategy. An error is what a client sees: the TestClient re-raises it, and a
client that does not gets a bare 500 with no Set-Cookie, so nothing the failing request wrote
into the session reaches the browser and nobody is logged in.

Not applicable (the same list the engine-level suite skips):
92, 104, 116  a custom user property: there is no `userProperty`; the user is always
              `request.user` (Starlette's `scope["user"]`).
93, 100, 107  `req.login` / `req.logout` without a callback: there are no callbacks; `login()`
              and `logout()` are awaited and raise.
99, 106       a session save error (106: its save half only): there is no save step;
              SessionMiddleware writes the cookie when the response starts. 106's regenerate
              half is tested.
105           logout on a bare request with no session manager: the adapter always has one
              (`Authenticator.sessions`).
117           `pauseStream`: Node streams.
118-120       `initialize()`: there is none; PassportMiddleware installs the state, and that it
              leaves the session alone is what 79, 111 and 112 check.
121           `framework()`: adapters are modules, not a pluggable framework object.
Tested here but not at engine level: 109 (`is_authenticated` lives in the adapters).
Not numbered, already tested through Starlette in test_login_csrf_and_options.py: the
cross-site login refusal (test_cross_site_form_post_through_starlette_logs_nobody_in) and the
misspelt-option refusal (test_a_misspelt_option_is_refused_when_the_route_is_declared).

Coverage: behaviour number, then its Starlette tests; the engine-level file is in each heading.

2.1 registry and exports (engine level: test_authenticator.py)
1    test_strategy_registered_under_its_name_serves_the_route_1
     test_later_use_under_the_same_name_serves_the_route_1
     adapter: test_custom_strategy_logs_in_through_the_app
2    test_nameless_strategy_used_under_an_explicit_name_2
     adapter: test_chain_of_failing_strategies_sends_one_www_authenticate_per_challenge
3    test_explicit_name_overrides_the_strategy_name_3
4    test_strategy_without_any_name_is_refused_and_never_served_4
5    test_unused_strategy_is_no_longer_served_5
     test_strategy_unused_after_startup_is_a_server_error_5
6    test_no_session_strategy_the_middleware_restores_the_user_6
7    test_unknown_strategy_stops_the_app_before_it_serves_7
     test_unknown_strategy_in_a_chain_raises_only_when_reached_7
     [engine level also: test_engine_callback.py]
8    test_each_app_has_its_own_authenticator_and_the_adapter_exports_its_names_8

2.2 serialize_user chain, through a login (engine level: test_authenticator.py)
9    test_login_without_serializers_stops_the_app_before_it_serves_9
10   test_serializer_id_is_stored_in_the_session_10
     adapter: test_login_form_logs_in_and_the_session_persists_on_later_requests
11   test_serializer_yielding_zero_logs_in_11
     [engine level also: test_session_manager.py]
12   test_serializer_yielding_empty_string_logs_in_12
     test_serializer_yielding_none_or_false_is_a_server_error_12
13   test_serializer_error_reaches_the_client_unchanged_13_14
14   test_serializer_error_reaches_the_client_unchanged_13_14
15   test_serializer_chain_first_result_after_pass_wins_15
16   test_serializer_returning_none_defers_to_the_next_16
17   test_serializer_with_pass_request_receives_the_starlette_request_17
18   test_serializer_chain_where_every_layer_passes_is_a_server_error_18

2.3 deserialize_user chain, through PassportMiddleware (engine level: test_authenticator.py)
19   test_restore_without_deserializers_is_a_server_error_19
20   adapter: test_middleware_sets_request_user_and_auth_from_the_session
21   test_deserializer_none_or_false_logs_the_session_out_quietly_21
     adapter: test_deleted_user_becomes_anonymous_and_leaves_the_session
     bad_input: test_session_naming_an_unknown_user_is_anonymous_and_forgotten
22   test_deserializer_returning_none_does_not_defer_22
23   test_deserializer_error_is_a_server_error_and_keeps_the_session_23_115
24   test_deserializer_chain_first_result_after_pass_wins_24
     test_deserializer_chain_skips_every_passing_layer_24
     test_deserializer_chain_where_every_layer_passes_is_a_server_error_24
25   test_deserializer_false_short_circuits_the_chain_25
26   adapter: test_deserializer_with_pass_request_receives_the_request

2.4 transform_auth_info chain, as request.auth.info (engine level: test_authenticator.py)
27   adapter: test_strategy_info_scope_becomes_request_auth_scopes
28   test_async_transform_replaces_request_auth_info_28
29   test_sync_transform_replaces_request_auth_info_29
     test_sync_transform_returning_none_keeps_the_original_info_29
30   test_transform_error_after_login_is_a_server_error_30_35
31   test_transform_chain_first_result_after_pass_wins_31
     test_transform_with_pass_request_receives_the_starlette_request_31

2.5 success (engine level: test_engine_success.py)
32   test_success_logs_in_and_reaches_the_endpoint_with_empty_info_32
33   test_strategy_instance_passed_directly_logs_in_33
34   test_success_info_becomes_request_auth_info_34
     test_success_info_goes_through_the_transform_34
     adapter: test_strategy_info_scope_becomes_request_auth_scopes
35   test_transform_error_after_login_is_a_server_error_30_35
36   test_auth_info_false_skips_the_transform_and_still_logs_in_36
37   adapter: test_success_redirect_sends_the_browser_to_the_target
38   adapter: test_return_to_saved_by_login_required_is_used_then_removed
39   adapter: test_return_to_or_redirect_falls_back_to_the_option
40   test_return_to_with_keep_session_info_keeps_the_other_keys_40
     adapter: test_return_to_saved_by_login_required_is_used_then_removed
     adapter: test_return_to_or_redirect_uses_next_query_parameter
     adapter: test_session_return_to_wins_over_next
     redirects: test_login_with_hostile_next_redirects_to_the_default
     redirects: test_login_with_hostile_session_return_to_redirects_to_the_default
     redirects: test_non_string_session_return_to_redirects_to_the_default
     redirects: test_hostile_session_return_to_falls_back_to_a_safe_next
     redirects: test_login_with_safe_next_redirects_there
41   test_success_redirect_ignores_return_to_and_next_41
     test_return_to_option_wins_over_success_redirect_41
     adapter: test_success_redirect_ignores_next
42   test_serializer_error_leaves_the_session_cookie_untouched_42_98
43   test_session_false_with_success_redirect_needs_no_session_middleware_43
     adapter: test_session_false_authenticates_this_request_only
     adapter: test_stateless_login_works_without_session_middleware
44   adapter: test_login_without_session_middleware_names_the_fix
45   test_strategy_options_reach_the_strategy_unchanged_on_every_request_45

2.6 failure with one strategy (engine level: test_engine_failure.py)
46   test_fail_without_challenge_is_401_unauthorized_46
47   test_fail_with_string_challenge_sets_www_authenticate_47
     adapter: test_custom_strategy_failures_render_status_and_challenge
48   test_fail_with_challenge_and_403_has_no_www_authenticate_48
49   test_fail_with_a_number_alone_is_the_status_49
50   adapter: test_wrong_password_is_401_without_challenge_and_nobody_logged_in
     adapter: test_custom_strategy_failures_render_status_and_challenge
51   adapter: test_failure_redirect_and_failure_flash_are_shown_once
52   test_fail_with_error_hands_the_app_an_authentication_error_52_53_54_56
53   test_fail_with_error_hands_the_app_an_authentication_error_52_53_54_56
54   test_fail_with_error_hands_the_app_an_authentication_error_52_53_54_56
55   adapter: test_fail_with_error_raises_authentication_error_for_the_app_handler
56   test_fail_with_error_hands_the_app_an_authentication_error_52_53_54_56
57   test_failure_redirect_wins_over_fail_with_error_57

2.7 multiple strategies (engine level: 58-59 test_engine_success.py, 59 also
    test_engine_failure.py and test_engine_callback.py, 60-66 test_engine_failure.py, 67-68
    test_engine_callback.py)
58   test_first_success_in_a_chain_wins_58
59   adapter: test_chain_stops_at_the_first_success
60   test_all_fail_sends_every_string_challenge_in_order_60
     test_empty_chain_is_401_60
     adapter: test_chain_of_failing_strategies_sends_one_www_authenticate_per_challenge
61   test_all_fail_uses_the_first_status_and_no_challenge_61
62   test_all_fail_status_is_the_first_explicit_one_62
63   test_all_fail_flashes_the_first_failure_then_redirects_63
64   test_failures_then_a_redirect_redirects_64
65   test_failures_then_pass_reach_the_endpoint_anonymous_65
     test_failures_then_an_error_is_a_server_error_65
66   test_session_in_a_chain_is_an_unknown_strategy_66
67   test_callback_with_a_failing_chain_gets_lists_67
     test_callback_with_a_failing_chain_gets_every_status_67
68   test_callback_with_a_list_of_one_strategy_gets_lists_68

2.8 flash and messages (engine level: test_engine_flash.py)
69   test_failure_flash_shown_on_the_next_page_after_the_redirect_69
     adapter: test_failure_redirect_and_failure_flash_are_shown_once
     adapter: test_failure_flash_for_missing_credentials_says_so
70   test_success_flash_shown_on_the_next_page_after_the_redirect_70
     test_success_flash_with_string_info_70
71   test_failure_message_string_is_stored_in_session_messages_71
     test_failure_message_is_appended_to_existing_messages_71
72   test_failure_message_true_uses_the_challenge_message_only_72
73   test_failure_message_true_with_a_string_challenge_73
     test_failure_message_true_without_a_message_records_nothing_73
74   test_success_message_string_is_stored_after_login_74
     test_success_message_true_uses_the_info_message_74
75   test_success_flash_and_message_survive_the_login_regeneration_75
76   test_failure_flash_and_message_without_redirect_still_answer_401_76
     test_no_flash_or_message_without_the_options_76
     test_failure_message_or_flash_without_session_middleware_names_it_76

2.9 redirect, pass and error (engine level: test_engine_success.py)
77   test_redirect_action_is_a_302_with_an_empty_body_77
78   test_redirect_action_with_status_303_78
79   test_pass_action_reaches_the_endpoint_anonymous_79
80   adapter: test_strategy_error_without_callback_propagates_to_the_app
81   test_async_strategy_raising_is_a_server_error_81
     test_strategy_returning_no_outcome_is_a_server_error_81
     adapter: test_strategy_error_without_callback_propagates_to_the_app

2.10 custom callback (engine level: test_engine_callback.py)
82   test_callback_gets_the_success_and_nobody_is_logged_in_82
     test_callback_gets_none_info_when_the_strategy_gave_none_82
     adapter: test_custom_callback_gets_the_result_and_nobody_is_logged_in
83   test_callback_gets_the_failure_as_one_entry_lists_83
     test_failure_options_are_not_applied_in_callback_form_83
     adapter: test_custom_callback_gets_failures_as_lists
84   test_bad_request_reaches_the_callback_as_a_failure_84
     adapter: test_strategy_error_reaches_the_custom_callback_as_result_error
85   test_redirect_and_pass_never_reach_the_callback_85
86   test_callback_with_options_has_the_same_semantics_86

2.11 authorize, assign_property and auth_info (engine level: test_engine_success.py)
87   test_authorize_puts_the_user_on_request_state_account_without_login_87
     adapter: test_authorize_puts_the_account_on_request_state_and_leaves_request_user
88   test_authorize_with_auth_info_false_88
     test_authorize_transforms_the_info_88
89   test_assign_property_equals_authorize_and_ignores_redirects_89
     test_authorize_overrides_a_given_assign_property_89
     test_success_flash_and_message_apply_with_assign_property_89
     [engine level also: test_engine_flash.py]
90   adapter: test_authorize_puts_the_account_on_request_state_and_leaves_request_user

2.12 login (engine level: test_session_manager.py)
91   test_login_helper_with_session_false_authenticates_this_request_only_91
     adapter: test_session_false_authenticates_this_request_only
94   test_login_regenerates_the_session_once_then_writes_the_user_94
     test_login_and_restore_under_a_custom_session_key_94_112
     adapter: test_login_form_logs_in_and_the_session_persists_on_later_requests
     adapter: test_login_replaces_the_session_cookie_and_drops_pre_login_data
     adapter: test_login_helper_called_from_an_endpoint_logs_in
95   adapter: test_login_replaces_the_session_cookie_and_drops_pre_login_data
     adapter: test_login_with_keep_session_info_keeps_everything
96   test_login_with_keep_session_info_merges_previous_passport_data_96
     test_login_without_keep_session_info_replaces_passport_data_96
97   test_login_regenerate_error_is_a_server_error_and_keeps_the_session_97
98   test_serializer_error_leaves_the_session_cookie_untouched_42_98
101  test_login_helper_without_session_middleware_names_it_101
     adapter: test_login_without_session_middleware_names_the_fix

2.13 logout (engine level: test_session_manager.py)
102  test_logout_removes_the_user_before_regenerating_102
     test_logout_when_nobody_is_logged_in_still_regenerates_102
     adapter: test_logout_clears_the_session_and_later_requests_are_anonymous
103  test_logout_drops_the_other_session_data_103
     test_logout_with_keep_session_info_keeps_the_other_data_103
     test_logout_with_keep_session_info_leaves_an_empty_passport_103
106  test_logout_regenerate_error_reaches_the_app_with_the_user_removed_106
108  test_logout_without_session_middleware_names_it_and_clears_the_user_108
     test_logout_without_session_middleware_does_not_suggest_session_false_108

2.14 is_authenticated
109  test_is_authenticated_follows_the_user_through_login_and_logout_109
     [engine level: none, adapter-only]

2.15 restoring the user (Passport's SessionStrategy) (engine level: test_session_manager.py)
110  test_no_session_middleware_means_nobody_and_no_error_110
111  adapter: test_no_deserialization_when_the_session_holds_no_user
     bad_input: test_session_with_a_malformed_passport_entry_is_anonymous
112  test_login_and_restore_under_a_custom_session_key_94_112
     adapter: test_middleware_sets_request_user_and_auth_from_the_session
     adapter: test_login_form_logs_in_and_the_session_persists_on_later_requests
     adapter: test_user_is_deserialized_once_per_request
     adapter: test_deserializer_with_pass_request_receives_the_request
113  test_falsy_ids_are_restored_113
114  adapter: test_deleted_user_becomes_anonymous_and_leaves_the_session
     bad_input: test_session_naming_an_unknown_user_is_anonymous_and_forgotten
115  test_deserializer_error_is_a_server_error_and_keeps_the_session_23_115

strategies.md section 1, LocalStrategy (engine level: test_local_strategy.py)
L1   test_local_strategy_module_export_registers_as_local_L1_L2
L2   test_local_strategy_module_export_registers_as_local_L1_L2
L3   test_local_strategy_without_a_verify_callable_cannot_be_wired_L3
L4   test_valid_form_credentials_log_in_with_info_L4
     adapter: test_login_form_logs_in_and_the_session_persists_on_later_requests
     adapter: test_login_json_body_logs_in
     bad_input: test_multipart_form_login_works
L5   test_credentials_in_the_query_log_in_with_allow_query_L5
     test_body_wins_over_the_query_with_allow_query_L5
     bad_input: test_credentials_in_the_query_string_are_ignored
L6   bad_input: test_no_body_at_all_is_400
L7   test_empty_body_is_400_missing_credentials_L7
     bad_input: test_missing_or_empty_form_fields_are_400_without_verify
     bad_input: test_null_json_value_is_missing_400
L8   adapter: test_failure_flash_for_missing_credentials_says_so
     bad_input: test_missing_or_empty_form_fields_are_400_without_verify
L9   bad_input: test_missing_or_empty_form_fields_are_400_without_verify
L10  test_custom_field_names_L10
L11  test_bracket_field_names_in_a_form_L11
     test_bracket_field_names_walk_json_objects_L11
L12  test_bad_request_message_from_the_route_options_L12
     test_bad_request_message_from_the_constructor_L12
L13  test_pass_request_gives_verify_the_starlette_request_L13
L14  test_verify_rejecting_is_401_without_challenge_L14
L15  test_verify_rejected_with_message_and_info_L15
     adapter: test_wrong_password_is_401_without_challenge_and_nobody_logged_in
     adapter: test_failure_redirect_and_failure_flash_are_shown_once
     adapter: test_custom_callback_gets_failures_as_lists
L16  test_verify_error_is_a_server_error_and_reaches_the_callback_L16
L17  test_async_verify_raising_is_a_server_error_L17
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from engine_helpers import USER, Fixed, U, Verify
from session_entries import NO_CLIENT, STARLETTE, session_identity
from starlette.applications import Starlette
from starlette.authentication import UnauthenticatedUser
from starlette.middleware import Middleware
from starlette.middleware.sessions import Session as CookieSession
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette_app import SECRET, session_data

import passport_py
import passport_py.strategies.local as local_module
from passport_py import (
    AuthenticationError,
    Authenticator,
    AuthResult,
    ConfigurationError,
    Fail,
    Pass,
    PassToNext,
    Redirect,
    Rejected,
    SerializationError,
    SessionRequiredError,
    Strategy,
    Success,
    UnknownStrategyError,
    Verified,
)
from passport_py.adapters import starlette as adapter
from passport_py.adapters.starlette import (
    PassportCredentials,
    StarletteAuthRequest,
    authenticate,
    authorize,
    is_authenticated,
    login,
    logout,
    pop_flashes,
)
from passport_py.request import AuthRequest
from passport_py.strategies.local import LocalStrategy

BOB = {"id": "2", "username": "bob"}
#: Users the default deserializer knows, by id.
USERS: dict[str, dict[str, str]] = {"1": U, "2": BOB}

Callback = Callable[[Request, AuthResult[Any]], Awaitable[Response]]


class Named(Fixed):
    """S(x) with its own name, for the registry behaviours."""

    name = "default"


# -- the app ----------------------------------------------------------------------------------


def make_passport(*, chains: bool = True, **strategies: Strategy) -> Authenticator[Any]:
    """An Authenticator with `strategies` and, unless `chains=False`, id (de)serializers."""
    passport: Authenticator[Any] = Authenticator()
    for name, strategy in strategies.items():
        passport.use(strategy, name)
    if chains:
        passport.serialize_user(lambda user: user["id"])
        passport.deserialize_user(lambda user_id: USERS.get(user_id))
    return passport


def identity(request: Request) -> dict[str, Any]:
    """Who the request is: `request.user`, `request.auth` and the `authorize` properties."""
    user = request.user
    auth = request.auth
    return {
        "user": None if isinstance(user, UnauthenticatedUser) else user,
        "authenticated": is_authenticated(request),
        "info": auth.info if isinstance(auth, PassportCredentials) else None,
        "scopes": sorted(auth.scopes),
        "account": getattr(request.state, "account", None),
        "account_info": getattr(request.state, "auth_info", "unset"),
    }


def identity_response(request: Request) -> Response:
    return JSONResponse(identity(request))


async def show(request: Request) -> Response:
    return identity_response(request)


async def seed(request: Request) -> Response:
    """Put the posted JSON object into the session (a cart, a return-to URL, a stored user)."""
    request.session.update(await request.json())
    return JSONResponse({"ok": True})


async def flashes(request: Request) -> Response:
    """The next page: shows (and consumes) the pending flash messages."""
    return JSONResponse({"flashes": [list(f) for f in pop_flashes(request)]})


async def do_logout(request: Request) -> Response:
    await logout(request)
    return identity_response(request)


async def do_logout_keep(request: Request) -> Response:
    await logout(request, keep_session_info=True)
    return identity_response(request)


COMMON: list[BaseRoute] = [
    Route("/", show),
    Route("/seed", seed, methods=["POST"]),
    Route("/flashes", flashes),
    Route("/logout", do_logout, methods=["POST"]),
    Route("/logout/keep", do_logout_keep, methods=["POST"]),
]


def auth_route(
    path: str, strategies: Any, *, callback: Callback | None = None, **options: Any
) -> Route:
    """`path` behind `@authenticate(strategies, **options)`; the endpoint shows the identity."""
    endpoint = authenticate(strategies, callback=callback, **options)(show)
    return Route(path, endpoint, methods=["GET", "POST"])


def authz_route(path: str, strategies: Any, **options: Any) -> Route:
    """`path` behind `@authorize(strategies, **options)`."""
    return Route(path, authorize(strategies, **options)(show), methods=["GET", "POST"])


@dataclass
class App:
    """A real Starlette app (SessionMiddleware + PassportMiddleware) and its TestClient."""

    app: Starlette
    client: TestClient
    passport: Authenticator[Any]

    def quiet(self) -> TestClient:
        """A client with the same cookies that gets a 500 instead of the server's exception."""
        return TestClient(
            self.app,
            raise_server_exceptions=False,
            follow_redirects=False,
            cookies=self.client.cookies,
        )

    def session(self) -> dict[str, Any]:
        return session_data(self.client)

    def seed(self, **data: Any) -> None:
        assert self.client.post("/seed", json=data).status_code == 200

    def refused(self, match: str) -> ConfigurationError:
        """The app does not start (its lifespan fails with the error) and, run without
        lifespan, raises it at its first request (a bare 500 to a quiet client): no route,
        correct or not, is served."""
        with pytest.raises(ConfigurationError, match=match) as caught, self.client:
            pass  # pragma: no cover - the startup raises
        with pytest.raises(ConfigurationError, match=match):
            self.client.get("/")
        response = self.quiet().get("/")
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        assert "set-cookie" not in response.headers
        return caught.value

    def who(self) -> dict[str, Any]:
        response = self.client.get("/")
        assert response.status_code == 200
        data: dict[str, Any] = response.json()
        return data

    def flashes(self) -> list[list[str]]:
        data: list[list[str]] = self.client.get("/flashes").json()["flashes"]
        return data


def serve(
    passport: Authenticator[Any],
    *routes: BaseRoute,
    sessions: bool = True,
    middleware: Sequence[Middleware] = (),
    handlers: dict[Any, Any] | None = None,
) -> App:
    stack = [Middleware(SessionMiddleware, secret_key=SECRET)] if sessions else []
    stack.extend(middleware)
    stack.append(Middleware(adapter.PassportMiddleware, passport=passport, login_url="/login"))
    app = Starlette(routes=[*routes, *COMMON], middleware=stack, exception_handlers=handlers)
    return App(app, TestClient(app, follow_redirects=False), passport)


def assert_nobody_logged_in(app: App) -> None:
    """No user in the client's session cookie, and its next request is anonymous."""
    stored = app.session().get("passport")
    assert not isinstance(stored, dict) or "user" not in stored
    assert app.who()["authenticated"] is False


def assert_server_error(
    app: App,
    error: type[BaseException],
    match: str,
    path: str = "/login",
    method: str = "POST",
    **kwargs: Any,
) -> BaseException:
    """The app raises `error` to the TestClient; a quiet client gets a bare 500, no cookie."""
    cookies_before = dict(app.client.cookies)
    with pytest.raises(error, match=match) as caught:
        app.client.request(method, path, **kwargs)
    assert dict(app.client.cookies) == cookies_before
    response = app.quiet().request(method, path, **kwargs)
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert "set-cookie" not in response.headers
    return caught.value


def assert_failure(response: Any, status: int, body: str, challenges: list[str]) -> None:
    """A failure answered by the engine (the endpoint never ran)."""
    assert response.status_code == status
    assert response.text == body
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers.get_list("www-authenticate") == challenges


def recording_callback(results: list[AuthResult[Any]]) -> Callback:
    """A custom callback that records the result and answers with it and the identity."""

    async def decide(request: Request, result: AuthResult[Any]) -> Response:
        results.append(result)
        return JSONResponse(
            {
                "ok": result.ok,
                "user": result.user,
                "info": result.info,
                "challenges": list(result.challenges),
                "statuses": list(result.statuses),
                "error": repr(result.error) if result.error else None,
                "request": identity(request),
            },
            200,
        )

    return decide


class RecordingSession(CookieSession):
    """Starlette's cookie session with a `regenerate()` that records (and can fail)."""

    def __init__(self, data: dict[str, Any], log: list[dict[str, Any]], fail: bool) -> None:
        super().__init__(data)
        self.log = log
        self.fail = fail

    def regenerate(self) -> None:
        self.log.append({k: dict(v) if isinstance(v, dict) else v for k, v in self.items()})
        if self.fail:
            raise OSError("store unavailable")
        self.clear()


@dataclass
class SessionSwap:
    """Middleware (between the session and passport middleware) installing RecordingSession."""

    app: ASGIApp
    log: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "session" in scope:
            scope["session"] = RecordingSession(scope["session"], self.log, self.fail)
        await self.app(scope, receive, send)


def recorded(log: list[dict[str, Any]], *, fail: bool = False) -> Middleware:
    return Middleware(SessionSwap, log=log, fail=fail)


# == 2.1 registry and exports ==================================================================


def test_strategy_registered_under_its_name_serves_the_route_1() -> None:
    strategy = Named(Success(U))
    passport = make_passport()
    passport.use(strategy)
    app = serve(passport, auth_route("/login", "default"))
    response = app.client.post("/login")
    assert response.status_code == 200
    assert response.json()["user"] == U
    assert len(strategy.calls) == 1
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_later_use_under_the_same_name_serves_the_route_1() -> None:
    first, second = Named(Success(U)), Named(Fail("replaced"))
    passport = make_passport()
    passport.use(first).use(second)
    app = serve(passport, auth_route("/login", "default"))
    assert_failure(app.client.post("/login"), 401, "Unauthorized", ["replaced"])
    assert first.calls == []
    assert len(second.calls) == 1


def test_nameless_strategy_used_under_an_explicit_name_2() -> None:
    passport = make_passport()
    passport.use(Fixed(Success(U)), "foo")
    app = serve(passport, auth_route("/login", "foo"))
    assert app.client.post("/login").json()["user"] == U


def test_explicit_name_overrides_the_strategy_name_3() -> None:
    passport = make_passport()
    passport.use(Named(Success(U)), name="bar")
    assert serve(passport, auth_route("/bar", "bar")).client.post("/bar").json()["user"] == U
    app = serve(passport, auth_route("/bar", "bar"), auth_route("/default", "default"))
    app.refused(r"authenticate\('default'\) on .*show: .* \(registered: 'bar'\)")


def test_strategy_without_any_name_is_refused_and_never_served_4() -> None:
    passport = make_passport()
    with pytest.raises(ConfigurationError, match="Authentication strategies must have a name"):
        passport.use(Fixed(Success(U)))
    with pytest.raises(ConfigurationError, match=r"subclass passport_py\.Strategy"):
        passport.use(lambda request, options: U, "fn")  # type: ignore[arg-type]
    serve(passport, auth_route("/login", "fn")).refused("'fn' .registered: none")


def test_unused_strategy_is_no_longer_served_5() -> None:
    one, two = Fixed(Success(U)), Fixed(Success(BOB))
    passport = make_passport(one=one, two=two)
    assert passport.unuse("one") is passport
    serve(passport, auth_route("/one", "one"), auth_route("/two", "two")).refused(
        "'one' .registered: 'two'"
    )
    assert one.calls == []
    assert serve(passport, auth_route("/two", "two")).client.post("/two").json()["user"] == BOB


def test_strategy_unused_after_startup_is_a_server_error_5() -> None:
    one = Fixed(Success(U))
    passport = make_passport(one=one)
    app = serve(passport, auth_route("/one", "one"))
    with app.client:
        passport.unuse("one")
        assert_server_error(app, UnknownStrategyError, "'one' .registered: none", "/one")
    assert one.calls == []
    assert_nobody_logged_in(app)


def test_no_session_strategy_the_middleware_restores_the_user_6() -> None:
    """Differs from Passport: no 'session' strategy; PassportMiddleware restores the user."""
    passport = make_passport(s=Fixed(Success(U)))
    app = serve(passport, auth_route("/login", "s"))
    app.client.post("/login")
    assert app.who()["user"] == U
    assert passport.strategies.keys() == {"s"}
    serve(passport, auth_route("/session", "session")).refused("'session'")


def test_unknown_strategy_stops_the_app_before_it_serves_7() -> None:
    """Differs from Passport (an error at request time): the app never starts."""
    passport = make_passport(local=Fixed(Success(U)), bearer=Fixed(Fail()))
    error = serve(passport, auth_route("/login", "foo")).refused("'foo'")
    assert "'foo' (registered: 'bearer', 'local')" in str(error)


def test_unknown_strategy_in_a_chain_raises_only_when_reached_7() -> None:
    """The name is known at startup and unused before the requests (see 5)."""
    results: list[AuthResult[Any]] = []
    passport = make_passport(ok=Fixed(Success(U)), nope=Fixed(Fail()), missing=Fixed(Fail()))
    app = serve(
        passport,
        auth_route("/ok-first", ["ok", "missing"]),
        auth_route("/nope-first", ["nope", "missing"]),
        auth_route("/callback", "missing", callback=recording_callback(results)),
    )
    with app.client:
        passport.unuse("missing")
    assert_server_error(app, UnknownStrategyError, "'missing'", "/nope-first")
    assert_server_error(app, UnknownStrategyError, "'missing'", "/callback")
    assert results == []
    assert_nobody_logged_in(app)
    assert app.client.post("/ok-first").json()["user"] == U


def test_each_app_has_its_own_authenticator_and_the_adapter_exports_its_names_8() -> None:
    """Differs from Passport: no module-level singleton; each app passes its Authenticator."""
    for module in (passport_py, adapter):
        assert not any(isinstance(v, Authenticator) for v in vars(module).values())
    for name in adapter.__all__:
        assert hasattr(adapter, name), name
    first = serve(make_passport(a=Fixed(Success(U))), auth_route("/login", "a"))
    second = serve(make_passport(b=Fixed(Success(BOB))), auth_route("/login", "a"))
    assert first.client.post("/login").json()["user"] == U
    second.refused("'a' .registered: 'b'")


# == 2.2 serialize_user chain, through a login =================================================


def login_app(passport: Authenticator[Any], **options: Any) -> App:
    """`POST /login` behind `@authenticate("s", **options)`; registers the id deserializer
    when none is (these tests are about serializing, and the app starts only with both)."""
    if not passport.has_deserializer:
        passport.deserialize_user(lambda user_id: USERS.get(user_id))
    return serve(passport, auth_route("/login", "s", **options))


def test_login_without_serializers_stops_the_app_before_it_serves_9() -> None:
    """Differs from Passport (an error at the first login): the app never starts."""
    app = serve(make_passport(chains=False, s=Fixed(Success(U))), auth_route("/login", "s"))
    app.refused("no @passport.serialize_user and @passport.deserialize_user function")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_serializer_id_is_stored_in_the_session_10(kind: str) -> None:
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.deserialize_user(lambda user_id: USERS.get(user_id))

    async def async_id(user: dict[str, str]) -> str:
        await asyncio.sleep(0)
        return user["id"]

    passport.serialize_user(async_id if kind == "async" else (lambda user: user["id"]))
    app = login_app(passport)
    assert app.client.post("/login").status_code == 200
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}
    assert app.who()["user"] == U


def test_serializer_yielding_zero_logs_in_11() -> None:
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(lambda user: 0)
    passport.deserialize_user(lambda user_id: U if user_id == 0 else None)
    app = login_app(passport)
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": 0}}
    assert app.who()["user"] == U


def test_serializer_yielding_empty_string_logs_in_12() -> None:
    """Differs from Passport (which errors on ''): an empty string is a valid id."""
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(lambda user: "")
    passport.deserialize_user(lambda user_id: U if user_id == "" else None)
    app = login_app(passport)
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": ""}}
    assert app.who()["user"] == U


@pytest.mark.parametrize("value", [None, False])
def test_serializer_yielding_none_or_false_is_a_server_error_12(value: Any) -> None:
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(lambda user: value)
    app = login_app(passport)
    assert_server_error(app, SerializationError, "Failed to serialize user into session")
    assert_nobody_logged_in(app)


def test_serializer_error_reaches_the_client_unchanged_13_14() -> None:
    boom = RuntimeError("something went wrong")
    passport = make_passport(chains=False, s=Fixed(Success(U)))

    @passport.serialize_user
    def fails(user: Any) -> Any:
        raise boom

    app = login_app(passport)
    assert assert_server_error(app, RuntimeError, "something went wrong") is boom
    assert_nobody_logged_in(app)


def defer(value: Any) -> Any:
    raise PassToNext


def test_serializer_chain_first_result_after_pass_wins_15() -> None:
    seen: list[str] = []
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(lambda user: seen.append("one") or defer(user))
    passport.serialize_user(lambda user: seen.append("two") or "two")
    passport.serialize_user(lambda user: seen.append("three") or "three")
    app = login_app(passport)
    assert app.client.post("/login").status_code == 200
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "two"}}
    assert seen == ["one", "two"]


def test_serializer_returning_none_defers_to_the_next_16() -> None:
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(defer)
    passport.serialize_user(lambda user: None)
    passport.serialize_user(lambda user: "three")
    app = login_app(passport)
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "three"}}


def test_serializer_with_pass_request_receives_the_starlette_request_17() -> None:
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    seen: list[Any] = []

    @passport.serialize_user(pass_request=True)
    def to_id(request: AuthRequest, user: dict[str, str]) -> str:
        seen.append(request)
        return f"{request.headers.get('x-tenant')}:{user['id']}"

    app = login_app(passport)
    app.client.post("/login", headers={"x-tenant": "acme"})
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "acme:1"}}
    [request] = seen
    assert isinstance(request, StarletteAuthRequest)
    assert (request.path, request.method) == ("/login", "POST")


def test_serializer_chain_where_every_layer_passes_is_a_server_error_18() -> None:
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(defer)
    passport.serialize_user(defer)
    app = login_app(passport)
    assert_server_error(app, SerializationError, "Failed to serialize user into session")
    assert_nobody_logged_in(app)


# == 2.3 deserialize_user chain, through PassportMiddleware's restore ==========================


def restoring_app(*deserializers: Callable[[Any], Any], stored: Any = "1") -> App:
    """An app whose client's session holds user `stored` and a cart."""
    passport: Authenticator[Any] = Authenticator()
    for fn in deserializers:
        passport.deserialize_user(fn)
    app = serve(passport)
    app.seed(passport={"user": stored, "extra": "e"}, cart=["1"])
    return app


def test_restore_without_deserializers_is_a_server_error_19() -> None:
    app = restoring_app()
    assert_server_error(
        app, SerializationError, "Failed to deserialize user out of session", "/", "GET"
    )
    assert app.session() == {"passport": {"user": "1", "extra": "e"}, "cart": ["1"]}


@pytest.mark.parametrize("gone", [None, False])
def test_deserializer_none_or_false_logs_the_session_out_quietly_21(gone: Any) -> None:
    app = restoring_app(lambda user_id: gone)
    assert app.who()["authenticated"] is False
    assert app.session() == {"passport": {"extra": "e"}, "cart": ["1"]}


def test_deserializer_returning_none_does_not_defer_22() -> None:
    """Differs from Passport (undefined defers, then "Failed to deserialize"): None means the
    user is gone; deferring takes `raise PassToNext`."""
    later: list[Any] = []
    app = restoring_app(lambda user_id: None, lambda user_id: later.append(user_id) or U)
    assert app.who()["authenticated"] is False
    assert later == []


def test_deserializer_error_is_a_server_error_and_keeps_the_session_23_115() -> None:
    def broken(user_id: Any) -> Any:
        raise ConnectionError("db down")

    app = restoring_app(broken)
    assert_server_error(app, ConnectionError, "db down", "/", "GET")
    assert app.session() == {"passport": {"user": "1", "extra": "e"}, "cart": ["1"]}


def test_deserializer_chain_first_result_after_pass_wins_24() -> None:
    app = restoring_app(defer, lambda user_id: {"id": "two"}, lambda user_id: {"id": "three"})
    assert app.who()["user"] == {"id": "two"}


def test_deserializer_chain_skips_every_passing_layer_24() -> None:
    app = restoring_app(defer, defer, lambda user_id: {"id": "three"})
    assert app.who()["user"] == {"id": "three"}


def test_deserializer_chain_where_every_layer_passes_is_a_server_error_24() -> None:
    app = restoring_app(defer)
    assert_server_error(
        app, SerializationError, "Failed to deserialize user out of session", "/", "GET"
    )


def test_deserializer_false_short_circuits_the_chain_25() -> None:
    seen: list[str] = []
    app = restoring_app(
        defer,
        lambda user_id: seen.append("gone") or False,
        lambda user_id: seen.append("three") or U,
    )
    assert app.who()["authenticated"] is False
    assert seen == ["gone"]
    assert app.session() == {"passport": {"extra": "e"}, "cart": ["1"]}


# == 2.4 transform_auth_info chain, through a login's request.auth.info ========================

INFO = {"clientId": "1", "scope": "write"}


def info_app(*transforms: Callable[..., Any], pass_request: bool = False) -> App:
    passport = make_passport(s=Fixed(Success(U, INFO)))
    for fn in transforms:
        passport.transform_auth_info(fn, pass_request=pass_request)
    return login_app(passport)


def test_async_transform_replaces_request_auth_info_28() -> None:
    async def with_client(info: dict[str, str]) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"clientId": info["clientId"], "client": {"name": "Foo"}}

    response = info_app(with_client).client.post("/login")
    assert response.json()["info"] == {"clientId": "1", "client": {"name": "Foo"}}
    assert response.json()["scopes"] == ["authenticated"]


def test_sync_transform_replaces_request_auth_info_29() -> None:
    response = info_app(lambda info: {**info, "extra": True}).client.post("/login")
    assert response.json()["info"] == {"clientId": "1", "scope": "write", "extra": True}


def test_sync_transform_returning_none_keeps_the_original_info_29() -> None:
    response = info_app(lambda info: None).client.post("/login")
    assert response.json()["info"] == INFO
    assert response.json()["scopes"] == ["authenticated", "write"]


def test_transform_error_after_login_is_a_server_error_30_35() -> None:
    """The login already happened (35) but the failing request's cookie is never sent, so the
    client is not logged in; an app that handles the error does send it (Passport's req.user)."""

    def broken(info: Any) -> Any:
        raise LookupError("no such client")

    app = info_app(broken)
    assert_server_error(app, LookupError, "no such client")
    assert_nobody_logged_in(app)

    async def handle(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("client lookup failed", 503)

    handled = serve(app.passport, auth_route("/login", "s"), handlers={LookupError: handle})
    response = handled.client.post("/login")
    assert (response.status_code, response.text) == (503, "client lookup failed")
    assert session_identity(handled.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_transform_chain_first_result_after_pass_wins_31() -> None:
    response = info_app(defer, lambda info: "Two", lambda info: "Three").client.post("/login")
    assert response.json()["info"] == "Two"


def test_transform_with_pass_request_receives_the_starlette_request_31() -> None:
    def with_client(request: AuthRequest, info: dict[str, str]) -> dict[str, Any]:
        assert isinstance(request, StarletteAuthRequest)
        return {**info, "client": request.headers.get("X-Client")}

    app = info_app(with_client, pass_request=True)
    response = app.client.post("/login", headers={"x-client": "Foo"})
    assert response.json()["info"] == {**INFO, "client": "Foo"}


# == 2.5 authenticate: success =================================================================


def test_success_logs_in_and_reaches_the_endpoint_with_empty_info_32() -> None:
    app = login_app(make_passport(s=Fixed(Success(U))))
    app.seed(cart=["1"])
    before = app.client.cookies["session"]
    response = app.client.post("/login")
    assert response.status_code == 200
    assert response.json() == {
        "user": U,
        "authenticated": True,
        "info": {},
        "scopes": ["authenticated"],
        "account": None,
        "account_info": "unset",
    }
    assert app.client.cookies["session"] != before
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}
    assert app.who()["user"] == U


def test_strategy_instance_passed_directly_logs_in_33() -> None:
    passport = make_passport()
    app = serve(passport, auth_route("/login", Fixed(Success(U))))
    response = app.client.post("/login")
    assert (response.json()["user"], response.json()["info"]) == (U, {})
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}
    assert passport.strategies == {}


def test_success_info_becomes_request_auth_info_34() -> None:
    info = {"clientId": "123", "scope": "read"}
    app = login_app(make_passport(s=Fixed(Success(U, info))))
    response = app.client.post("/login")
    assert response.json()["info"] == info
    assert response.json()["scopes"] == ["authenticated", "read"]


def test_success_info_goes_through_the_transform_34() -> None:
    passport = make_passport(s=Fixed(Success(U, {"clientId": "123", "scope": "read"})))
    passport.transform_auth_info(lambda info: {"client": {"id": info["clientId"]}})
    response = login_app(passport).client.post("/login")
    assert response.json()["info"] == {"client": {"id": "123"}}
    assert response.json()["scopes"] == ["authenticated"]


def test_auth_info_false_skips_the_transform_and_still_logs_in_36() -> None:
    calls: list[Any] = []
    passport = make_passport(s=Fixed(Success(U, {"scope": "read"})))
    passport.transform_auth_info(lambda info: calls.append(info) or info)
    app = login_app(passport, auth_info=False)
    response = app.client.post("/login")
    assert (response.json()["user"], response.json()["info"]) == (U, None)
    assert response.json()["scopes"] == ["authenticated"]
    assert calls == []
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_return_to_with_keep_session_info_keeps_the_other_keys_40() -> None:
    app = login_app(
        make_passport(s=Fixed(Success(U))),
        success_return_to_or_redirect="/default",
        keep_session_info=True,
    )
    app.seed(return_to="/back", cart=["1"])
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/back")
    assert session_identity(app.session(), STARLETTE) == {"cart": ["1"], "passport": {"user": "1"}}


def test_success_redirect_ignores_return_to_and_next_41() -> None:
    app = login_app(make_passport(s=Fixed(Success(U))), success_redirect="/home")
    app.seed(return_to="/saved")
    response = app.client.post("/login?next=/wanted")
    assert (response.status_code, response.headers["location"]) == (302, "/home")


def test_return_to_option_wins_over_success_redirect_41() -> None:
    app = login_app(
        make_passport(s=Fixed(Success(U))),
        success_return_to_or_redirect="/default",
        success_redirect="/home",
    )
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/default")


def test_serializer_error_leaves_the_session_cookie_untouched_42_98() -> None:
    """Differs from Passport (which regenerates first): the user is serialized before the
    session is regenerated, so a serializer error leaves the session as it was."""
    transforms: list[Any] = []
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(lambda user: None)
    passport.deserialize_user(lambda user_id: USERS.get(user_id))
    passport.transform_auth_info(lambda info: transforms.append(info) or info)
    log: list[dict[str, Any]] = []
    app = serve(passport, auth_route("/login", "s"), middleware=[recorded(log)])
    app.seed(cart=["1"])
    assert_server_error(app, SerializationError, "Failed to serialize user into session")
    assert app.session() == {"cart": ["1"]}
    assert (log, transforms) == ([], [])


def test_session_false_with_success_redirect_needs_no_session_middleware_43() -> None:
    passport = make_passport(s=Fixed(Success(U)))
    app = serve(
        passport, auth_route("/login", "s", session=False, success_redirect="/home"), sessions=False
    )
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/home")
    assert "set-cookie" not in response.headers


def test_strategy_options_reach_the_strategy_unchanged_on_every_request_45() -> None:
    strategy = Fixed(Success(U))
    app = login_app(make_passport(s=strategy), scope="email", session=False)
    app.client.post("/login")
    app.client.post("/login")
    [(first, options), (second, again)] = strategy.calls
    assert isinstance(first, StarletteAuthRequest) and first is not second
    assert options.get("scope") == "email"
    assert options.extra == {"scope": "email"}
    assert (options.session, options.assign_property) == (False, None)
    assert again is options


# == 2.6 authenticate: failure with a single strategy ==========================================


def failing_app(outcome: Fail, **options: Any) -> App:
    return login_app(make_passport(s=Fixed(outcome)), **options)


def test_fail_without_challenge_is_401_unauthorized_46() -> None:
    app = failing_app(Fail())
    app.seed(cart=["1"])
    assert_failure(app.client.post("/login"), 401, "Unauthorized", [])
    assert app.session() == {"cart": ["1"]}
    assert_nobody_logged_in(app)


def test_fail_with_string_challenge_sets_www_authenticate_47() -> None:
    app = failing_app(Strategy.fail("MOCK challenge"))
    assert_failure(app.client.post("/login"), 401, "Unauthorized", ["MOCK challenge"])


def test_fail_with_challenge_and_403_has_no_www_authenticate_48() -> None:
    app = failing_app(Strategy.fail("MOCK challenge", 403))
    assert_failure(app.client.post("/login"), 403, "Forbidden", [])


@pytest.mark.parametrize(
    ("status", "body"), [(400, "Bad Request"), (402, "Payment Required"), (498, "")]
)
def test_fail_with_a_number_alone_is_the_status_49(status: int, body: str) -> None:
    app = failing_app(Strategy.fail(status))
    assert_failure(app.client.post("/login"), status, body, [])
    assert_nobody_logged_in(app)


def test_failure_redirect_wins_over_fail_with_error_57() -> None:
    app = failing_app(Fail(), fail_with_error=True, failure_redirect="/login-page")
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/login-page")
    assert response.text == ""


async def render_authentication_error(request: Request, exc: Exception) -> Response:
    """The app's handler for `fail_with_error=True`."""
    assert isinstance(exc, AuthenticationError)
    response = JSONResponse({"message": exc.message, "status": exc.status}, exc.status)
    for name, value in exc.headers:
        response.headers.append(name, value)
    return response


@pytest.mark.parametrize(
    ("outcome", "status", "message"),
    [
        (Fail(), 401, "Unauthorized"),
        (Fail({"message": "Invalid credentials"}), 401, "Unauthorized"),
        (Fail({"message": "Missing"}, 400), 400, "Bad Request"),
        (Fail("Bearer challenge", 403), 403, "Forbidden"),
        (Strategy.fail(402), 402, "Payment Required"),
    ],
    ids=["52-plain", "53-object", "54-400", "56-challenge-403", "56-402"],
)
def test_fail_with_error_hands_the_app_an_authentication_error_52_53_54_56(
    outcome: Fail, status: int, message: str
) -> None:
    passport = make_passport(s=Fixed(outcome))
    route = auth_route("/login", "s", fail_with_error=True)
    handled = serve(passport, route, handlers={AuthenticationError: render_authentication_error})
    response = handled.client.post("/login")
    assert response.status_code == status
    assert response.json() == {"message": message, "status": status}
    assert response.headers.get_list("www-authenticate") == []
    assert_nobody_logged_in(handled)
    unhandled = serve(passport, route)
    error = assert_server_error(unhandled, AuthenticationError, message)
    assert isinstance(error, AuthenticationError)
    assert (error.status, error.headers) == (status, [])


# == 2.7 multiple strategies ===================================================================


def test_first_success_in_a_chain_wins_58() -> None:
    second = Fixed(Success(BOB))
    app = serve(make_passport(a=Fixed(Success(U)), b=second), auth_route("/login", ["a", "b"]))
    assert app.client.post("/login").json()["user"] == U
    assert second.calls == []
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_all_fail_sends_every_string_challenge_in_order_60() -> None:
    chain = [Fixed(Fail("BASIC challenge")), Fixed(Fail()), Fixed(Fail("DIGEST challenge"))]
    passport = make_passport(**dict(zip(["basic", "none", "digest"], chain, strict=True)))
    app = serve(passport, auth_route("/api", ["basic", "none", "digest"]))
    response = app.client.get("/api")
    assert_failure(response, 401, "Unauthorized", ["BASIC challenge", "DIGEST challenge"])
    assert [len(strategy.calls) for strategy in chain] == [1, 1, 1]


def test_empty_chain_is_401_60() -> None:
    app = serve(make_passport(), auth_route("/api", []))
    assert_failure(app.client.get("/api"), 401, "Unauthorized", [])


def test_all_fail_uses_the_first_status_and_no_challenge_61() -> None:
    passport = make_passport(
        basic=Fixed(Fail("BASIC", 400)), none=Fixed(Fail(None, 402)), bearer=Fixed(Fail("B", 403))
    )
    app = serve(passport, auth_route("/api", ["basic", "none", "bearer"]))
    assert_failure(app.client.get("/api"), 400, "Bad Request", [])


def test_all_fail_status_is_the_first_explicit_one_62() -> None:
    passport = make_passport(a=Fixed(Fail('Basic realm="x"')), b=Fixed(Fail("Bearer", 403)))
    app = serve(passport, auth_route("/api", ["a", "b"]))
    assert_failure(app.client.get("/api"), 403, "Forbidden", [])


def test_all_fail_flashes_the_first_failure_then_redirects_63() -> None:
    passport = make_passport(a=Fixed(Fail("A message")), b=Fixed(Fail("B message")))
    route = auth_route("/login", ["a", "b"], failure_flash=True, failure_redirect="/login-page")
    app = serve(passport, route)
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/login-page")
    assert app.flashes() == [["error", "A message"]]


def test_failures_then_a_redirect_redirects_64() -> None:
    passport = make_passport(
        a=Fixed(Fail("A")), b=Fixed(Fail(None, 403)), idp=Fixed(Redirect("https://idp/", 303))
    )
    app = serve(passport, auth_route("/login", ["a", "b", "idp"], failure_redirect="/x"))
    response = app.client.get("/login")
    assert (response.status_code, response.headers["location"]) == (303, "https://idp/")
    assert response.headers.get_list("www-authenticate") == []


def test_failures_then_pass_reach_the_endpoint_anonymous_65() -> None:
    app = serve(
        make_passport(a=Fixed(Fail("A")), anon=Fixed(Pass())),
        auth_route("/page", ["a", "anon"], failure_flash="Nope"),
    )
    response = app.client.get("/page")
    assert response.status_code == 200
    assert (response.json()["user"], response.json()["authenticated"]) == (None, False)
    assert app.flashes() == []


def test_failures_then_an_error_is_a_server_error_65() -> None:
    passport = make_passport(a=Fixed(Fail("A")), broken=Fixed(OSError("db down")))
    app = serve(passport, auth_route("/login", ["a", "broken"]))
    assert_server_error(app, OSError, "db down")
    assert_nobody_logged_in(app)


def test_session_in_a_chain_is_an_unknown_strategy_66() -> None:
    """Differs from Passport (where 'session' passes and stops the chain): naming it fails
    loudly instead of silently skipping the next strategies."""
    basic = Fixed(Fail("Basic"))
    serve(make_passport(basic=basic), auth_route("/api", ["session", "basic"])).refused(
        r"authenticate\('session'\)"
    )
    assert basic.calls == []


def callback_app(
    strategies: Any, results: list[AuthResult[Any]], **passport_strategies: Strategy
) -> App:
    route = auth_route("/login", strategies, callback=recording_callback(results))
    return serve(make_passport(**passport_strategies), route)


def test_callback_with_a_failing_chain_gets_lists_67() -> None:
    results: list[AuthResult[Any]] = []
    app = callback_app(
        ["basic", "none", "digest"],
        results,
        basic=Fixed(Fail("BASIC challenge")),
        none=Fixed(Fail()),
        digest=Fixed(Fail("DIGEST challenge")),
    )
    response = app.client.post("/login")
    assert response.status_code == 200
    assert response.json()["challenges"] == ["BASIC challenge", None, "DIGEST challenge"]
    assert response.json()["statuses"] == [None, None, None]
    assert response.headers.get_list("www-authenticate") == []
    assert_nobody_logged_in(app)


def test_callback_with_a_failing_chain_gets_every_status_67() -> None:
    results: list[AuthResult[Any]] = []
    app = callback_app(
        ["basic", "none", "digest"],
        results,
        basic=Fixed(Fail("BASIC challenge", 400)),
        none=Fixed(Fail(None, 402)),
        digest=Fixed(Fail("DIGEST challenge", 403)),
    )
    assert app.client.post("/login").json()["statuses"] == [400, 402, 403]
    [result] = results
    assert (result.status, result.challenge) == (400, "BASIC challenge")


def test_callback_with_a_list_of_one_strategy_gets_lists_68() -> None:
    results: list[AuthResult[Any]] = []
    app = callback_app(["basic"], results, basic=Fixed(Fail("BASIC challenge")))
    response = app.client.post("/login").json()
    assert (response["challenges"], response["statuses"]) == (["BASIC challenge"], [None])


# == 2.8 flash and messages ====================================================================

#: The strategy's challenge (failure) or info (success), in each form the reference tests.
SOURCES: dict[str, Any] = {
    "object": {"message": "Invalid password"},
    "object+type": {"message": "Invalid password", "type": "notice"},
    "string": "Invalid password",
    "absent": None,
}
#: The route's flash option, in each form (reference 1.12).
FLASH_OPTIONS: dict[str, Any] = {
    "true": True,
    "{type}": {"type": "info"},
    "string": "Wrong!",
    "{message}": {"message": "Try again"},
    "{type,message}": {"type": "warn", "message": "Try again"},
}
COMBINATIONS = [(s, o) for s in SOURCES for o in FLASH_OPTIONS]


def expected_flashes(source: str, option: str, default: str) -> list[list[str]]:
    """Passport's precedence table (reference 1.12), as `pop_flashes` shows it."""
    has_message = source != "absent"
    own_type = "notice" if source == "object+type" else default
    table = {
        "true": [[own_type, "Invalid password"]] if has_message else [],
        "{type}": [["info", "Invalid password"]] if has_message else [],
        "string": [[default, "Wrong!"]],
        "{message}": [[default, "Try again"]],
        "{type,message}": [["warn", "Try again"]],
    }
    return table[option]


@pytest.mark.parametrize(("source", "option"), COMBINATIONS)
def test_failure_flash_shown_on_the_next_page_after_the_redirect_69(
    source: str, option: str
) -> None:
    app = failing_app(
        Fail(SOURCES[source]), failure_flash=FLASH_OPTIONS[option], failure_redirect="/login-page"
    )
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/login-page")
    assert app.flashes() == expected_flashes(source, option, "error")
    assert "flash" not in app.session()
    assert_nobody_logged_in(app)


@pytest.mark.parametrize(("source", "option"), COMBINATIONS)
def test_success_flash_shown_on_the_next_page_after_the_redirect_70(
    source: str, option: str
) -> None:
    app = login_app(
        make_passport(s=Fixed(Success(U, SOURCES[source]))),
        success_flash=FLASH_OPTIONS[option],
        success_redirect="/home",
    )
    response = app.client.post("/login")
    assert (response.status_code, response.headers["location"]) == (302, "/home")
    assert app.flashes() == expected_flashes(source, option, "success")
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_success_flash_with_string_info_70() -> None:
    app = login_app(make_passport(s=Fixed(Success(U, "Greetings"))), success_flash=True)
    response = app.client.post("/login")
    assert (response.status_code, response.json()["info"]) == (200, "Greetings")
    assert app.flashes() == [["success", "Greetings"]]


def test_failure_message_string_is_stored_in_session_messages_71() -> None:
    app = failing_app(Fail({"message": "Invalid password"}), failure_message="Wrong credentials")
    assert app.client.post("/login").status_code == 401
    assert app.session() == {"messages": ["Wrong credentials"]}


def test_failure_message_is_appended_to_existing_messages_71() -> None:
    app = failing_app(Fail(), failure_message="Wrong credentials")
    app.seed(messages=["I exist!"])
    app.client.post("/login")
    assert app.session() == {"messages": ["I exist!", "Wrong credentials"]}


def test_failure_message_true_uses_the_challenge_message_only_72() -> None:
    app = failing_app(Fail({"message": "Invalid password", "scope": "read"}), failure_message=True)
    app.client.post("/login")
    assert app.session() == {"messages": ["Invalid password"]}


def test_failure_message_true_with_a_string_challenge_73() -> None:
    app = failing_app(Fail("Bearer realm=api"), failure_message=True)
    response = app.client.post("/login")
    assert response.headers.get_list("www-authenticate") == ["Bearer realm=api"]
    assert app.session() == {"messages": ["Bearer realm=api"]}


def test_failure_message_true_without_a_message_records_nothing_73() -> None:
    app = failing_app(Fail({"scope": "read"}), failure_message=True)
    response = app.client.post("/login")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert app.session() == {}


def test_success_message_string_is_stored_after_login_74() -> None:
    app = login_app(make_passport(s=Fixed(Success(U))), success_message="Login complete")
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE) == {
        "passport": {"user": "1"},
        "messages": ["Login complete"],
    }


def test_success_message_true_uses_the_info_message_74() -> None:
    info = {"message": "Welcome!", "scope": "read"}
    app = login_app(make_passport(s=Fixed(Success(U, info))), success_message=True)
    app.client.post("/login")
    assert app.session()["messages"] == ["Welcome!"]


def test_success_flash_and_message_survive_the_login_regeneration_75() -> None:
    """Differs from Passport (a success flash or message is lost to the regeneration): they
    are applied after the login, and pending ones are carried through it."""
    app = login_app(
        make_passport(s=Fixed(Success(U, {"message": "Welcome!"}))),
        success_flash="Welcome back",
        success_message=True,
    )
    app.seed(flash=[["info", "Pending"]], messages=["Earlier"], cart=["1"])
    before = app.client.cookies["session"]
    assert app.client.post("/login").status_code == 200
    assert app.client.cookies["session"] != before
    assert session_identity(app.session(), STARLETTE) == {
        "flash": [["info", "Pending"], ["success", "Welcome back"]],
        "messages": ["Earlier", "Welcome!"],
        "passport": {"user": "1"},
    }
    assert app.flashes() == [["info", "Pending"], ["success", "Welcome back"]]


def test_failure_flash_and_message_without_redirect_still_answer_401_76() -> None:
    app = failing_app(
        Fail({"message": "Invalid password"}), failure_flash=True, failure_message=True
    )
    assert_failure(app.client.post("/login"), 401, "Unauthorized", [])
    assert app.session() == {
        "flash": [["error", "Invalid password"]],
        "messages": ["Invalid password"],
    }
    assert app.flashes() == [["error", "Invalid password"]]


def test_no_flash_or_message_without_the_options_76() -> None:
    app = failing_app(Fail({"message": "Invalid password"}))
    response = app.client.post("/login")
    assert "set-cookie" not in response.headers
    assert app.session() == {}


@pytest.mark.parametrize(
    "option",
    [
        "failure_message",
        "failure_flash",
    ],
)
def test_failure_message_or_flash_without_session_middleware_names_it_76(option: str) -> None:
    passport = make_passport(s=Fixed(Fail({"message": "Invalid password"})))
    app = serve(passport, auth_route("/login", "s", **{option: True}), sessions=False)
    error = assert_server_error(app, SessionRequiredError, "add SessionMiddleware")
    assert "session=False" not in str(error)


# == 2.9 redirect, pass and error actions ======================================================


def test_redirect_action_is_a_302_with_an_empty_body_77() -> None:
    app = login_app(make_passport(s=Fixed(Redirect("http://www.example.com/idp"))))
    response = app.client.get("/login")
    assert response.status_code == 302
    assert response.headers["location"] == "http://www.example.com/idp"
    assert response.headers["content-length"] == "0"
    assert response.headers["cache-control"] == "no-store"
    assert response.content == b""
    assert_nobody_logged_in(app)


def test_redirect_action_with_status_303_78() -> None:
    app = login_app(make_passport(s=Fixed(Strategy.redirect("http://www.example.com/idp", 303))))
    response = app.client.get("/login")
    assert (response.status_code, response.headers["location"]) == (
        303,
        "http://www.example.com/idp",
    )


def test_pass_action_reaches_the_endpoint_anonymous_79() -> None:
    app = login_app(make_passport(s=Fixed(Pass())))
    app.seed(cart=["1"])
    response = app.client.get("/login")
    assert response.status_code == 200
    assert response.json()["authenticated"] is False
    assert response.json()["info"] is None
    assert "set-cookie" not in response.headers
    assert app.session() == {"cart": ["1"]}


class AsyncRaiser(Strategy):
    name = "async-raiser"

    async def authenticate(self, request: AuthRequest, options: Any) -> Success[Any]:
        await asyncio.sleep(0)
        raise ValueError("raised asynchronously")


def test_async_strategy_raising_is_a_server_error_81() -> None:
    """Differs from Passport (a synchronous throw escapes the middleware): a raise from a plain
    or async `authenticate` is the error outcome, raised to the app."""
    passport = make_passport()
    passport.use(AsyncRaiser())
    app = serve(passport, auth_route("/login", "async-raiser"))
    assert_server_error(app, ValueError, "raised asynchronously")
    assert_nobody_logged_in(app)


def test_strategy_returning_no_outcome_is_a_server_error_81() -> None:
    app = login_app(make_passport(s=Fixed("yes")))  # type: ignore[arg-type]
    assert_server_error(app, TypeError, r"return self.success\(...\)")


# == 2.10 custom callback ======================================================================


def test_callback_gets_the_success_and_nobody_is_logged_in_82() -> None:
    results: list[AuthResult[Any]] = []
    app = callback_app("s", results, s=Fixed(Success(U, {"message": "Hello"})))
    app.seed(cart=["1"])
    response = app.client.post("/login")
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["user"], body["info"]) == (True, U, {"message": "Hello"})
    assert (body["request"]["user"], body["request"]["authenticated"]) == (None, False)
    assert "set-cookie" not in response.headers
    assert app.session() == {"cart": ["1"]}


def test_callback_gets_none_info_when_the_strategy_gave_none_82() -> None:
    transformed: list[Any] = []
    results: list[AuthResult[Any]] = []
    app = callback_app("s", results, s=Fixed(Success(U)))
    app.passport.transform_auth_info(lambda info: transformed.append(info) or info)
    body = app.client.post("/login").json()
    assert (body["user"], body["info"]) == (U, None)
    assert transformed == []


@pytest.mark.parametrize(
    ("outcome", "challenge", "status"),
    [
        (Fail(), None, None),
        (Fail({"message": "Invalid password"}), {"message": "Invalid password"}, None),
        (Fail({"message": "Invalid password"}, 403), {"message": "Invalid password"}, 403),
        (Fail("Bearer challenge"), "Bearer challenge", None),
        (Strategy.fail(402), None, 402),
    ],
    ids=["plain", "object", "object-403", "string", "status-only"],
)
def test_callback_gets_the_failure_as_one_entry_lists_83(
    outcome: Fail, challenge: Any, status: int | None
) -> None:
    """Differs from Passport (scalars for a single strategy): always lists."""
    results: list[AuthResult[Any]] = []
    app = callback_app("s", results, s=Fixed(outcome))
    response = app.client.post("/login")
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["user"]) == (False, None)
    assert (body["challenges"], body["statuses"]) == ([challenge], [status])
    assert response.headers.get_list("www-authenticate") == []
    assert_nobody_logged_in(app)


def test_failure_options_are_not_applied_in_callback_form_83() -> None:
    results: list[AuthResult[Any]] = []
    route = auth_route(
        "/login",
        "s",
        callback=recording_callback(results),
        failure_flash=True,
        failure_message=True,
        failure_redirect="/login-page",
        fail_with_error=True,
    )
    app = serve(make_passport(s=Fixed(Fail({"message": "Invalid password"}))), route)
    response = app.client.post("/login")
    assert response.status_code == 200
    assert response.json()["challenges"] == [{"message": "Invalid password"}]
    assert "set-cookie" not in response.headers
    assert app.flashes() == []


def test_bad_request_reaches_the_callback_as_a_failure_84() -> None:
    results: list[AuthResult[Any]] = []
    app = callback_app("local", results, local=LocalStrategy(lambda u, p: U))
    response = app.client.post("/login", json={"username": "a", "password": 1})
    body = response.json()
    assert body["challenges"] == [{"message": "Field 'password' must be a string"}]
    assert (body["statuses"], body["error"]) == ([400], None)


def test_redirect_and_pass_never_reach_the_callback_85() -> None:
    results: list[AuthResult[Any]] = []
    callback = recording_callback(results)
    passport = make_passport(
        idp=Fixed(Redirect("https://idp.example/authorize")), anon=Fixed(Pass())
    )
    app = serve(
        passport,
        auth_route("/idp", "idp", callback=callback),
        auth_route("/anon", "anon", callback=callback),
    )
    redirected = app.client.get("/idp")
    assert (redirected.status_code, redirected.headers["location"]) == (
        302,
        "https://idp.example/authorize",
    )
    passed = app.client.get("/anon")
    assert passed.status_code == 200
    assert passed.json()["authenticated"] is False
    assert "challenges" not in passed.json()
    assert results == []


def test_callback_with_options_has_the_same_semantics_86() -> None:
    results: list[AuthResult[Any]] = []
    strategy = Fixed(Success(U, {"scope": "read"}))
    route = auth_route(
        "/login", "s", callback=recording_callback(results), success_redirect="/home", foo="bar"
    )
    app = serve(make_passport(s=strategy), route)
    response = app.client.post("/login")
    assert response.status_code == 200
    assert (response.json()["user"], response.json()["info"]) == (U, {"scope": "read"})
    assert strategy.calls[0][1].get("foo") == "bar"
    assert_nobody_logged_in(app)


# == 2.11 authorize, assign_property and auth_info =============================================


def test_authorize_puts_the_user_on_request_state_account_without_login_87() -> None:
    serialized: list[Any] = []
    passport = make_passport(chains=False, s=Fixed(Success(U)))
    passport.serialize_user(lambda user: serialized.append(user) or user["id"])
    app = serve(passport, authz_route("/connect", "s"))
    app.seed(cart=["1"])
    response = app.client.get("/connect")
    assert response.status_code == 200
    body = response.json()
    assert (body["account"], body["account_info"]) == (U, {})
    assert (body["user"], body["authenticated"]) == (None, False)
    assert "set-cookie" not in response.headers
    assert serialized == []
    assert app.session() == {"cart": ["1"]}


def test_authorize_with_auth_info_false_88() -> None:
    app = serve(
        make_passport(s=Fixed(Success(U, {"scope": "read"}))),
        authz_route("/connect", "s", auth_info=False),
    )
    body = app.client.get("/connect").json()
    assert (body["account"], body["account_info"]) == (U, None)


def test_authorize_transforms_the_info_88() -> None:
    passport = make_passport(s=Fixed(Success(U, {"scope": "read"})))
    passport.transform_auth_info(lambda info: {"scopes": [info["scope"]]})
    body = serve(passport, authz_route("/connect", "s")).client.get("/connect").json()
    assert body["account_info"] == {"scopes": ["read"]}


def test_assign_property_equals_authorize_and_ignores_redirects_89() -> None:
    route = auth_route(
        "/connect",
        "s",
        assign_property="account",
        success_redirect="/home",
        success_return_to_or_redirect="/default",
    )
    app = serve(make_passport(s=Fixed(Success(U))), route)
    app.seed(return_to="/back")
    response = app.client.get("/connect")
    assert response.status_code == 200
    assert (response.json()["account"], response.json()["authenticated"]) == (U, False)
    assert app.session() == {"return_to": "/back"}


def test_authorize_overrides_a_given_assign_property_89() -> None:
    async def linked(request: Request) -> Response:
        return JSONResponse({"linked": getattr(request.state, "linked", None), **identity(request)})

    route = Route("/connect", authorize("s", assign_property="linked")(linked))
    body = serve(make_passport(s=Fixed(Success(U))), route).client.get("/connect").json()
    assert (body["account"], body["linked"]) == (U, None)


def test_success_flash_and_message_apply_with_assign_property_89() -> None:
    route = auth_route(
        "/connect", "s", assign_property="account", success_flash=True, success_message=True
    )
    app = serve(make_passport(s=Fixed(Success(U, {"message": "Linked"}))), route)
    assert app.client.get("/connect").json()["account"] == U
    assert app.session() == {"flash": [["success", "Linked"]], "messages": ["Linked"]}
    assert_nobody_logged_in(app)


# == 2.12 login ================================================================================


async def stateless_login(request: Request) -> Response:
    await login(request, U, session=False)
    return identity_response(request)


def test_login_helper_with_session_false_authenticates_this_request_only_91() -> None:
    app = serve(make_passport(), Route("/signup", stateless_login, methods=["POST"]))
    response = app.client.post("/signup")
    assert (response.json()["user"], response.json()["authenticated"]) == (U, True)
    assert "set-cookie" not in response.headers
    assert app.who()["authenticated"] is False


def test_login_regenerates_the_session_once_then_writes_the_user_94() -> None:
    log: list[dict[str, Any]] = []
    app = serve(
        make_passport(s=Fixed(Success(U))), auth_route("/login", "s"), middleware=[recorded(log)]
    )
    app.seed(cart=["1"])
    app.client.post("/login")
    assert log == [{"cart": ["1"]}]
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_login_and_restore_under_a_custom_session_key_94_112() -> None:
    passport: Authenticator[Any] = Authenticator(session_key="auth")
    passport.use(Fixed(Success(U)), "s")
    passport.serialize_user(lambda user: user["id"])
    passport.deserialize_user(lambda user_id: USERS.get(user_id))
    app = login_app(passport)
    app.seed(passport={"user": "2"})
    assert app.who()["authenticated"] is False
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE, key="auth") == {"auth": {"user": "1"}}
    assert app.who()["user"] == U


def test_login_with_keep_session_info_merges_previous_passport_data_96() -> None:
    app = login_app(make_passport(s=Fixed(Success(U))), keep_session_info=True)
    app.seed(passport={"user": "2", "extra": "e"}, cart=["1"])
    assert app.who()["user"] == BOB
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE) == {
        "passport": {"user": "1", "extra": "e"},
        "cart": ["1"],
    }


def test_login_without_keep_session_info_replaces_passport_data_96() -> None:
    app = login_app(make_passport(s=Fixed(Success(U))))
    app.seed(passport={"user": "2", "extra": "e"})
    app.client.post("/login")
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1"}}


def test_login_regenerate_error_is_a_server_error_and_keeps_the_session_97() -> None:
    log: list[dict[str, Any]] = []
    app = serve(
        make_passport(s=Fixed(Success(U))),
        auth_route("/login", "s"),
        middleware=[recorded(log, fail=True)],
    )
    app.seed(cart=["1"])
    assert_server_error(app, OSError, "store unavailable")
    assert log == [{"cart": ["1"]}, {"cart": ["1"]}]
    assert app.session() == {"cart": ["1"]}
    assert_nobody_logged_in(app)


async def login_without_session(request: Request) -> Response:
    try:
        await login(request, U)
    except SessionRequiredError as exc:
        return JSONResponse({"error": str(exc), **identity(request)}, 500)
    return identity_response(request)  # pragma: no cover - login raises


def test_login_helper_without_session_middleware_names_it_101() -> None:
    app = serve(
        make_passport(), Route("/signup", login_without_session, methods=["POST"]), sessions=False
    )
    response = app.client.post("/signup")
    assert response.status_code == 500
    assert response.json()["error"].startswith("Login sessions require session support")
    assert "add SessionMiddleware before PassportMiddleware" in response.json()["error"]
    assert response.json()["authenticated"] is False


# == 2.13 logout ===============================================================================


def test_logout_removes_the_user_before_regenerating_102() -> None:
    log: list[dict[str, Any]] = []
    app = serve(
        make_passport(s=Fixed(Success(U))), auth_route("/login", "s"), middleware=[recorded(log)]
    )
    app.client.post("/login")
    log.clear()
    response = app.client.post("/logout")
    assert response.json()["authenticated"] is False
    assert log == [{"passport": {}}]
    assert response.headers["set-cookie"].startswith("session=null;")
    assert app.session() == {}
    assert app.who()["authenticated"] is False


def test_logout_when_nobody_is_logged_in_still_regenerates_102() -> None:
    log: list[dict[str, Any]] = []
    app = serve(make_passport(), middleware=[recorded(log)])
    app.seed(cart=["1"])
    app.client.post("/logout")
    assert log == [{"cart": ["1"]}]
    assert app.session() == {}


def test_logout_drops_the_other_session_data_103() -> None:
    app = serve(make_passport())
    app.seed(passport={"user": "1"}, cart=["1"])
    assert app.who()["user"] == U
    app.client.post("/logout")
    assert app.session() == {}


def test_logout_with_keep_session_info_keeps_the_other_data_103() -> None:
    app = serve(make_passport())
    app.seed(passport={"user": "1", "extra": "e"}, cart=["1"])
    response = app.client.post("/logout/keep")
    assert response.json()["authenticated"] is False
    assert app.session() == {"cart": ["1"], "passport": {"extra": "e"}}
    assert app.who()["authenticated"] is False


def test_logout_with_keep_session_info_leaves_an_empty_passport_103() -> None:
    app = serve(make_passport())
    app.seed(passport={"user": "1"}, cart=["1"])
    app.client.post("/logout/keep")
    assert app.session() == {"cart": ["1"], "passport": {}}


async def careful_logout(request: Request) -> Response:
    try:
        await logout(request)
    except OSError:
        return JSONResponse({"error": "logout failed", **identity(request)}, 503)
    return identity_response(request)  # pragma: no cover - regenerate fails


def test_logout_regenerate_error_reaches_the_app_with_the_user_removed_106() -> None:
    """The regenerate half of 106 (Starlette's session has no save step to fail)."""
    log: list[dict[str, Any]] = []
    app = serve(
        make_passport(),
        Route("/careful-logout", careful_logout, methods=["POST"]),
        middleware=[recorded(log, fail=True)],
    )
    app.seed(passport={"user": "1"}, cart=["1"])
    assert_server_error(app, OSError, "store unavailable", "/logout")
    response = app.client.post("/careful-logout")
    assert response.status_code == 503
    assert response.json()["authenticated"] is False
    assert app.session() == {"passport": {}, "cart": ["1"]}
    assert app.who()["authenticated"] is False


async def logout_without_session(request: Request) -> Response:
    try:
        await logout(request)
    except SessionRequiredError as exc:
        return JSONResponse({"error": str(exc), **identity(request)}, 500)
    return identity_response(request)  # pragma: no cover - logout raises


def test_logout_without_session_middleware_names_it_and_clears_the_user_108() -> None:
    endpoint = authenticate("s", session=False)(logout_without_session)
    app = serve(
        make_passport(s=Fixed(Success(U))),
        Route("/logout-stateless", endpoint, methods=["POST"]),
        sessions=False,
    )
    response = app.client.post("/logout-stateless")
    assert response.status_code == 500
    assert "Login sessions require session support" in response.json()["error"]
    assert "add SessionMiddleware" in response.json()["error"]
    assert (response.json()["user"], response.json()["authenticated"]) == (None, False)
    assert_server_error(app, SessionRequiredError, "add SessionMiddleware", "/logout")


def test_logout_without_session_middleware_does_not_suggest_session_false_108() -> None:
    app = serve(make_passport(), sessions=False)
    error = assert_server_error(app, SessionRequiredError, "add SessionMiddleware", "/logout")
    assert "session=False" not in str(error)


# == 2.14 is_authenticated =====================================================================


def test_is_authenticated_follows_the_user_through_login_and_logout_109() -> None:
    app = serve(
        make_passport(s=Fixed(Success(U)), empty=Fixed(Success({}))),
        auth_route("/login", "s"),
        auth_route("/empty", "empty", session=False),
    )
    assert app.who()["authenticated"] is False
    assert app.client.post("/login").json()["authenticated"] is True
    assert app.who()["authenticated"] is True
    assert app.client.post("/logout").json()["authenticated"] is False
    assert app.who()["authenticated"] is False
    # Passport's truthiness: an empty user object is still a user.
    assert app.client.post("/empty").json()["authenticated"] is True


# == 2.15 restoring the user (Passport's SessionStrategy) ======================================


def test_no_session_middleware_means_nobody_and_no_error_110() -> None:
    """Differs from Passport (an error without a session): restoring finds nobody; what needs
    a session (login, logout) raises SessionRequiredError."""
    calls: list[Any] = []
    passport: Authenticator[Any] = Authenticator()
    passport.deserialize_user(lambda user_id: calls.append(user_id) or U)
    app = serve(passport, sessions=False)
    assert app.who()["authenticated"] is False
    assert calls == []


@pytest.mark.parametrize("stored", [0, ""])
def test_falsy_ids_are_restored_113(stored: Any) -> None:
    """0 as in Passport; differs for '' (Passport skips it): an empty string is a valid id."""
    calls: list[Any] = []
    app = restoring_app(lambda user_id: calls.append(user_id) or {"id": user_id}, stored=stored)
    assert app.who()["user"] == {"id": stored}
    assert calls == [stored]
    # A login stored before login times were recorded gets them at its first restore.
    restored = session_identity(app.session(), NO_CLIENT)
    assert restored == {"passport": {"user": stored, "extra": "e"}, "cart": ["1"]}


# == strategies.md section 1: LocalStrategy (L1-L17) ===========================================

JOHN = {"username": "johndoe", "password": "secret"}


def local_app(strategy: LocalStrategy, **options: Any) -> App:
    """`/login` behind `@authenticate("local", **options)`; users are stored by id."""
    passport: Authenticator[Any] = Authenticator()
    passport.use(strategy)
    passport.serialize_user(lambda user: user["id"])
    passport.deserialize_user(lambda user_id: {**USER, "id": user_id})
    return serve(passport, auth_route("/login", "local", **options))


def local_callback_app(strategy: LocalStrategy, results: list[AuthResult[Any]]) -> App:
    return local_app(strategy, callback=recording_callback(results))


def test_local_strategy_module_export_registers_as_local_L1_L2() -> None:
    assert local_module.LocalStrategy is LocalStrategy
    app = local_app(local_module.LocalStrategy(Verify()))
    assert list(app.passport.strategies) == ["local"]
    assert app.client.post("/login", data=JOHN).json()["user"] == USER


def test_local_strategy_without_a_verify_callable_cannot_be_wired_L3() -> None:
    with pytest.raises(TypeError, match="LocalStrategy requires a verify callable"):
        local_app(LocalStrategy(None))  # type: ignore[arg-type]


def test_valid_form_credentials_log_in_with_info_L4() -> None:
    verify = Verify(Verified(USER, {"scope": "read"}))
    app = local_app(LocalStrategy(verify))
    response = app.client.post("/login", data=JOHN)
    assert response.status_code == 200
    assert (response.json()["user"], response.json()["info"]) == (USER, {"scope": "read"})
    assert response.json()["scopes"] == ["authenticated", "read"]
    assert verify.calls == [("johndoe", "secret")]
    assert session_identity(app.session(), STARLETTE) == {"passport": {"user": "1234"}}


def test_credentials_in_the_query_log_in_with_allow_query_L5() -> None:
    verify = Verify()
    app = local_app(LocalStrategy(verify, allow_query=True))
    response = app.client.get("/login", params=JOHN)
    assert response.json()["user"] == USER
    assert verify.calls == [("johndoe", "secret")]


def test_body_wins_over_the_query_with_allow_query_L5() -> None:
    verify = Verify()
    app = local_app(LocalStrategy(verify, allow_query=True))
    app.client.post(
        "/login",
        params={"username": "fromquery", "password": "q"},
        data={"username": "frombody", "password": "b"},
    )
    assert verify.calls == [("frombody", "b")]


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b"", "application/x-www-form-urlencoded"), (b"{}", "application/json")],
    ids=["empty-form", "empty-json-object"],
)
def test_empty_body_is_400_missing_credentials_L7(content: bytes, content_type: str) -> None:
    verify = Verify()
    results: list[AuthResult[Any]] = []
    app = local_callback_app(LocalStrategy(verify), results)
    body = app.client.post("/login", content=content, headers={"content-type": content_type})
    assert body.json()["challenges"] == [{"message": "Missing credentials"}]
    assert body.json()["statuses"] == [400]
    plain = local_app(LocalStrategy(verify))
    response = plain.client.post("/login", content=content, headers={"content-type": content_type})
    assert_failure(response, 400, "Bad Request", [])
    assert verify.calls == []


def test_custom_field_names_L10() -> None:
    verify = Verify()
    app = local_app(LocalStrategy(verify, username_field="userid", password_field="passwd"))
    response = app.client.post("/login", data={"userid": "johndoe", "passwd": "secret"})
    assert response.json()["user"] == USER
    assert verify.calls == [("johndoe", "secret")]


def bracket_strategy(verify: Verify) -> LocalStrategy:
    return LocalStrategy(verify, username_field="user[username]", password_field="user[password]")


def test_bracket_field_names_in_a_form_L11() -> None:
    verify = Verify()
    app = local_app(bracket_strategy(verify))
    data = {"user[username]": "johndoe", "user[password]": "secret"}
    assert app.client.post("/login", data=data).json()["user"] == USER
    assert verify.calls == [("johndoe", "secret")]


def test_bracket_field_names_walk_json_objects_L11() -> None:
    verify = Verify()
    app = local_app(bracket_strategy(verify))
    response = app.client.post("/login", json={"user": JOHN})
    assert response.json()["user"] == USER
    assert verify.calls == [("johndoe", "secret")]


def test_bad_request_message_from_the_route_options_L12() -> None:
    app = local_app(
        LocalStrategy(Verify()),
        bad_request_message="Something is wrong with this request",
        failure_flash=True,
        failure_redirect="/login-page",
    )
    response = app.client.post("/login", data={"username": "johndoe"})
    assert (response.status_code, response.headers["location"]) == (302, "/login-page")
    assert app.flashes() == [["error", "Something is wrong with this request"]]


def test_bad_request_message_from_the_constructor_L12() -> None:
    strategy = LocalStrategy(Verify(), bad_request_message="Enter your email and password")
    app = local_app(strategy, failure_message=True)
    assert_failure(app.client.post("/login"), 400, "Bad Request", [])
    assert app.session() == {"messages": ["Enter your email and password"]}


def test_pass_request_gives_verify_the_starlette_request_L13() -> None:
    seen: list[Any] = []

    def verify(request: AuthRequest, username: str, password: str) -> Any:
        seen.append(request)
        return Verified(USER, {"foo": request.headers.get("x-foo")})

    app = local_app(LocalStrategy(verify, pass_request=True))
    response = app.client.post("/login", data=JOHN, headers={"x-foo": "hello"})
    assert response.json()["info"] == {"foo": "hello"}
    [request] = seen
    assert isinstance(request, StarletteAuthRequest)
    assert isinstance(request.native, Request)


@pytest.mark.parametrize("result", [None, False])
def test_verify_rejecting_is_401_without_challenge_L14(result: Any) -> None:
    results: list[AuthResult[Any]] = []
    body = local_callback_app(LocalStrategy(Verify(result)), results).client.post(
        "/login", data={"username": "johndoe", "password": "wrong"}
    )
    assert (body.json()["challenges"], body.json()["statuses"]) == ([None], [None])
    app = local_app(LocalStrategy(Verify(result)))
    response = app.client.post("/login", data={"username": "johndoe", "password": "wrong"})
    assert_failure(response, 401, "Unauthorized", [])
    assert_nobody_logged_in(app)


def test_verify_rejected_with_message_and_info_L15() -> None:
    verify = Verify(Rejected("locked", type="warning", retry_after=30))
    results: list[AuthResult[Any]] = []
    body = local_callback_app(LocalStrategy(verify), results).client.post("/login", data=JOHN)
    assert body.json()["challenges"] == [
        {"message": "locked", "type": "warning", "retry_after": 30}
    ]
    app = local_app(LocalStrategy(verify), failure_flash=True, failure_redirect="/login-page")
    assert app.client.post("/login", data=JOHN).headers["location"] == "/login-page"
    assert app.flashes() == [["warning", "locked"]]


def test_verify_error_is_a_server_error_and_reaches_the_callback_L16() -> None:
    boom = ConnectionError("something went wrong")
    app = local_app(LocalStrategy(Verify(boom)))
    assert assert_server_error(app, ConnectionError, "something went wrong", data=JOHN) is boom
    assert_nobody_logged_in(app)
    results: list[AuthResult[Any]] = []
    body = local_callback_app(LocalStrategy(Verify(boom)), results).client.post("/login", data=JOHN)
    assert body.json()["error"] == repr(boom)
    assert results[0].error is boom


def test_async_verify_raising_is_a_server_error_L17() -> None:
    async def verify(username: str, password: str) -> Any:
        await asyncio.sleep(0)
        raise ValueError("verify exploded")

    app = local_app(LocalStrategy(verify))
    assert_server_error(app, ValueError, "verify exploded", data=JOHN)
    assert_nobody_logged_in(app)
