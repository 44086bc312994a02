"""Benchmark: exact vs naive mixture-weight simulators (chapter 03), side by side.

Runs ``collapse_utils.exact.categorical.simulate_weights`` with ``method="exact"`` (one
multinomial draw per chain-generation) and ``method="naive"`` (draw the n labels
and count them) in one process, for n = 100 and n = 1000, and prints
chain-generations per second for each and their ratio.

    .venv/bin/python bench/mixture.py
"""

from __future__ import annotations

import os

os.environ.setdefault("COLLAPSE_PROGRESS", "0")

from timing import best_time  # noqa: E402

from collapse_utils.exact.categorical import simulate_weights  # noqa: E402

GENERATIONS = 50


def rate(method: str, weights, n: int, chains: int, repeats: int = 3) -> float:
    """Best of ``repeats`` runs, in chain-generations per second."""
    seeds = iter(range(repeats))
    best = best_time(lambda: simulate_weights(weights, n, GENERATIONS, chains, seed=next(seeds), method=method), repeats)
    return chains * GENERATIONS / best


def main() -> None:
    print(f"{'K':>3} {'n':>6} {'exact (chain-gen/s)':>20} {'naive (chain-gen/s)':>20} {'ratio':>8}")
    for weights in ([0.5, 0.5], [0.4, 0.3, 0.2, 0.1]):
        for n in (100, 1000):
            exact = rate("exact", weights, n, chains=200_000)
            naive = rate("naive", weights, n, chains=max(200, 400_000 // n), repeats=2)
            print(f"{len(weights):>3} {n:>6} {exact:>20.3g} {naive:>20.3g} {exact / naive:>8.0f}")


if __name__ == "__main__":
    main()
