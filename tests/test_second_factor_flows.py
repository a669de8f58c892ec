"""The real second factors through the engine in every adapter: TOTP, a recovery code and an
email code each complete a pending login (and only once), on the sites of `pending_sites`
with the factor registered under the name the sites' second-factor routes use ("code")."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from pending_sites import SITES, Site, build_site
from second_factor_helpers import START

from passport_py.passwords import PasswordHasher
from passport_py.strategies.email_code import EmailCodeStrategy
from passport_py.strategies.recovery import RecoveryCodeStrategy, generate_recovery_codes
from passport_py.strategies.totp import TotpStrategy, new_totp_secret

#: Recovery codes carry ~59 random bits: a cheap Argon2id keeps these tests quick.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SECRET = "second-factor-flow-tests-secret-0123456789"


@pytest.fixture(params=SITES)
def site(request: pytest.FixtureRequest) -> Site:
    return build_site(request.param, request)


def pending(site: Site) -> Any:
    client = site.client()
    first = site.login_form(client)
    assert (first.status, first.location) == (302, "/login/second-factor"), first
    assert site.whoami(client) is None
    return client


def completes(site: Site, client: Any, code: str, amr: str) -> None:
    done = site.form(client, "/login/second-factor", {"code": code})
    assert (done.status, done.location) == (302, "/home"), done
    assert site.whoami(client) == "alice"
    assert site.entry(client)["amr"] == ["pwd", amr]


def refused(site: Site, code: str) -> None:
    """`code` does not complete another pending login."""
    client = pending(site)
    again = site.form(client, "/login/second-factor", {"code": code})
    assert (again.status, again.location) == (302, "/login/second-factor"), again
    assert site.whoami(client) is None


def test_a_totp_code_completes_the_login_once(site: Site) -> None:
    secret = new_totp_secret()
    steps: dict[Any, int] = {}

    def save_step(user: Any, step: int) -> bool:
        if steps.get(user.id, -1) >= step:
            return False
        steps[user.id] = step
        return True

    totp = TotpStrategy(
        lambda user: (secret, steps.get(user.id)), save_step, clock=lambda: site.kit.clock.now
    )
    site.kit.passport.use(totp, "code")
    code = pyotp.TOTP(secret).at(START)
    completes(site, pending(site), code, "otp")
    refused(site, code)  # the same code, replayed
    site.kit.clock.now += 30
    completes(site, pending(site), pyotp.TOTP(secret).at(START + 30), "otp")


def test_a_recovery_code_completes_the_login_once(site: Site) -> None:
    codes, hashes = generate_recovery_codes(3, hasher=CHEAP)
    stored = {1: list(hashes)}

    def consume(user: Any, digest: str) -> bool:
        left = stored.get(user.id, [])
        if digest not in left:
            return False
        left.remove(digest)
        return True

    recovery = RecoveryCodeStrategy(
        lambda user: list(stored.get(user.id, [])), consume, hasher=CHEAP
    )
    site.kit.passport.use(recovery, "code")
    completes(site, pending(site), codes[0].upper(), "rec")  # typed in capitals: the same
    assert len(stored[1]) == 2
    refused(site, codes[0])


def test_an_email_code_completes_the_login_and_goes_to_the_pending_user(site: Site) -> None:
    sent: list[tuple[str, str]] = []

    def send(address: str, code: str, request: Any) -> None:
        sent.append((address, code))

    email = EmailCodeStrategy(
        send,
        secret=SECRET,
        address_of=lambda user: f"{user.username}@example.com",
        second_factor=True,
        clock=lambda: site.kit.clock.now,
    )
    site.kit.passport.use(email, "code")
    client = pending(site)
    site.form(client, "/login/second-factor", {})  # no code: asks for one
    assert [address for address, _ in sent] == ["alice@example.com"]
    assert site.whoami(client) is None
    (_, code) = sent[-1]
    assert re.fullmatch(r"[0-9]{6}", code)
    completes(site, client, code, "email")
    refused(site, code)  # single use, and bound to the session it was sent in
