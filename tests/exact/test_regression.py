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
