"""Benchmark the exact and the naive Gaussian simulators side by side (chapter 02).

Run: ``.venv/bin/python bench/theory.py`` (options: ``--repeats``, ``--seconds``).

Both simulators come from :func:`collapse_utils.exact.gaussian.simulate` and are
vectorised over chains: ``exact`` draws one chi-square and one normal per
chain-generation, ``naive`` draws the n samples and refits. For n = 100 and
n = 1000 the script prints chain-generations per second for each, and the
ratio. Each measurement is the best of ``--repeats`` runs after one warm-up run;
the problem size is chosen so that one run takes about ``--seconds``.
"""

from __future__ import annotations

import argparse
import os
import platform

from timing import best_time

from collapse_utils.exact.gaussian import simulate


def rate(method: str, n: int, generations: int, chains: int, repeats: int) -> float:
    """Best chain-generations per second over ``repeats`` runs (after a warm-up)."""
    simulate(n, generations, chains, method=method, seed=0)
    seeds = iter(range(1, repeats + 1))
    best = best_time(lambda: simulate(n, generations, chains, method=method, seed=next(seeds)), repeats)
    return generations * chains / best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best is kept)")
    parser.add_argument("--seconds", type=float, default=0.5, help="rough duration of one naive run")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.seconds <= 0:
        parser.error("--repeats must be >= 1 and --seconds > 0")

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, numpy single-threaded generators")
    print(f"{'n':>6} {'exact (chain-gen/s)':>20} {'naive (chain-gen/s)':>20} {'ratio':>8}")
    for n in (100, 1000):
        # exact: 2000 chains x 1000 generations = 2e6 chain-generations per run
        exact = rate("exact", n, generations=1000, chains=2000, repeats=args.repeats)
        # naive: size the run from a quick probe so that it lasts about --seconds
        probe = rate("naive", n, generations=5, chains=200, repeats=1)
        chains = max(100, int(probe * args.seconds / 20))
        naive = rate("naive", n, generations=20, chains=chains, repeats=args.repeats)
        print(f"{n:>6} {exact:>20.3e} {naive:>20.3e} {exact / naive:>8.0f}")


if __name__ == "__main__":
    main()
