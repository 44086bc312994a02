"""The Gaussian verifier and corrector of chapter 11: closed forms against independent simulations."""

import math

import numpy as np
import pytest

from collapse_utils import loop
from collapse_utils.exact import gaussian
from collapse_utils.exact import verification as V
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel
from collapse_utils.families.labelled import LabelledGaussianFamily

TRUTH = GaussianModel(0.0, 1.0)


def test_fixed_point_matches_an_independent_simulation():
    n, w, chains = 40, 0.3, 40_000
    s, q = V.verified_recursion(n, w, 60)
    s_star, q_star = V.verified_fixed_point(n, w)
    assert s[-1] == pytest.approx(s_star, rel=1e-6) and q[-1] == pytest.approx(q_star, rel=1e-6)
    mu, var = V.simulate_verified(n, w, 60, chains, np.random.default_rng(0))
    # tolerance: 4 standard errors of the chain average
    for t in (1, 2, 10, 60):
        assert abs(var[:, t].mean() - s[t]) < 4 * var[:, t].std() / math.sqrt(chains)
        assert abs((mu[:, t] ** 2).mean() - q[t]) < 4 * (mu[:, t] ** 2).std() / math.sqrt(chains)


def test_loop_with_sampler_and_verifier_agrees_with_the_recursion():
    n, acc, a, f, chains = 30, 0.2, 0.9, 0.3, 1500
    hs = loop.run_chains(chains, family=LabelledGaussianFamily(), initial_model=TRUTH, n=n, generations=6,
                         sampler=V.AccuracySampler(TRUTH, acc), filter=V.Verifier(a, f),
                         metrics={"var": lambda step: step.model.var}, seed=3)
    var = loop.stack(hs, "var")
    s, _ = V.verified_recursion(n, V.correct_share(acc, a, f), 6)
    # tolerance: 4 standard errors of the chain average
    assert np.all(np.abs(var.mean(0) - s) <= 4 * var.std(0) / math.sqrt(chains) + 1e-12)


def test_a_perfect_verifier_trains_on_real_data_only():
    w = V.correct_share(0.25, 1.0, 0.0)
    assert w == 1.0
    s, q = V.verified_recursion(50, w, 10)
    assert np.allclose(s[1:], 49 / 50) and np.allclose(q[1:], 1 / 50)  # fresh real data every generation
    samples = V.AccuracySampler(TRUTH, 0.25)(LabelledGaussianFamily(), GaussianModel(3.0, 0.01), 2000,
                                             np.random.default_rng(1))
    kept = samples[V.Verifier(1.0, 0.0)(samples, None, np.random.default_rng(2))]
    assert np.all(kept[:, 1] == 1)  # only correct samples, drawn from the truth


@pytest.mark.parametrize("rate", [0.0, 0.4, 1.0])
def test_a_useless_verifier_is_plain_replace_when_nothing_is_correct(rate):
    if rate == 0.0:
        with pytest.raises(ValueError, match="both be 0"):
            V.correct_share(0.0, rate, rate)
        return
    w = V.correct_share(0.0, rate, rate)
    assert w == 0.0
    s, _ = V.verified_recursion(20, w, 8)
    assert np.allclose(s, [1.0] + [(19 / 20) ** t for t in range(1, 9)])  # E[var] of plain replace
    assert np.allclose(s, gaussian.expected_variance(20, np.arange(9)))
    with pytest.raises(ValueError, match="w must be > 0"):
        V.verified_fixed_point(20, w)


def test_a_useless_verifier_keeps_the_accuracy():
    assert V.correct_share(0.3, 0.5, 0.5) == pytest.approx(0.3)


@pytest.mark.parametrize("a, f, match", [(1.2, 0.0, "true_accept"), (0.5, -0.1, "false_accept"),
                                          (float("nan"), 0.1, "true_accept"), (0, 0, "both be 0"),
                                          ("high", 0.1, "true_accept")])
def test_bad_verifier_rates_raise_a_clear_error(a, f, match):
    with pytest.raises(ValueError, match=match):
        V.Verifier(a, f)
    with pytest.raises(ValueError, match=match):
        V.correct_share(0.5, a, f)


def test_the_quality_threshold_is_where_the_fixed_point_keeps_the_tolerance():
    n, acc, tol = 100, 0.1, 0.02
    odds = V.odds_needed(n, acc, tol)
    w = V.correct_share(acc, 1.0, 1.0 / odds)  # a verifier exactly at the threshold
    assert V.verified_fixed_point(n, w)[0] == pytest.approx(1 - tol, rel=1e-9)
    assert V.verified_fixed_point(n, V.correct_share(acc, 1.0, 1.1 / odds))[0] < 1 - tol
    assert V.odds_needed(n, 0.0, tol) == math.inf
    with pytest.raises(ValueError, match="tolerance must exceed"):
        V.correct_share_needed(100, 0.005)


def test_corrector_law_and_expected_std_recursion():
    rng = np.random.default_rng(4)
    model = GaussianModel(2.0, 0.25)
    x = V.Corrector(TRUTH, 0.3)(GaussianFamily(), model, 200_000, rng)
    # exact law N(0.7 * 2, (0.7 * 0.5 + 0.3)^2); tolerance 4 standard errors
    assert abs(x.mean() - 1.4) < 4 * 0.65 / math.sqrt(len(x))
    assert abs(x.std() - 0.65) < 4 * 0.65 / math.sqrt(2 * len(x))
    chains, n = 3000, 20
    hs = loop.run_chains(chains, family=GaussianFamily(), initial_model=TRUTH, n=n, generations=8,
                         sampler=V.Corrector(TRUTH, 0.2, sampling_scale=1.3),
                         metrics={"sd": lambda step: step.model.std}, seed=5)
    sd = loop.stack(hs, "sd")
    exact = V.corrected_std_recursion(n, 0.2, 8, sampling_scale=1.3)
    assert np.all(np.abs(sd.mean(0) - exact) <= 4 * sd.std(0) / math.sqrt(chains) + 1e-12)


def test_correction_strength_threshold():
    n, tau = 50, 1.5
    g = V.strength_needed(n, tau)
    assert V.corrected_fixed_point(n, g - 1e-6, tau) == math.inf
    assert math.isfinite(V.corrected_fixed_point(n, g + 1e-6, tau))
    assert V.strength_needed(n, 1.0) == 0.0
    assert V.corrected_fixed_point(n, 1.0) == pytest.approx(V.mle_std_factor(n))  # real data only
    assert V.mle_std_factor(n) == pytest.approx(math.sqrt(2 / n) * math.gamma(n / 2) / math.gamma((n - 1) / 2))
    with pytest.raises(ValueError, match="strength"):
        V.Corrector(TRUTH, 1.5)
