"""`Limit`, how many failed attempts a bucket allows and how long it waits after, and
`Refusal`, the answer for an attempt that must wait."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["Limit", "Refusal", "Scope"]

Scope: TypeAlias = Literal["account", "ip"]
"""Which bucket refused: the account's or the client address's."""


@dataclass(frozen=True, slots=True)
class Limit:
    """`attempts` attempts in `window` seconds, then a wait before each further one.

    The wait after the `attempts`-th attempt is `base_delay` seconds and doubles with each
    attempt made after a wait, up to `max_delay`: the account slows down, it is not locked.
    A bucket is forgotten `window` seconds after its first attempt (or once its wait is over,
    if later).
    """

    attempts: int
    window: float
    base_delay: float
    max_delay: float

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int):
            raise TypeError(f"Limit.attempts must be an int, got {self.attempts!r}")
        if self.attempts < 1:
            raise ValueError(f"Limit.attempts must be 1 or more, got {self.attempts}")
        for name in ("window", "base_delay", "max_delay"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
                raise ValueError(f"Limit.{name} must be a positive number of seconds: {value!r}")
        if self.max_delay < self.base_delay:
            raise ValueError(
                f"Limit.max_delay ({self.max_delay:g} s) must be at least base_delay "
                f"({self.base_delay:g} s)"
            )

    def delay(self, count: int) -> float:
        """The wait after the `count`-th attempt in the window (0 before `attempts`)."""
        if count < self.attempts:
            return 0.0
        # Capped exponent: 2 ** 1000 is still a float, 2 ** 10_000 would overflow.
        return float(min(self.base_delay * 2.0 ** min(count - self.attempts, 64), self.max_delay))


@dataclass(frozen=True, slots=True)
class Refusal:
    """An attempt refused: the `scope` bucket is waiting for `retry_after` more seconds."""

    scope: Scope
    retry_after: int
