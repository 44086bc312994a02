"""The long-run fates of chapter 01's summary figure, each against an independent check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from collapse_utils.exact import fates, gaussian, gaussian_mixing


def test_replace_follows_the_sign_of_the_log_drift():
    assert fates.long_run_fate("replace")["fate"] == "collapses"
    # the unbiased estimator keeps E[sigma^2] constant and still collapses almost surely
    unbiased = fates.long_run_fate("replace", estimator="unbiased")
    assert unbiased["fate"] == "collapses" and unbiased["rate"] == pytest.approx(
        gaussian.log_variance_drift(100, "unbiased"))
    assert fates.long_run_fate("replace", temperature=1.1)["fate"] == "explodes"
    # the temperature that exactly cancels the drift separates the two fates
    tau_star = math.exp(-gaussian.log_variance_drift(100))
    assert fates.long_run_fate("replace", temperature=tau_star * 0.999)["fate"] == "collapses"
    assert fates.long_run_fate("replace", temperature=tau_star * 1.001)["fate"] == "explodes"


def test_mixing_settles_at_the_fixed_point_and_explodes_past_the_stability_boundary():
    fresh = fates.long_run_fate("mix")
    assert fresh["fate"] == "settles"
    assert fresh["limit"] == pytest.approx(gaussian_mixing.mix_fixed_point(100, 0.1)[0])
    s, _ = gaussian_mixing.mix_moments(100, 0.1, 2000, fresh=False)
    assert fates.long_run_fate("mix_fixed")["limit"] == pytest.approx(s[-1], rel=1e-9)
    assert fates.long_run_fate("mix", temperature=1.1)["fate"] == "settles"
    assert fates.long_run_fate("mix", temperature=1.3)["fate"] == "explodes"


def test_accumulate_limit_is_eulers_product():
    """tau = 1, MLE: the recursion's limit is sin(pi/sqrt n)/(pi/sqrt n) (the tail of the
    product beyond the horizon is below 1/(n * horizon))."""
    limit = fates.long_run_fate("accumulate", n=50)["limit"]
    assert limit == pytest.approx(gaussian_mixing.accumulate_variance_limit(50), abs=1e-6)
    assert fates.long_run_fate("accumulate", temperature=0.9)["fate"] == "collapses"
    assert fates.long_run_fate("accumulate", temperature=1.1)["fate"] == "explodes"


@pytest.mark.parametrize("tau", [0.8, 1.0, 1.25])
def test_accumulate_recursion_with_a_temperature_matches_a_simulation(tau):
    """The expected-variance recursion of accumulate_moments with sampling_scale tau,
    against 4,000 chains that keep the pool's size, mean and sum of squares (15
    generations of n = 10; every generation within 4 standard errors)."""
    n, gens, chains = 10, 15, 4000
    rng = np.random.default_rng(3)
    real = rng.standard_normal((chains, n))
    size, mean = n, real.mean(axis=1)
    ss = ((real - mean[:, None]) ** 2).sum(axis=1)
    exact, _ = gaussian_mixing.accumulate_moments(n, gens, sampling_scale=tau)
    for t in range(1, gens + 1):
        var = ss / size
        se = var.std() / np.sqrt(chains)
        assert abs(var.mean() - exact[t]) < 4 * se, t
        batch = mean[:, None] + np.sqrt(tau * var)[:, None] * rng.standard_normal((chains, n))
        b_mean = batch.mean(axis=1)
        b_ss = ((batch - b_mean[:, None]) ** 2).sum(axis=1)
        ss = ss + b_ss + size * n / (size + n) * (mean - b_mean) ** 2
        mean = (size * mean + n * b_mean) / (size + n)
        size += n


def test_growing_sample_size_settles_only_without_a_temperature():
    fate = fates.long_run_fate("growing", n=10, growth=2.0)
    sizes = 10 * np.arange(1, 10_001) ** 2
    assert fate["fate"] == "settles"
    assert fate["limit"] == pytest.approx(gaussian.schedule_expected_variance(sizes)[-1], abs=1e-5)
    assert fates.long_run_fate("growing", temperature=0.95)["fate"] == "collapses"
    assert fates.long_run_fate("growing", temperature=1.05)["fate"] == "explodes"


@pytest.mark.parametrize("kwargs, name", [
    ({"policy": "resample"}, "policy"),
    ({"policy": "mix", "estimator": "mom"}, "estimator"),
    ({"policy": "mix", "temperature": 0}, "temperature"),
    ({"policy": "mix", "real_fraction": 0}, "real_fraction"),
    ({"policy": "growing", "growth": 1.0}, "growth"),
])
def test_bad_arguments_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        fates.long_run_fate(**kwargs)
