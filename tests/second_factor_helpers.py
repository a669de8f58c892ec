"""A test-only second factor and the passport the pending-login tests share.

`CodeStrategy` accepts the code "123456" (form field or JSON `code`) for the subject the engine
gives it, as a real one-time-code strategy checks a code against the subject's own secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from remember_store import RememberStore, remember_passport
from users import User, UserStore

from passport_py import Authenticator, Strategy
from passport_py.events import Event
from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Outcome
from passport_py.request import AuthRequest, media_type

CODE = "123456"
START = 1_800_000_000.0


class CodeStrategy(Strategy):
    """A second factor: the right code is `CODE`, for whoever the subject is."""

    name = "code"
    amr = ("otp",)
    second_factor = True

    def __init__(self) -> None:
        #: The users whose codes were checked, in order.
        self.checked: list[Any] = []

    async def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Outcome:
        subject = options.subject
        assert subject is not None  # the engine never calls a second factor without one
        self.checked.append(subject.user)
        if media_type(request) == "application/json":
            data = await request.json()
            code = data.get("code") if isinstance(data, dict) else None
        else:
            code = (await request.form()).get("code")
        if code != CODE:
            return self.fail({"message": "Wrong code"}, 401)
        return self.success(subject.user, {"message": "Welcome"})


class Clock:
    """The session manager's clock: `now` until the test moves it."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Kit:
    """A passport with local (alice has the "code" factor, bob none), remember-me and code."""

    passport: Authenticator[User]
    users: UserStore
    tokens: RememberStore
    code: CodeStrategy
    clock: Clock
    events: list[Event] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]


def pending_kit() -> Kit:
    users = UserStore.default()
    passport, tokens = remember_passport(users)
    code = CodeStrategy()
    passport.use(code)
    passport.second_factors(lambda user: ["code"] if user.username == "alice" else [])
    passport.second_factor_url = "/login/second-factor"
    clock = Clock()
    passport.sessions.clock = clock
    kit = Kit(passport, users, tokens, code, clock)
    passport.events.on(Event, kit.events.append)
    return kit
