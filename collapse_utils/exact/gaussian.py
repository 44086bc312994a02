"""Exact laws and fast simulators of the Gaussian refitted under ``replace``.

- exact laws: :func:`expected_variance`, :func:`variance_of_variance`,
  :func:`mean_variance`, :func:`log_variance_drift`, :func:`log_variance_step_sd`,
  :func:`typical_variance`, :func:`generations_to_halve`, :func:`log_det_drift`,
  and the whole law of sigma_t^2 (:func:`variance_cdf`, :func:`median_crossing`);
- simulators: :func:`simulate` (one dimension) and :func:`simulate_mvn`
  (d dimensions), each with an ``"exact"`` fast path built on the sufficient
  statistics and a ``"naive"`` reference that draws the n samples and refits.

Convention (the loop's ``initial_model``): generation 0 *is* the true
distribution p_0 = N(mu_0, sigma_0^2), and generation t >= 1 is fitted to n
samples of generation t - 1. The simulators are tested against
:func:`collapse_utils.loop.run` with :class:`collapse_utils.families.gaussian.GaussianFamily`.

This module is longer than 400 lines because it holds the whole law of the
Gaussian chain (moments, typical values, the distribution function) with the
two simulators that are tested against it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, special

from collapse_utils.checks import (
    check_choice,
    check_int,
    check_memory,
    check_number,
    check_positive,
    check_seed,
)

__all__ = [
    "ESTIMATORS",
    "METHODS",
    "expected_variance",
    "variance_of_variance",
    "mean_variance",
    "log_variance_drift",
    "log_variance_step_sd",
    "typical_variance",
    "generations_to_halve",
    "log_det_drift",
    "variance_cdf",
    "median_crossing",
    "BLOCK_CELLS",
    "simulate",
    "simulate_mvn",
    "check_schedule",
    "schedule_expected_variance",
    "schedule_log_moments",
    "simulate_schedule",
]


ESTIMATORS = ("mle", "unbiased")


METHODS = ("exact", "naive")


QUANTITIES = ("mean", "typical")


def _check_generations_array(t) -> np.ndarray:
    arr = np.asarray(t)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer) or np.any(arr < 0):
        raise ValueError(f"t must be an integer >= 0 or an array of them; got {t!r}")
    return arr.astype(np.int64)


def _denominator(n: int, estimator: str) -> int:
    return n if estimator == "mle" else n - 1


def expected_variance(n: int, t, sigma0_sq: float = 1.0, estimator: str = "mle") -> np.ndarray:
    """E[sigma_t^2] after t generations of n samples each (chapter 02).

    ``sigma0_sq * ((n - 1) / n) ** t`` for the MLE, ``sigma0_sq`` for the unbiased
    estimator. ``t`` is an integer or an array of integers; generation 0 is the
    truth. Returns an array shaped like ``t``.

    Book: {prf:ref}`thm-02-variance-decay`
    """
    n = check_int("n", n, 2)
    t = _check_generations_array(t)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    ratio = (n - 1) / _denominator(n, estimator)
    return sigma0_sq * ratio ** t.astype(float)


def variance_of_variance(n: int, t, sigma0_sq: float = 1.0, estimator: str = "mle") -> np.ndarray:
    """Var[sigma_t^2], exact (chapter 02).

    One refit multiplies sigma^2 by chi2_(n-1)/k with k = n (MLE) or n - 1, whose
    first two moments are (n-1)/k and (n-1)(n+1)/k^2, so
    ``Var = sigma0_sq^2 * (((n-1)(n+1)/k^2) ** t - ((n-1)/k) ** (2t))``.
    Its ratio to the squared mean, ((n+1)/(n-1))^t - 1, says how many chains a
    Monte-Carlo estimate of the mean needs.

    Book: {prf:ref}`prop-02-law`
    """
    n = check_int("n", n, 2)
    t = _check_generations_array(t).astype(float)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    k = _denominator(n, check_choice("estimator", estimator, ESTIMATORS))
    m1 = (n - 1) / k
    m2 = (n - 1) * (n + 1) / k**2
    return sigma0_sq**2 * (m2**t - m1 ** (2 * t))


def mean_variance(n: int, t, sigma0_sq: float = 1.0, estimator: str = "mle") -> np.ndarray:
    """Var[mu_t], the spread of the fitted mean's random walk (chapter 02).

    mu_(s+1) = mu_s + sigma_s Z_s / sqrt(n), so Var[mu_t] = sum_(s<t) E[sigma_s^2] / n:
    ``sigma0_sq * (1 - ((n-1)/n) ** t)`` for the MLE (it tends to sigma0_sq) and
    ``sigma0_sq * t / n`` for the unbiased estimator (it grows without bound).

    Book: {prf:ref}`prop-02-mean-walk`
    """
    n = check_int("n", n, 2)
    t = _check_generations_array(t).astype(float)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    if check_choice("estimator", estimator, ESTIMATORS) == "unbiased":
        return sigma0_sq * t / n
    return sigma0_sq * (1.0 - ((n - 1) / n) ** t)


def log_variance_drift(n: int, estimator: str = "mle") -> float:
    """E[log(sigma_(t+1)^2 / sigma_t^2)], the drift of log sigma_t^2 per generation (chapter 02).

    E[log(chi2_(n-1) / k)] = psi((n-1)/2) + log(2/k), with k = n for the MLE and
    k = n - 1 for the unbiased estimator; negative in both cases (Jensen), so
    sigma_t^2 -> 0 almost surely.

    Book: {prf:ref}`thm-02-as-collapse`
    """
    n = check_int("n", n, 2)
    k = _denominator(n, check_choice("estimator", estimator, ESTIMATORS))
    return float(special.digamma((n - 1) / 2) + math.log(2 / k))


def log_variance_step_sd(n: int) -> float:
    """Standard deviation of one step of log sigma_t^2: sqrt(psi'((n-1)/2)) (chapter 02).

    The same for both estimators (they differ by a constant factor).

    Book: {prf:ref}`prop-02-law`
    """
    n = check_int("n", n, 2)
    return float(math.sqrt(special.polygamma(1, (n - 1) / 2)))


def typical_variance(n: int, t, sigma0_sq: float = 1.0, estimator: str = "mle") -> np.ndarray:
    """The geometric mean exp(E[log sigma_t^2]) = sigma0_sq * exp(t * drift) (chapter 02).

    A typical path follows it: log sigma_t^2 is a sum of t independent steps, so
    for large t the median of sigma_t^2 is close to it, far below the mean.

    Book: {prf:ref}`prop-02-law`
    """
    t = _check_generations_array(t).astype(float)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    return sigma0_sq * np.exp(t * log_variance_drift(n, estimator))


def generations_to_halve(
    n: int, estimator: str = "mle", quantity: str = "mean", fraction: float = 0.5
) -> float:
    """Generations until the variance falls below ``fraction`` of sigma_0^2 (chapter 02).

    ``quantity="mean"``: the smallest integer t with E[sigma_t^2] < fraction *
    sigma_0^2, i.e. t > log(fraction) / log((n-1)/n) for the MLE (about n log 2
    for large n); ``math.inf`` for the unbiased estimator, whose mean never moves.
    ``quantity="typical"``: the smallest t with exp(t * drift) < fraction (the
    geometric-mean path; about n log(2) / 2 for the MLE and n log 2 for the
    unbiased estimator).

    Book: {prf:ref}`prop-02-law`
    """
    n = check_int("n", n, 2)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {', '.join(QUANTITIES)}; got {quantity!r}")
    fraction = check_positive("fraction", fraction)
    if fraction >= 1:
        raise ValueError(f"fraction must be a number in (0, 1); got {fraction!r}")
    if quantity == "mean":
        rate = math.log((n - 1) / _denominator(n, estimator))
    else:
        rate = log_variance_drift(n, estimator)
    if rate == 0:
        return math.inf
    return float(math.floor(math.log(fraction) / rate) + 1)


def log_det_drift(n: int, d: int, estimator: str = "mle") -> float:
    """E[log det Sigma_(t+1) - log det Sigma_t] for a d-dimensional Gaussian refit (chapter 02).

    The scatter matrix of n points is Sigma_t^(1/2) W Sigma_t^(1/2) with W Wishart
    with n - 1 degrees of freedom, and det W is a product of independent
    chi2_(n-i), i = 1..d (Bartlett). Hence the drift is
    sum_i [psi((n-i)/2) + log(2/k)], k = n (MLE) or n - 1. Needs n > d.

    Book: {prf:ref}`prop-02-mvn`
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    if n <= d:
        raise ValueError(f"n must be > d for a non-singular covariance; got n={n}, d={d}")
    k = _denominator(n, check_choice("estimator", estimator, ESTIMATORS))
    i = np.arange(1, d + 1)
    return float(np.sum(special.digamma((n - i) / 2)) + d * math.log(2 / k))


# Cells (chain-generations) per block of the exact simulators' working arrays: 256 KiB of
# float64, so that two of them stay in a core's L2 cache (working arrays of the whole run's
# size made simulate memory-bound at 10^7 cells). Results do not depend on it.
BLOCK_CELLS = 1 << 15


def _tiles(rows: int, cols: int, block: int):
    """Tiles (row slice, column slice) covering a rows x cols array in row-major order.

    Whole rows, at most ``block`` cells per tile, when a row fits in a block; otherwise
    pieces of one row of at most ``block`` cells. Drawing the tiles one after the other
    from one Generator consumes its stream in the order of one draw of the whole array,
    so the numbers are the same.
    """
    if cols <= block:
        step = block // cols
        for start in range(0, rows, step):
            yield slice(start, min(rows, start + step)), slice(0, cols)
        return
    for row in range(rows):
        for start in range(0, cols, block):
            yield slice(row, row + 1), slice(start, min(cols, start + block))


def _exact_chains(rng: np.random.Generator, n: int, k: int, sigma0_sq: float, mu0: float,
                  means: np.ndarray, variances: np.ndarray) -> None:
    """Fill columns 1.. of ``means`` and ``variances`` (column 0 holds the truth) with the exact chain.

    The same numbers as drawing all ``(chains, generations)`` chi-squares, then all normals,
    in two calls (the draws, the order of the draws and every floating-point operation are
    the same), but block by block (:data:`BLOCK_CELLS`), so that the working arrays stay in
    cache: one pass draws the chi-squares and writes the variances, a second the normals
    and the means. A row longer than a block is cut into pieces that carry the running
    product (sum) of the row: cumprod and cumsum are sequential, so the values do not change.
    """
    chains, generations = means.shape[0], means.shape[1] - 1
    tiles = list(_tiles(chains, generations, BLOCK_CELLS))
    size = min(BLOCK_CELLS, chains * generations)
    work, scale = np.empty(size), np.empty(size)

    def view(buf, rows, cols):
        return buf[: (rows.stop - rows.start) * (cols.stop - cols.start)].reshape(
            rows.stop - rows.start, cols.stop - cols.start)

    # chi2_(n-1) = 2 Gamma((n-1)/2); sigma_t^2 = sigma0^2 prod_(s<=t) chi2_s / k
    carry = 1.0
    for rows, cols in tiles:
        ratios = view(work, rows, cols)
        rng.standard_gamma((n - 1) / 2, out=ratios)
        ratios *= 2.0 / k
        if cols.start:
            ratios[0, 0] *= carry  # the product of the row so far (a row longer than a block)
        out = variances[rows, cols.start + 1 : cols.stop + 1]
        np.cumprod(ratios, axis=1, out=out)
        carry = out[0, -1]
        out *= sigma0_sq
    # mu_t = mu0 + sum_(s<t) sigma_s Z_s / sqrt(n)
    for rows, cols in tiles:
        steps = view(work, rows, cols)
        rng.standard_normal(out=steps)
        sd = view(scale, rows, cols)
        np.divide(variances[rows, cols], n, out=sd)
        np.sqrt(sd, out=sd)
        steps *= sd
        if cols.start:
            steps[0, 0] += carry
        out = means[rows, cols.start + 1 : cols.stop + 1]
        np.cumsum(steps, axis=1, out=out)
        carry = out[0, -1]
        out += mu0


def simulate(
    n: int,
    generations: int,
    chains: int,
    sigma0_sq: float = 1.0,
    mu0: float = 0.0,
    estimator: str = "mle",
    method: str = "exact",
    seed=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``chains`` independent chains of 1-D Gaussian refits (chapter 02).

    Returns ``(means, variances)``, each of shape ``(chains, generations + 1)``;
    column 0 is the truth (mu0, sigma0_sq) and column t the model of generation t.

    ``method="exact"`` uses the sufficient statistics: given generation t, the
    next fit is sigma_(t+1)^2 = sigma_t^2 chi2_(n-1) / k (k = n for the MLE, n - 1
    for the unbiased estimator) and, independently (Cochran's theorem),
    mu_(t+1) = mu_t + sigma_t Z / sqrt(n): one chi-square and one normal draw per
    chain-generation, vectorised over blocks of chains (:data:`BLOCK_CELLS`; the
    result does not depend on the block size). ``method="naive"`` draws the n
    samples and refits (vectorised over chains): the reference, n times slower.
    ``seed`` is anything :func:`numpy.random.default_rng` accepts.

    Book: {prf:ref}`prop-02-law`
    """
    n = check_int("n", n, 2)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    mu0 = check_number("mu0", mu0)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    method = check_choice("method", method, METHODS)
    seed = check_seed("seed", seed)
    # the outputs, then the working arrays: two of at most BLOCK_CELLS cells for the exact
    # method, the n samples of ``block`` chains for the naive one (it refits ``block`` chains at a time)
    cells = chains * (generations + 1)
    block = max(1, (1 << 18) // n)
    work = 2 * min(BLOCK_CELLS, chains * generations) if method == "exact" else n * min(chains, block)
    check_memory(f"simulate({n=}, {generations=}, {chains=})", 8 * (2 * cells + work),
                 "simulate fewer chains or generations at a time, or a smaller n")
    rng = np.random.default_rng(seed)
    k = _denominator(n, estimator)

    means = np.empty((chains, generations + 1))
    variances = np.empty((chains, generations + 1))
    means[:, 0] = mu0
    variances[:, 0] = sigma0_sq
    if generations == 0:
        return means, variances
    if method == "exact":
        _exact_chains(rng, n, k, sigma0_sq, mu0, means, variances)
        return means, variances
    ddof = 0 if estimator == "mle" else 1  # ``block`` chains at a time keeps the sample array small
    for start in range(0, chains, block):
        rows = slice(start, min(chains, start + block))
        m, v = means[rows, 0].copy(), variances[rows, 0].copy()
        for t in range(1, generations + 1):
            x = rng.standard_normal(size=(len(m), n))
            x *= np.sqrt(v)[:, None]
            x += m[:, None]
            m = x.mean(axis=1)
            x -= m[:, None]
            v = np.einsum("ij,ij->i", x, x) / (n - ddof)
            means[rows, t] = m
            variances[rows, t] = v
    return means, variances


def _bartlett(rng: np.random.Generator, n: int, d: int, size: int) -> np.ndarray:
    """Lower-triangular A with A A^T ~ Wishart(n - 1, I_d) (Bartlett decomposition)."""
    a = np.zeros((size, d, d))
    rows, cols = np.tril_indices(d, -1)
    a[:, rows, cols] = rng.standard_normal(size=(size, len(rows)))
    diag = np.arange(d)
    a[:, diag, diag] = np.sqrt(2.0 * rng.standard_gamma((n - 1 - diag) / 2, size=(size, d)))
    return a


def simulate_mvn(
    n: int,
    d: int,
    generations: int,
    chains: int,
    cov0=None,
    estimator: str = "mle",
    method: str = "exact",
    seed=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate d-dimensional Gaussian refits; return covariance eigenvalues and log-determinants
    (chapter 02).

    Returns ``(eigenvalues, logdet)``: ``eigenvalues`` of shape
    ``(chains, generations + 1, d)`` (ascending) and ``logdet`` of shape
    ``(chains, generations + 1)``, the log-determinant of the fitted covariance.
    Generation 0 is the truth N(0, cov0) (``cov0`` defaults to the identity).
    Needs n > d.

    ``method="exact"`` keeps a triangular factor L_t with Sigma_t = L_t L_t^T and
    multiplies it by a Bartlett factor of a Wishart(n - 1, I) matrix divided by
    sqrt(k), k = n (MLE) or n - 1: O(d^2) random numbers per chain-generation
    instead of n d. Its log-determinant is exact to rounding; eigenvalues whose
    ratio to the largest falls below about 1e-12 lose relative accuracy.
    ``method="naive"`` draws n points, takes their covariance and refits
    (a reference for small runs).

    Book: {prf:ref}`prop-02-mvn`
    """
    n = check_int("n", n, 2)
    d = check_int("d", d, 1)
    if n <= d:
        raise ValueError(f"n must be > d for a non-singular covariance; got n={n}, d={d}")
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    method = check_choice("method", method, METHODS)
    if cov0 is None:
        cov0 = np.eye(d)
    cov0 = np.asarray(cov0, dtype=float)
    if cov0.shape != (d, d) or not np.all(np.isfinite(cov0)) or not np.allclose(cov0, cov0.T):
        raise ValueError(f"cov0 must be a finite symmetric {d} x {d} matrix; got shape {cov0.shape}")
    try:
        l0 = np.linalg.cholesky(cov0)
    except np.linalg.LinAlgError:
        raise ValueError("cov0 must be positive definite") from None
    seed = check_seed("seed", seed)
    # eigenvalues and log-determinants; the running factors (and the naive method's n points) per chain
    check_memory(f"simulate_mvn({n=}, {d=}, {generations=}, {chains=})",
                 8 * chains * ((generations + 1) * (d + 1) + 4 * d * d + (2 * n * d if method == "naive" else 0)),
                 "simulate fewer chains or generations at a time")
    rng = np.random.default_rng(seed)
    k = _denominator(n, estimator)

    eigenvalues = np.empty((chains, generations + 1, d))
    logdet = np.empty((chains, generations + 1))
    eigenvalues[:, 0] = np.linalg.eigvalsh(cov0)
    logdet[:, 0] = 2 * np.sum(np.log(np.diag(l0)))
    factor = np.broadcast_to(l0, (chains, d, d)).copy()
    if method == "exact":
        log_scale = np.zeros(chains)  # Sigma_t = exp(2 log_scale) factor factor^T
        for t in range(1, generations + 1):
            bartlett = _bartlett(rng, n, d, chains)
            log_det_step = np.sum(np.log(np.diagonal(bartlett, axis1=1, axis2=2)), axis=1)
            logdet[:, t] = logdet[:, t - 1] + 2 * log_det_step - d * math.log(k)
            factor = factor @ bartlett
            # renormalise so that the factor's diagonal has geometric mean 1 (no underflow)
            norm = np.mean(np.log(np.abs(np.diagonal(factor, axis1=1, axis2=2))), axis=1)
            factor /= np.exp(norm)[:, None, None]
            log_scale += norm - 0.5 * math.log(k)
            inner = factor @ np.swapaxes(factor, 1, 2)
            eigenvalues[:, t] = np.linalg.eigvalsh(inner) * np.exp(2 * log_scale)[:, None]
        return eigenvalues, logdet
    ddof = 0 if estimator == "mle" else 1
    mean = np.zeros((chains, d))
    for t in range(1, generations + 1):
        x = mean[:, None, :] + rng.standard_normal(size=(chains, n, d)) @ np.swapaxes(factor, 1, 2)
        mean = x.mean(axis=1)
        centred = x - mean[:, None, :]
        cov = np.swapaxes(centred, 1, 2) @ centred / (n - ddof)
        factor = np.linalg.cholesky(cov)
        logdet[:, t] = 2 * np.sum(np.log(np.diagonal(factor, axis1=1, axis2=2)), axis=1)
        eigenvalues[:, t] = np.linalg.eigvalsh(cov)
    return eigenvalues, logdet


def variance_cdf(n: int, t: int, fraction: float, estimator: str = "mle", temperature: float = 1.0) -> float:
    """P(sigma_t^2 < fraction * sigma_0^2), exact (chapter 15, law of chapter 02).

    log(sigma_t^2 / sigma_0^2) is a sum of t independent log(chi2_(n-1) / k),
    k = n (MLE) or n - 1 (unbiased), whose characteristic function is
    ((2/k)^(iu) Gamma(a + iu) / Gamma(a))^t with a = (n - 1) / 2; the Gil-Pelaez
    formula F(x) = 1/2 - (1/pi) int_0^oo Im[e^(-iux) phi(u)] / u du inverts it.
    ``temperature`` tau scales the variance of every fitted model's samples
    (chapter 10): generations 2..t are drawn at tau times the fitted variance,
    which adds (t - 1) log tau (generation 1 is fitted to real data).

    Book: {doc}`notebooks/15_exercises`
    """
    n = check_int("n", n, 2)
    t = check_int("t", t, 0)
    fraction = check_positive("fraction", fraction)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    temperature = check_positive("temperature", temperature)
    if t == 0:
        return float(fraction > 1)
    x = math.log(fraction) - (t - 1) * math.log(temperature)
    a, k = (n - 1) / 2, (n if estimator == "mle" else n - 1)
    shift = math.log(2 / k)
    log_gamma_a = special.loggamma(a)

    def integrand(u: float) -> float:
        log_phi = t * (1j * u * shift + special.loggamma(a + 1j * u) - log_gamma_a) - 1j * u * x
        return float(np.exp(log_phi).imag / u)

    sd = math.sqrt(t * special.polygamma(1, a))
    value, _ = integrate.quad(integrand, 0.0, 40.0 / sd, limit=400, epsabs=1e-11)
    return float(min(1.0, max(0.0, 0.5 - value / math.pi)))


def median_crossing(n: int, fraction: float, estimator: str = "mle", temperature: float = 1.0,
                    t_max: int = 100_000) -> int:
    """First generation t at which the median of sigma_t^2 is below fraction * sigma_0^2 (chapter 15).

    That is, the smallest t with P(sigma_t^2 < fraction sigma_0^2) > 1/2
    (:func:`variance_cdf`, increasing in t for fraction < 1). The search starts
    a little before the geometric-mean estimate of chapter 02.

    Book: {doc}`notebooks/15_exercises`
    """
    n = check_int("n", n, 2)
    fraction = check_positive("fraction", fraction)
    if fraction >= 1:
        raise ValueError(f"fraction must be a number in (0, 1); got {fraction!r}")
    temperature = check_positive("temperature", temperature)
    drift = log_variance_drift(n, estimator) + math.log(temperature)
    if drift >= 0:
        raise ValueError(f"temperature must be below exp(-drift) = {math.exp(drift - math.log(temperature)):.4f}"
                         f" for the median to fall; got {temperature!r}")
    t = max(1, int(0.8 * math.log(fraction) / drift) - 2)
    while variance_cdf(n, t, fraction, estimator, temperature) > 0.5 and t > 1:
        t = max(1, t // 2)
    while variance_cdf(n, t, fraction, estimator, temperature) <= 0.5:
        t += 1
        if t > t_max:
            raise ValueError(f"t_max={t_max} reached before the median fell below {fraction}")
    return t




def check_schedule(sizes) -> np.ndarray:
    """``sizes`` as an int array of sample sizes >= 2, one per generation; else ``ValueError``.

    Book: {prf:ref}`prop-02-growing`
    """
    arr = np.asarray(sizes)
    if (arr.ndim != 1 or arr.size == 0 or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number)
            or np.any(arr != np.round(arr)) or np.any(arr < 2)):
        raise ValueError(
            "sizes must be a non-empty 1-D sequence of integers >= 2 (the sample size of "
            f"generations 1, 2, ...); got {sizes!r}")
    return arr.astype(np.int64)


def schedule_expected_variance(sizes, sigma0_sq: float = 1.0, estimator: str = "mle") -> np.ndarray:
    """E[sigma_t^2], t = 0..len(sizes), when generation t is fitted to ``sizes[t-1]`` points (chapter 02).

    sigma0_sq * prod_(j <= t) (n_j - 1) / n_j for the MLE, which has a positive
    limit exactly when sum 1/n_j converges; constant for the unbiased estimator.

    Book: {prf:ref}`prop-02-growing`
    """
    sizes = check_schedule(sizes)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    factors = (sizes - 1) / np.array([_denominator(int(k), estimator) for k in sizes])
    return sigma0_sq * np.concatenate([[1.0], np.cumprod(factors)])


def schedule_log_moments(sizes, estimator: str = "mle") -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of log(sigma_t^2 / sigma0^2), t = 0..len(sizes), under a schedule (chapter 02).

    Sums of the per-generation drifts psi((n_j - 1)/2) + log(2/k_j) and step
    variances psi'((n_j - 1)/2) (:func:`log_variance_drift`,
    :func:`log_variance_step_sd`): the log-variance is a sum of independent steps.

    Book: {prf:ref}`prop-02-growing`
    """
    sizes = check_schedule(sizes)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    k = np.array([_denominator(int(m), estimator) for m in sizes], dtype=float)
    drift = special.digamma((sizes - 1) / 2) + np.log(2 / k)
    step_var = special.polygamma(1, (sizes - 1) / 2)
    return np.concatenate([[0.0], np.cumsum(drift)]), np.concatenate([[0.0], np.cumsum(step_var)])


def simulate_schedule(sizes, chains: int, sigma0_sq: float = 1.0, estimator: str = "mle",
                      seed=None) -> np.ndarray:
    """Fitted variances of ``chains`` Gaussian refits with a sample size per generation (chapter 02).

    Generation t is fitted to ``sizes[t-1]`` points of generation t - 1; as in
    :func:`simulate` (``method="exact"``), sigma_t^2 = sigma_(t-1)^2 chi2_(n_t - 1) / k_t,
    one gamma draw per chain and generation. Returns an array of shape
    ``(chains, len(sizes) + 1)``, column 0 the truth.

    Book: {prf:ref}`prop-02-growing`
    """
    sizes = check_schedule(sizes)
    chains = check_int("chains", chains, 1)
    sigma0_sq = check_positive("sigma0_sq", sigma0_sq)
    estimator = check_choice("estimator", estimator, ESTIMATORS)
    seed = check_seed("seed", seed)
    check_memory(f"simulate_schedule({len(sizes)} sizes, {chains=})", 8 * 2 * chains * (sizes.size + 1),
                 "simulate fewer chains at a time")
    rng = np.random.default_rng(seed)
    k = np.array([_denominator(int(m), estimator) for m in sizes], dtype=float)
    ratios = rng.standard_gamma((sizes - 1) / 2, size=(chains, sizes.size)) * (2.0 / k)
    variances = np.empty((chains, sizes.size + 1))
    variances[:, 0] = sigma0_sq
    np.cumprod(ratios, axis=1, out=variances[:, 1:])
    variances[:, 1:] *= sigma0_sq
    return variances
