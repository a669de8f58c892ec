"""Timing variants in interleaved rounds, whatever kind of app each one calls."""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

#: (status, headers with lower-case names, body) of one response.
Answer: TypeAlias = tuple[int, dict[bytes, bytes], bytes]


@dataclass
class Variant:
    """One app + request to time; `samples` holds µs per request, one per round.

    `run_batch(n)` makes `n` requests and returns the seconds they took; `call_once()` makes
    one and returns `(status, headers, body)`, so a benchmark can check what it measures.
    """

    name: str
    run_batch: Callable[[int], float]
    call_once: Callable[[], Answer]
    samples: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def measure(
    variants: Sequence[Variant], rounds: int, per_round: int, warmup: int | None = None
) -> None:
    """Time each variant `rounds` times, interleaved (the order rotates every round), after
    `warmup` calls each (default: a tenth of a round, at least 10).

    GC runs between batches, not inside them (as `timeit` does), so one variant does not
    pay for another's garbage.
    """
    for variant in variants:  # warm-up: build middleware stacks, fill caches
        variant.run_batch(max(per_round // 10, 10) if warmup is None else warmup)
    order = list(variants)
    for round_no in range(rounds):
        shift = round_no % len(order)
        for variant in order[shift:] + order[:shift]:
            gc.collect()
            gc.disable()
            try:
                seconds = variant.run_batch(per_round)
            finally:
                gc.enable()
            variant.samples.append(seconds / per_round * 1e6)


def count_calls(owner: type, method: str, fn: Callable[[], Any]) -> int:
    """How many times `owner.method` runs while `fn()` runs (it is patched meanwhile)."""
    original = getattr(owner, method)
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    setattr(owner, method, counting)
    try:
        fn()
    finally:
        setattr(owner, method, original)
    return calls
