"""The one timing helper of the benchmark scripts: best wall time of repeated runs."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(f: Callable[[], object], repeats: int) -> float:
    """Smallest wall time, in seconds, of ``repeats`` calls of ``f()``."""
    best = float("inf")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best
