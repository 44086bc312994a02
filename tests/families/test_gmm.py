"""Tests of collapse_utils.families.gmm (chapter 04, "Gaussian mixtures").

Statistical tests use fixed seeds. Conventions:
- Monte-Carlo means: within Z = 4 standard errors of the exact value (a false
  alarm has probability about 6e-5 per comparison);
- direction of collapse: a sign test over chains, stated where it is used.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from scipy import stats

from collapse_utils import loop
from collapse_utils.cache import Cache
from collapse_utils.families.gmm import GMMFamily, GMMModel, ring_mixture, sample_gmm
from collapse_utils.measures import distributions

Z = 4.0  # standard errors allowed for Monte-Carlo means


# --- the model and the family ----------------------------------------------------------------


def test_sample_gmm_has_the_mixture_moments(two_d_mixture):
    f = two_d_mixture
    rng = np.random.default_rng(1)
    n = 40_000
    x, labels = sample_gmm(f, n, rng, return_labels=True)
    assert x.shape == (n, 2) and labels.shape == (n,)
    mean = f.weights @ f.means
    second = sum(w * (c + np.outer(m, m)) for w, m, c in zip(f.weights, f.means, f.covariances))
    cov = second - np.outer(mean, mean)
    se = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(x.mean(axis=0) - mean) < Z * se)
    share = labels.mean()  # share of component 1, binomial
    assert abs(share - f.weights[1]) < Z * math.sqrt(f.weights[1] * f.weights[0] / n)
    # within one component the covariance is that component's (4 SE of a variance: sqrt(2/n) s^2)
    c1 = np.cov(x[labels == 1].T)
    n1 = (labels == 1).sum()
    assert np.all(np.abs(np.diag(c1) - np.diag(f.covariances[1])) < Z * np.sqrt(2 / n1) * np.diag(f.covariances[1]))
    # the order carries no information: the first half has the mixture's share too
    # (unshuffled, it would hold every point of component 0 and a share 0.4 of component 1)
    assert abs(labels[: n // 2].mean() - f.weights[1]) < Z * math.sqrt(f.weights[1] * f.weights[0] / (n // 2))


def test_fit_recovers_a_well_separated_mixture_and_is_reproducible():
    truth = ring_mixture([0.25, 0.25, 0.5], radius=5.0, std=0.5)
    x = sample_gmm(truth, 4000, np.random.default_rng(2))
    family = GMMFamily(3)
    a = family.fit(x, np.random.default_rng(3))
    b = family.fit(x, np.random.default_rng(3))
    assert a == b  # the generator seeds sklearn's random_state
    # match each true mode with the nearest fitted mean
    order = np.argmin(np.linalg.norm(truth.means[:, None] - a.means[None], axis=-1), axis=1)
    assert sorted(order) == [0, 1, 2]
    se = np.sqrt(truth.weights * (1 - truth.weights) / 4000)
    assert np.all(np.abs(a.weights[order] - truth.weights) < Z * se)
    assert np.all(np.abs(a.means[order] - truth.means) < 0.1)
    assert distributions.count_modes(a, truth.means, radius=1.0) == 3
    # a model pickles (the cache stores it) and compares by value
    assert pickle.loads(pickle.dumps(a)) == a


def test_bad_inputs_raise_value_errors_naming_the_argument(two_d_mixture):
    f = two_d_mixture
    with pytest.raises(ValueError, match="weights"):
        GMMModel([0.5, 0.6], [[0, 0], [1, 1]], [np.eye(2)] * 2)
    with pytest.raises(ValueError, match="covariances"):
        GMMModel([1.0], [[0, 0]], [[[1.0, 0.0], [0.0, -1.0]]])
    with pytest.raises(ValueError, match="means"):
        GMMModel([1.0], [0.0, 0.0], [np.eye(2)])
    with pytest.raises(ValueError, match="n_components"):
        GMMFamily(0)
    with pytest.raises(ValueError, match="tol"):
        GMMFamily(2, tol=-1)
    with pytest.raises(ValueError, match="data"):
        GMMFamily(3).fit(np.zeros((2, 2)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="kind"):
        distributions.component_std(f, "median")
    with pytest.raises(ValueError, match="same dimension"):
        distributions.l2_distance(f, GMMModel([1.0], [[0.0]], [[[1.0]]]))
    with pytest.raises(ValueError, match="centers"):
        distributions.count_modes(f, [[0.0, 0.0, 0.0]], radius=1.0)
    with pytest.raises(ValueError, match="radius"):
        distributions.count_modes(f, [[0.0, 0.0]], radius=0)
    with pytest.raises(ValueError, match="model"):
        sample_gmm("not a model", 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n must"):
        sample_gmm(f, -1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="weights"):
        ring_mixture([0.5, 0.0, 0.5])


# --- the family under the retraining loop --------------------------------------------------


def spread(step: loop.Step) -> float:
    return float(distributions.component_std(step.model).mean())


def test_spread_falls_under_replace_across_seeds():
    """Shumailov et al.'s setting at smoke size: a 2-component GMM refitted to
    n = 60 samples of the previous fit, from a 2-D standard normal blob.

    Sign test: under the null hypothesis of no drift, each chain's mean component
    std is as likely to rise as to fall between generation 1 and generation 25, so
    17 or more falls out of 20 chains has probability 1.3e-3 (binomial, p = 1/2).
    """
    chains, generations = 20, 25
    histories = loop.run_chains(chains, seed=404, family=GMMFamily(2), real=lambda k, rng: rng.normal(size=(k, 2)),
                                n=60, generations=generations, metrics={"spread": spread})
    s = loop.stack(histories, "spread")
    assert s.shape == (chains, generations + 1)
    falls = int(np.sum(s[:, -1] < s[:, 1]))
    assert stats.binom(chains, 0.5).sf(16) < 2e-3
    assert falls >= 17


def test_real_data_keeps_more_spread_than_replace():
    """Mix(0.5) with fresh real data against replace, same seeds and size: the median
    final spread over 12 chains is larger with real data (the fixed point of mix is
    near the truth, replace drifts to zero; a ratio of 1.3 leaves a wide margin)."""
    kwargs = dict(family=GMMFamily(2), real=lambda k, rng: rng.normal(size=(k, 2)), n=60,
                  generations=25, metrics={"spread": spread})
    replace = loop.stack(loop.run_chains(12, seed=7, policy=loop.Replace(), **kwargs), "spread")[:, -1]
    mixed = loop.stack(loop.run_chains(12, seed=7, policy=loop.Mix(0.5), **kwargs), "spread")[:, -1]
    assert np.median(mixed) > 1.3 * np.median(replace)


def test_loop_is_reproducible_and_cached(tmp_path):
    truth = ring_mixture([0.1, 0.45, 0.45])
    kwargs = dict(initial_model=truth, n=80, generations=4, seed=3,
                  metrics={"modes": lambda s: distributions.count_modes(s.model, truth.means, 2.0)})
    a = loop.run(GMMFamily(3), **kwargs)
    b = loop.run(GMMFamily(3), **kwargs)
    assert a == b and a.final_model == b.final_model
    assert a["modes"][0] == 3  # generation 0 is the truth
    cache = Cache("gmm-test", {"n": 80}, root=tmp_path)
    first = loop.run(GMMFamily(3), cache=cache, **kwargs)
    assert first == a and len(cache.steps()) == 5

    class NoFit(GMMFamily):
        def fit(self, data, rng, *, generation=None):
            raise AssertionError("a cached generation was refitted")

    assert loop.run(NoFit(3), cache=cache, **kwargs) == a


# --- Shumailov et al.'s protocol (Normals_GMM_experiments.ipynb) ------------------------------


def test_default_fit_is_the_papers_gaussian_mixture():
    """GMMFamily's defaults are the paper's GaussianMixture(n_components=2,
    covariance_type="full", tol=1e-5, max_iter=2000) with sklearn's other
    defaults; given the random state the family draws, the fit is sklearn's, bit for bit."""
    from sklearn.mixture import GaussianMixture

    x = np.random.default_rng(5).normal(size=(400, 2))
    rng = np.random.default_rng(6)
    state = int(np.random.default_rng(6).integers(2**32 - 1))  # what fit draws from rng
    ours = GMMFamily().fit(x, rng)
    theirs = GaussianMixture(n_components=2, tol=1e-5, covariance_type="full", max_iter=2000,
                             random_state=state).fit(x)
    np.testing.assert_array_equal(ours.weights, theirs.weights_ / theirs.weights_.sum())
    np.testing.assert_array_equal(ours.means, theirs.means_)
    np.testing.assert_array_equal(ours.covariances, theirs.covariances_)


def test_generation_numbering_is_the_papers():
    """Their loop's fit m = 0 is fitted to the real data and fit m to 1,000 samples of
    fit m - 1; the loop's generation 0 is fitted to the real data, generation t to
    samples of generation t - 1: the same numbering, so their fit 2,000 is our
    generation 2,000."""
    seen = []

    class Recording(GMMFamily):
        def fit(self, data, rng, *, generation=None):
            seen.append((generation, data.copy()))
            return super().fit(data, rng, generation=generation)

    real = np.random.default_rng(0).normal(size=(50, 2))
    history = loop.run(Recording(), real=real, n=50, generations=3, policy=loop.Replace(), seed=1,
                       metrics={"model": lambda step: step.model})
    assert [g for g, _ in seen] == [0, 1, 2, 3]
    np.testing.assert_array_equal(seen[0][1], real)  # generation 0: the real data
    assert history["n_real"].tolist() == [50, 0, 0, 0]  # then only samples of the previous fit
