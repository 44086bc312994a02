"""Tests of collapse_utils.measures.distributions: the closed-form L2 distance between
Gaussian mixtures (against numerical integration), per-component spreads and modes found.

Exact checks against scipy quadrature or Simpson's rule on a fine grid (relative 1e-7).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from collapse_utils.families.gmm import GMMModel
from collapse_utils.measures import distributions


def grid_integral(values: np.ndarray, axis_points: np.ndarray) -> float:
    """Simpson's rule over a square grid (smooth, fast-decaying integrands)."""
    inner = integrate.simpson(values, x=axis_points, axis=1)
    return float(integrate.simpson(inner, x=axis_points))


def test_l2_inner_matches_quadrature_in_one_dimension():
    f = GMMModel([0.4, 0.6], [[-1.0], [2.0]], [[[0.5]], [[1.5]]])
    g = GMMModel([1.0], [[0.3]], [[[2.0]]])
    for a, b in ((f, g), (f, f), (g, g)):
        def product(x, a=a, b=b):
            return float(a.pdf(np.array([[x]]))[0] * b.pdf(np.array([[x]]))[0])

        numeric = integrate.quad(product, -np.inf, np.inf, limit=200)[0]
        assert distributions.l2_inner(a, b) == pytest.approx(numeric, rel=1e-7)


def test_l2_distance_matches_numerical_integration_in_two_dimensions(two_d_mixture, other_2d_mixture):
    f, g = two_d_mixture, other_2d_mixture
    axis_points = np.linspace(-9.0, 9.0, 721)  # the densities are < 1e-12 outside the box
    xx, yy = np.meshgrid(axis_points, axis_points, indexing="ij")
    points = np.stack([xx, yy], axis=-1)
    pf, pg = f.pdf(points), g.pdf(points)
    assert grid_integral(pf, axis_points) == pytest.approx(1.0, abs=1e-8)  # the grid is fine enough
    assert distributions.l2_inner(f, g) == pytest.approx(grid_integral(pf * pg, axis_points), rel=1e-7)
    numeric = math.sqrt(grid_integral((pf - pg) ** 2, axis_points))
    assert distributions.l2_distance(f, g) == pytest.approx(numeric, rel=1e-6)


def test_l2_distance_is_a_metric_on_examples(two_d_mixture, other_2d_mixture):
    f, g = two_d_mixture, other_2d_mixture
    h = GMMModel([1.0], [[0.0, 0.0]], [np.eye(2)])
    assert distributions.l2_distance(f, f) == pytest.approx(0.0, abs=1e-7)
    assert distributions.l2_distance(f, g) == pytest.approx(distributions.l2_distance(g, f), rel=1e-12)
    assert distributions.l2_distance(f, g) <= distributions.l2_distance(f, h) + distributions.l2_distance(h, g)
    # a single Gaussian: ||N(0, s^2 I_d)||^2 = (4 pi s^2)^(-d/2)
    assert distributions.l2_inner(h, h) == pytest.approx((4 * math.pi) ** -1)
    # the same mixture written with its components in another order is the same density
    swapped = GMMModel(f.weights[::-1], f.means[::-1], f.covariances[::-1])
    assert distributions.l2_distance(f, swapped) == pytest.approx(0.0, abs=1e-7)


