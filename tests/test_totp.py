"""`TotpStrategy` and the enrollment helpers (ASVS V6.5.1, 6.5.3, 6.5.5, 6.5.8; RFC 6238).

The strategy runs engine-free here: the options carry the `Subject` the engine will set for a
pending login. tests/test_totp_app.py drives it through a real Starlette app.
"""

from __future__ import annotations

import asyncio
import base64
import random
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from factor_apps import FrozenClock, subject_options

from passport_py import Fail, Success
from passport_py.errors import ConfigurationError
from passport_py.options import AuthenticateOptions
from passport_py.strategies.totp import (
    TotpStrategy,
    confirm_enrollment,
    new_totp_secret,
    totp_qr_svg,
    totp_uri,
)
from passport_py.testing import TestRequest

# RFC 6238 appendix B: the SHA-1 seed and its 8-digit codes.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]
NOW = 1_700_000_000.0  # on a step boundary (30 divides it)
SECRET = new_totp_secret()

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def code_at(t: float, secret: str = SECRET) -> str:
    return pyotp.TOTP(secret).at(t)


@dataclass
class Account:
    """One user's stored TOTP enrollment, with a compare-and-set `save_step`."""

    secret: str | None = SECRET
    last_step: int | None = None
    saves: list[int] = field(default_factory=list)

    async def lookup(self, user: Any) -> tuple[str, int | None] | None:
        await asyncio.sleep(0)
        return None if self.secret is None else (self.secret, self.last_step)

    async def save_step(self, user: Any, step: int) -> bool:
        # The read happened in lookup, one await earlier: a second request may have passed
        # it too. This compare-and-set is what keeps a code single-use.
        await asyncio.sleep(0)
        if self.last_step is not None and step <= self.last_step:
            return False
        self.last_step = step
        self.saves.append(step)
        return True


def make(account: Account, clock: FrozenClock, **options: Any) -> TotpStrategy:
    return TotpStrategy(account.lookup, account.save_step, clock=clock, **options)


async def submit(strategy: TotpStrategy, code: Any, *, as_json: bool = False) -> Any:
    request = TestRequest(json={"code": code}) if as_json else TestRequest(form={"code": code})
    return await strategy.authenticate(request, subject_options("alice"))


def message(outcome: Any) -> tuple[str, int | None]:
    assert isinstance(outcome, Fail), outcome
    return outcome.challenge["message"], outcome.status


# -- RFC 6238 -------------------------------------------------------------------------------


@pytest.mark.parametrize(("t", "code"), RFC_VECTORS)
def test_rfc6238_vectors_confirm_at_their_step(t: int, code: str) -> None:
    clock = FrozenClock(t)
    assert confirm_enrollment(RFC_SECRET, code, digits=8, clock=clock, valid_window=0) == t // 30


