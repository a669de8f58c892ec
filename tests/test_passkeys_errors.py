"""Each bad passkey login is a 4xx with its own message (never a 500), the session's challenge
is used up by it, and a login failure is reported: the negative cases through the real app."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from passkey_apps import ORIGIN
from passkey_authenticator import SoftAuthenticator, b64, unb64
from starlette.testclient import TestClient
from test_passkeys import JSON, Site

from passport_py.events import LoginFailed

Credential = dict[str, Any]


def flip_last(text: str) -> str:
    data = bytearray(unb64(text))
    data[-1] ^= 1
    return b64(bytes(data))


def tamper_client_data(c: Credential) -> None:
    client = json.loads(unb64(c["response"]["clientDataJSON"]))
    client["extra"] = "added after signing"
    c["response"]["clientDataJSON"] = b64(json.dumps(client).encode())


@pytest.fixture
def alice() -> tuple[Site, list[LoginFailed]]:
    site = Site()
    site.register("alice")
    failures: list[LoginFailed] = []
    site.app.state.passport.events.on(LoginFailed, failures.append)
    return site, failures


def post(site: Site, body: Any) -> Any:
    if isinstance(body, bytes):
        headers = {**JSON, "content-type": "application/json"}
        return site.client.post("/passkeys/login", content=body, headers=headers)
    return site.client.post("/passkeys/login", json=body, headers=JSON)


def assertion(site: Site, change: Callable[[Credential], None] = lambda c: None) -> Credential:
    credential = site.device.get(site.options())
    change(credential)
    return credential


BAD_SHAPES: list[tuple[str, Callable[[Site], Any], str]] = [
    ("malformed JSON", lambda s: (s.options(), b'{"id": ')[1], "not valid JSON"),
    ("not an object", lambda s: (s.options(), [1, 2])[1], "must be a JSON object"),
    (
        "wrong types",
        lambda s: assertion(s, lambda c: c.update(rawId=7, id=7)),
        "rawId must be a base64url string",
    ),
    (
        "bad base64url",
        lambda s: assertion(s, lambda c: c["response"].update(signature="a+b/c=")),
        "response.signature is not valid base64url",
    ),
    (
        "no response object",
        lambda s: assertion(s, lambda c: c.update(response="x")),
        'must have a "response" object',
    ),
    (
        "id differs from rawId",
        lambda s: assertion(s, lambda c: c.update(id=b64(b"other"))),
        "id and rawId must be the same",
    ),
]


@pytest.mark.parametrize(("case", "body", "message"), BAD_SHAPES, ids=[c[0] for c in BAD_SHAPES])
def test_malformed_answers_are_400(
    alice: tuple[Site, list[LoginFailed]], case: str, body: Callable[[Site], Any], message: str
) -> None:
    site, failures = alice
    answer = post(site, body(site))
    assert answer.status_code == 400, answer.text
    assert message in failures[-1].reason
    assert site.me()["user"] is None


REFUSED: list[tuple[str, Callable[[Site], Any], str]] = [
    (
        "unknown credential",
        lambda s: _foreign_device(s),
        "not registered here",
    ),
    (
        "wrong origin",
        lambda s: s.device.get(s.options(), origin="https://evil.test"),
        "another origin",
    ),
    ("wrong RP id", lambda s: s.device.get(s.options(), rp_id="evil.test"), "another site"),
    ("tampered clientDataJSON", lambda s: assertion(s, tamper_client_data), "signature"),
    (
        "tampered signature",
        lambda s: assertion(
            s, lambda c: c["response"].update(signature=flip_last(c["response"]["signature"]))
        ),
        "signature",
    ),
    (
        "user handle mismatch",
        lambda s: s.device.get(s.options(), user_handle=b"someone else"),
        "user handle does not match",
    ),
    ("no challenge in the session", lambda s: s.device.get(_options_elsewhere(s)), "start again"),
    (
        "challenge of another session",
        lambda s: (s.options(), s.device.get(_options_elsewhere(s)))[1],
        "this session's challenge",
    ),
]


def _foreign_device(site: Site) -> Credential:
    """An assertion of a passkey this site never registered."""
    other = SoftAuthenticator(ORIGIN)
    other.create({"rp": {"id": "localhost"}, "user": {"id": b64(b"nobody")}, "challenge": ""})
    return other.get(site.options())


def _options_elsewhere(site: Site) -> str:
    """Login options made in another browser's session."""
    return TestClient(site.app, base_url=ORIGIN).get("/passkeys/login/options").text


