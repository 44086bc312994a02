"""Independent checks of chapter 03's exercise answers (collapse_utils.answers.ch03).

Exact values are recomputed from a Wright-Fisher transition matrix built here
with scipy's binomial distribution; Monte-Carlo checks draw binomial chains with
numpy at fixed seeds and allow Z = 4 standard errors (a false alarm has
probability about 6e-5 per comparison).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from collapse_utils.answers import solve

Z = 4.0  # standard errors allowed for Monte-Carlo estimates


def _matrix(n: int) -> np.ndarray:
    j = np.arange(n + 1)
    return stats.binom.pmf(j[None, :], n, j[:, None] / n)


def _loss_by(w: float, n: int, t: int) -> float:
    """P(count is 0 at generation t), by propagating the law of the count."""
    dist = stats.binom.pmf(np.arange(n + 1), n, w)  # generation 1
    P = _matrix(n)
    for _ in range(t - 1):
        dist = dist @ P
    return float(dist[0])


def _chains(w: float, n: int, generations: int, chains: int, seed: int) -> np.ndarray:
    """Counts of a component over generations 1..generations, shape (chains, generations)."""
    rng = np.random.default_rng(seed)
    counts = np.empty((chains, generations), dtype=int)
    c = rng.binomial(n, w, chains)
    for t in range(generations):
        counts[:, t] = c
        c = rng.binomial(n, c / n)
    return counts


def _within(values: np.ndarray, exact: float) -> bool:
    se = values.std(ddof=1) / math.sqrt(values.size)
    return abs(values.mean() - exact) <= Z * se


def test_sample_size():
    ans = solve("ex-03-sample-size")
    w, p, n = ans["w"], ans["p"], ans["n"]
    assert (w, p, n) == (0.01, 0.99, 100)
    # brute force: the smallest sample size whose miss probability is at most 1 - p
    sizes = np.arange(1, 2000)
    assert ans["n_needed"] == sizes[stats.binom.pmf(0, sizes, w) <= 1 - p][0]
    assert math.isclose(ans["n_bound"], math.log(1 - p) / math.log(1 - w))
    # S_2 = 1 - E[(1 - C_1/n)^n], C_1 ~ Binomial(n, w)
    j = np.arange(n + 1)
    s2 = 1 - np.sum(stats.binom.pmf(j, n, w) * (1 - j / n) ** n)
    assert math.isclose(ans["s2"], s2, rel_tol=1e-10)
    assert math.isclose(ans["s1"], 1 - stats.binom.pmf(0, n, w), rel_tol=1e-10)
    counts = _chains(w, n, 2, 100_000, seed=11)
    assert _within((counts[:, 1] > 0).astype(float), ans["s2"])


def test_equal_components():
    ans = solve("ex-03-equal-components")
    n = ans["n"]
    assert n == 100
    rng = np.random.default_rng(12)
    draws = rng.integers(0, n, size=(20_000, n))
    distinct = np.array([np.unique(row).size for row in draws], dtype=float)
    assert _within(distinct, ans["distinct"])
    assert math.isclose(ans["lost_share"], 1 - ans["distinct"] / n)
    assert math.isclose(ans["approx"], n * (1 - math.exp(-1)))


def test_loss_within():
    ans = solve("ex-03-loss-within")
    w, n = ans["w"], ans["n"]
    assert (w, n) == (0.01, 100)
    assert (ans["t_a"], ans["t_b"], ans["t_c"]) == (1, 10, 100)
    counts = _chains(w, n, ans["t_c"], 40_000, seed=13)
    for key in ("a", "b", "c"):
        t = ans[f"t_{key}"]
        assert math.isclose(ans[f"exact_{key}"], _loss_by(w, n, t), rel_tol=1e-9)
        assert _within((counts[:, t - 1] == 0).astype(float), ans[f"exact_{key}"])
    # Kimura's series depends on t / n only and is the limit of the chain as n grows
    # with w fixed: check it against the exact chain at a ten times larger population
    # (the diffusion error there is below 0.01, far smaller than at n = 100).
    big = 10 * n
    for key in ("b", "c"):
        assert abs(ans[f"kimura_{key}"] - _loss_by(w, big, 10 * ans[f"t_{key}"])) < 0.01
    # at t = 1 the series is far from the chain, which loses (1 - w)^n at once
    assert ans["kimura_a"] < ans["exact_a"] / 2
    assert ans["limit"] == 1 - w


def test_absorption():
    ans = solve("ex-03-absorption")
    n = ans["n"]
    assert (n, ans["w_half"]) == (100, 0.5)
    P = _matrix(n)
    Q = P[1:n, 1:n]
    tau = np.linalg.solve(np.eye(n - 1) - Q, np.ones(n - 1))  # generations to absorption from j
    for key, w in (("rare", 1 / n), ("half", 0.5)):
        first = stats.binom.pmf(np.arange(n + 1), n, w)
        assert math.isclose(ans[f"exact_{key}"], 1 + first[1:n] @ tau, rel_tol=1e-9)
        assert math.isclose(ans[f"kimura_{key}"], -2 * n * (w * math.log(w) + (1 - w) * math.log(1 - w)))
    # Monte Carlo of the rare case: first generation with count 0 or n
    rng = np.random.default_rng(14)
    c = rng.binomial(n, 1 / n, 20_000)
    times = np.ones(c.size)
    while True:
        open_ = (c > 0) & (c < n)
        if not open_.any():
            break
        times[open_] += 1
        c[open_] = rng.binomial(n, c[open_] / n)
    assert _within(times, ans["exact_rare"])