@pytest.mark.parametrize(("t", "code"), RFC_VECTORS[:3])
async def test_rfc6238_vectors_log_in_through_the_strategy(t: int, code: str) -> None:
    account = Account(secret=RFC_SECRET)
    strategy = make(account, FrozenClock(t), digits=8)
    outcome = await submit(strategy, code)
    assert outcome == Success("alice", None)
    assert account.saves == [t // 30]


# -- window, replay, concurrency --------------------------------------------------------------


@pytest.mark.parametrize("offset", [-1, 0, 1])
async def test_codes_within_one_step_are_accepted(offset: int) -> None:
    account = Account()
    outcome = await submit(make(account, FrozenClock(NOW)), code_at(NOW + 30 * offset))
    assert isinstance(outcome, Success)
    assert account.last_step == NOW // 30 + offset


@pytest.mark.parametrize("offset", [-2, 2, -3])
async def test_codes_two_steps_away_are_refused(offset: int) -> None:
    account = Account()
    outcome = await submit(make(account, FrozenClock(NOW)), code_at(NOW + 30 * offset))
    assert message(outcome) == ("Invalid or already used code", 401)
    assert outcome.account == "alice"
    assert account.saves == []


async def test_valid_window_zero_accepts_the_current_step_only() -> None:
    strategy = make(Account(), FrozenClock(NOW), valid_window=0)
    assert isinstance(await submit(strategy, code_at(NOW - 30)), Fail)
    assert isinstance(await submit(strategy, code_at(NOW)), Success)


async def test_a_code_is_accepted_once() -> None:
    account = Account()
    strategy = make(account, FrozenClock(NOW))
    code = code_at(NOW)
    assert isinstance(await submit(strategy, code), Success)
    assert message(await submit(strategy, code)) == ("Invalid or already used code", 401)
    assert account.saves == [NOW // 30]


async def test_an_earlier_steps_code_is_refused_after_a_later_one_was_used() -> None:
    account = Account()
    clock = FrozenClock(NOW)
    strategy = make(account, clock)
    assert isinstance(await submit(strategy, code_at(NOW + 30)), Success)
    # Still within the window, but older than the step just used.
    assert isinstance(await submit(strategy, code_at(NOW)), Fail)
    clock.now = NOW + 60
    assert isinstance(await submit(strategy, code_at(NOW + 60)), Success)
    assert account.saves == [NOW // 30 + 1, NOW // 30 + 2]


async def test_concurrent_submissions_of_one_code_succeed_exactly_once() -> None:
    account = Account()
    strategy = make(account, FrozenClock(NOW))
    code = code_at(NOW)
    outcomes = await asyncio.gather(*(submit(strategy, code) for _ in range(10)))
    assert sum(isinstance(o, Success) for o in outcomes) == 1
    assert all(
        message(o) == ("Invalid or already used code", 401)
        for o in outcomes
        if not isinstance(o, Success)
    )
    assert account.saves == [NOW // 30]


async def test_save_step_returning_false_fails_the_code() -> None:
    strategy = TotpStrategy(
        lambda user: (SECRET, None), lambda user, step: False, clock=FrozenClock(NOW)
    )
    assert message(await submit(strategy, code_at(NOW))) == ("Invalid or already used code", 401)


async def test_sync_callables_and_a_none_from_save_step_succeed() -> None:
    saved: list[tuple[Any, int]] = []
    strategy = TotpStrategy(
        lambda user: (SECRET, None),
        lambda user, step: saved.append((user, step)),
        clock=FrozenClock(NOW),
    )
    assert isinstance(await submit(strategy, code_at(NOW)), Success)
    assert saved == [("alice", NOW // 30)]


# -- who the code is for ------------------------------------------------------------------------


async def test_without_a_subject_it_fails_401() -> None:
    strategy = make(Account(), FrozenClock(NOW))
    outcome = await strategy.authenticate(
        TestRequest(form={"code": code_at(NOW)}), AuthenticateOptions()
    )
    assert message(outcome) == ("No login is waiting for a second factor", 401)


async def test_a_user_without_totp_fails_401() -> None:
    outcome = await submit(make(Account(secret=None), FrozenClock(NOW)), "123456")
    assert message(outcome) == ("No authenticator app is set up for this account", 401)
    assert outcome.account == "alice"


async def test_another_users_secret_does_not_match() -> None:
    outcome = await submit(make(Account(), FrozenClock(NOW)), code_at(NOW, new_totp_secret()))
    assert message(outcome) == ("Invalid or already used code", 401)


async def test_an_unusable_stored_secret_fails_401_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outcome = await submit(make(Account(secret="not base32!"), FrozenClock(NOW)), "123456")
    assert message(outcome) == ("Invalid or already used code", 401)
    assert "stored secret unusable" in caplog.text


async def test_a_client_supplied_time_is_ignored() -> None:
    """ASVS V6.5.8: only the server's clock counts."""
    strategy = make(Account(), FrozenClock(NOW))
    old = NOW - 3600
    request = TestRequest(
        json={"code": code_at(old), "timestamp": old}, headers={"X-Client-Time": str(old)}
    )
    assert isinstance(await strategy.authenticate(request, subject_options("alice")), Fail)


# -- malformed codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        TestRequest(form={"code": "12345a"}),
        TestRequest(form={"code": "12345"}),
        TestRequest(form={"code": "1234567"}),
        TestRequest(form={"code": " 123456"}),
        TestRequest(form={"code": "\uff11\uff12\uff13\uff14\uff15\uff16"}),  # fullwidth
        TestRequest(form={"code": "١٢٣٤٥٦"}),
        TestRequest(form={"code": ""}),
        TestRequest(form={"code": "1" * 100_000}),
        TestRequest(form=[("code", "123456"), ("code", "123456")]),
        TestRequest(form={"other": "123456"}),
        TestRequest(json={"code": 123456}),
        TestRequest(json={"code": None}),
        TestRequest(json={"code": ["123456"]}),
        TestRequest(json=["123456"]),
        TestRequest(json={}),
        TestRequest(),
    ],
    ids=lambda r: (r._body or b"empty")[:40].decode(errors="replace"),
)
async def test_malformed_codes_are_refused_with_400(request_: TestRequest) -> None:
    account = Account()
    outcome = await make(account, FrozenClock(NOW)).authenticate(request_, subject_options("alice"))
    assert message(outcome) == ("Enter the 6-digit code", 400)
    assert account.saves == []


async def test_an_unparsable_or_unsupported_body_keeps_its_own_answer() -> None:
    strategy = make(Account(), FrozenClock(NOW))
    broken = TestRequest(body=b'{"code": "12', content_type="application/json")
    assert message(await strategy.authenticate(broken, subject_options("a")))[1] == 400
    text = TestRequest(body=b"123456", content_type="text/plain")
    assert message(await strategy.authenticate(text, subject_options("a")))[1] == 415


async def test_eight_digit_codes_say_so() -> None:
    strategy = make(Account(), FrozenClock(NOW), digits=8)
    assert message(await submit(strategy, "123456")) == ("Enter the 8-digit code", 400)


@pytest.mark.parametrize(
    "options",
    [
        {"valid_window": 3},
        {"valid_window": -1},
        {"digits": 5},
        {"digits": 9},
        {"period": 0},
        {"period": 300},
    ],
)
def test_out_of_range_parameters_raise_at_construction(options: dict[str, int]) -> None:
    with pytest.raises(ConfigurationError, match="TOTP parameters out of range"):
        TotpStrategy(lambda u: None, lambda u, s: None, **options)


def test_the_strategy_is_a_second_factor_proving_otp() -> None:
    strategy = make(Account(), FrozenClock(NOW))
    assert (strategy.name, strategy.amr, strategy.second_factor) == ("totp", ("otp",), True)


# -- enrollment ------------------------------------------------------------------------------


def test_new_secrets_are_160_random_bits_in_base32(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the random module is not a CSPRNG")

    for name in ("random", "getrandbits", "choice", "randbytes"):
        monkeypatch.setattr(random, name, refuse)
    secrets_ = {new_totp_secret() for _ in range(100)}
    assert len(secrets_) == 100
    assert all(len(base64.b32decode(s)) == 20 for s in secrets_)


def test_the_uri_names_issuer_and_account_and_escapes_them() -> None:
    uri = totp_uri(SECRET, "alice smith+tag@example.com/?&#:", "Acme & Co.")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Acme%20%26%20Co.:alice%20smith%2Btag%40example.com%2F%3F%26%23%3A"
    assert not parts.fragment
    issuer, account = unquote(parts.path[1:]).split(":", 1)
    assert (issuer, account) == ("Acme & Co.", "alice smith+tag@example.com/?&#:")
    assert parse_qs(parts.query) == {"secret": [SECRET], "issuer": ["Acme & Co."]}
    assert "+" not in parts.query  # a space is %20: some apps show a + literally


def test_the_uri_reads_back_in_pyotp_with_non_default_parameters() -> None:
    uri = totp_uri(SECRET, "bob", "Acme", digits=8, period=60)
    parsed = pyotp.parse_uri(uri)
    assert isinstance(parsed, pyotp.TOTP)
    assert (parsed.secret, parsed.name, parsed.issuer, parsed.digits, parsed.interval) == (
        SECRET,
        "bob",
        "Acme",
        8,
        60,
    )


@pytest.mark.parametrize(
    ("secret", "account", "issuer"),
    [(SECRET, "a", "Ac:me"), (SECRET, "a", ""), ("not base32!", "a", "Acme")],
)
def test_the_uri_refuses_a_colon_in_the_issuer_and_bad_secrets(
    secret: str, account: str, issuer: str
) -> None:
    with pytest.raises((ConfigurationError, ValueError)):
        totp_uri(secret, account, issuer)


def test_the_qr_code_is_self_contained_svg() -> None:
    svg = totp_qr_svg(totp_uri(SECRET, "alice@example.com", "Acme"), title="<Scan & go>")
    root = ET.fromstring(svg)  # noqa: S314 - our own output; parsing proves it well-formed
    assert root.tag == "svg"
    assert root.find("title").text == "<Scan & go>"  # escaped in the markup
    names = {el.tag for el in root.iter()}
    assert names <= {"svg", "title", "path"}
    attributes = {name.lower() for el in root.iter() for name in el.attrib}
    assert not {a for a in attributes if "href" in a or a.startswith("on") or a == "style"}
    assert "url(" not in svg and SECRET not in svg


def test_enrollment_is_confirmed_only_by_a_valid_code() -> None:
    clock = FrozenClock(NOW)
    secret = new_totp_secret()
    assert confirm_enrollment(secret, code_at(NOW, secret), clock=clock) == NOW // 30
    assert confirm_enrollment(secret, code_at(NOW - 60, secret), clock=clock) is None
    assert confirm_enrollment(secret, code_at(NOW, SECRET), clock=clock) is None
    assert confirm_enrollment(secret, "12345", clock=clock) is None
    assert confirm_enrollment(secret, "abcdef", clock=clock) is None
