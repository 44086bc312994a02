"""The regression simulator and its exact error against the generic loop with the regression family."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils import loop
from collapse_utils.exact import regression
from collapse_utils.families.regression import LinearRegressionFamily

SAMPLES, DIM, NOISE, GENERATIONS, CHAINS = 30, 5, 1.0, 5, 600


def loop_errors(policy: str) -> np.ndarray:
    """||w_t - w*||^2 of CHAINS chains of loop.run, each with its own design and w* (as the simulator)."""
    rng = np.random.default_rng(2024)
    errors = np.zeros((CHAINS, GENERATIONS + 1))
    for c in range(CHAINS):
        X = rng.standard_normal((SAMPLES, DIM))
        w_star = rng.standard_normal(DIM)
        history = loop.run(LinearRegressionFamily(X, NOISE), initial_model=w_star, n=SAMPLES,
                           generations=GENERATIONS, policy=policy, seed=c, progress=False,
                           metrics={"err": lambda step, w_star=w_star: float(np.sum((step.model - w_star) ** 2))})
        errors[c] = history["err"]
    return errors


@pytest.mark.parametrize("policy", ["replace", "accumulate"])
def test_loop_matches_exact_error_and_simulator(policy):
    # Tolerance: 4 standard errors of the mean over CHAINS chains (each side), so a false
    # failure has probability about 6e-5 per comparison under a normal approximation.
    exact = regression.regression_error(SAMPLES, DIM, NOISE, np.arange(GENERATIONS + 1), policy)
    looped = loop_errors(policy)
    simulated = regression.simulate_regression(SAMPLES, DIM, NOISE, GENERATIONS, CHAINS, policy, seed=7)
    for errors in (looped, simulated):
        mean = errors.mean(axis=0)
        se = errors.std(axis=0, ddof=1) / np.sqrt(CHAINS)
        assert np.all(np.abs(mean[1:] - exact[1:]) < 4 * se[1:]), (mean, exact, se)
    # the two routes agree with each other too (difference of two independent means)
    se_diff = np.hypot(looped.std(axis=0, ddof=1), simulated.std(axis=0, ddof=1)) / np.sqrt(CHAINS)
    assert np.all(np.abs(looped.mean(axis=0) - simulated.mean(axis=0))[1:] < 4 * se_diff[1:])


def test_family_rejects_bad_input():
    with pytest.raises(ValueError, match="more rows than columns"):
        LinearRegressionFamily(np.ones((2, 3)), 1.0)
    family = LinearRegressionFamily(np.random.default_rng(0).standard_normal((4, 2)), 1.0)
    with pytest.raises(ValueError, match="label vectors of length 4"):
        family.fit(np.ones(5))
    with pytest.raises(ValueError, match="n must equal the number of rows"):
        family.sample(np.zeros(2), 3, np.random.default_rng(0))


def test_ridge_error_matches_loop_for_one_design():
    # One fixed design and w*; 1,500 chains of loop.run differ only in the label noise, so their mean
    # estimates the exact conditional error of prop-13-ridge (4 standard errors, each generation).
    rng = np.random.default_rng(9)
    X, w_star, ridge, gens, chains = rng.standard_normal((15, 4)), rng.standard_normal(4), 3.0, 6, 1500
    family = LinearRegressionFamily(X, 0.8, ridge=ridge)
    errors = np.array([
        loop.run(family, initial_model=w_star, n=15, generations=gens, seed=c, progress=False,
                 metrics={"err": lambda step: float(np.sum((step.model - w_star) ** 2))})["err"]
        for c in range(chains)])
    exact = regression.ridge_error(X, w_star, 0.8, ridge, np.arange(gens + 1))
    se = errors.std(axis=0, ddof=1) / np.sqrt(chains)
    assert np.all(np.abs(errors.mean(axis=0)[1:] - exact[1:]) < 4 * se[1:]), (errors.mean(axis=0), exact)
    # without a penalty the formula is noise^2 t tr((X^T X)^-1)
    ols = regression.ridge_error(X, w_star, 0.8, 0.0, np.arange(4))
    assert ols == pytest.approx(0.64 * np.arange(4) * np.trace(np.linalg.inv(X.T @ X)))


def test_fresh_design_replace_has_the_same_linear_growth():
    # Dohmatob et al.'s setting draws new inputs every generation; the expected error is still t E1
    # (4 standard errors over 4,000 chains, each generation).
    sim = regression.simulate_regression(30, 5, 1.0, 5, 4000, "replace", seed=3, fresh_design=True)
    exact = regression.regression_error(30, 5, 1.0, np.arange(6))
    se = sim.std(axis=0, ddof=1) / np.sqrt(4000)
    assert np.all(np.abs(sim.mean(axis=0)[1:] - exact[1:]) < 4 * se[1:])


def test_ridge_simulator_matches_exact_on_average_over_designs():
    # simulate_regression with a penalty against ridge_error averaged over the same kind of designs
    # (each chain's exact value on its own design; 4 standard errors of the difference).
    sim = regression.simulate_regression(12, 3, 1.0, 4, 3000, "replace", seed=4, ridge=2.0)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3000, 12, 3))
    w_star = rng.standard_normal((3000, 3))
    exact = np.array([regression.ridge_error(X[c], w_star[c], 1.0, 2.0, np.arange(5)) for c in range(3000)])
    diff = sim - exact  # same designs and w* (the simulator draws them first from the same seed)
    se = diff.std(axis=0, ddof=1) / np.sqrt(3000)
    assert np.all(np.abs(diff.mean(axis=0)[1:]) < 4 * se[1:])


def test_ridge_arguments_are_checked():
    with pytest.raises(ValueError, match="ridge must be"):
        LinearRegressionFamily(np.ones((5, 2)), 1.0, ridge=-1.0)
    with pytest.raises(ValueError, match="ridge must be"):
        regression.ridge_error(np.ones((5, 2)), np.zeros(2), 1.0, -0.5, 1)
    with pytest.raises(ValueError, match="ridge must be"):
        regression.simulate_regression(10, 2, 1.0, 2, 3, ridge=-1.0)
    with pytest.raises(ValueError, match="ridge must be > 0 when"):
        regression.ridge_error(np.ones((5, 2)), np.zeros(2), 1.0, 0.0, 1)
    with pytest.raises(ValueError, match="w_star must be"):
        regression.ridge_error(np.eye(3), np.zeros(2), 1.0, 1.0, 1)
    # ridge fits a design with fewer rows than columns
    LinearRegressionFamily(np.ones((2, 3)), 1.0, ridge=0.1).fit(np.ones(2))
