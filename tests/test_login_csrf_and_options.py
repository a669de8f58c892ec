"""Login CSRF refusal in LocalStrategy, misspelt options, and the session-hint wording."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import (
    AuthenticateOptions,
    Authenticator,
    ConfigurationError,
    Proceed,
    Respond,
    SessionRequiredError,
    run_sync,
)
from passport_py.adapters.starlette import PassportMiddleware, authenticate
from passport_py.strategies.local import LocalStrategy
from passport_py.testing import TestRequest

CREDENTIALS = {"username": "alice", "password": "secret"}


def make_passport(**strategy_options: bool) -> Authenticator[str]:
    passport: Authenticator[str] = Authenticator()
    passport.use(
        LocalStrategy(lambda name, pw: name if pw == "secret" else None, **strategy_options)
    )
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda name: name)
    return passport


def decide(passport: Authenticator[str], headers: dict[str, str]) -> Proceed | Respond:
    request = TestRequest(form=CREDENTIALS, headers=headers)
    decision = run_sync(passport.authenticate(request, "local"))
    assert isinstance(decision, Proceed | Respond)
    return decision


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://testserver.evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "cross-site", "origin": "http://testserver"},
    ],
)
def test_a_cross_site_browser_login_is_refused_with_403(headers: dict[str, str]) -> None:
    decision = decide(make_passport(), headers)
    assert isinstance(decision, Respond)
    assert decision.status == 403


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://testserver"},
        {"origin": "HTTP://TESTSERVER"},
        {"sec-fetch-site": "same-origin"},
        {"sec-fetch-site": "same-site"},
        {"sec-fetch-site": "none"},
    ],
)
def test_a_same_site_or_non_browser_login_goes_through(headers: dict[str, str]) -> None:
    decision = decide(make_passport(), headers)
    assert isinstance(decision, Proceed)
    assert decision.user == "alice"


def test_allow_cross_site_turns_the_check_off() -> None:
    decision = decide(make_passport(allow_cross_site=True), {"origin": "https://evil.example"})
    assert isinstance(decision, Proceed)


def test_cross_site_form_post_through_starlette_logs_nobody_in() -> None:
    passport = make_passport()

    async def done(request: Request) -> Response:
        return PlainTextResponse("in")

    app = Starlette(
        routes=[Route("/login", authenticate("local")(done), methods=["POST"])],
        middleware=[
            Middleware(SessionMiddleware, secret_key="k" * 32),
            Middleware(PassportMiddleware, passport=passport),
        ],
    )
    client = TestClient(app)
    refused = client.post("/login", data=CREDENTIALS, headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "session" not in client.cookies
    accepted = client.post("/login", data=CREDENTIALS, headers={"origin": "http://testserver"})
    assert accepted.status_code == 200
    assert accepted.text == "in"


def test_a_misspelt_engine_option_is_refused_with_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="did you mean failure_redirect="):
        AuthenticateOptions.build(failure_redirct="/login")


def test_a_misspelt_option_is_refused_when_the_route_is_declared() -> None:
    with pytest.raises(ConfigurationError, match="did you mean success_redirect="):
        authenticate("local", sucess_redirect="/")


def test_strategy_options_that_resemble_no_engine_option_pass_through() -> None:
    options = AuthenticateOptions.build(scope="email", bad_request_message="Tell us who you are")
    assert options.get("scope") == "email"
    assert options.get("bad_request_message") == "Tell us who you are"


def test_flash_without_a_session_does_not_suggest_session_false() -> None:
    passport = make_passport()
    request = TestRequest(form=CREDENTIALS, session=None)
    options = AuthenticateOptions.build(session=False, success_message="Welcome")
    with pytest.raises(SessionRequiredError) as caught:
        run_sync(passport.authenticate(request, "local", options))
    assert "session=False" not in str(caught.value)


def test_login_without_a_session_suggests_session_false() -> None:
    passport = make_passport()
    request = TestRequest(form=CREDENTIALS, session=None)
    with pytest.raises(SessionRequiredError, match="pass session=False"):
        run_sync(passport.authenticate(request, "local"))
