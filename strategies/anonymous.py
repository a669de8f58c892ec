"""`AnonymousStrategy`: lets a request through unauthenticated, as the last of a chain."""

from __future__ import annotations

from passport_py.options import AuthenticateOptions
from passport_py.outcomes import Pass
from passport_py.request import AuthRequest
from passport_py.strategy import Strategy

__all__ = ["AnonymousStrategy"]


class AnonymousStrategy(Strategy):
    """Always passes: `authenticate(["bearer", "anonymous"])` serves users with a valid token
    and anonymous visitors alike; the view tells them apart by whether there is a user.

    The failures of the strategies before it are dropped, as in Passport: a wrong or
    malformed token also reaches the view as an anonymous request.
    """

    name = "anonymous"

    def authenticate(self, request: AuthRequest, options: AuthenticateOptions) -> Pass:
        """Make no decision: the request goes on without a user."""
        return self.pass_()
