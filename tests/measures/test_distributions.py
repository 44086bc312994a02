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