@pytest.mark.parametrize(("case", "body", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_answers_that_do_not_verify_are_401(
    alice: tuple[Site, list[LoginFailed]], case: str, body: Callable[[Site], Any], message: str
) -> None:
    site, failures = alice
    answer = post(site, body(site))
    assert answer.status_code == 401, answer.text
    assert message in failures[-1].reason, failures[-1].reason
    assert site.me()["user"] is None


def test_a_challenge_is_used_once(alice: tuple[Site, list[LoginFailed]]) -> None:
    site, failures = alice
    credential = site.device.get(site.options())
    assert post(site, credential).status_code == 200
    site.client.post("/logout")
    assert post(site, credential).status_code == 401
    assert "already used" in failures[-1].reason


def test_an_expired_challenge_is_refused(alice: tuple[Site, list[LoginFailed]]) -> None:
    site, failures = alice
    options = site.options()
    site.clock.now += 300
    assert post(site, site.device.get(options)).status_code == 401
    assert "expired" in failures[-1].reason


def test_user_verification_when_required() -> None:
    site = Site(user_verification="required")
    site.register("alice")
    failures: list[LoginFailed] = []
    site.app.state.passport.events.on(LoginFailed, failures.append)
    assert post(site, site.device.get(site.options(), uv=False)).status_code == 401
    assert "did not verify the user" in failures[-1].reason
    assert post(site, site.device.get(site.options())).status_code == 200
    assert site.me() == {"user": "alice", "amr": ["hwk", "mfa"]}


def test_a_counter_that_goes_back_is_reported_and_refused(
    alice: tuple[Site, list[LoginFailed]],
) -> None:
    site, failures = alice
    assert post(site, site.device.get(site.options(), sign_count=5)).status_code == 200
    site.client.post("/logout")
    assert post(site, site.device.get(site.options(), sign_count=5)).status_code == 401
    assert "went backwards" in failures[-1].reason
    (event,) = site.store.regressions
    assert (event.stored, event.received, event.user) == (5, 5, "alice")
    assert event.credential_id == site.store.of("alice")[0].credential_id_b64


def test_a_zero_counter_stays_fine(alice: tuple[Site, list[LoginFailed]]) -> None:
    site, _ = alice
    for _ in range(2):
        assert post(site, site.device.get(site.options(), sign_count=0)).status_code == 200
        site.client.post("/logout")
    assert site.store.regressions == []


def test_a_counter_regression_may_be_allowed() -> None:
    site = Site(allow_counter_regression=True)
    site.register("alice")
    assert post(site, site.device.get(site.options(), sign_count=3)).status_code == 200
    site.client.post("/logout")
    assert post(site, site.device.get(site.options(), sign_count=2)).status_code == 200
    assert len(site.store.regressions) == 1


def test_another_users_passkey_cannot_be_the_second_factor() -> None:
    site = Site()
    site.register("alice")
    alice_device = site.device
    site.device = SoftAuthenticator(ORIGIN)
    site.register("bob")
    failures: list[LoginFailed] = []
    site.app.state.passport.events.on(LoginFailed, failures.append)
    site.password_login("bob")
    options = site.client.get("/login/second-factor/options", headers=JSON).text
    answer = site.client.post("/login/second-factor", json=alice_device.get(options), headers=JSON)
    assert answer.status_code == 401
    assert "belongs to another account" in failures[-1].reason
    assert site.me()["user"] is None


def test_a_registration_answer_is_checked(site_registering: Site) -> None:
    site = site_registering
    options = site.client.get("/passkeys/register/options", headers=JSON).text
    credential = site.device.create(options, origin="https://evil.test")
    answer = site.client.post("/passkeys/register", json=credential)
    assert answer.status_code == 400 and "another origin" in answer.json()["message"]
    again = site.client.post("/passkeys/register", json=site.device.create(options))
    assert again.status_code == 400 and "already used" in again.json()["message"]
    site.client.get("/passkeys/register/options", headers=JSON)
    bad = site.client.post("/passkeys/register", json={"type": "public-key"})
    assert bad.status_code == 400 and "rawId" in bad.json()["message"]
    assert site.store.passkeys == {}


@pytest.fixture
def site_registering() -> Site:
    site = Site()
    site.password_login("alice")
    return site