def test_component_std_kinds():
    m = GMMModel([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [np.diag([4.0, 1.0]), np.eye(2) * 0.25])
    assert distributions.component_std(m) == pytest.approx([math.sqrt(2.0), 0.5])
    assert distributions.component_std(m, "rms") == pytest.approx([math.sqrt(2.5), 0.5])
    assert distributions.component_std(m, "max") == pytest.approx([2.0, 0.5])
    one_d = GMMModel([1.0], [[0.0]], [[[0.09]]])
    for kind in distributions.STD_KINDS:
        assert distributions.component_std(one_d, kind) == pytest.approx([0.3])


def test_modes_recovered_by_distance_and_weight():
    centers = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    m = GMMModel([0.6, 0.35, 0.05], [[0.3, -0.2], [3.0, 3.0], [5.5, 0.5]], [np.eye(2)] * 3)
    assert distributions.modes_recovered(m, centers, radius=2.0).tolist() == [True, True, False]
    assert distributions.count_modes(m, centers, radius=2.0, min_weight=0.1) == 1  # the 5% component is ignored
    # a broad component between two modes recovers neither
    assert distributions.count_modes(m, centers, radius=2.0) == 2



# --- Shumailov et al.'s spread and distance, as their notebook computes them --------------


def paper_L2_of_gmms(gmm1, gmm2):  # noqa: N802 (their name)
    """``L2_of_gmms`` copied from Shumailov et al.'s ``Normals_GMM_experiments.ipynb``
    (iliaishacked/curse_recurse), only reformatted: it takes objects with sklearn's
    ``weights_``, ``means_`` and ``covariances_``."""
    import itertools

    import scipy.stats

    def term(a, b):
        return np.sum([ai * aj * scipy.stats.multivariate_normal.pdf(meani - meanj, cov=covi + covj)
                       for (ai, meani, covi), (aj, meanj, covj) in itertools.product(
                           zip(a.weights_, a.means_, a.covariances_),
                           zip(b.weights_, b.means_, b.covariances_))])

    return term(gmm1, gmm1) + term(gmm2, gmm2) - 2 * term(gmm1, gmm2)


def as_sklearn(model):
    from types import SimpleNamespace

    return SimpleNamespace(weights_=model.weights, means_=model.means, covariances_=model.covariances)


def test_l2_squared_is_the_papers_l2_of_gmms(two_d_mixture, other_2d_mixture):
    f, g = two_d_mixture, other_2d_mixture
    h = GMMModel([0.2, 0.5, 0.3], [[0, 0], [1, 2], [-1, 0.5]], [np.eye(2) * 0.01, np.eye(2), np.diag([0.3, 2.0])])
    for a, b in ((f, g), (g, f), (f, h), (h, g)):
        assert distributions.l2_squared(a, b) == pytest.approx(paper_L2_of_gmms(as_sklearn(a), as_sklearn(b)),
                                                               rel=1e-10)
    assert distributions.l2_distance(f, g) ** 2 == pytest.approx(distributions.l2_squared(f, g), rel=1e-12)
    assert distributions.l2_squared(f, f) == pytest.approx(0.0, abs=1e-12)


def test_l2_squared_of_fitted_sklearn_mixtures_is_the_papers():
    """The same on two mixtures that sklearn's GaussianMixture fitted, with the
    paper's settings, to a 2-D standard normal blob and to a narrower one."""
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    fits = [GaussianMixture(2, tol=1e-5, max_iter=2000, random_state=0).fit(rng.normal(size=(300, 2)) * s)
            for s in (1.0, 0.05)]
    ours = [GMMModel(e.weights_, e.means_, e.covariances_) for e in fits]
    assert distributions.l2_squared(*ours) == pytest.approx(paper_L2_of_gmms(*fits), rel=1e-10)


def test_l2_squared_matches_numerical_integration(two_d_mixture, other_2d_mixture):
    f, g = two_d_mixture, other_2d_mixture
    axis_points = np.linspace(-9.0, 9.0, 721)  # as above: the densities are < 1e-12 outside the box
    points = np.stack(np.meshgrid(axis_points, axis_points, indexing="ij"), axis=-1)
    numeric = grid_integral((f.pdf(points) - g.pdf(points)) ** 2, axis_points)
    assert distributions.l2_squared(f, g) == pytest.approx(numeric, rel=1e-6)


def test_l2_inner_matches_scipy_densities_pair_by_pair(two_d_mixture, other_2d_mixture):
    from scipy import stats

    f, g = two_d_mixture, other_2d_mixture
    expected = sum(wi * wj * stats.multivariate_normal(mj, ci + cj).pdf(mi)
                   for wi, mi, ci in zip(f.weights, f.means, f.covariances)
                   for wj, mj, cj in zip(g.weights, g.means, g.covariances))
    assert distributions.l2_inner(f, g) == pytest.approx(expected, rel=1e-12)


def test_paper_component_std_by_hand():
    # traces 5 and 0.5, K = 2: sqrt(5 / 2) and sqrt(0.25)
    m = GMMModel([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], [[[4.0, 1.0], [1.0, 1.0]], np.eye(2) * 0.25])
    assert distributions.paper_component_std(m) == pytest.approx([math.sqrt(2.5), 0.5])
    # with K = d = 2 it is the root mean square of the principal standard deviations
    assert distributions.paper_component_std(m) == pytest.approx(distributions.component_std(m, "rms"))
    # the paper's code divides by the number of components, not the dimension: K = 3, d = 2
    three = GMMModel([0.2, 0.3, 0.5], [[0, 0], [1, 1], [2, 2]], [np.diag([1.0, 2.0]), np.eye(2), np.eye(2) * 3])
    assert distributions.paper_component_std(three) == pytest.approx([1.0, math.sqrt(2 / 3), math.sqrt(2.0)])


def test_paper_component_std_is_their_formula_on_a_sklearn_fit():
    from sklearn.mixture import GaussianMixture

    x = np.random.default_rng(1).normal(size=(500, 2))
    fit = GaussianMixture(2, tol=1e-5, max_iter=2000, random_state=0).fit(x)
    ncomponents = 2
    theirs = [np.sqrt(np.trace(fit.covariances_[i]) / ncomponents) for i in range(0, ncomponents)]
    ours = distributions.paper_component_std(GMMModel(fit.weights_, fit.means_, fit.covariances_))
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_component_overlap_by_numerical_integration(two_d_mixture):
    f = two_d_mixture
    bc = distributions.component_overlap(f)
    assert bc.shape == (2, 2)
    assert np.diag(bc) == pytest.approx([1.0, 1.0])
    assert bc[0, 1] == pytest.approx(bc[1, 0], rel=1e-12)
    axis_points = np.linspace(-9.0, 9.0, 721)
    points = np.stack(np.meshgrid(axis_points, axis_points, indexing="ij"), axis=-1)
    from scipy import stats

    p, q = (stats.multivariate_normal(m, c).pdf(points) for m, c in zip(f.means, f.covariances))
    assert bc[0, 1] == pytest.approx(grid_integral(np.sqrt(p * q), axis_points), rel=1e-6)
    # 1-D, by hand: equal variances s^2, means d apart: exp(-d^2 / (8 s^2))
    one_d = GMMModel([0.5, 0.5], [[0.0], [2.0]], [[[1.0]], [[1.0]]])
    assert distributions.component_overlap(one_d)[0, 1] == pytest.approx(math.exp(-0.5))


def test_paper_measures_refuse_what_is_not_a_mixture():
    with pytest.raises(ValueError, match="model must be a GMMModel"):
        distributions.paper_component_std(np.eye(2))
    with pytest.raises(ValueError, match="model must be a GMMModel"):
        distributions.component_overlap("two blobs")
    with pytest.raises(ValueError, match="f must be a GMMModel"):
        distributions.l2_squared(None, GMMModel([1.0], [[0.0]], [[[1.0]]]))
