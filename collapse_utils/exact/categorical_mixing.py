"""A minority mixture component when real data is mixed in: exact presence chains.

The Wright–Fisher chain of :mod:`collapse_utils.exact.categorical` with ``k = real_fraction * n``
real points per generation, fresh or from one fixed pool.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from collapse_utils.checks import (
    check_bool,
    check_fractions,
    check_int,
    check_memory,
    check_number,
    check_seed,
)

__all__ = ["minority_presence", "minority_stationary", "minority_loss_forever", "simulate_minority"]


def _binom_pmf_matrix(size: int, n: int) -> np.ndarray:
    """P[j, c] = P(Binomial(size, j/n) = c) for j = 0..n, c = 0..size."""
    p = np.arange(n + 1) / n
    return stats.binom.pmf(np.arange(size + 1)[None, :], size, p[:, None])


def _step_matrix(n: int, k: int, extra: np.ndarray) -> np.ndarray:
    """Transition of the count: C' = R + Binomial(n - k, C/n), R ~ extra (pmf on 0..k)."""
    syn = _binom_pmf_matrix(n - k, n)  # (n+1, n-k+1)
    P = np.zeros((n + 1, n + 1))
    for r, pr in enumerate(extra):
        if pr > 0:
            P[:, r : r + n - k + 1] += pr * syn
    return P


def _minority_args(w, n, real_fraction, fresh):
    w = check_number("w", w, 0.0, 1.0, strict=True)
    if w >= 1:
        raise ValueError(f"w must be a number in (0, 1); got {w!r}")
    n = check_int("n", n, 1, 3000)
    lam = check_fractions("real_fraction", real_fraction)
    fresh = check_bool("fresh", fresh)
    ks = np.rint(lam * n).astype(int)
    if not fresh and lam.ndim != 0:
        raise ValueError("real_fraction must be a single number when fresh=False (one fixed pool)")
    return w, n, lam, fresh, ks


def minority_presence(w: float, n: int, real_fraction, generations: int, *, fresh: bool = True) -> np.ndarray:
    """P(a component of true weight w has positive weight at generation t), t = 0..generations (chapter 08).

    Exact, from the Markov chain of its count C_t among the n training points:
    C_(t+1) = R_t + Binomial(n - k, C_t / n), with k = round(real_fraction * n)
    real points of which R_t come from the component: R_t ~ Binomial(k, w)
    afresh each generation (``fresh=True``; ``real_fraction`` may then be an
    array of length ``generations``, entry t - 1 used for generation t >= 2), or
    a fixed R drawn once with the pool (``fresh=False``). Generation 1 is fitted
    to n real points. n <= 3000.

    Book: {prf:ref}`prop-08-minority`
    """
    w, n, lam, fresh, ks = _minority_args(w, n, real_fraction, fresh)
    generations = check_int("generations", generations, 0)
    if lam.ndim == 1 and lam.size != generations:
        raise ValueError(f"real_fraction as an array must have length generations={generations}; got {lam.size}")
    out = np.ones(generations + 1)
    if generations == 0:
        return out
    if fresh:
        dist = stats.binom.pmf(np.arange(n + 1), n, w)
        out[1] = 1 - dist[0]
        cache: dict[int, np.ndarray] = {}
        for t in range(2, generations + 1):
            k = int(ks if ks.ndim == 0 else ks[t - 1])
            if k not in cache:
                cache[k] = _step_matrix(n, k, stats.binom.pmf(np.arange(k + 1), k, w))
            dist = dist @ cache[k]
            out[t] = 1 - dist[0]
        return out
    k = int(ks)
    syn = _binom_pmf_matrix(n - k, n)
    total = np.zeros(generations + 1)
    for r, pr in enumerate(stats.binom.pmf(np.arange(k + 1), k, w)):
        if pr < 1e-15:
            continue
        dist = np.zeros(n + 1)
        dist[r : r + n - k + 1] = stats.binom.pmf(np.arange(n - k + 1), n - k, w)
        P = np.zeros((n + 1, n + 1))
        P[:, r : r + n - k + 1] = syn
        total[1] += pr * (1 - dist[0])
        for t in range(2, generations + 1):
            dist = dist @ P
            total[t] += pr * (1 - dist[0])
    out[1:] = total[1:]
    return out


