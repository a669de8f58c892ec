"""The passport `settings.PASSPORT_AUTHENTICATOR` names.

`PassportMiddleware` reads it once, when a handler loads its middleware: set `current` before
building a client (`make_client` and the test kits do), and each client keeps its own passport.
"""

from __future__ import annotations

from typing import Any

from passport_py import Authenticator

current: Authenticator[Any] | None = None
