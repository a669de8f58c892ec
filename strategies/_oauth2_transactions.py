"""Pending authorization requests, kept in the user's session until their callback.

Each request the strategy sends to a provider is a transaction: its `state` (the key), the PKCE
verifier, the exact `redirect_uri`, the app's own state and, for OpenID Connect, the nonce and
issuer. They live in `session["oauth2:<provider host>"]` as `{state: transaction}` so that
two tabs can each finish their own login. A callback consumes the transaction its `state` names
(one-shot); a callback whose `state` names none, or none that is still fresh, drops every
pending transaction of that provider, so nothing can be replayed against them.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

from passport_py.errors import SessionRequiredError
from passport_py.outcomes import Fail
from passport_py.request import AuthRequest

__all__ = [
    "INVALID_STATE",
    "UNABLE_TO_VERIFY",
    "begin_transaction",
    "consume_transaction",
    "new_secret",
]

UNABLE_TO_VERIFY = "Unable to verify authorization request state."
INVALID_STATE = "Invalid authorization request state."
EXPIRED = "The authorization request has expired; please try again."

#: Pending transactions kept per provider; starting one more drops the oldest.
MAX_PENDING = 3


def new_secret() -> str:
    """256 random bits from `secrets`, base64url (43 characters): states, verifiers, nonces."""
    return secrets.token_urlsafe(32)


def _session(request: AuthRequest) -> Any:
    session = request.session
    if session is None:
        raise SessionRequiredError(
            f"{request.session_required_hint()}; OAuth 2.0 keeps each login's state there",
            for_login=False,
        )
    return session


def begin_transaction(request: AuthRequest, key: str, transaction: Mapping[str, Any]) -> str:
    """Keep `transaction` in the session under a new state; return the state."""
    session = _session(request)
    state = new_secret()
    pending = session.get(key)
    kept = dict(pending) if isinstance(pending, Mapping) else {}
    while len(kept) >= MAX_PENDING:
        oldest = min(kept, key=lambda s: _issued(kept[s]))
        del kept[oldest]
    kept[state] = {**transaction, "issued": int(time.time())}
    # A new dict each time: Flask's cookie session notices assignments, not nested changes.
    session[key] = kept
    return state


def consume_transaction(
    request: AuthRequest,
    key: str,
    state: str | None,
    max_age: float,
    bound: Mapping[str, Any],
) -> dict[str, Any] | Fail:
    """The transaction `state` names, removed from the session; or the 403 failure.

    No pending transaction: "Unable to verify ..."; a `state` that is missing, names none, or
    names one started by another client (its `bound` fields differ: another client id or
    provider sharing the session key): "Invalid ..."; one older than `max_age` seconds:
    expired. Every failure also drops the provider's other pending transactions.
    """
    session = _session(request)
    pending = session.get(key)
    if not isinstance(pending, Mapping) or not pending:
        if key in session:
            del session[key]
        return Fail({"message": UNABLE_TO_VERIFY}, 403)
    found = None
    if state is not None:
        wanted = state.encode("utf-8", "surrogatepass")
        for candidate in pending:
            # Every candidate is compared, each in constant time: no early exit to time.
            if hmac.compare_digest(str(candidate).encode("utf-8", "surrogatepass"), wanted):
                found = candidate
    transaction = pending.get(found) if found is not None else None
    if not isinstance(transaction, Mapping) or any(
        transaction.get(name) != value for name, value in bound.items()
    ):
        del session[key]
        return Fail({"message": INVALID_STATE}, 403)
    rest = {s: t for s, t in pending.items() if s != found}
    if rest:
        session[key] = rest
    else:
        del session[key]
    if time.time() - _issued(transaction) > max_age:
        if rest:
            del session[key]
        return Fail({"message": EXPIRED}, 403)
    return dict(transaction)


def _issued(transaction: Any) -> float:
    issued = transaction.get("issued") if isinstance(transaction, Mapping) else None
    return float(issued) if isinstance(issued, int | float) else 0.0