def minority_stationary(w: float, n: int, real_fraction: float) -> np.ndarray:
    """Stationary law of the component's count under ``mix`` with fresh real data (chapter 08).

    The pmf over 0..n of the chain of :func:`minority_presence` in the long
    run; its mean is n w, and its value at 0 is the long-run share of
    generations in which the component is absent. Needs round(real_fraction n) >= 1.

    Book: {prf:ref}`prop-08-minority`
    """
    w, n, lam, _, ks = _minority_args(w, n, real_fraction, True)
    if lam.ndim != 0 or int(ks) < 1:
        raise ValueError(f"real_fraction must be one number with round(real_fraction * n) >= 1; got {real_fraction!r}")
    k = int(ks)
    P = _step_matrix(n, k, stats.binom.pmf(np.arange(k + 1), k, w))
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(abs(vals - 1))])
    pi = np.clip(pi / pi.sum(), 0, None)
    return pi / pi.sum()


def minority_loss_forever(w: float, n: int, real_fraction: float, *, fresh: bool = True) -> float:
    """P(the component is eventually lost for good) under ``mix`` (chapter 08).

    Fresh real data re-introduce it with positive probability every generation,
    so the answer is 0 when round(real_fraction n) >= 1; a fixed pool keeps it
    alive for ever exactly when the pool contains it: (1 - w)^k. With no real
    data (replace) it is 1 - w (chapter 03).

    Book: {prf:ref}`prop-08-minority`
    """
    w, n, lam, fresh, ks = _minority_args(w, n, real_fraction, fresh)
    if lam.ndim != 0:
        raise ValueError(f"real_fraction must be a single number; got {real_fraction!r}")
    k = int(ks)
    if k == 0:
        return 1.0 - w
    return 0.0 if fresh else float((1.0 - w) ** k)


def simulate_minority(w: float, n: int, real_fraction: float, generations: int, chains: int, *,
                      fresh: bool = True, seed=None) -> np.ndarray:
    """Simulated count of a component of true weight w among the n training points, per chain.

    The chain of :func:`minority_presence`, drawn with one binomial per
    chain-generation (vectorised over chains): generation 1 is fitted to n real
    points; generation t >= 2 to ``k = round(real_fraction * n)`` real points
    (fresh draws, or the first k points of generation 1's real set when
    ``fresh=False``) and n - k samples of generation t - 1, whose weight is
    C_(t-1) / n. Returns the counts, shape ``(chains, generations + 1)``; column
    0 is the true distribution, written as ``n * w``. The test checks it against
    the exact presence and against :func:`collapse_utils.loop.run_chains` with
    :class:`collapse_utils.families.categorical.CategoricalFamily`.

    Book: {prf:ref}`prop-08-minority`
    """
    w, n, lam, fresh, ks = _minority_args(w, n, real_fraction, fresh)
    if lam.ndim != 0:
        raise ValueError("real_fraction must be a single number here")
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    k = int(ks)
    seed = check_seed("seed", seed)
    check_memory(f"simulate_minority({chains=}, {generations=})", 8 * chains * (generations + 4),
                 "simulate fewer chains or generations at a time")
    rng = np.random.default_rng(seed)
    counts = np.empty((chains, generations + 1))
    counts[:, 0] = n * w
    if generations == 0:
        return counts
    if fresh:
        count = rng.binomial(n, w, size=chains)
    else:
        pool = rng.binomial(k, w, size=chains)  # the component's points in the fixed real pool
        count = pool + rng.binomial(n - k, w, size=chains)  # generation 1: n real points
    counts[:, 1] = count
    for t in range(2, generations + 1):
        real = rng.binomial(k, w, size=chains) if fresh else pool
        count = real + rng.binomial(n - k, count / n)
        counts[:, t] = count
    return counts

