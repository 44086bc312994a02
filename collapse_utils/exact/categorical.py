"""Mixture weights under iterative retraining: neutral Wright–Fisher drift.

Chapter 03 ("Tails vanish"). A mixture whose components the model identifies
perfectly is refitted each generation to ``n`` samples of the previous fit, so
its weights are re-estimated by the empirical frequencies of the labels: the
counts follow ``K_(t+1) ~ Multinomial(n, K_t / n)``, the neutral Wright–Fisher
chain of population genetics (a component is an allele, ``n`` the population
size).

Conventions, the same as :func:`collapse_utils.loop.run` with ``initial_model``:

- generation 0 is the **true** distribution, with weights ``w`` (any real
  numbers, not necessarily multiples of 1/n); generation 1 is fitted to ``n``
  samples of it, so its counts are ``Multinomial(n, w)``;
- a component **survives** at generation t if the model of generation t gives
  it a positive weight; without filtering that means at least one of its
  samples is in generation t's training set. It is **lost** otherwise (and
  then for ever), and it **takes over** when its weight is 1.

Two data-pipeline variants change the fitted weights (options of every
function here, and of :class:`CategoricalFamily`):

- ``min_count=m`` (deduplication / filtering of rare content): a component
  with fewer than ``m`` samples in a training set is dropped from it;
- ``oversample=c`` with ``rare=r`` (targeted oversampling): the samples of a
  component whose share of the ``n`` samples is below ``r`` count ``c`` times.

Without them (``min_count=1``, ``oversample=1``) the chain is exactly
Wright–Fisher. The exact functions treat one component against the rest
(K = 2); a component's count is marginally such a chain for any K.

This module is longer than 400 lines because it is one Markov chain: the
transition matrix, the exact laws, Kimura's diffusion approximations and the
two simulators share its validation and its pipeline options.
"""

from __future__ import annotations

import os
import sys
from functools import lru_cache

import numpy as np
from scipy import stats

from collapse_utils.checks import check_array, check_choice, check_int, check_memory, check_seed

__all__ = [
    "METHODS",
    "MAX_EXACT_N",
    "transition_matrix",
    "survival_probability",
    "transient_probability",
    "loss_probability",
    "expected_time_to_loss",
    "expected_time_to_absorption",
    "kimura_time_to_loss",
    "kimura_time_to_absorption",
    "kimura_time_to_one_component",
    "simulate_weights",
    "simulate_loss_times",
    "check_pipeline",
    "effective_counts",
    "weights_of",
]


METHODS = ("exact", "naive")


#: Largest n for which the exact chain (an (n+1) x (n+1) matrix) is built.
MAX_EXACT_N = 5000


def _check_w(w, open_interval: bool = False) -> np.ndarray:
    allowed = f"a weight {'in (0, 1)' if open_interval else 'in [0, 1]'} (scalar or array)"
    arr = check_array("w", w, allowed)
    bad = (arr < 0) | (arr > 1)
    if open_interval:
        bad |= (arr == 0) | (arr == 1)
    if np.any(bad):
        raise ValueError(f"w must be {allowed}; got {w!r}")
    return arr


def _check_t(t) -> np.ndarray:
    arr = np.asarray(t)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise ValueError(f"t must be a non-negative integer (scalar or array), got {t!r}")
    return arr.astype(np.int64)


def _check_weights(weights) -> np.ndarray:
    arr = check_array("weights", weights, "a 1-D array of at least 2 finite weights")
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"weights must be a 1-D array of at least 2 finite weights, got {weights!r}")
    if np.any(arr < 0) or abs(arr.sum() - 1.0) > 1e-9:
        raise ValueError(
            f"weights must be non-negative and sum to 1, got {weights!r} (sum {arr.sum():.12g})"
        )
    return arr / arr.sum()


