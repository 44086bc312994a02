"""The exact simulators against the raw rate of the random numbers they draw (issue 18).

Run: ``.venv/bin/python bench/simulators.py`` (options: ``--repeats``, ``--generations``,
``--chains``).

Each exact simulator of ``collapse_utils.exact`` needs a few random variates per
chain-generation (a chi-square and a normal for the refitted Gaussian, a binomial
per component for the mixture weights, ...). Its speed limit is the rate at which
numpy's generator alone draws those variates. For a small and a large run (2,000
and 200,000 chains by default, 50 generations) the script prints, side by side,
in one process:

- the simulator's chain-generations per second;
- the raw rate: the same variates of the same laws, drawn by the same
  ``numpy.random.Generator`` in blocks of 32,768 into one reused buffer (no
  arithmetic, no memory traffic beyond the cache), in chain-generations per second.
  The binomials of the mixture weights are drawn with the very trials and
  probabilities a run of the simulator used (their speed depends on them);
- their ratio (1 = as fast as drawing the numbers alone).

Each figure is the best of ``--repeats`` runs after one warm-up run, on one thread.
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
from timing import best_time

from collapse_utils.exact.categorical import simulate_weights
from collapse_utils.exact.gaussian import simulate
from collapse_utils.exact.gaussian_mixing import simulate_accumulate, simulate_mix

N = 100  # points per generation in every case
BLOCK = 1 << 15


def raw_rate(draws, cells: int, repeats: int) -> float:
    """Chain-generations per second of drawing ``draws`` per cell.

    A draw is a function ``(rng, out, start)`` that fills ``out`` with the variates of cells
    ``start, start + 1, ...``."""
    rng = np.random.default_rng(0)
    buf = np.empty(min(BLOCK, cells))

    def run():
        for start in range(0, cells, buf.size):
            out = buf[: min(buf.size, cells - start)]
            for draw in draws:
                draw(rng, out, start)

    run()
    return cells / best_time(run, repeats)


def sim_rate(call, cells: int, repeats: int) -> float:
    call(0)
    seeds = iter(range(1, repeats + 1))
    return cells / best_time(lambda: call(next(seeds)), repeats)


def normal(rng, out, start):
    rng.standard_normal(out=out)


def gamma(shape):
    def draw(rng, out, start):
        rng.standard_gamma(shape, out=out)

    return draw


def binomials(weights, generations, chains):
    """The binomial draws simulate_weights makes, with the probabilities it draws them with.

    Component j of generation t + 1 is Binomial(n - counts before j, p_j / sum_(i>=j) p_i) with
    p generation t's weights: taken from a run of the simulator (a chain that lost a component
    draws with probability 0 or 1, which is faster than 0.3)."""
    counts = simulate_weights(weights, N, generations, chains, seed=0)[:, :-1]  # (chains, generations, K)
    p = counts / N
    tail = np.cumsum(p[..., ::-1], axis=-1)[..., ::-1]
    q = np.divide(p, tail, out=np.zeros_like(p), where=tail > 0)
    before = np.cumsum(counts, axis=-1) - counts
    draws = []
    for j in range(len(weights) - 1):
        trials = (N - before[..., j]).astype(np.int64).ravel()
        prob = np.clip(q[..., j], 0.0, 1.0).ravel()

        def draw(rng, out, start, trials=trials, prob=prob):
            out[:] = rng.binomial(trials[start : start + out.size], prob[start : start + out.size])

        draws.append(draw)
    return draws


#: name, the variates one chain-generation needs, the draws (generations, chains -> list),
#: the simulator call (generations, chains -> (seed -> result))
CASES = [
    (
        "exact.gaussian.simulate",
        "1 chi-square, 1 normal",
        lambda g, c: [gamma((N - 1) / 2), normal],
        lambda g, c: lambda s: simulate(N, g, c, seed=s),
    ),
    (
        "gaussian_mixing.simulate_mix (10% fresh)",
        "2 chi-squares, 2 normals",
        lambda g, c: [gamma((N // 10 - 1) / 2), gamma((N - N // 10 - 1) / 2), normal, normal],
        lambda g, c: lambda s: simulate_mix(N, 0.1, g, c, seed=s),
    ),
    (
        "gaussian_mixing.simulate_accumulate",
        "1 chi-square, 1 normal",
        lambda g, c: [gamma((N - 1) / 2), normal],
        lambda g, c: lambda s: simulate_accumulate(N, g, c, seed=s),
    ),
    (
        "categorical.simulate_weights K=2",
        "1 binomial",
        lambda g, c: binomials([0.3, 0.7], g, c),
        lambda g, c: lambda s: simulate_weights([0.3, 0.7], N, g, c, seed=s),
    ),
    (
        "categorical.simulate_weights K=4",
        "3 binomials",
        lambda g, c: binomials([0.1, 0.2, 0.3, 0.4], g, c),
        lambda g, c: lambda s: simulate_weights([0.1, 0.2, 0.3, 0.4], N, g, c, seed=s),
    ),
]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best is kept)")
    parser.add_argument("--generations", type=int, default=50, help="generations per run")
    parser.add_argument(
        "--chains", type=int, nargs=2, default=(2_000, 200_000), help="chains of the small and the large run"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.generations < 1 or min(args.chains) < 1:
        parser.error("--repeats, --generations and --chains must be >= 1")

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, one thread")
    print(f"n = {N} points per generation, {args.generations} generations; rates in chain-generations/s")
    head = f"{'simulator':<42} {'chains':>8} {'simulator':>11} {'raw draws':>11} {'ratio':>6}  variates"
    print(head)
    print("-" * len(head))
    for name, variates, draws, make in CASES:
        for chains in args.chains:
            cells = chains * args.generations
            sim = sim_rate(make(args.generations, chains), cells, args.repeats)
            raw = raw_rate(draws(args.generations, chains), cells, args.repeats)
            print(f"{name:<42} {chains:>8,} {sim:>11.3g} {raw:>11.3g} {sim / raw:>6.2f}  {variates}", flush=True)


if __name__ == "__main__":
    main()
