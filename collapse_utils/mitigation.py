"""Mitigations that act on the data: exact recursions and fast simulators (chapter 07).

Chapter 07 ("Mitigations: the data") measures what each data mitigation buys.
Everything here follows the loop's convention with ``initial_model``
(:func:`collapse_utils.loop.run`): generation 0 *is* the truth, generation 1 is
fitted to ``n`` real points, and generation t >= 2 is fitted to a training set
built by the data policy.

- Mixing real data into a Gaussian refit (:func:`mix_moments`,
  :func:`mix_fixed_point`, :func:`mix_contraction`, simulator
  :func:`simulate_mix`): the exact linear recursion of (E[sigma_t^2], E[mu_t^2])
  with ``k = real_fraction * n`` real points per generation, fresh or from one
  fixed pool, and an optional sampling scale (the model samples from
  N(mu_t, scale * sigma_t^2), Alemohammad et al.'s sampling bias).
- Accumulating data (:func:`accumulate_moments`, :func:`simulate_accumulate`):
  E[sigma_t^2] = sigma_0^2 prod_(j<=t) (1 - 1/(n j^2)) for the MLE, whose limit
  is sigma_0^2 sin(pi/sqrt(n)) / (pi/sqrt(n)); the mean's variance is bounded by
  (pi^2/6) sigma_0^2 / n.
- A minority mixture component under mixing (:func:`minority_presence`,
  :func:`minority_stationary`, :func:`minority_loss_forever`).
- Decontamination (:func:`effective_real_fraction`, :func:`kept_fraction`,
  :func:`real_fraction_needed`).
- Linear regression of Gerstgrasser et al. (:func:`regression_error`,
  :func:`simulate_regression`): replace grows linearly, accumulate stays below
  pi^2/6 times the one-generation error.
- Bertrand et al.'s sufficient stability condition (:func:`bertrand_max_ratio`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

from collapse_utils.checks import check_int, check_number

__all__ = [
    "ESTIMATORS",
    "mix_moments",
    "mix_fixed_point",
    "mix_contraction",
    "simulate_mix",
    "accumulate_moments",
    "accumulate_variance_limit",
    "simulate_accumulate",
    "minority_presence",
    "minority_stationary",
    "minority_loss_forever",
    "effective_real_fraction",
    "kept_fraction",
    "real_fraction_needed",
    "regression_error",
    "simulate_regression",
    "bertrand_max_ratio",
]

ESTIMATORS = ("mle", "unbiased")
REGRESSION_POLICIES = ("replace", "accumulate")


# --- argument checks (ValueError before any computation) -------------------------------


def _fraction_array(name, value):
    arr = np.asarray(value, dtype=float) if not isinstance(value, bool) else None
    if arr is None or arr.dtype.kind != "f" or not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must be a number or an array of numbers in [0, 1]; got {value!r}")
    return arr


def _estimator(estimator):
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}")
    return estimator


def _fresh(fresh):
    if not isinstance(fresh, bool):
        raise ValueError(f"fresh must be True or False; got {fresh!r}")
    return fresh


def _mix_args(n, real_fraction, fresh, estimator, sigma0_sq, sampling_scale):
    n = check_int("n", n, 2)
    lam = check_number("real_fraction", real_fraction, 0.0, 1.0)
    fresh = _fresh(fresh)
    _estimator(estimator)
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


# --- Gaussian under mix (chapter 07) -----------------------------------------------------


def mix_moments(n: int, real_fraction: float, generations: int, *, fresh: bool = True,
                estimator: str = "mle", sigma0_sq: float = 1.0, sampling_scale: float = 1.0):
    """Exact (E[sigma_t^2], E[mu_t^2]), t = 0..generations, under ``mix`` (chapter 07).

    The truth is N(0, sigma0_sq). Generation 1 is fitted to n real points; each
    later generation to k = real_fraction * n real points (fresh draws, or the
    first k points of generation 1's data when ``fresh=False``) and n - k
    points drawn from N(mu_t, sampling_scale * sigma_t^2). With a = 1 - lambda,
    b = lambda and divisor d (n for the MLE, n - 1 unbiased), for fresh data

        E s' = [(n-1)(b sigma0^2 + a tau s) + n a b q] / d,   q' = a^2 q + (b sigma0^2 + a tau s) / n;

    for a fixed pool with sample mean ybar and variance v (E v = sigma0^2 (k-1)/k)
    the same map acts on (s, E[(mu - ybar)^2]) with b sigma0^2 replaced by
    b E v in s' and removed from q'. Exact when k is an integer (``loop.Mix``
    uses k = round(real_fraction * n)). Returns two arrays of length generations + 1.
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
    """The limits (E[sigma_inf^2], E[mu_inf^2]) of :func:`mix_moments` (chapter 07).

    The fixed point of the linear map; it exists when :func:`mix_contraction` < 1.
    For the MLE, fresh data and large n, 1 - E[sigma_inf^2]/sigma0^2 is close to
    1 / ((2 - lambda)(lambda n + 1 - lambda)): about half of one over the number
    of real points per generation. ``(0, inf)``-like limits (replace) raise ``ValueError``.
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
    """Spectral radius of the mix recursion's linear map (chapter 07).

    Below 1 the expected moments converge geometrically at this rate (the same
    for fresh and fixed real data); at or above 1 they do not settle (for
    sampling_scale > 1 they explode). ``real_fraction`` and ``sampling_scale``
    broadcast against each other.
    """
    n = check_int("n", n, 2)
    _estimator(estimator)
    lam = _fraction_array("real_fraction", real_fraction)
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
    """Fast exact simulator of the Gaussian under ``mix``; returns (means, variances) (chapter 07).

    Arrays of shape (chains, generations + 1), column 0 the truth N(0, sigma0_sq).
    Uses sufficient statistics (a normal and a chi-square per part and
    generation): the n - k synthetic points and the k = round(real_fraction * n)
    real points are summarised by their mean and sum of squares, combined by
    SS = SS_real + SS_syn + (k (n-k) / n) (mean_real - mean_syn)^2. Same law as
    :func:`collapse_utils.loop.run` with ``GaussianFamily`` and ``Mix``.
    """
    n, lam, fresh, s0, tau, _ = _mix_args(n, real_fraction, fresh, estimator, sigma0_sq, sampling_scale)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
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


# --- Gaussian under accumulate (chapter 07) ------------------------------------------------


def accumulate_moments(n: int, generations: int, *, estimator: str = "mle", sigma0_sq: float = 1.0):
    """Exact (E[sigma_t^2], Var[mu_t]) under ``accumulate`` (chapter 07).

    Generation t >= 1 is fitted to the n real points plus t - 1 synthetic
    batches of n points, one from each earlier fitted generation. The pooled
    sum of squares grows by sigma_t^2 (n - 1 + t/(t+1)) in expectation, so for
    the MLE E[sigma_t^2] = sigma0^2 prod_(j=1..t) (1 - 1/(n j^2)); and
    mu_(t+1) = mu_t + sigma_t Z / ((t+1) sqrt n), so
    Var[mu_t] = sum_(j=1..t) E[sigma_(j-1)^2] / (n j^2) <= (pi^2/6) sigma0^2 / n.
    """
    n = check_int("n", n, 2)
    generations = check_int("generations", generations, 0)
    _estimator(estimator)
    s0 = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
    s = np.empty(generations + 1)
    v = np.zeros(generations + 1)
    s[0] = s0
    if generations == 0:
        return s, v
    ess = s0 * (n - 1)  # E[pooled sum of squares] of generation 1's data
    for t in range(1, generations + 1):
        size = t * n
        s[t] = ess / (size if estimator == "mle" else size - 1)
        v[t] = v[t - 1] + s[t - 1] / (n * t * t)
        ess += s[t] * (n - 1 + t / (t + 1))
    return s, v


def accumulate_variance_limit(n: int, sigma0_sq: float = 1.0) -> float:
    """lim E[sigma_t^2] under ``accumulate`` with the MLE: sigma0^2 sin(pi/sqrt n) / (pi/sqrt n) (chapter 07).

    From Euler's product sin(pi x) / (pi x) = prod_(j>=1) (1 - x^2 / j^2) with x = 1/sqrt(n).
    """
    n = check_int("n", n, 2)
    s0 = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
    x = math.pi / math.sqrt(n)
    return s0 * math.sin(x) / x


def simulate_accumulate(n: int, generations: int, chains: int, *, estimator: str = "mle",
                        sigma0_sq: float = 1.0, seed=None):
    """Fast exact simulator of the Gaussian under ``accumulate``; returns (means, variances) (chapter 07).

    Keeps the pool's size, mean and sum of squares per chain; each new batch of
    n points is summarised by a normal and a chi-square draw. Shapes
    (chains, generations + 1), column 0 the truth N(0, sigma0_sq).
    """
    n = check_int("n", n, 2)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    _estimator(estimator)
    s0 = check_number("sigma0_sq", sigma0_sq, 0.0, strict=True)
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


# --- a minority component under mix (chapter 07) -------------------------------------------


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
    lam = _fraction_array("real_fraction", real_fraction)
    fresh = _fresh(fresh)
    ks = np.rint(lam * n).astype(int)
    if not fresh and lam.ndim != 0:
        raise ValueError("real_fraction must be a single number when fresh=False (one fixed pool)")
    return w, n, lam, fresh, ks


def minority_presence(w: float, n: int, real_fraction, generations: int, *, fresh: bool = True) -> np.ndarray:
    """P(a component of true weight w has positive weight at generation t), t = 0..generations (chapter 07).

    Exact, from the Markov chain of its count C_t among the n training points:
    C_(t+1) = R_t + Binomial(n - k, C_t / n), with k = round(real_fraction * n)
    real points of which R_t come from the component: R_t ~ Binomial(k, w)
    afresh each generation (``fresh=True``; ``real_fraction`` may then be an
    array of length ``generations``, entry t - 1 used for generation t >= 2), or
    a fixed R drawn once with the pool (``fresh=False``). Generation 1 is fitted
    to n real points. n <= 3000.
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
    """Stationary law of the component's count under ``mix`` with fresh real data (chapter 07).

    The pmf over 0..n of the chain of :func:`minority_presence` in the long
    run; its mean is n w, and its value at 0 is the long-run share of
    generations in which the component is absent. Needs round(real_fraction n) >= 1.
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
    """P(the component is eventually lost for good) under ``mix`` (chapter 07).

    Fresh real data re-introduce it with positive probability every generation,
    so the answer is 0 when round(real_fraction n) >= 1; a fixed pool keeps it
    alive for ever exactly when the pool contains it: (1 - w)^k. With no real
    data (replace) it is 1 - w (chapter 03).
    """
    w, n, lam, fresh, ks = _minority_args(w, n, real_fraction, fresh)
    if lam.ndim != 0:
        raise ValueError(f"real_fraction must be a single number; got {real_fraction!r}")
    k = int(ks)
    if k == 0:
        return 1.0 - w
    return 0.0 if fresh else float((1.0 - w) ** k)


# --- decontamination (chapter 07) ----------------------------------------------------------


def _rates(synthetic_share, recall, false_positive_rate):
    out = []
    for name, v in (("synthetic_share", synthetic_share), ("recall", recall),
                    ("false_positive_rate", false_positive_rate)):
        out.append(_fraction_array(name, v))
    return np.broadcast_arrays(*out)


def kept_fraction(synthetic_share, recall, false_positive_rate) -> np.ndarray:
    """Share of a crawl that a detector keeps: (1-s)(1-f) + s(1-r) (chapter 07).

    s: share of synthetic documents; recall r: probability that a synthetic
    document is flagged (and removed); f: probability that a human one is.
    Arrays broadcast.
    """
    s, r, f = _rates(synthetic_share, recall, false_positive_rate)
    return (1 - s) * (1 - f) + s * (1 - r)


def effective_real_fraction(synthetic_share, recall, false_positive_rate) -> np.ndarray:
    """Share of human data after filtering: (1-s)(1-f) / ((1-s)(1-f) + s(1-r)) (chapter 07).

    Watermarking is the corner r -> 1, f -> 0 (the fraction tends to 1). ``nan``
    where nothing is kept. Arrays broadcast.
    """
    s, r, f = _rates(synthetic_share, recall, false_positive_rate)
    human = (1 - s) * (1 - f)
    kept = human + s * (1 - r)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, human / np.where(kept > 0, kept, 1), np.nan)


def real_fraction_needed(n: int, tolerance: float, *, fresh: bool = True, estimator: str = "mle") -> float:
    """Smallest real fraction whose fixed point keeps E[sigma^2] >= (1 - tolerance) sigma0^2 (chapter 07).

    Solved on the exact fixed point of :func:`mix_fixed_point` (continuous in
    the fraction). Returns 1.0 if even all-real data cannot (small n, MLE).
    """
    n = check_int("n", n, 2)
    tol = check_number("tolerance", tolerance, 0.0, 1.0, strict=True)
    _estimator(estimator)
    _fresh(fresh)
    lo = 1.0 / n if not fresh else 1e-9

    def gap(lam):
        return mix_fixed_point(n, lam, fresh=fresh, estimator=estimator)[0] - (1 - tol)

    if gap(1.0) < 0:
        return 1.0
    if gap(lo) >= 0:
        return lo
    return float(optimize.brentq(gap, lo, 1.0, xtol=1e-10))


# --- linear regression, Gerstgrasser et al. (chapter 07) -------------------------------------


def _policy(policy):
    if policy not in REGRESSION_POLICIES:
        raise ValueError(f"policy must be one of {', '.join(REGRESSION_POLICIES)}; got {policy!r}")
    return policy


def regression_error(samples: int, dim: int, noise: float, t, policy: str = "replace") -> np.ndarray:
    """Expected excess test error E||w_t - w*||^2 of OLS after t generations (chapter 07).

    Gaussian design (samples x dim, fixed across generations), labels
    y = X w_(t-1) + noise; generation 1 uses the true w*. One generation costs
    E1 = noise^2 dim / (samples - dim - 1). Replace: t E1. Accumulate (OLS on
    all labels so far): E1 sum_(j<=t) 1/j^2 < (pi^2/6) E1 (Gerstgrasser et al. 2024).
    """
    samples = check_int("samples", samples, 3)
    dim = check_int("dim", dim, 1)
    if samples <= dim + 1:
        raise ValueError(f"samples must exceed dim + 1; got samples={samples}, dim={dim}")
    noise = check_number("noise", noise, 0.0, strict=True)
    tt = np.asarray(t)
    if tt.dtype.kind not in "iu" or np.any(tt < 0):
        raise ValueError(f"t must be an integer >= 0 or an array of them; got {t!r}")
    e1 = noise**2 * dim / (samples - dim - 1)
    if _policy(policy) == "replace":
        return e1 * tt.astype(float)
    harmonic2 = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, int(tt.max(initial=0)) + 1) ** 2)])
    return e1 * harmonic2[tt]


def simulate_regression(samples: int, dim: int, noise: float, generations: int, chains: int,
                        policy: str = "replace", seed=None) -> np.ndarray:
    """Simulated ||w_t - w*||^2 per chain, shape (chains, generations + 1) (chapter 07).

    Real OLS fits, vectorised over chains: each chain draws its own Gaussian
    design X (fixed across generations) and w* ~ N(0, I); generation t draws
    labels X w_(t-1) + noise and fits OLS on them (replace) or on all labels
    drawn so far (accumulate: the stacked design [X; ...; X]). For a standard
    Gaussian test point the excess test error equals ||w_t - w*||^2.
    """
    samples = check_int("samples", samples, 3)
    dim = check_int("dim", dim, 1)
    if samples <= dim:
        raise ValueError(f"samples must exceed dim; got samples={samples}, dim={dim}")
    noise = check_number("noise", noise, 0.0, strict=True)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    policy = _policy(policy)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((chains, samples, dim))
    w_star = rng.standard_normal((chains, dim))
    gram = np.einsum("csi,csj->cij", X, X)
    w = w_star.copy()
    xty_sum = np.zeros((chains, dim))
    err = np.zeros((chains, generations + 1))
    for t in range(1, generations + 1):
        y = np.einsum("csi,ci->cs", X, w) + noise * rng.standard_normal((chains, samples))
        xty = np.einsum("csi,cs->ci", X, y)
        if policy == "replace":
            w = np.linalg.solve(gram, xty[..., None])[..., 0]
        else:
            xty_sum += xty
            w = np.linalg.solve(t * gram, xty_sum[..., None])[..., 0]
        err[:, t] = np.sum((w - w_star) ** 2, axis=1)
    return err


# --- Bertrand et al.'s condition (chapter 07) --------------------------------------------------


def bertrand_max_ratio(lipschitz_eps_over_alpha: float = 0.0) -> float:
    """Largest synthetic-to-real ratio allowed by Bertrand et al.'s sufficient condition (chapter 07).

    Retraining on real data plus lambda times as much synthetic data is locally
    stable if lambda (1 + L eps / alpha) < 1/2, i.e. lambda < 1 / (2 (1 + L eps / alpha)).
    """
    x = check_number("lipschitz_eps_over_alpha", lipschitz_eps_over_alpha, 0.0)
    return 1.0 / (2.0 * (1.0 + x))
