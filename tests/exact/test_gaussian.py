"""Tests of collapse_utils.exact.gaussian (chapter 02, "Variance decay").

Statistical tests use fixed seeds. Conventions:
- agreement in distribution: two-sample Kolmogorov-Smirnov test, rejected at the
  significance level ALPHA = 0.001;
- Monte-Carlo means: within Z = 4 standard errors of the exact value (a false
  alarm has probability about 6e-5 per comparison).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils import loop
from collapse_utils.exact import gaussian
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

ALPHA = 1e-3  # KS significance level
Z = 4.0  # standard errors allowed for Monte-Carlo means


def within(estimate: np.ndarray, exact: np.ndarray, se: np.ndarray) -> bool:
    return bool(np.all(np.abs(np.asarray(estimate) - np.asarray(exact)) <= Z * np.asarray(se)))


# --- exact laws ---------------------------------------------------------------------


def test_expected_variance_shape_and_endpoints():
    t = np.arange(6)
    ev = gaussian.expected_variance(10, t, sigma0_sq=2.0)
    assert ev.shape == (6,)
    assert ev[0] == 2.0
    # one generation: E[chi2_(n-1)] / n, from scipy's chi-square distribution
    assert ev[1] == pytest.approx(2.0 * stats.chi2(9).mean() / 10)
    assert np.all(np.diff(ev) < 0)
    assert np.all(gaussian.expected_variance(10, t, sigma0_sq=2.0, estimator="unbiased") == 2.0)
    assert gaussian.expected_variance(5, 3).shape == ()


def test_log_variance_drift_matches_numerical_integration():
    # E[log(chi2_(n-1)/k)] by quadrature against scipy's chi-square density
    for n in (2, 3, 10, 100):
        for estimator, k in (("mle", n), ("unbiased", n - 1)):
            numeric = integrate.quad(
                lambda x, k, df: math.log(x / k) * stats.chi2.pdf(x, df), 0, np.inf, args=(k, n - 1), limit=200
            )[0]
            assert gaussian.log_variance_drift(n, estimator) == pytest.approx(numeric, abs=1e-6)
            assert gaussian.log_variance_drift(n, estimator) < 0
    sd = math.sqrt(stats.chi2(9).expect(lambda x: math.log(x) ** 2) - stats.chi2(9).expect(np.log) ** 2)
    assert gaussian.log_variance_step_sd(10) == pytest.approx(sd, rel=1e-5)


def test_log_det_drift_reduces_to_one_dimension_and_grows_with_d():
    assert gaussian.log_det_drift(50, 1) == pytest.approx(gaussian.log_variance_drift(50))
    drifts = [gaussian.log_det_drift(50, d) / d for d in (1, 2, 5, 10, 20)]
    assert np.all(np.diff(drifts) < 0)  # per dimension, more dimensions collapse faster


def test_generations_to_halve():
    for n in (2, 5, 50, 1000):
        t = gaussian.generations_to_halve(n)
        ev = gaussian.expected_variance(n, [int(t) - 1, int(t)])
        assert ev[0] >= 0.5 > ev[1]
        typical = gaussian.generations_to_halve(n, quantity="typical")
        assert gaussian.typical_variance(n, int(typical) - 1) >= 0.5 > gaussian.typical_variance(n, int(typical))
        assert typical < t  # a typical path halves before the mean does
    assert gaussian.generations_to_halve(100, estimator="unbiased") == math.inf
    # large n: about n log 2 for the mean, about n log(2) / 2 for a typical path
    assert gaussian.generations_to_halve(10**5) / (10**5 * math.log(2)) == pytest.approx(1, rel=1e-3)
    assert gaussian.generations_to_halve(10**5, quantity="typical") / (10**5 * math.log(2) / 2) == pytest.approx(
        1, rel=1e-3
    )


# --- simulators ---------------------------------------------------------------------


def test_shapes_generation_zero_and_reproducibility():
    means, variances = gaussian.simulate(7, 5, 3, sigma0_sq=4.0, mu0=1.5, seed=1)
    assert means.shape == variances.shape == (3, 6)
    assert np.all(means[:, 0] == 1.5) and np.all(variances[:, 0] == 4.0)
    again = gaussian.simulate(7, 5, 3, sigma0_sq=4.0, mu0=1.5, seed=1)
    assert np.array_equal(means, again[0]) and np.array_equal(variances, again[1])
    for method in gaussian.METHODS:
        m, v = gaussian.simulate(7, 0, 2, method=method, seed=0)
        assert m.shape == v.shape == (2, 1)
    eig, logdet = gaussian.simulate_mvn(5, 3, 4, 2, seed=0)
    assert eig.shape == (2, 5, 3) and logdet.shape == (2, 5)
    assert np.all(logdet[:, 0] == 0) and np.all(eig[:, 0] == 1)


@pytest.mark.parametrize("estimator", gaussian.ESTIMATORS)
def test_exact_and_naive_agree_in_distribution(estimator):
    n, gens, chains = 8, 15, 6000
    exact = gaussian.simulate(n, gens, chains, estimator=estimator, method="exact", seed=11)
    naive = gaussian.simulate(n, gens, chains, estimator=estimator, method="naive", seed=12)
    for t in (1, 5, gens):
        for e, v in zip(exact, naive):
            assert stats.ks_2samp(e[:, t], v[:, t]).pvalue > ALPHA


def test_exact_simulator_agrees_with_the_generic_loop():
    # the one-loop architecture: GaussianFamily under loop.run_chains is the same law
    n, gens, chains = 6, 10, 600
    histories = loop.run_chains(
        chains,
        seed=3,
        family=GaussianFamily("mle"),
        initial_model=GaussianModel(0.0, 1.0),
        n=n,
        generations=gens,
        metrics={"var": lambda s: s.model.var, "mean": lambda s: s.model.mean},
        progress=False,
    )
    looped_var, looped_mean = loop.stack(histories, "var"), loop.stack(histories, "mean")
    means, variances = gaussian.simulate(n, gens, 20000, seed=4)
    for t in (1, gens):
        assert stats.ks_2samp(looped_var[:, t], variances[:, t]).pvalue > ALPHA
        assert stats.ks_2samp(looped_mean[:, t], means[:, t]).pvalue > ALPHA


def test_monte_carlo_mean_matches_expected_variance():
    # n = 50, t <= 40: Var[sigma_t^2] / E[sigma_t^2]^2 = (51/49)^t - 1 <= 3.9, so the
    # sample mean of 40 000 chains is a well-behaved estimate with a known standard error.
    # The mean is compared within Z exact standard errors (variance_of_variance), not
    # the sample's own. The sample standard deviation is checked too, within Z of *its*
    # standard error, derived from the exact raw moments E[sigma_t^(2k)] =
    # (E[(chi2_(n-1)/n)^k])^t, k <= 4 (a fixed rtol=0.2 failed 1% of reseeded runs).
    n, gens, chains = 50, 40, 40000
    _, variances = gaussian.simulate(n, gens, chains, seed=5)
    t = np.arange(gens + 1)
    exact_se = np.sqrt(gaussian.variance_of_variance(n, t) / chains)
    assert within(variances.mean(axis=0)[1:], gaussian.expected_variance(n, t)[1:], exact_se[1:])
    m = n - 1
    step = [np.prod([(m + 2 * j) / n for j in range(k)]) for k in range(5)]  # E[(chi2_m / n)^k]
    raw = np.array([s**t for s in step])  # E[sigma_t^(2k)], k = 0..4
    mean, var = raw[1], raw[2] - raw[1] ** 2
    mu4 = raw[4] - 4 * mean * raw[3] + 6 * mean**2 * raw[2] - 3 * mean**4  # 4th central moment
    se_of_sd = np.sqrt((mu4 - var**2) / chains) / (2 * np.sqrt(var))  # delta method
    sd = variances.std(axis=0, ddof=1)
    assert within(sd[1:], np.sqrt(var[1:]), se_of_sd[1:])


def test_unbiased_mean_stays_flat_while_median_falls():
    n, gens, chains = 50, 40, 40000
    _, variances = gaussian.simulate(n, gens, chains, estimator="unbiased", seed=6)
    se = variances.std(axis=0, ddof=1) / math.sqrt(chains)
    assert within(variances.mean(axis=0)[1:], 1.0, se[1:])
    # E[log sigma_t^2] = t * drift exactly; the sample mean of the log is within Z SE
    logs = np.log(variances[:, -1])
    assert within(logs.mean(), gens * gaussian.log_variance_drift(n, "unbiased"), logs.std(ddof=1) / math.sqrt(chains))
    # the median falls: the typical value exp(t * drift) is about 0.44 here, and the
    # median's relative standard error (about 1.25 * 1.3 / sqrt(chains) in log scale) is < 1%
    median = np.median(variances[:, -1])
    assert median < 0.5
    assert median == pytest.approx(gaussian.typical_variance(n, gens, estimator="unbiased"), rel=0.03)


@pytest.mark.parametrize("estimator", gaussian.ESTIMATORS)
def test_mean_random_walk_variance(estimator):
    n, gens, chains = 20, 30, 40000
    means, _ = gaussian.simulate(n, gens, chains, estimator=estimator, seed=7)
    t = np.arange(gens + 1)
    var_hat = means.var(axis=0, ddof=1)
    # SE of a sample variance: sqrt((m4 - s^4) / chains), with m4 the fourth central moment
    m4 = np.mean((means - means.mean(axis=0)) ** 4, axis=0)
    se = np.sqrt(np.maximum(m4 - var_hat**2, 0) / chains)
    assert within(var_hat[1:], gaussian.mean_variance(n, t, estimator=estimator)[1:], se[1:])


def test_mvn_exact_and_naive_agree_and_logdet_drift():
    n, d, gens, chains = 15, 4, 12, 3000
    eig_e, logdet_e = gaussian.simulate_mvn(n, d, gens, chains, method="exact", seed=8)
    eig_n, logdet_n = gaussian.simulate_mvn(n, d, gens, chains, method="naive", seed=9)
    for t in (1, gens):
        assert stats.ks_2samp(logdet_e[:, t], logdet_n[:, t]).pvalue > ALPHA
        assert stats.ks_2samp(eig_e[:, t, 0], eig_n[:, t, 0]).pvalue > ALPHA  # smallest eigenvalue
        assert stats.ks_2samp(eig_e[:, t, -1], eig_n[:, t, -1]).pvalue > ALPHA  # largest
    # the eigenvalues and the log-determinant describe the same matrix
    assert np.allclose(np.log(eig_e).sum(axis=-1), logdet_e, atol=1e-8)
    # E[log det Sigma_t] = t * log_det_drift
    final = logdet_e[:, -1]
    assert within(final.mean(), gens * gaussian.log_det_drift(n, d), final.std(ddof=1) / math.sqrt(chains))
    # E[Sigma_t] = ((n-1)/n)^t Sigma_0, so E[trace] = d ((n-1)/n)^t
    trace = eig_e[:, -1].sum(axis=-1)
    assert within(trace.mean(), d * gaussian.expected_variance(n, gens), trace.std(ddof=1) / math.sqrt(chains))


def test_mvn_with_d_one_is_the_one_dimensional_law():
    eig, _ = gaussian.simulate_mvn(10, 1, 8, 5000, seed=10)
    _, variances = gaussian.simulate(10, 8, 5000, seed=11)
    assert stats.ks_2samp(eig[:, -1, 0], variances[:, -1]).pvalue > ALPHA


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: gaussian.expected_variance(1, 3), "n"),
        (lambda: gaussian.expected_variance(10, -1), "t"),
        (lambda: gaussian.expected_variance(10, [0, 1.5]), "t"),
        (lambda: gaussian.expected_variance(10, 3, sigma0_sq=0.0), "sigma0_sq"),
        (lambda: gaussian.expected_variance(10, 3, estimator="biased"), "estimator"),
        (lambda: gaussian.variance_of_variance(10, 3, estimator="x"), "estimator"),
        (lambda: gaussian.mean_variance(1, 3), "n"),
        (lambda: gaussian.log_variance_drift(1), "n"),
        (lambda: gaussian.log_variance_drift(10, "median"), "estimator"),
        (lambda: gaussian.generations_to_halve(10, quantity="median"), "quantity"),
        (lambda: gaussian.generations_to_halve(10, fraction=1.5), "fraction"),
        (lambda: gaussian.simulate(1, 3, 3), "n"),
        (lambda: gaussian.simulate(10, -1, 3), "generations"),
        (lambda: gaussian.simulate(10, 3, 0), "chains"),
        (lambda: gaussian.simulate(10, 3, 3, method="fast"), "method"),
        (lambda: gaussian.simulate(10, 3, 3, estimator="ols"), "estimator"),
        (lambda: gaussian.simulate(10, 3, 3, sigma0_sq=-1.0), "sigma0_sq"),
        (lambda: gaussian.simulate(10, 3, 3, mu0=float("nan")), "mu0"),
        (lambda: gaussian.simulate_mvn(3, 3, 2, 2), "n"),
        (lambda: gaussian.simulate_mvn(10, 0, 2, 2), "d"),
        (lambda: gaussian.simulate_mvn(10, 2, 2, 2, method="fast"), "method"),
        (lambda: gaussian.simulate_mvn(10, 2, 2, 2, cov0=np.eye(3)), "cov0"),
        (lambda: gaussian.log_det_drift(5, 5), "n"),
    ],
)
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_bad_input_lists_allowed_values():
    with pytest.raises(ValueError, match="mle, unbiased"):
        gaussian.simulate(10, 3, 3, estimator="ols")
    with pytest.raises(ValueError, match="exact, naive"):
        gaussian.simulate(10, 3, 3, method="fast")


def test_family_unchanged():
    fam = GaussianFamily("unbiased")
    model = fam.fit(np.array([1.0, 2.0, 3.0]))
    assert model == GaussianModel(mean=2.0, var=1.0)
    with pytest.raises(ValueError, match="estimator"):
        GaussianFamily("x")


# --- growing sample sizes (prop-02-growing) -----------------------------------------------


def test_schedule_matches_a_direct_refit():
    """Sample-based refits with sizes 2, 5, 10, 40 (20,000 chains): the mean fitted variance
    of every generation is within 4 standard errors of schedule_expected_variance, for both
    estimators."""
    sizes, chains = [2, 5, 10, 40], 20000
    for estimator, ddof in (("mle", 0), ("unbiased", 1)):
        rng = np.random.default_rng(11)
        mu, var = np.zeros(chains), np.ones(chains)
        exact = gaussian.schedule_expected_variance(sizes, estimator=estimator)
        for t, size in enumerate(sizes, start=1):
            x = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, size))
            mu, var = x.mean(axis=1), x.var(axis=1, ddof=ddof)
            se = var.std() / np.sqrt(chains)
            assert abs(var.mean() - exact[t]) < 4 * se, (estimator, t)


def test_simulate_schedule_has_the_law_of_schedule_log_moments():
    """Mean and variance of log sigma_t^2 over 20,000 simulated chains agree with the exact
    sums of drifts and step variances (4 standard errors; the standard error of a sample
    variance is sqrt((m4 - var^2) / chains), m4 the sample's fourth central moment)."""
    sizes = np.arange(1, 41) * 3 + 2
    logs = np.log(gaussian.simulate_schedule(sizes, 20000, seed=5))
    mean, var = gaussian.schedule_log_moments(sizes)
    se_mean = np.sqrt(var[1:] / 20000)
    assert np.all(np.abs(logs[:, 1:].mean(axis=0) - mean[1:]) < 4 * se_mean)
    centred = logs[:, 1:] - logs[:, 1:].mean(axis=0)
    sample_var = (centred**2).mean(axis=0)
    se_var = np.sqrt(((centred**4).mean(axis=0) - sample_var**2) / 20000)
    assert np.all(np.abs(sample_var - var[1:]) < 4 * se_var)
    # a constant schedule is the fixed-n simulator
    const_mean, const_var = gaussian.schedule_log_moments([10] * 5)
    assert const_mean[-1] == pytest.approx(5 * gaussian.log_variance_drift(10))
    assert const_var[-1] == pytest.approx(5 * gaussian.log_variance_step_sd(10) ** 2)


def test_growing_schedules_collapse_exactly_when_the_sum_of_1_over_n_diverges():
    """prop-02-growing, in expectation: n_t = 10 t collapses like t^(-1/10) (the ratio
    E[sigma^2] at 10^4 over 10^3 is 10^(-0.1) within 0.1%), while n_t = 10 t^2 converges
    (generations 10^4 to 10^5 change E[sigma^2] by less than the tail sum 1e-5)."""
    t = np.arange(1, 100_001)
    linear = gaussian.schedule_expected_variance(10 * t)
    assert linear[10_000] / linear[1_000] == pytest.approx(10 ** -0.1, rel=1e-3)
    square = gaussian.schedule_expected_variance(10 * t**2)
    assert 0 < square[10_000] - square[100_000] < 1e-5
    assert square[-1] > 0.8
    assert np.all(gaussian.schedule_expected_variance(10 * t[:50], estimator="unbiased") == 1.0)


@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_drift_is_at_least_a_quarter_of_the_step_variance(estimator):
    """The proof of prop-02-growing uses -delta_n >= s_n^2 / 4 for every n >= 2."""
    for n in np.unique(np.round(np.geomspace(2, 1e6, 400)).astype(int)):
        drift = gaussian.log_variance_drift(int(n), estimator)
        assert -drift >= gaussian.log_variance_step_sd(int(n)) ** 2 / 4


@pytest.mark.parametrize("bad", [[], [1, 5], [2.5], [[3, 4]], "abc", [True, 3]])
def test_schedule_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="sizes must be"):
        gaussian.schedule_expected_variance(bad)