def check_pipeline(n: int, k: int, min_count, oversample, rare) -> tuple[int, float, float]:
    """Validate the pipeline options (``min_count``, ``oversample``, ``rare``) for n samples of k
    components; return them as ``(min_count, oversample, rare)``.

    Book: {prf:ref}`def-03-pipeline`
    """
    # m <= n / K guarantees that the largest component (>= n/K samples) is never dropped.
    min_count = check_int("min_count", min_count, 1, max(1, n // k))
    ok = not isinstance(oversample, bool) and isinstance(oversample, (int, float, np.integer, np.floating))
    if not ok or not np.isfinite(oversample) or oversample < 1:
        raise ValueError(f"oversample must be a number >= 1, got {oversample!r}")
    ok = not isinstance(rare, bool) and isinstance(rare, (int, float, np.integer, np.floating))
    if not ok or not 0 <= rare <= 1:
        raise ValueError(f"rare must be a share in [0, 1], got {rare!r}")
    return min_count, float(oversample), float(rare)


def effective_counts(counts: np.ndarray, n: int, min_count: int, oversample: float, rare: float):
    """Training-set counts after filtering (< min_count dropped) and oversampling.

    Book: {prf:ref}`def-03-pipeline`
    """
    eff = counts.astype(float)
    if min_count > 1:
        eff[counts < min_count] = 0.0
    if oversample != 1.0:
        boost = (eff > 0) & (counts < rare * n)
        eff[boost] *= oversample
    return eff


def weights_of(eff: np.ndarray) -> np.ndarray:
    """The fitted weights: effective counts normalised over the last axis.

    Book: {prf:ref}`def-03-pipeline`
    """
    return eff / eff.sum(axis=-1, keepdims=True)


@lru_cache(maxsize=16)
def _chain(n: int, min_count: int, oversample: float, rare: float):
    k = np.arange(n + 1)
    eff = effective_counts(np.stack([k, n - k], axis=1), n, min_count, oversample, rare)
    f = weights_of(eff)[:, 0]  # the fitted weight of the component, from its count k
    # row k: distribution of the next count given this count.
    P = stats.binom.pmf(k[None, :], n, f[:, None])
    P /= P.sum(axis=1, keepdims=True)
    lost = f == 0
    fixed = f == 1
    trans = ~(lost | fixed)
    Q = P[np.ix_(trans, trans)]
    eye = np.eye(int(trans.sum()))
    h = np.where(lost, 1.0, 0.0)  # P(eventual loss | count k)
    u = np.zeros(n + 1)  # E[remaining time ; loss | k]
    v = np.zeros(n + 1)  # E[remaining time to absorption | k]
    if trans.any():
        lu = np.linalg.solve(
            eye - Q,
            np.column_stack([P[np.ix_(trans, lost)].sum(axis=1), np.ones(trans.sum())]),
        )
        h[trans] = lu[:, 0]
        v[trans] = lu[:, 1]
        u[trans] = np.linalg.solve(eye - Q, h[trans])
    for a in (P, f, h, u, v, lost):
        a.setflags(write=False)
    return P, f, lost, h, u, v


def transition_matrix(n: int, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
    """The (n+1) x (n+1) transition matrix of one component's count (chapter 03).

    Row k is the law of the next generation's count when this generation's
    training set holds k of the component's samples; without options it is
    ``Binomial(n, k/n)`` (Wright–Fisher). Read-only.

    Book: {prf:ref}`thm-03-wright-fisher`
    """
    n = check_int("n", n, 1, MAX_EXACT_N)
    return _chain(n, *check_pipeline(n, 2, min_count, oversample, rare))[0]


def _first_counts(w: np.ndarray, n: int) -> np.ndarray:
    """Law of generation 1's count (n draws from the truth): shape w.shape + (n+1,)."""
    return stats.binom.pmf(np.arange(n + 1), n, w[..., None])


def _distributions(w, n, t, opts):
    """Law of the count at each generation in t (t >= 1), shape w.shape + t.shape + (n+1,)."""
    P = _chain(n, *opts)[0]
    flat_t = t.ravel()
    order = np.argsort(flat_t, kind="stable")
    dist = _first_counts(w, n).reshape(-1, n + 1)
    out = np.empty((dist.shape[0], flat_t.size, n + 1))
    now = 1
    power_cache = None
    for i in order:
        gap = int(flat_t[i]) - now
        if gap > 2 * np.log2(max(gap, 2)) * n:  # repeated squaring beats gap mat-vecs
            power_cache = np.linalg.matrix_power(P, gap)
            dist = dist @ power_cache
        else:
            for _ in range(gap):
                dist = dist @ P
        now = int(flat_t[i])
        out[:, i] = dist
    return out.reshape(w.shape + t.shape + (n + 1,))


def _exact_prob(w, n, t, opts, which: str):
    n = check_int("n", n, 1, MAX_EXACT_N)
    w = _check_w(w)
    t = _check_t(t)
    opts = check_pipeline(n, 2, *opts)
    _, f, lost, *_ = _chain(n, *opts)
    at0 = (w > 0) if which == "survival" else ((w > 0) & (w < 1))
    at0 = at0.reshape(w.shape + (1,) * t.ndim)
    result = np.broadcast_to(at0, w.shape + t.shape).astype(float)
    later = t >= 1
    if np.any(later):
        tt = np.maximum(t, 1)
        dist = _distributions(w, n, tt, opts)
        mask = ~lost if which == "survival" else (~lost & (f < 1))
        prob = dist[..., mask].sum(axis=-1)
        result = np.where(later, prob, result)
    return float(result) if result.ndim == 0 else result


def survival_probability(w, n: int, t, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
    """Exact probability that a component of true weight ``w`` survives at generation ``t``.

    Chapter 03. Generation 0 is the true distribution (survival 1 if w > 0);
    generation 1 is fitted to ``n`` samples of it, so ``t = 1`` gives
    ``1 - (1 - w)**n``; as ``t -> oo`` the value tends to ``w`` (the component
    survives for ever only by taking over). Survival means a positive fitted
    weight (without filtering: at least one sample in the training set).
    Computed from the Wright–Fisher transition matrix; ``w`` and ``t`` may be
    arrays (result shape ``w.shape + t.shape``). The options are the data
    pipeline's (see the module docstring).

    Book: {prf:ref}`thm-03-fate`
    """
    return _exact_prob(w, n, t, (min_count, oversample, rare), "survival")


def transient_probability(w, n: int, t, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
    """Exact probability that the component is neither lost nor has taken over at generation ``t``.

    Chapter 03: this is the part of the survival probability that decays
    geometrically, at a rate tending to ``1 - 1/n`` per generation. Same
    conventions and options as :func:`survival_probability`.

    Book: {prf:ref}`thm-03-fate`
    """
    return _exact_prob(w, n, t, (min_count, oversample, rare), "transient")


def _times(w, n, opts, open_interval=True):
    n = check_int("n", n, 1, MAX_EXACT_N)
    w = _check_w(w, open_interval=open_interval)
    opts = check_pipeline(n, 2, *opts)
    _, _, lost, h, u, v = _chain(n, *opts)
    b = _first_counts(w, n)  # law of generation 1's count
    return w, b, lost, h, u, v


def _out(x):
    return float(x) if np.ndim(x) == 0 else x


def loss_probability(w, n: int, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
    """Exact probability that a component of true weight ``w`` is eventually lost (chapter 03).

    ``1 - w`` for pure resampling (the weight is a martingale); filtering raises
    it, oversampling lowers it. Linear solve on the chain's transient states.

    Book: {prf:ref}`thm-03-fate`
    """
    _, b, _, h, _, _ = _times(w, n, (min_count, oversample, rare), open_interval=False)
    return _out(b @ h)


def expected_time_to_loss(w, n: int, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
    """Exact expected generation at which the component is lost, **conditioned on its loss**.

    Chapter 03. Counted from generation 0 = the true distribution: a component
    absent from generation 1's sample is lost at generation 1. Computed by a
    linear solve on the chain's transient states (Doob's h-transform:
    E[T 1_loss] / P(loss)). For the unconditional time to absorption (loss or
    take-over) see :func:`expected_time_to_absorption`; Kimura's diffusion
    approximation is :func:`kimura_time_to_loss`. ``0 < w < 1``.

    Book: {doc}`notebooks/03_tails_vanish`
    """
    _, b, _, h, u, _ = _times(w, n, (min_count, oversample, rare))
    return _out((b @ (h + u)) / (b @ h))


def expected_time_to_absorption(w, n: int, *, min_count: int = 1, oversample: float = 1.0, rare: float = 0.1):
    """Exact expected generation at which the component is lost *or* takes over (chapter 03).

    Unconditional; same conventions as :func:`expected_time_to_loss`.

    Book: {doc}`notebooks/03_tails_vanish`
    """
    _, b, _, _, _, v = _times(w, n, (min_count, oversample, rare))
    return _out(1.0 + b @ v)


def _diffusion_args(w, n):
    n = check_int("n", n, 1)
    return _check_w(w, open_interval=True), n


def kimura_time_to_loss(w, n: int):
    """Diffusion approximation of the expected time to loss given loss: ``-2n w ln w / (1 - w)``.

    Chapter 03; Kimura and Ohta (1969) with the haploid population size n
    (their 4N is 2n here).

    Book: {doc}`notebooks/03_tails_vanish`
    """
    w, n = _diffusion_args(w, n)
    return _out(-2.0 * n * w * np.log(w) / (1.0 - w))


def kimura_time_to_absorption(w, n: int):
    """Diffusion approximation of the expected time to loss or take-over (chapter 03).

    ``-2n [w ln w + (1 - w) ln(1 - w)]`` (Kimura and Ohta 1969, haploid).

    Book: {doc}`notebooks/03_tails_vanish`
    """
    w, n = _diffusion_args(w, n)
    return _out(-2.0 * n * (w * np.log(w) + (1.0 - w) * np.log1p(-w)))


def kimura_time_to_one_component(weights, n: int):
    """Diffusion approximation of the time until one of K components is left (chapter 03).

    ``-2n sum_i (1 - w_i) ln(1 - w_i)`` (Littler 1975, haploid); for K = 2 it
    is :func:`kimura_time_to_absorption`. Zero weights contribute nothing.

    Book: {doc}`notebooks/03_tails_vanish`
    """
    weights = _check_weights(weights)
    n = check_int("n", n, 1)
    if np.any(weights == 1):
        return 0.0
    return float(-2.0 * n * np.sum((1.0 - weights) * np.log1p(-weights)))


def _draw_exact(n: int, p: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One multinomial draw per row of p (chains x K), vectorised over chains.

    Drawn component by component: count_j ~ Binomial(n - count_<j, p_j / sum_(i>=j) p_i),
    which is the multinomial law (numpy's own loop over rows is slower).
    """
    chains, k = p.shape
    counts = np.empty((chains, k))
    tail = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]  # tail[:, j] = sum of p[:, j:]
    remaining = np.full(chains, n, dtype=np.int64)
    for j in range(k - 1):
        q = np.divide(p[:, j], tail[:, j], out=np.zeros(chains), where=tail[:, j] > 0)
        draw = rng.binomial(remaining, np.clip(q, 0.0, 1.0))
        counts[:, j] = draw
        remaining -= draw
    counts[:, k - 1] = remaining
    return counts


def _draw_naive(n: int, p: np.ndarray, rng: np.random.Generator, chunk: int = 2_000_000) -> np.ndarray:
    """Draw the n labels of every chain (inverse CDF) and count them (the reference)."""
    chains, k = p.shape
    counts = np.empty((chains, k))
    step = max(1, chunk // (n * max(k - 1, 1)))
    for start in range(0, chains, step):
        rows = slice(start, min(start + step, chains))
        m = rows.stop - rows.start
        cdf = np.cumsum(p[rows], axis=1)[:, : k - 1]
        u = rng.random((m, n))
        labels = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)  # label of every sample
        flat = labels + (np.arange(m) * k)[:, None]
        counts[rows] = np.bincount(flat.ravel(), minlength=m * k).reshape(m, k)
    return counts


def _progress(total: int, desc: str):
    """A tqdm range: hidden when ``COLLAPSE_PROGRESS=0`` or when output is not interactive."""
    from tqdm.auto import tqdm

    if os.environ.get("COLLAPSE_PROGRESS", "1") == "0":
        disable = True
    else:
        disable = False if "ipykernel" in sys.modules else None
    return tqdm(range(total), desc=desc, disable=disable, leave=False)


def simulate_weights(
    weights,
    n: int,
    generations: int,
    chains: int,
    seed=None,
    method: str = "exact",
    *,
    min_count: int = 1,
    oversample: float = 1.0,
    rare: float = 0.1,
) -> np.ndarray:
    """Simulate ``chains`` independent chains of mixture weights (chapter 03).

    Returns the training-set counts, shape ``(chains, generations + 1, K)``
    (floats; a view whose chain axis is contiguous). Row 0 is the true distribution, written as ``n * weights``; row
    t >= 1 holds the counts of the n samples generation t is fitted to, after
    the data pipeline (filtered components at 0, oversampled ones multiplied by
    ``oversample``), so generation t's weights are ``row / row.sum()``.

    ``method="exact"`` draws one multinomial per chain-generation, vectorised
    over chains; ``"naive"`` draws the n labels of every chain and counts them
    (the reference). Both give the same law.

    Book: {prf:ref}`thm-03-wright-fisher`
    """
    weights = _check_weights(weights)
    n = check_int("n", n, 1)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    method = check_choice("method", method, METHODS)
    opts = check_pipeline(n, weights.size, min_count, oversample, rare)
    seed = check_seed("seed", seed)
    # the counts of every generation, and a few working arrays of one generation
    check_memory(f"simulate_weights({chains=}, {generations=}, K={weights.size})",
                 8 * chains * weights.size * (generations + 5), "simulate fewer chains or generations at a time")
    rng = np.random.default_rng(seed)
    k = weights.size
    # Filled generation by generation with the chains contiguous, returned as a
    # (chains, generations + 1, K) view.
    buf = np.empty((generations + 1, k, chains))
    buf[0] = n * weights[:, None]
    bar = _progress(generations, "weights")
    if method == "exact" and k == 2 and opts == (1, 1.0, opts[2]):
        # Pure Wright-Fisher with two components: one binomial per chain-generation.
        p = np.full(chains, weights[0])
        for t in bar:
            first = rng.binomial(n, p)
            buf[t + 1, 0] = first
            np.subtract(n, first, out=buf[t + 1, 1])
            p = first / n
        return buf.transpose(2, 0, 1)
    draw = _draw_exact if method == "exact" else _draw_naive
    p = np.broadcast_to(weights, (chains, k))
    for t in bar:
        eff = effective_counts(draw(n, p, rng), n, *opts)
        buf[t + 1] = eff.T
        p = weights_of(eff)
    return buf.transpose(2, 0, 1)


def simulate_loss_times(
    weights,
    n: int,
    chains: int,
    max_generations: int,
    seed=None,
    *,
    min_count: int = 1,
    oversample: float = 1.0,
    rare: float = 0.1,
):
    """Generation at which each component is lost, and at which one component is left (chapter 03).

    Runs the exact simulator of :func:`simulate_weights` keeping only the
    current state, and stops when every chain has a single component left or
    after ``max_generations``. Returns ``(loss, one_left)``: ``loss`` of shape
    ``(chains, K)`` (``inf`` for a component not lost by then, ``0`` for a
    true weight of zero) and ``one_left`` of shape ``(chains,)`` (``inf`` if
    more than one component is still present at the end).

    Book: {doc}`notebooks/03_tails_vanish`
    """
    weights = _check_weights(weights)
    n = check_int("n", n, 1)
    chains = check_int("chains", chains, 1)
    max_generations = check_int("max_generations", max_generations, 1)
    opts = check_pipeline(n, weights.size, min_count, oversample, rare)
    seed = check_seed("seed", seed)
    check_memory(f"simulate_loss_times({chains=}, K={weights.size})", 8 * chains * (6 * weights.size + 2),
                 "simulate fewer chains at a time")
    rng = np.random.default_rng(seed)
    loss = np.full((chains, weights.size), np.inf)
    loss[:, weights == 0] = 0.0
    one_left = np.full(chains, np.inf)
    if np.count_nonzero(weights) == 1:
        one_left[:] = 0.0
        return loss, one_left
    active = np.arange(chains)  # chains with more than one component left
    p = np.broadcast_to(weights, (chains, weights.size))
    for t in _progress(max_generations, "loss times"):
        p = weights_of(effective_counts(_draw_exact(n, p, rng), n, *opts))
        block = loss[active]
        block[(p == 0) & np.isinf(block)] = t + 1
        loss[active] = block
        single = np.count_nonzero(p, axis=1) == 1
        one_left[active[single]] = t + 1
        active, p = active[~single], p[~single]
        if active.size == 0:
            break
    return loss, one_left


