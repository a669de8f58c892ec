"""passport_py: authentication for Python web apps in the spirit of Passport.js."""

from __future__ import annotations

from passport_py._async import call, maybe_await, run_sync
from passport_py.authenticator import Authenticator
from passport_py.cookies import Cookie
from passport_py.decisions import AuthResult, Decision, Handoff, Proceed, Respond
from passport_py.errors import (
    AuthenticationError,
    BadRequest,
    ConfigurationError,
    PassportError,
    PassToNext,
    SerializationError,
    SessionRequiredError,
    StrategyError,
    SyncContextError,
    UnknownStrategyError,
)
from passport_py.options import AuthenticateOptions, Subject
from passport_py.outcomes import (
    Fail,
    Outcome,
    Pass,
    Redirect,
    Rejected,
    Success,
    Verified,
    outcome_from_verify,
)
from passport_py.redirects import is_safe_redirect, safe_redirect
from passport_py.request import AuthRequest, Session
from passport_py.strategy import Strategy

__version__ = "0.1.0"

__all__ = [
    "AuthRequest",
    "AuthResult",
    "AuthenticateOptions",
    "AuthenticationError",
    "Authenticator",
    "BadRequest",
    "ConfigurationError",
    "Cookie",
    "Decision",
    "Fail",
    "Handoff",
    "Outcome",
    "Pass",
    "PassToNext",
    "PassportError",
    "Proceed",
    "Redirect",
    "Rejected",
    "Respond",
    "SerializationError",
    "Session",
    "SessionRequiredError",
    "Strategy",
    "StrategyError",
    "Subject",
    "Success",
    "SyncContextError",
    "UnknownStrategyError",
    "Verified",
    "__version__",
    "call",
    "is_safe_redirect",
    "maybe_await",
    "outcome_from_verify",
    "run_sync",
    "safe_redirect",
]
