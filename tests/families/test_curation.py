"""Curation by a reward (chapter 11): the Luce choice, the exact tilt and the population dynamics."""

import math

import numpy as np
import pytest
from scipy import stats

from collapse_utils import loop
from collapse_utils.families import curation as C
from collapse_utils.families import gmm
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

RING = gmm.ring_mixture(np.full(8, 1 / 8))
REWARD = C.QuadraticReward((6.0, 0.0), 0.05)


def test_curation_with_a_constant_reward_equals_no_curation():
    def constant(x):
        return np.zeros(len(x))

    family = GaussianFamily()
    model = GaussianModel(0.3, 2.0)
    rng = np.random.default_rng(0)
    curated = C.Curator(constant, 5)(family, model, 20_000, rng)
    plain = family.sample(model, 20_000, np.random.default_rng(1))
    assert stats.ks_2samp(curated, plain).pvalue > 1e-3  # same law; fixed seeds
    assert C.Curator(constant, 1)(family, model, 10, np.random.default_rng(2)).shape == (10,)
    # and in the loop: the curated chains have the law of plain replace (4 standard errors)
    hs = loop.run_chains(2000, family=family, initial_model=model, n=10, generations=4,
                         sampler=C.Curator(constant, 4), metrics={"var": lambda s: s.model.var}, seed=3)
    var = loop.stack(hs, "var")
    exact = 2.0 * (9 / 10) ** np.arange(5)
    assert np.all(np.abs(var.mean(0) - exact) <= 4 * var.std(0) / math.sqrt(2000) + 1e-12)
    assert C.curated_population(RING, C.QuadraticReward((0.0, 0.0), 1e-12), 3)[-1].weights.sum() == pytest.approx(1)


def test_luce_choice_frequencies():
    r = np.tile(np.log([1.0, 2.0, 5.0]), (60_000, 1))
    picks = C.luce_choice(r, np.random.default_rng(4))
    freq = np.bincount(picks, minlength=3) / len(picks)
    p = np.array([1, 2, 5]) / 8
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / len(picks)))  # 4 standard errors
    with pytest.raises(ValueError, match="rewards must be"):
        C.luce_choice(np.array([np.nan, 1.0])[None], np.random.default_rng(0))


def test_tilt_is_the_reweighted_mixture():
    x = gmm.sample_gmm(RING, 400_000, np.random.default_rng(5))
    wts = np.exp(REWARD(x))
    tilted = C.tilt(RING, REWARD)
    mean_is = (x * wts[:, None]).sum(0) / wts.sum()
    ess = wts.sum() ** 2 / (wts**2).sum()
    se = x.std(0) / math.sqrt(ess)
    assert np.all(np.abs(mean_is - tilted.weights @ tilted.means) < 4 * se)  # 4 importance-sampling SEs
    assert C.expected_reward(RING, REWARD) == pytest.approx(REWARD(x).mean(), abs=4 * REWARD(x).std() / 632)


def test_curation_converges_to_the_maximiser_and_real_data_bounds_it():
    pop = C.curated_population(RING, REWARD, 40)
    rewards = [C.expected_reward(p, REWARD) for p in pop]
    assert np.all(np.diff(rewards) > 0) and rewards[-1] > -0.05  # the maximum is 0
    assert C.total_variance(pop[-1]) < 0.05 * C.total_variance(RING)
    mixed = C.curated_population(RING, REWARD, 40, real_fraction=0.2)
    assert C.total_variance(mixed[-1]) > 0.2 * C.total_variance(RING)
    assert np.all(mixed[-1].weights.reshape(-1, 8).sum(0) >= 0.2 / 8 - 1e-12)  # every mode keeps lam / 8
    assert pop[0] is RING


def test_modes_kept_and_errors():
    assert C.modes_kept(RING.means, RING.means) == 8
    assert C.modes_kept(np.zeros((5, 2)) + RING.means[0], RING.means) == 1
    with pytest.raises(ValueError, match="beta"):
        C.QuadraticReward((0.0, 0.0), 0.0)
    with pytest.raises(ValueError, match="k must be"):
        C.Curator(lambda x: x, 0)
    with pytest.raises(ValueError, match="isotropic"):
        C.tilt(gmm.GMMModel(np.array([1.0]), np.zeros((1, 2)), np.array([[[1.0, 0.5], [0.5, 1.0]]])), REWARD)
