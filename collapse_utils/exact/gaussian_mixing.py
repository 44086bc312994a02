"""The Gaussian refit under the data policies that keep real data: exact recursions, simulators.

- Mixing real data (:func:`mix_moments`, :func:`mix_fixed_point`, :func:`mix_contraction`,
  simulator :func:`simulate_mix`): the exact linear recursion of (E[sigma_t^2], E[mu_t^2])
  with ``k = real_fraction * n`` real points per generation, fresh or from one fixed
  pool, and an optional sampling scale (the model samples from N(mu_t, scale * sigma_t^2)).
- Accumulating data (:func:`accumulate_moments`, :func:`accumulate_variance_limit`,
  :func:`simulate_accumulate`): E[sigma_t^2] = sigma_0^2 prod_(j<=t) (1 - 1/(n j^2)) for the MLE.
- :func:`real_fraction_needed`: the real share that keeps the variance within a tolerance.

Same convention as :func:`collapse_utils.loop.run` with ``initial_model``: generation 0
*is* the truth, generation 1 is fitted to ``n`` real points.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from collapse_utils.checks import (
    check_bool,
    check_choice,
    check_fractions,
    check_int,
    check_memory,
    check_number,
    check_seed,
)
from collapse_utils.exact.gaussian import ESTIMATORS

__all__ = [
    "mix_moments",
    "mix_fixed_point",
    "mix_contraction",
    "simulate_mix",
    "accumulate_moments",
    "accumulate_variance_limit",
    "simulate_accumulate",
    "real_fraction_needed",
]


def _mix_args(n, real_fraction, fresh, estimator, sigma0_sq, sampling_scale):
    n = check_int("n", n, 2)
    lam = check_number("real_fraction", real_fraction, 0.0, 1.0)
    fresh = check_bool("fresh", fresh)
    check_choice("estimator", estimator, ESTIMATORS)
    sigma0_sq = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
    tau = check_number("sampling_scale", sampling_scale, 0.0, strict=True)
    k = lam * n
    if not fresh and 0 < k < 1:
        raise ValueError(f"a fixed pool needs real_fraction * n >= 1 real point (or 0); got {k!r}")
    return n, lam, fresh, sigma0_sq, tau, k


def _matrix(n, lam, estimator, tau):
    """Coefficients of the linear map (s, q) -> (s', q') of the Gaussian mix recursion."""
    d = n if estimator == "mle" else n - 1
    a, b = 1.0 - lam, lam
    A = (n - 1) * a * tau / d  # s' <- s
    B = n * a * b / d  # s' <- q (fresh: E mu^2; fixed: E (mu - pool mean)^2)
    C = a * tau / n  # q' <- s
    D = a * a  # q' <- q
    return np.array([[A, B], [C, D]]), d


def mix_moments(n: int, real_fraction: float, generations: int, *, fresh: bool = True,
                estimator: str = "mle", sigma0_sq: float = 1.0, sampling_scale: float = 1.0):
    """Exact (E[sigma_t^2], E[mu_t^2]), t = 0..generations, under ``mix`` (chapter 08).

    The truth is N(0, sigma0_sq). Generation 1 is fitted to n real points; each
    later generation to k = real_fraction * n real points (fresh draws, or the
    first k points of generation 1's data when ``fresh=False``) and n - k
    points drawn from N(mu_t, sampling_scale * sigma_t^2). With a = 1 - lambda,
    b = lambda and divisor d (n for the MLE, n - 1 unbiased), for fresh data

        E s' = [(n-1)(b sigma0^2 + a tau s) + n a b q] / d,   q' = a^2 q + (b sigma0^2 + a tau s) / n;

    for a fixed pool with sample mean ybar and variance v (E v = sigma0^2 (k-1)/k)
    the same map acts on (s, E[(mu - ybar)^2]) with (n-1) b sigma0^2 replaced by
    n b E v in s' (the pool is not re-centred, so no factor (n-1)/n) and
    b sigma0^2 removed from q'. Exact when k is an integer (``loop.Mix``
    uses k = round(real_fraction * n)). Returns two arrays of length generations + 1.

    Book: {prf:ref}`thm-08-mix`
    """
    n, lam, fresh, s0, tau, k = _mix_args(n, real_fraction, fresh, estimator, sigma0_sq, sampling_scale)
    generations = check_int("generations", generations, 0)
    M, d = _matrix(n, lam, estimator, tau)
    s = np.empty(generations + 1)
    q = np.empty(generations + 1)
    s[0], q[0] = s0, 0.0
    if generations == 0:
        return s, q
    s[1], q[1] = s0 * (n - 1) / d, s0 / n
    if fresh or k == 0:
        const = np.array([(n - 1) * lam * s0 / d, lam * s0 / n])
        state = np.array([s[1], q[1]])
        for t in range(2, generations + 1):
            state = M @ state + const
            s[t], q[t] = state
        return s, q
    ev = s0 * (k - 1) / k
    const = np.array([n * lam * ev / d, 0.0])
    state = np.array([s[1], s0 * (1 / k - 1 / n)])  # (E s, E (mu - ybar)^2)
    cross = s0 * (1 / n - 1 / k)  # E[(mu_t - ybar) ybar], multiplied by a each generation
    for t in range(2, generations + 1):
        state = M @ state + const
        cross *= 1.0 - lam
        s[t] = state[0]
        q[t] = state[1] + 2 * cross + s0 / k
    return s, q


def mix_fixed_point(n: int, real_fraction: float, *, fresh: bool = True, estimator: str = "mle",
                    sigma0_sq: float = 1.0, sampling_scale: float = 1.0) -> tuple[float, float]:
    """The limits (E[sigma_inf^2], E[mu_inf^2]) of :func:`mix_moments` (chapter 08).

    The fixed point of the linear map; it exists when :func:`mix_contraction` < 1.
    For the MLE, fresh data and large n, 1 - E[sigma_inf^2]/sigma0^2 is close to
    1 / ((2 - lambda)(lambda n + 1 - lambda)): about half of one over the number
    of real points per generation. ``(0, inf)``-like limits (replace) raise ``ValueError``.

    Book: {prf:ref}`cor-08-fixed-point`
    """
    n, lam, fresh, s0, tau, k = _mix_args(n, real_fraction, fresh, estimator, sigma0_sq, sampling_scale)
    M, d = _matrix(n, lam, estimator, tau)
    if lam == 0 or max(abs(np.linalg.eigvals(M))) >= 1:
        raise ValueError(
            f"no stable fixed point for real_fraction={lam!r}, sampling_scale={tau!r} (the map does not contract)")
    if fresh:
        const = np.array([(n - 1) * lam * s0 / d, lam * s0 / n])
    else:
        const = np.array([n * lam * s0 * (k - 1) / k / d, 0.0])
    s, x = np.linalg.solve(np.eye(2) - M, const)
    return float(s), float(x if fresh else x + s0 / k)


def mix_contraction(n: int, real_fraction, *, estimator: str = "mle", sampling_scale=1.0) -> np.ndarray:
    """Spectral radius of the mix recursion's linear map (chapters 08 and 09).

    Below 1 the expected moments converge geometrically at this rate (the same
    for fresh and fixed real data); at or above 1 they do not settle (for
    sampling_scale > 1 they explode). ``real_fraction`` and ``sampling_scale``
    broadcast against each other.

    Book: {prf:ref}`cor-08-fixed-point`
    """
    n = check_int("n", n, 2)
    check_choice("estimator", estimator, ESTIMATORS)
    lam = check_fractions("real_fraction", real_fraction)
    tau = np.asarray(sampling_scale, dtype=float)
    if not np.all(np.isfinite(tau)) or np.any(tau <= 0):
        raise ValueError(f"sampling_scale must be a number or array of numbers > 0; got {sampling_scale!r}")
    lam, tau = np.broadcast_arrays(lam, tau)
    out = np.empty(lam.shape)
    for idx in np.ndindex(lam.shape):
        M, _ = _matrix(n, float(lam[idx]), estimator, float(tau[idx]))
        out[idx] = max(abs(np.linalg.eigvals(M)))
    return out


def simulate_mix(n: int, real_fraction: float, generations: int, chains: int, *, fresh: bool = True,
                 estimator: str = "mle", sigma0_sq: float = 1.0, sampling_scale: float = 1.0, seed=None):
    """Fast exact simulator of the Gaussian under ``mix``; returns (means, variances) (chapter 08).

    Arrays of shape (chains, generations + 1), column 0 the truth N(0, sigma0_sq).
    Uses sufficient statistics (a normal and a chi-square per part and
    generation): the n - k synthetic points and the k = round(real_fraction * n)
    real points are summarised by their mean and sum of squares, combined by
    SS = SS_real + SS_syn + (k (n-k) / n) (mean_real - mean_syn)^2. Same law as
    :func:`collapse_utils.loop.run` with ``GaussianFamily`` and ``Mix``.

    Book: {prf:ref}`thm-08-mix`
    """
    n, lam, fresh, s0, tau, _ = _mix_args(n, real_fraction, fresh, estimator, sigma0_sq, sampling_scale)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    seed = check_seed("seed", seed)
    check_memory(f"simulate_mix({chains=}, {generations=})", 8 * 2 * chains * (generations + 1),
                 "simulate fewer chains or generations at a time")
    rng = np.random.default_rng(seed)
    d = n if estimator == "mle" else n - 1
    k = int(round(lam * n))
    m = n - k

    def part(size, mean, var):
        """Mean and sum of squares of `size` iid N(mean, var) points, per chain."""
        if size == 0:
            return np.zeros(chains), np.zeros(chains)
        mu = mean + np.sqrt(var / size) * rng.standard_normal(chains)
        ss = var * rng.chisquare(size - 1, chains) if size > 1 else np.zeros(chains)
        return mu, ss

    def combine(k1, m1, ss1, k2, m2, ss2):
        tot = k1 + k2
        return (k1 * m1 + k2 * m2) / tot, ss1 + ss2 + k1 * k2 / tot * (m1 - m2) ** 2

    means = np.empty((chains, generations + 1))
    variances = np.empty((chains, generations + 1))
    means[:, 0], variances[:, 0] = 0.0, s0
    if generations == 0:
        return means, variances
    pool = part(k, 0.0, s0)  # the first k real points of generation 1 (the fixed pool)
    rest = part(n - k, 0.0, s0)
    mu, ss = combine(k, *pool, n - k, *rest) if 0 < k < n else (pool if k == n else rest)
    means[:, 1], variances[:, 1] = mu, ss / d
    for t in range(2, generations + 1):
        syn = part(m, means[:, t - 1], tau * variances[:, t - 1])
        if k == 0:
            mu, ss = syn
        else:
            real = part(k, 0.0, s0) if fresh else pool
            mu, ss = combine(k, *real, m, *syn) if m > 0 else real
        means[:, t], variances[:, t] = mu, ss / d
    return means, variances


def accumulate_moments(n: int, generations: int, *, estimator: str = "mle", sigma0_sq: float = 1.0,
                       sampling_scale: float = 1.0):
    """Exact (E[sigma_t^2], Var[mu_t]) under ``accumulate`` (chapter 08).

    Generation t >= 1 is fitted to the n real points plus t - 1 synthetic
    batches of n points, one from each earlier fitted generation, drawn from
    N(mu_t, tau sigma_t^2) with tau = ``sampling_scale``. The pooled sum of
    squares grows by tau sigma_t^2 (n - 1 + t/(t+1)) in expectation, so for the
    MLE and tau = 1 E[sigma_t^2] = sigma0^2 prod_(j=1..t) (1 - 1/(n j^2)); and
    mu_(t+1) = mu_t + sqrt(tau) sigma_t Z / ((t+1) sqrt n), so
    Var[mu_t] = sum_(j=1..t) tau E[sigma_(j-1)^2] / (n j^2) <= (pi^2/6) sigma0^2 / n
    when tau = 1. For tau != 1 the one-generation factor of E[sigma_t^2] is about
    1 + (tau - 1)/(t + 1): the expected variance drifts like t^(tau - 1).

    Book: {prf:ref}`thm-08-accumulate`
    """
    n = check_int("n", n, 2)
    generations = check_int("generations", generations, 0)
    check_choice("estimator", estimator, ESTIMATORS)
    s0 = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
    tau = check_number("sampling_scale", sampling_scale, 0.0, strict=True)
    s = np.empty(generations + 1)
    v = np.zeros(generations + 1)
    s[0] = s0
    if generations == 0:
        return s, v
    ess = s0 * (n - 1)  # E[pooled sum of squares] of generation 1's data
    for t in range(1, generations + 1):
        size = t * n
        s[t] = ess / (size if estimator == "mle" else size - 1)
        v[t] = v[t - 1] + (tau if t > 1 else 1.0) * s[t - 1] / (n * t * t)
        ess += tau * s[t] * (n - 1 + t / (t + 1))
    return s, v


def accumulate_variance_limit(n: int, sigma0_sq: float = 1.0) -> float:
    """lim E[sigma_t^2] under ``accumulate`` with the MLE: sigma0^2 sin(pi/sqrt n) / (pi/sqrt n) (chapter 08).

    From Euler's product sin(pi x) / (pi x) = prod_(j>=1) (1 - x^2 / j^2) with x = 1/sqrt(n).

    Book: {prf:ref}`thm-08-accumulate`
    """
    n = check_int("n", n, 2)
    s0 = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
    x = math.pi / math.sqrt(n)
    return s0 * math.sin(x) / x


def simulate_accumulate(n: int, generations: int, chains: int, *, estimator: str = "mle",
                        sigma0_sq: float = 1.0, seed=None):
    """Fast exact simulator of the Gaussian under ``accumulate``; returns (means, variances) (chapter 08).

    Keeps the pool's size, mean and sum of squares per chain; each new batch of
    n points is summarised by a normal and a chi-square draw. Shapes
    (chains, generations + 1), column 0 the truth N(0, sigma0_sq).

    Book: {prf:ref}`thm-08-accumulate`
    """
    n = check_int("n", n, 2)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    check_choice("estimator", estimator, ESTIMATORS)
    s0 = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
    seed = check_seed("seed", seed)
    check_memory(f"simulate_accumulate({chains=}, {generations=})", 8 * 2 * chains * (generations + 1),
                 "simulate fewer chains or generations at a time")
    rng = np.random.default_rng(seed)
    means = np.empty((chains, generations + 1))
    variances = np.empty((chains, generations + 1))
    means[:, 0], variances[:, 0] = 0.0, s0
    mu = np.zeros(chains)
    var = np.full(chains, s0)
    ss = np.zeros(chains)
    for t in range(1, generations + 1):
        bm = mu + np.sqrt(var / n) * rng.standard_normal(chains)
        bss = var * rng.chisquare(n - 1, chains)
        size = (t - 1) * n
        if t == 1:
            mu, ss = bm, bss
        else:
            ss = ss + bss + size * n / (size + n) * (mu - bm) ** 2
            mu = (size * mu + n * bm) / (size + n)
        var = ss / (t * n if estimator == "mle" else t * n - 1)
        means[:, t], variances[:, t] = mu, var
    return means, variances


def real_fraction_needed(n: int, tolerance: float, *, fresh: bool = True, estimator: str = "mle") -> float:
    """Smallest real fraction whose fixed point keeps E[sigma^2] >= (1 - tolerance) sigma0^2 (chapter 08).

    Solved on the exact fixed point of :func:`mix_fixed_point` (continuous in
    the fraction). Returns 1.0 if even all-real data cannot (small n, MLE).

    Book: {ref}`sec-08-exercise`
    """
    n = check_int("n", n, 2)
    tol = check_number("tolerance", tolerance, 0.0, 1.0, strict=True)
    check_choice("estimator", estimator, ESTIMATORS)
    check_bool("fresh", fresh)
    lo = 1.0 / n if not fresh else 1e-9

    def gap(lam):
        return mix_fixed_point(n, lam, fresh=fresh, estimator=estimator)[0] - (1 - tol)

    if gap(1.0) < 0:
        return 1.0
    if gap(lo) >= 0:
        return lo
    return float(optimize.brentq(gap, lo, 1.0, xtol=1e-10))


