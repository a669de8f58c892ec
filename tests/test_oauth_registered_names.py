"""Pending OAuth requests are bound to the name a strategy is registered under.

One OpenID Connect client often runs under several names: `oidc` to log in, `oidc-stepup`
(`max_age=0`, `prompt=login`) to make a user sign in again before something sensitive, and
`oidc-link` to link an account (its start refuses cross-site requests). Each instance has the
class's own `name` ("openidconnect"), so a pending request that recorded only that name could
be finished on another registration's callback: a held session would pass a step-up without
signing in again, and a link would complete without the link start's checks. Everything runs
for real: the bundled provider on a loopback port, a Starlette app through its TestClient.
"""

from __future__ import annotations

from typing import Any

import pytest
from oauth_fixtures import token_requests
from oauth_helpers import (
    callback_url_for,
    make_app,
    make_client,
    oauth2_strategy,
    pending_callback,
    run_dance,
)
from oidc_helpers import oidc_strategy
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from passport_py import Authenticator
from passport_py.adapters.starlette import authorize
from passport_py.strategies.oidc import OpenIDConnectStrategy

pytestmark = pytest.mark.usefixtures("honest_idp")

INVALID = "Invalid authorization request state."


def _registered(idp: Any, name: str, **options: Any) -> OpenIDConnectStrategy:
    """A strategy of the one client for `name`'s callback, keeping the class's own name."""
    strategy = oidc_strategy(idp, callback_url=callback_url_for(name), **options)
    strategy.name = OpenIDConnectStrategy.name  # as `OpenIDConnectStrategy(...)` without name=
    return strategy


def _link_account(tokens: Any, profile: Any) -> dict[str, Any]:
    return {"linked": list(profile.key)}


async def _linked(request: Request) -> Response:
    return JSONResponse({"account": request.scope.get("account")})


def three_registrations(idp: Any) -> TestClient:
    """`oidc`, `oidc-stepup` and `oidc-link` of one client, registered with `passport.use`."""
    passport: Authenticator[Any] = Authenticator()
    passport.use(_registered(idp, "oidc"), name="oidc")
    passport.use(_registered(idp, "oidc-stepup", max_age=0, prompt="login"), name="oidc-stepup")
    link = _registered(idp, "oidc-link", verify=_link_account)
    passport.use(link, name="oidc-link")
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda user: user)
    linking = authorize("oidc-link", failure_message=True)
    app = make_app(
        passport,
        ["oidc", "oidc-stepup"],
        callback_options={"failure_message": True},
        routes=[
            Route("/auth/oidc-link", linking(_linked)),
            Route("/auth/oidc-link/callback", linking(_linked)),
        ],
    )
    return make_client(app)


def assert_refused(client: TestClient, response: Any, user: Any) -> None:
    """403 "Invalid ...", the code never exchanged, the login as it was, nothing linked."""
    assert response.status_code == 403, response.text
    session = client.get("/session").json()
    assert session.get("messages", [])[-1:] == [INVALID]
    assert client.get("/me").json()["user"] == user


@pytest.mark.parametrize(
    ("started", "finished"),
    [("oidc", "oidc-stepup"), ("oidc-stepup", "oidc"), ("oidc", "oidc-link")],
)
def test_a_callback_finishes_only_on_the_registration_that_started_it(
    idp: Any, started: str, finished: str
) -> None:
    """A live callback of one registration delivered to another's callback → 403; the token
    endpoint is never called."""
    client = three_registrations(idp)
    url = pending_callback(client, f"/auth/{started}", idp)
    forged = url.replace(f"/auth/{started}/callback", f"/auth/{finished}/callback")
    assert_refused(client, client.get(forged), None)
    assert token_requests(idp) == 0


def test_a_held_session_does_not_pass_a_step_up(idp: Any) -> None:
    """Logged in with `oidc`, the user's plain login callback (no `prompt=login`, no
    `max_age=0`) on the step-up callback is refused: a step-up needs its own request."""
    client = three_registrations(idp)
    assert run_dance(client, "/auth/oidc", idp).response.status_code == 302
    user = client.get("/me").json()["user"]
    assert user["username"] == "alice"
    requests_before = token_requests(idp)
    url = pending_callback(client, "/auth/oidc", idp)
    stepped = url.replace("/auth/oidc/callback", "/auth/oidc-stepup/callback")
    assert_refused(client, client.get(stepped), user)
    assert token_requests(idp) == requests_before


def test_a_login_request_does_not_complete_a_link(idp: Any) -> None:
    """A login started on `oidc` (no cross-site check at its start) and delivered to the
    link's callback links nothing."""
    client = three_registrations(idp)
    assert run_dance(client, "/auth/oidc", idp).response.status_code == 302
    user = client.get("/me").json()["user"]
    url = pending_callback(client, "/auth/oidc", idp)
    response = client.get(url.replace("/auth/oidc/callback", "/auth/oidc-link/callback"))
    assert_refused(client, response, user)


@pytest.mark.parametrize("name", ["oidc", "oidc-stepup", "oidc-link"])
def test_each_registration_finishes_its_own_requests(idp: Any, name: str) -> None:
    client = three_registrations(idp)
    response = run_dance(client, f"/auth/{name}", idp).response
    if name == "oidc-link":
        assert response.status_code == 200, response.text
        assert response.json()["account"]["linked"][1] == "248289761001"
    else:
        assert response.status_code == 302, response.text
        assert client.get("/me").json()["user"] is not None


def test_one_instance_under_two_names_keeps_their_requests_apart(idp: Any) -> None:
    """The same `OAuth2Strategy` instance registered as `a` and `b`: `a`'s callback on `b`'s
    route → 403, no token request; on its own route it logs in."""
    strategy = oauth2_strategy(idp, callback_url=callback_url_for("a"))
    passport: Authenticator[Any] = Authenticator()
    passport.use(strategy, name="a").use(strategy, name="b")
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda user: user)
    client = make_client(make_app(passport, callback_options={"failure_message": True}))
    url = pending_callback(client, "/auth/a", idp)
    assert_refused(client, client.get(url.replace("/auth/a/", "/auth/b/")), None)
    assert token_requests(idp) == 0
    url = pending_callback(client, "/auth/a", idp)
    assert client.get(url).status_code == 302
    assert client.get("/me").json()["user"]["login"] == "ok"


def test_one_registration_used_to_log_in_does_not_complete_a_link(idp: Any) -> None:
    """`authenticate("oidc")` and `authorize("oidc")` on two routes: a login request is not
    finished as a link (nor the other way round)."""
    passport: Authenticator[Any] = Authenticator()
    passport.use(_registered(idp, "oidc"), name="oidc")
    passport.serialize_user(lambda user: user)
    passport.deserialize_user(lambda user: user)
    linking = authorize("oidc", failure_message=True)
    app = make_app(
        passport,
        callback_options={"failure_message": True},
        routes=[Route("/link/oidc", linking(_linked)), Route("/link/oidc/done", linking(_linked))],
    )
    client = make_client(app)
    url = pending_callback(client, "/auth/oidc", idp)
    assert_refused(client, client.get(url.replace("/auth/oidc/callback", "/link/oidc/done")), None)
    linked_url = pending_callback(client, "/link/oidc", idp)
    forged = linked_url.replace("/link/oidc/done", "/auth/oidc/callback")
    assert_refused(client, client.get(forged), None)
    assert token_requests(idp) == 0
