"""Chapter 15's answers, each recomputed by an independent route.

Monte-Carlo checks use fixed seeds and a tolerance of 4 standard errors (a false
alarm has probability about 6e-5 per check); exact checks use brute force (a
loop over t), scipy.stats, scipy.integrate, a lattice convolution of the law of
log sigma_t^2 (instead of the Gil-Pelaez inversion the answers use), and the
Wright-Fisher transition matrix built here from scipy.stats.binom.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from collapse_utils.answers import solve
from collapse_utils.exact import gaussian, gaussian_mixing

Z = 4.0  # tolerance of every Monte-Carlo check, in standard errors


def within(simulated: np.ndarray, exact: float) -> None:
    se = simulated.std(ddof=1) / math.sqrt(simulated.size)
    assert abs(simulated.mean() - exact) < Z * se, (simulated.mean(), se, exact)


# --- the law of log sigma_t^2 on a lattice (independent of the Gil-Pelaez inversion) ---------

H = 2e-4  # lattice step of log sigma^2


def _step_pmf(n: int, k: float) -> tuple[float, np.ndarray]:
    """Lattice pmf of one step log(C / k), C ~ chi2_(n-1): (left end, masses); cell masses by the cdf."""
    lo, hi = np.log(stats.chi2.ppf([1e-15, 1 - 1e-15], n - 1) / k)
    edges = np.arange(lo - H / 2, hi + H, H)
    mass = np.diff(stats.chi2.cdf(k * np.exp(edges), n - 1))
    return lo, mass / mass.sum()


def lattice_cdf(n: int, t: int, x: float, ks: list[float]) -> float:
    """P(sum_s log(C_s / k_s) < x) for t steps, k_s = ks[0] for s = 1 and ks[1] after, by FFT convolution."""
    lo1, p1 = _step_pmf(n, ks[0])
    lo2, p2 = _step_pmf(n, ks[1])
    # both lattices have step H, so the sum lives on the lattice start + j H
    size = len(p1) + (t - 1) * (len(p2) - 1)
    nfft = 1 << int(math.ceil(math.log2(size)))
    f = np.fft.rfft(p1, nfft) * np.fft.rfft(p2, nfft) ** (t - 1)
    pmf = np.fft.irfft(f, nfft)[:size]
    start = lo1 + (t - 1) * lo2
    grid = start + H * np.arange(size)
    cdf = np.cumsum(pmf)
    # linear interpolation between cell centres (the lattice stands for cells of width H)
    return float(np.interp(x - H / 2, grid, cdf))


def test_variance_cdf_one_generation_is_the_chi_square_cdf():
    for estimator, k in [("mle", 100), ("unbiased", 99)]:
        for fraction in (0.8, 0.95, 1.1):
            assert gaussian.variance_cdf(100, 1, fraction, estimator) == pytest.approx(
                stats.chi2.cdf(fraction * k, 99), abs=1e-9)


def test_variance_cdf_matches_the_lattice_convolution():
    for t, estimator, k in [(5, "mle", 100), (35, "mle", 100), (69, "unbiased", 99)]:
        for fraction in (0.5, 0.9):
            assert gaussian.variance_cdf(100, t, fraction, estimator) == pytest.approx(
                lattice_cdf(100, t, math.log(fraction), [k, k]), abs=2e-4)


def test_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="estimator"):
        gaussian.variance_cdf(100, 3, 0.5, "median")
    with pytest.raises(ValueError, match="fraction"):
        gaussian.median_crossing(100, 1.5)
    with pytest.raises(ValueError, match="temperature"):
        gaussian.median_crossing(100, 0.5, temperature=1.1)
    with pytest.raises(ValueError, match="n"):
        gaussian.variance_cdf(1, 3, 0.5)


# --- problem 1 ---------------------------------------------------------------------------------


def test_expected_variance():
    ans = solve("ex-15-expected-variance")
    assert (ans["sigma0_sq"], ans["n"], ans["t"], ans["level"]) == (100.0, 100, 10, 50.0)
    # brute force: multiply by (1 - 1/n) generation after generation
    value, t = ans["sigma0_sq"], 0
    while value >= ans["level"]:
        value *= 1 - 1 / ans["n"]
        t += 1
        if t == ans["t"]:
            assert ans["expected_t"] == pytest.approx(value, rel=1e-12)
    assert ans["t_half"] == t == 69
    assert ans["expected_at"] == pytest.approx(value, rel=1e-12)
    assert ans["expected_before"] == pytest.approx(value / (1 - 1 / ans["n"]), rel=1e-12)
    assert ans["t_real"] == pytest.approx(math.log(2) / -math.log1p(-1 / ans["n"]))
    # Monte-Carlo: draw the n samples of every generation and refit by maximum likelihood
    rng = np.random.default_rng(11)
    chains = 20000
    mean, var = np.zeros(chains), np.full(chains, ans["sigma0_sq"])
    for _ in range(ans["t"]):
        x = mean[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, ans["n"]))
        mean, var = x.mean(axis=1), x.var(axis=1)
    within(var, ans["expected_t"])


def test_median_variance_crossings_by_lattice_convolution():
    ans = solve("ex-15-median-variance")
    n, x = 100, math.log(0.5)

    def p(t, k):
        return lattice_cdf(n, t, x, [k, k])

    # the median crossing is the first t with P > 1/2: check both sides of it
    assert p(ans["t_median"] - 1, n) < 0.5 < p(ans["t_median"], n)
    assert p(ans["t_median_unbiased"] - 1, n - 1) < 0.5 < p(ans["t_median_unbiased"], n - 1)
    assert ans["t_median"] == 35 and ans["t_median_unbiased"] == 69
    assert ans["p_before"] == pytest.approx(p(ans["t_median"] - 1, n), abs=2e-4)
    assert ans["p_at"] == pytest.approx(p(ans["t_median"], n), abs=2e-4)
    assert ans["p_unbiased_at"] == pytest.approx(p(ans["t_median_unbiased"], n - 1), abs=2e-4)
    assert ans["p_at_t_half"] == pytest.approx(p(69, n), abs=2e-4)
    assert ans["horizon"] == 690
    assert ans["p_unbiased_horizon"] == pytest.approx(p(ans["horizon"], n - 1), abs=2e-4)


def test_median_variance_drift_and_typical_path():
    ans = solve("ex-15-median-variance")
    # E[log(C / n)] by numerical integration against the chi-square density
    drift, _ = integrate.quad(lambda c: math.log(c / 100) * stats.chi2.pdf(c, 99), 0, np.inf)
    assert ans["drift"] == pytest.approx(drift, abs=1e-9)
    t = 1
    while t * drift >= math.log(0.5):
        t += 1
    assert ans["t_typical"] == t


def test_median_variance_by_simulation():
    ans = solve("ex-15-median-variance")
    rng = np.random.default_rng(12)
    chains = 200_000
    steps = stats.chi2.rvs(99, size=(chains, ans["t_median"]), random_state=rng) / 100
    below = np.prod(steps, axis=1) < 0.5
    within(below.astype(float), ans["p_at"])
    unb = stats.chi2.rvs(99, size=(20000, ans["t_median_unbiased"]), random_state=rng) / 99
    within((np.prod(unb, axis=1) < 0.5).astype(float), ans["p_unbiased_at"])


# --- problem 2 ---------------------------------------------------------------------------------


def test_human_pool_givens_and_pool():
    ans = solve("ex-15-human-pool")
    assert (ans["n"], ans["human_pct"], ans["ai_pct"], ans["generations"], ans["k"], ans["w"]) == (
        1000, 5.0, 95.0, 10, 50, 0.01)
    assert ans["pool_miss"] == pytest.approx(stats.binom.pmf(0, ans["k"], ans["w"]))
    assert ans["remaining"] == pytest.approx(ans["radius"] ** (ans["generations"] - 1))
    rng = np.random.default_rng(17)
    within(rng.standard_normal((20000, ans["k"])).mean(axis=1) ** 2, ans["q_pool"])  # the pool mean's error


def test_human_pool_moments_by_refitting_samples():
    ans = solve("ex-15-human-pool")
    n, k, gens = ans["n"], ans["k"], ans["generations"]
    rng = np.random.default_rng(13)
    chains = 4000
    data = rng.standard_normal((chains, n))  # generation 1: n real points; the first k are the pool
    pool = data[:, :k].copy()
    replace = data.copy()
    for t in range(1, gens + 1):
        mean, var = data.mean(axis=1), data.var(axis=1)
        r_mean, r_var = replace.mean(axis=1), replace.var(axis=1)
        if t == gens:
            break
        synthetic = mean[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, n - k))
        data = np.concatenate([pool, synthetic], axis=1)
        replace = r_mean[:, None] + np.sqrt(r_var)[:, None] * rng.standard_normal((chains, n))
    within(var, ans["s_t"])
    within(mean**2, ans["q_t"])
    within(r_var, ans["replace_t"])


def test_human_pool_fixed_point_and_contraction():

    ans = solve("ex-15-human-pool")
    s, q = gaussian_mixing.mix_moments(ans["n"], 0.05, 600, fresh=False)
    assert s[-1] == pytest.approx(ans["s_star"], rel=1e-9)
    assert q[-1] == pytest.approx(ans["q_star"], rel=1e-9)
    # the distance to the fixed point shrinks by the contraction factor each generation
    ratios = (s[201:210] - ans["s_star"]) / (s[200:209] - ans["s_star"])
    assert ratios == pytest.approx(ans["radius"], rel=1e-4)  # the second eigenvalue has faded
    assert ans["radius"] == pytest.approx(0.95, rel=1e-9)


def _presence(ans, pooled: bool, chains: int, rng) -> np.ndarray:
    n, k, w = ans["n"], (ans["k"] if pooled else 0), ans["w"]
    pool = rng.binomial(k, w, size=chains)
    count = pool + rng.binomial(n - k, w, size=chains)
    for _ in range(2, ans["generations"] + 1):
        count = pool + rng.binomial(n - k, count / n)
    return (count > 0).astype(float)


def test_human_pool_rare_component_by_simulation():
    ans = solve("ex-15-human-pool")
    rng = np.random.default_rng(14)
    within(_presence(ans, True, 200_000, rng), ans["present_fixed"])
    within(_presence(ans, False, 200_000, rng), ans["present_replace"])


# --- synthesis exercises -----------------------------------------------------------------------


def _wright_fisher(n: int) -> np.ndarray:
    counts = np.arange(n + 1)
    return stats.binom.pmf(counts[None, :], n, counts[:, None] / n)


def test_rare_loss_exact_by_transition_matrix():
    ans = solve("ex-15-rare-loss")
    n, w = ans["n"], ans["w"]
    assert (n, w, ans["k"]) == (1000, 0.01, 50)
    P = _wright_fisher(n)
    dist = stats.binom.pmf(np.arange(n + 1), n, w)  # generation 1
    lost, t = [dist[0]], 1
    while lost[-1] < 0.5:
        dist = dist @ P
        lost.append(dist[0])
        t += 1
    assert ans["t_half"] == t
    assert ans["lost_at"] == pytest.approx(lost[-1], abs=1e-9)
    assert ans["lost_before"] == pytest.approx(lost[-2], abs=1e-9)
    assert ans["feller"] == pytest.approx(2 * n * w / math.log(2))
    # eventual loss: solve h = P h on the transient states with h(0) = 1, h(n) = 0
    Q = P[1:n, 1:n]
    h = np.linalg.solve(np.eye(n - 1) - Q, P[1:n, 0])
    h = np.concatenate([[1.0], h, [0.0]])
    assert ans["lost_forever"] == pytest.approx(stats.binom.pmf(np.arange(n + 1), n, w) @ h, abs=1e-9)
    assert ans["lost_forever_pool"] == pytest.approx(stats.binom.pmf(0, ans["k"], w))


def test_rare_loss_by_simulation():
    ans = solve("ex-15-rare-loss")
    rng = np.random.default_rng(15)
    count = rng.binomial(ans["n"], ans["w"], size=200_000)
    for _ in range(2, ans["t_half"]):
        count = rng.binomial(ans["n"], count / ans["n"])
    within((count == 0).astype(float), ans["lost_before"])
    count = rng.binomial(ans["n"], count / ans["n"])
    within((count == 0).astype(float), ans["lost_at"])


def test_temperature_exact():
    ans = solve("ex-15-temperature")
    n = 100
    assert ans["tau_mean"] == pytest.approx(n / (n - 1))

    def log_drift(tau):
        value, _ = integrate.quad(lambda c: math.log(tau * c / n) * stats.chi2.pdf(c, n - 1), 0, np.inf)
        return value

    assert ans["tau_log"] == pytest.approx(optimize.brentq(log_drift, 1.0, 1.1, xtol=1e-14), rel=1e-8)
    # at tau_mean, generation 1 is a maximum-likelihood refit and every later one an unbiased one
    x, t = math.log(0.5), ans["t_median_tau_mean"]
    assert lattice_cdf(n, t - 1, x, [n, n - 1]) < 0.5 < lattice_cdf(n, t, x, [n, n - 1])
    shift = (ans["t_horizon"] - 1) * math.log(ans["tau_log"])
    assert ans["p_below_tau_log"] == pytest.approx(lattice_cdf(n, ans["t_horizon"], -shift, [n, n]), abs=2e-4)
    value = 100.0
    for s in range(1, ans["t_horizon"] + 1):
        value *= (1 - 1 / n) * (ans["tau_log"] if s > 1 else 1.0)
    assert ans["expected_tau_log"] == pytest.approx(value, rel=1e-12)


def test_temperature_by_simulation():
    ans = solve("ex-15-temperature")
    n, t = 100, ans["t_horizon"]
    rng = np.random.default_rng(16)
    chains = 200_000
    for tau, key in [(ans["tau_mean"], "expected_tau_mean"), (ans["tau_log"], "expected_tau_log")]:
        steps = stats.chi2.rvs(n - 1, size=(chains, t), random_state=rng) / n
        steps[:, 1:] *= tau
        within(100.0 * np.prod(steps, axis=1), ans[key])
