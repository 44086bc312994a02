"""Tests of collapse_utils.exact.gaussian_mixing (chapter 08, "Mixing and accumulation").

Statistical tests use fixed seeds. Monte-Carlo means must lie within Z = 4.5
standard errors of the exact value; with a few dozen correlated comparisons per
test the chance of a false alarm is below 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from collapse_utils import loop
from collapse_utils.exact import categorical_mixing, filtering, gaussian_mixing, regression
from collapse_utils.families.categorical import CategoricalFamily, CategoricalModel
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

Z = 4.5


def assert_mc(samples: np.ndarray, exact: np.ndarray):
    """Column means of samples (chains x generations) within Z standard errors of exact."""
    mean = samples.mean(axis=0)
    se = samples.std(axis=0, ddof=1) / math.sqrt(samples.shape[0])
    diff = np.abs(mean - exact)
    assert np.all((diff <= Z * se) | (diff < 1e-12)), (mean, exact, se)


# --- Gaussian under mix ------------------------------------------------------------------


@pytest.mark.parametrize("fresh", [True, False])
@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
def test_mix_moments_match_simulation(fresh, estimator):
    n, lam, gens = 20, 0.1, 25
    s, q = gaussian_mixing.mix_moments(n, lam, gens, fresh=fresh, estimator=estimator, sigma0_sq=2.0)
    means, variances = gaussian_mixing.simulate_mix(n, lam, gens, 100_000, fresh=fresh, estimator=estimator,
                                       sigma0_sq=2.0, seed=11)
    assert_mc(variances, s)
    assert_mc(means**2, q)


def test_mix_moments_with_sampling_scale():
    s, q = gaussian_mixing.mix_moments(30, 0.2, 20, sampling_scale=1.5)
    means, variances = gaussian_mixing.simulate_mix(30, 0.2, 20, 100_000, sampling_scale=1.5, seed=12)
    assert_mc(variances, s)
    assert_mc(means**2, q)


@pytest.mark.parametrize("fresh", [True, False])
def test_fast_simulator_agrees_with_generic_loop(fresh):
    """The sufficient-statistic simulator against the generic loop with GaussianFamily and Mix."""
    n, lam, gens, chains = 20, 0.2, 8, 400
    histories = loop.run_chains(chains, seed=5, family=GaussianFamily(), initial_model=GaussianModel(0.0, 1.0),
                                n=n, generations=gens, policy=loop.Mix(lam, fresh=fresh),
                                metrics={"var": lambda st: st.model.var, "mean": lambda st: st.model.mean})
    s, q = gaussian_mixing.mix_moments(n, lam, gens, fresh=fresh)
    assert_mc(loop.stack(histories, "var"), s)
    assert_mc(loop.stack(histories, "mean") ** 2, q)
    # and in distribution at the last generation (KS test at level 1e-3)
    _, fast = gaussian_mixing.simulate_mix(n, lam, gens, 20_000, fresh=fresh, seed=6)
    assert stats.ks_2samp(loop.stack(histories, "var")[:, -1], fast[:, -1]).pvalue > 1e-3


def test_replace_limit_matches_chapter_02():
    s, q = gaussian_mixing.mix_moments(10, 0.0, 5)
    assert np.allclose(s, (9 / 10) ** np.arange(6))
    # Var[mu_t] = 1 - ((n-1)/n)^t under the MLE (chapter 02)
    assert np.allclose(q, 1 - (9 / 10) ** np.arange(6))


def test_fixed_point_is_limit_and_approximation():
    for fresh in (True, False):
        s, q = gaussian_mixing.mix_moments(100, 0.1, 400, fresh=fresh)
        star = gaussian_mixing.mix_fixed_point(100, 0.1, fresh=fresh)
        assert s[-1] == pytest.approx(star[0], rel=1e-9)
        assert q[-1] == pytest.approx(star[1], rel=1e-9)
    # deficit about 1 / ((2 - lambda)(lambda n + 1 - lambda)): half of one over the real points
    for n, lam in [(100, 0.1), (1000, 0.05), (1000, 0.5)]:
        deficit = 1 - gaussian_mixing.mix_fixed_point(n, lam)[0]
        assert deficit == pytest.approx(1 / ((2 - lam) * (lam * n + 1 - lam)), rel=0.05)
    with pytest.raises(ValueError, match="no stable fixed point"):
        gaussian_mixing.mix_fixed_point(100, 0.0)


def test_contraction_threshold_in_sampling_scale():
    n, lam = 100, 0.2
    # radius < 1 for tau = 1 and any positive real fraction; crosses 1 near tau = n / ((n - 1)(1 - lam))
    assert gaussian_mixing.mix_contraction(n, lam) < 1
    assert gaussian_mixing.mix_contraction(n, 0.0) == pytest.approx(1.0)
    tau_star = n / ((n - 1) * (1 - lam))
    assert gaussian_mixing.mix_contraction(n, lam, sampling_scale=0.98 * tau_star) < 1
    assert gaussian_mixing.mix_contraction(n, lam, sampling_scale=1.02 * tau_star) > 1


# --- accumulate -------------------------------------------------------------------------------


def test_accumulate_moments_match_simulation_and_limit():
    n, gens = 10, 40
    s, v = gaussian_mixing.accumulate_moments(n, gens)
    means, variances = gaussian_mixing.simulate_accumulate(n, gens, 100_000, seed=21)
    assert_mc(variances, s)
    assert_mc(means**2, v)
    assert np.allclose(s, np.concatenate([[1.0], np.cumprod(1 - 1 / (n * np.arange(1, gens + 1) ** 2))]))
    big, _ = gaussian_mixing.accumulate_moments(n, 20_000)
    assert big[-1] == pytest.approx(gaussian_mixing.accumulate_variance_limit(n), rel=1e-4)
    assert np.all(v <= math.pi**2 / 6 / n)


def test_accumulate_simulator_agrees_with_generic_loop():
    n, gens, chains = 10, 6, 400
    histories = loop.run_chains(chains, seed=7, family=GaussianFamily(), initial_model=GaussianModel(0.0, 1.0),
                                n=n, generations=gens, policy="accumulate",
                                metrics={"var": lambda st: st.model.var})
    s, _ = gaussian_mixing.accumulate_moments(n, gens)
    assert_mc(loop.stack(histories, "var"), s)


# --- minority component -----------------------------------------------------------------------


@pytest.mark.parametrize("fresh", [True, False])
def test_minority_presence_matches_loop(fresh):
    w, n, lam, gens, chains = 0.05, 40, 0.1, 12, 3000
    exact = categorical_mixing.minority_presence(w, n, lam, gens, fresh=fresh)
    histories = loop.run_chains(chains, seed=8, family=CategoricalFamily(2), initial_model=CategoricalModel((1 - w, w)),
                                n=n, generations=gens, policy=loop.Mix(lam, fresh=fresh),
                                metrics={"alive": lambda st: float(st.model.weights[1] > 0)})
    assert_mc(loop.stack(histories, "alive"), exact)


@pytest.mark.parametrize("fresh", [True, False])
def test_minority_simulator_matches_exact_presence_and_loop_counts(fresh):
    w, n, lam, gens = 0.05, 40, 0.1, 12
    counts = categorical_mixing.simulate_minority(w, n, lam, gens, 20000, fresh=fresh, seed=9)
    assert counts.shape == (20000, gens + 1) and counts[0, 0] == n * w
    assert_mc((counts[:, 1:] > 0).astype(float), categorical_mixing.minority_presence(w, n, lam, gens, fresh=fresh)[1:])
    # the same chain through the generic loop: the mean count agrees within the sampling error
    # of both (4 standard errors of the difference of two independent means)
    histories = loop.run_chains(2000, seed=10, family=CategoricalFamily(2), initial_model=CategoricalModel((1 - w, w)),
                                n=n, generations=gens, policy=loop.Mix(lam, fresh=fresh),
                                metrics={"count": lambda st: 0.0 if st.data is None else float(np.sum(st.data == 1))})
    looped = loop.stack(histories, "count")[:, 1:]
    sim = counts[:, 1:]
    se = np.sqrt(looped.var(axis=0, ddof=1) / len(looped) + sim.var(axis=0, ddof=1) / len(sim))
    assert np.all(np.abs(looped.mean(axis=0) - sim.mean(axis=0)) < 4 * se)


def test_minority_simulator_rejects_bad_input():
    with pytest.raises(ValueError, match="chains"):
        categorical_mixing.simulate_minority(0.1, 10, 0.1, 3, 0)
    with pytest.raises(ValueError, match="real_fraction"):
        categorical_mixing.simulate_minority(0.1, 10, 1.5, 3, 10)


def test_minority_limits():
    w, n = 0.05, 40
    assert categorical_mixing.minority_loss_forever(w, n, 0.0) == pytest.approx(1 - w)
    assert categorical_mixing.minority_loss_forever(w, n, 0.1) == 0.0
    assert categorical_mixing.minority_loss_forever(w, n, 0.1, fresh=False) == pytest.approx((1 - w) ** 4)
    pi = categorical_mixing.minority_stationary(w, n, 0.1)
    assert pi.sum() == pytest.approx(1.0)
    assert pi @ np.arange(n + 1) == pytest.approx(n * w, rel=1e-6)  # the mean weight is w
    long = categorical_mixing.minority_presence(w, n, 0.1, 400)
    assert long[-1] == pytest.approx(1 - pi[0], abs=1e-6)
    # fixed pool: long-run presence tends to P(pool contains the component)
    fixed = categorical_mixing.minority_presence(w, n, 0.1, 3000, fresh=False)
    assert fixed[-1] == pytest.approx(1 - (1 - w) ** 4, abs=1e-3)


def test_minority_time_varying_fraction():
    lam = np.full(10, 0.1)
    assert np.allclose(categorical_mixing.minority_presence(0.05, 40, lam, 10), categorical_mixing.minority_presence(0.05, 40, 0.1, 10))
    with pytest.raises(ValueError, match="length"):
        categorical_mixing.minority_presence(0.05, 40, np.full(3, 0.1), 10)


# --- decontamination --------------------------------------------------------------------------


def test_effective_real_fraction_against_simulation():
    rng = np.random.default_rng(31)
    s, r, f, docs = 0.7, 0.8, 0.1, 1_000_000
    synthetic = rng.random(docs) < s
    flagged = np.where(synthetic, rng.random(docs) < r, rng.random(docs) < f)
    kept = ~flagged
    share = np.mean(~synthetic[kept])
    exact = filtering.effective_real_fraction(s, r, f)
    se = math.sqrt(exact * (1 - exact) / kept.sum())
    assert abs(share - exact) < Z * se
    assert abs(kept.mean() - filtering.kept_fraction(s, r, f)) < Z * math.sqrt(kept.mean() / docs)


def test_effective_real_fraction_corners():
    assert filtering.effective_real_fraction(0.9, 1.0, 0.0) == 1.0  # a perfect watermark
    assert filtering.effective_real_fraction(0.9, 0.0, 0.0) == pytest.approx(0.1)  # no detector
    assert np.isnan(filtering.effective_real_fraction(1.0, 1.0, 0.0))  # nothing left
    grid = filtering.effective_real_fraction(0.5, np.array([[0.2], [0.9]]), np.array([0.0, 0.1, 0.3]))
    assert grid.shape == (2, 3)


def test_real_fraction_needed():
    lam = gaussian_mixing.real_fraction_needed(100, 0.05)
    assert gaussian_mixing.mix_fixed_point(100, lam)[0] == pytest.approx(0.95, abs=1e-8)
    assert gaussian_mixing.mix_fixed_point(100, lam * 1.1)[0] > 0.95


@pytest.mark.parametrize("tolerance", [0.02, 0.05])
def test_real_points_needed_do_not_grow_with_n(tolerance):
    """Chapter 08 (issue 13): what keeps the variance within a tolerance eps is a
    number of real points per generation, lambda n, between 1/(2 eps) - 1 (the
    corollary's approximation) and 1/(2 eps), the same at n = 1e3, 1e4 and 1e5
    (within 2%), so the real share needed falls like 1/n."""
    points = [gaussian_mixing.real_fraction_needed(n, tolerance) * n for n in (1_000, 10_000, 100_000)]
    for k in points:
        assert 1 / (2 * tolerance) - 1 <= k <= 1 / (2 * tolerance)
    assert max(points) / min(points) < 1.02


# --- Gerstgrasser et al.'s linear regression -------------------------------------------------


@pytest.mark.parametrize("policy", ["replace", "accumulate"])
def test_regression_matches_theory(policy):
    samples, dim, gens = 60, 5, 15
    err = regression.simulate_regression(samples, dim, 1.0, gens, 4000, policy=policy, seed=41)
    assert_mc(err, regression.regression_error(samples, dim, 1.0, np.arange(gens + 1), policy))


def test_regression_bound():
    t = np.arange(500)
    acc = regression.regression_error(50, 5, 2.0, t, "accumulate")
    one = regression.regression_error(50, 5, 2.0, 1)
    assert np.all(acc < math.pi**2 / 6 * one)
    assert acc[-1] == pytest.approx(math.pi**2 / 6 * one, rel=0.01)


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gaussian_mixing.mix_moments(1, 0.1, 5), "n must be"),
        (lambda: gaussian_mixing.mix_moments(10, 1.5, 5), "real_fraction"),
        (lambda: gaussian_mixing.mix_moments(10, 0.1, -1), "generations"),
        (lambda: gaussian_mixing.mix_moments(10, 0.1, 5, estimator="ols"), "estimator"),
        (lambda: gaussian_mixing.mix_moments(10, 0.05, 5, fresh=False), "fixed pool"),
        (lambda: gaussian_mixing.simulate_mix(10, 0.1, 5, 0), "chains"),
        (lambda: gaussian_mixing.mix_contraction(10, 0.1, sampling_scale=-1), "sampling_scale"),
        (lambda: categorical_mixing.minority_presence(1.0, 10, 0.1, 5), "w must"),
        (lambda: categorical_mixing.minority_presence(0.1, 10, 0.1, 5, fresh="yes"), "fresh"),
        (lambda: filtering.effective_real_fraction(0.5, 1.2, 0.0), "recall"),
        (lambda: regression.regression_error(5, 5, 1.0, 3), "samples must exceed"),
        (lambda: regression.simulate_regression(50, 5, 1.0, 3, 10, policy="mix"), "policy"),
        (lambda: filtering.bertrand_max_ratio(-1.0), "lipschitz"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bertrand_bound():
    assert filtering.bertrand_max_ratio() == 0.5
    assert filtering.bertrand_max_ratio(1.0) == 0.25


@pytest.mark.parametrize("n, lam", [(1000, 0.05), (200, 0.1), (5000, 0.02)])
def test_fixed_pool_mean_error_is_the_pools_error_plus_the_wandering(n, lam):
    # Chapter 08's approximation q_inf ~ s0/k + (1-lam) s0 / ((2-lam) lam n), k = lam n:
    # first order in 1/k, so it must hold to a relative error of order 1/k (here 5/k).
    s0 = 1.0
    k = round(lam * n)
    _, q = gaussian_mixing.mix_fixed_point(n, lam, fresh=False, sigma0_sq=s0)
    approx = s0 / k + (1 - lam) * s0 / ((2 - lam) * lam * n)
    assert q == pytest.approx(approx, rel=5 / k)
    assert q > s0 / k * 1.3  # the wandering term is not negligible: s0/k alone is wrong


def test_pathwise_floor_under_fresh_mixing():
    """Chapter 08, prop-08-floor: with fresh real data the fitted (MLE) variance of
    every generation is at least lambda times the variance of that generation's own
    real points, on every path (checked to rounding on 2,000 chains of a direct
    simulation with the data in hand), and P(sigma_t^2 < eps) is at most the
    chi-square bound (empirical share <= bound + 4 standard errors)."""
    from scipy import stats

    n, lam, gens, chains, eps = 20, 0.2, 30, 2000, 0.15
    k = round(lam * n)
    rng = np.random.default_rng(7)
    mu, var = np.zeros(chains), np.ones(chains)
    below = []
    for t in range(1, gens + 1):
        real = rng.standard_normal((chains, n if t == 1 else k))
        synthetic = mu[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((chains, 0 if t == 1 else n - k))
        points = np.concatenate([real, synthetic], axis=1)
        mu, var = points.mean(axis=1), points.var(axis=1)
        if t >= 2:
            assert np.all(var >= lam * real.var(axis=1) - 1e-12)
            below.append(var < eps)
    share = np.mean(below)
    bound = stats.chi2.cdf(k * eps / lam, k - 1)
    se = np.sqrt(bound * (1 - bound) / chains)  # per-generation binomial error, conservative for the mean
    assert 0 < share <= bound + 4 * se
