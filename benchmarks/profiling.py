"""`--profile`: where our middleware's time goes (cProfile, sorted by own time)."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Sequence

from .timing import Variant


def profile_variants(variants: Sequence[Variant], n: int) -> None:
    """Print the 25 most expensive functions (own time) for `n` requests of each variant."""
    for variant in variants:
        profiler = cProfile.Profile()
        profiler.enable()
        variant.run_batch(n)
        profiler.disable()
        print(f"\n--- profile: {variant.name}, {n} requests ---")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
