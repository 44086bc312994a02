"""The mode metrics of the diffusion chapter on hand-made point sets with known answers,
and the distances against a library or a closed form.

Statistical checks use fixed seeds; each tolerance is a stated multiple of the
standard error, so a check fails by chance with the probability stated next to it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from collapse_utils.measures import modes


def test_ring_and_grid_centres():
    ring = modes.ring_modes(4, 2.0)
    np.testing.assert_allclose(ring, [[2, 0], [0, 2], [-2, 0], [0, -2]], atol=1e-12)
    eight = modes.ring_modes(8, 3.0)
    np.testing.assert_allclose(np.linalg.norm(eight, axis=1), 3.0)
    np.testing.assert_allclose(np.linalg.norm(eight[1] - eight[0]), 2 * 3.0 * math.sin(math.pi / 8))
    grid = modes.grid_modes(3, 2.0)
    assert grid.shape == (9, 2)
    np.testing.assert_allclose(grid[0], [-2, -2])
    np.testing.assert_allclose(grid[4], [0, 0])
    np.testing.assert_allclose(grid[8], [2, 2])
    np.testing.assert_allclose(grid.mean(axis=0), [0, 0], atol=1e-12)


def test_sample_ring_labels_and_reproducibility():
    x = modes.sample_ring(500, 8, 2.0, 0.05, np.random.default_rng(0), labels=True)
    assert x.shape == (500, 3)
    centres = modes.ring_modes(8, 2.0)
    nearest = np.argmin(((x[:, None, :2] - centres[None]) ** 2).sum(-1), axis=1)
    assert np.array_equal(nearest, x[:, 2].astype(int))  # modes 0.77 apart, 15 std: never mixed up
    again = modes.sample_ring(500, 8, 2.0, 0.05, np.random.default_rng(0), labels=True)
    assert np.array_equal(x, again)
    assert modes.sample_ring(10, rng=np.random.default_rng(1)).shape == (10, 2)


def hand_made():
    """Four centres on a ring of radius 1 (std 0.1), and points with known answers."""
    centres = modes.ring_modes(4, 1.0)
    points = np.array(
        [
            [1.0, 0.0],
            [1.05, 0.0],
            [0.95, 0.02],  # mode 0: 3 points, all within 3 std
            [0.0, 1.0],
            [0.0, 1.25],  # mode 1: at the centre and 2.5 std away
            [-1.0, 0.35],  # 3.5 std from mode 2: not counted
            [0.0, 0.0],  # the origin: far from every mode
            [0.0, -1.29],  # 2.9 std from mode 3: counted
        ]
    )
    return centres, points


def test_mode_counts_precision_and_coverage_on_hand_made_points():
    centres, points = hand_made()
    counts = modes.mode_counts(points, centres, 0.1)
    assert counts.tolist() == [3, 2, 0, 1]
    assert modes.precision(points, centres, 0.1) == pytest.approx(6 / 8)
    # a wider threshold takes in the point at 3.5 std; a narrower one drops the 2.5 std and 3 std points
    assert modes.mode_counts(points, centres, 0.1, threshold=4).tolist() == [3, 2, 1, 1]
    assert modes.mode_counts(points, centres, 0.1, threshold=2).tolist() == [3, 1, 0, 0]
    # fair share n / k = 2 points: min_share 0.5 needs 1 point, min_share 1 needs 2
    assert modes.modes_covered(points, centres, 0.1, min_share=0.5) == 3
    assert modes.modes_covered(points, centres, 0.1, min_share=1.0) == 2
    assert modes.modes_covered(points, centres, 0.1, min_share=0.0) == 3  # never fewer than 1 point
    assert modes.mode_recall(points, centres, 0.1, min_share=1.0) == pytest.approx(0.5)
    # a labelled sample (label last) gives the same answers
    labelled = np.column_stack([points, np.zeros(len(points))])
    assert modes.mode_counts(labelled, centres, 0.1).tolist() == [3, 2, 0, 1]


def test_min_share_rule_counts_a_mode_with_a_tenth_of_its_share():
    centres = modes.ring_modes(4, 1.0)
    counts = [50, 45, 3, 2]  # n = 100, fair share 25, a tenth of it 2.5
    points = np.concatenate([np.repeat(centres[i][None], c, axis=0) for i, c in enumerate(counts)])
    assert modes.modes_covered(points, centres, 0.1) == 3
    assert modes.mode_counts(points, centres, 0.1).tolist() == counts


def test_precision_of_exact_draws_is_the_rayleigh_share():
    # P(|z| <= 3 std) for an isotropic 2-D Gaussian is 1 - exp(-9/2); binomial se with n = 20000
    n = 20000
    x = modes.sample_ring(n, 8, 2.0, 0.1, np.random.default_rng(5))
    p = 1 - math.exp(-4.5)
    se = math.sqrt(p * (1 - p) / n)
    assert abs(modes.precision(x, modes.ring_modes(8, 2.0), 0.1) - p) < 4 * se  # false failure ~6e-5
    assert modes.modes_covered(x, modes.ring_modes(8, 2.0), 0.1) == 8


def test_knn_precision_recall_on_hand_made_sets():
    centres = modes.ring_modes(4, 3.0)
    real = modes.sample_modes(200, centres, 0.1, np.random.default_rng(0), labels=True)
    points, which = real[:, :2], real[:, 2]
    assert modes.knn_precision_recall(points, points) == (1.0, 1.0)
    # the fake points are the real points of modes 0 and 1: all of high quality, half the modes
    half = points[which < 2]
    share = np.mean(which < 2)
    precision, recall = modes.knn_precision_recall(points, half)
    assert precision == 1.0 and recall == pytest.approx(share)
    # fake points far from everything: neither quality nor diversity
    assert modes.knn_precision_recall(points, points + 100.0) == (0.0, 0.0)


def brute_force_precision_recall(real, fake, k):
    def radii(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        return np.sort(d, axis=1)[:, k]  # column 0 is the point itself

    def inside(q, c, r):
        d = np.sqrt(((q[:, None] - c[None]) ** 2).sum(-1))
        return (d <= r[None]).any(axis=1)

    return inside(fake, real, radii(real)).mean(), inside(real, fake, radii(fake)).mean()


def test_knn_precision_recall_matches_a_brute_force_computation():
    rng = np.random.default_rng(3)
    real = rng.standard_normal((150, 2))
    fake = 0.6 * rng.standard_normal((120, 2)) + [0.5, 0.0]
    for k in (1, 5):
        assert modes.knn_precision_recall(real, fake, k) == pytest.approx(
            brute_force_precision_recall(real, fake, k)
        )


def test_sliced_wasserstein_in_one_dimension_is_scipys_wasserstein_distance():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(37), rng.exponential(size=53)
    # in 1-D every projection is +-1 and W_p does not see the sign: exact
    sw = modes.sliced_wasserstein(x[:, None], y[:, None], 5, np.random.default_rng(0), p=1)
    assert sw == pytest.approx(stats.wasserstein_distance(x, y), rel=1e-12)


def exact_w2_squared(x, y):
    """W_2^2 between two small empirical distributions by the transport linear program."""
    n, m = len(x), len(y)
    cost = (x[:, None] - y[None, :]) ** 2
    rows = np.kron(np.eye(n), np.ones(m))  # sum_j P_ij = 1/n
    cols = np.kron(np.ones(n), np.eye(m))  # sum_i P_ij = 1/m
    res = optimize.linprog(
        cost.ravel(),
        A_eq=np.vstack([rows, cols]),
        b_eq=np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)]),
        bounds=(0, None),
    )
    return res.fun


def test_one_dimensional_w2_matches_the_transport_linear_program():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal(5), 2 + rng.standard_normal(7)
    sw = modes.sliced_wasserstein(x[:, None], y[:, None], 3, np.random.default_rng(0), p=2)
    assert sw**2 == pytest.approx(exact_w2_squared(x, y), rel=1e-6)


def test_sliced_w2_of_a_shifted_gaussian_is_the_closed_form():
    # y is x shifted by delta: every projection is an exact shift, W_2 = |theta . delta|, and
    # E_theta (theta . delta)^2 = |delta|^2 / 2 in 2-D. Over m random directions the estimate of
    # SW_2^2 has se |delta|^2 sqrt(Var(cos^2) / m) with Var(cos^2) = 3/8 - 1/4 = 1/8.
    rng = np.random.default_rng(4)
    x = rng.multivariate_normal([0, 0], [[1.0, 0.3], [0.3, 0.5]], size=500)
    delta = np.array([0.6, -0.8])
    m = 400
    sw = modes.sliced_wasserstein(x, x + delta, m, np.random.default_rng(6))
    se = (delta @ delta) * math.sqrt(1 / 8 / m)
    assert abs(sw**2 - (delta @ delta) / 2) < 4 * se  # false failure ~6e-5
    assert modes.sliced_wasserstein(x, x, 10, np.random.default_rng(0)) == 0.0


def test_mmd_matches_a_brute_force_sum_and_the_gaussian_closed_form():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((6, 2)), rng.standard_normal((4, 2)) + 1

    def k(u, v):
        return math.exp(-((u - v) ** 2).sum() / (2 * 0.7**2))

    within_x = sum(k(a, b) for i, a in enumerate(x) for j, b in enumerate(x) if i != j) / (6 * 5)
    within_y = sum(k(a, b) for i, a in enumerate(y) for j, b in enumerate(y) if i != j) / (4 * 3)
    across = sum(k(a, b) for a in x for b in y) / 24
    assert modes.mmd(x, y, 0.7) == pytest.approx(within_x + within_y - 2 * across, rel=1e-12)

    # N(0, s^2 I) against N(delta, s^2 I) in d = 2 with bandwidth h: the unbiased estimate has mean
    # 2 c (1 - exp(-|delta|^2 / (2 (h^2 + 2 s^2)))), c = (h^2 / (h^2 + 2 s^2))^(d / 2). Tolerance:
    # 4 standard errors of the mean of 20 replicates (t with 19 df: false failure ~8e-4).
    s, h, delta = 0.5, 1.0, np.array([0.4, 0.3])
    c = h**2 / (h**2 + 2 * s**2)
    exact = 2 * c * (1 - math.exp(-(delta @ delta) / (2 * (h**2 + 2 * s**2))))
    reps = np.array(
        [
            modes.mmd(s * rng.standard_normal((300, 2)), delta + s * rng.standard_normal((300, 2)), h)
            for _ in range(20)
        ]
    )
    assert abs(reps.mean() - exact) < 4 * reps.std(ddof=1) / math.sqrt(len(reps))
    assert exact > 8 * reps.std(ddof=1) / math.sqrt(len(reps))  # the test can tell the two apart


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: modes.ring_modes(0), "k"),
        (lambda: modes.ring_modes(4, -1.0), "radius"),
        (lambda: modes.grid_modes(0), "side"),
        (lambda: modes.sample_ring(10, rng=None), "rng"),
        (lambda: modes.sample_ring(10, std=0.0, rng=np.random.default_rng(0)), "std"),
        (lambda: modes.mode_counts(np.zeros((3, 4)), modes.ring_modes(4), 0.1), "points"),
        (lambda: modes.mode_counts(np.zeros((3, 2)), modes.ring_modes(4), float("nan")), "std"),
        (lambda: modes.modes_covered(np.zeros((3, 2)), modes.ring_modes(4), 0.1, min_share=2), "min_share"),
        (lambda: modes.precision(np.zeros((3, 2)), np.zeros((0, 2)), 0.1), "centres"),
        (lambda: modes.knn_precision_recall(np.zeros((5, 2)), np.zeros((10, 2))), "real"),
        (lambda: modes.knn_precision_recall(np.zeros((10, 2)), np.zeros((10, 3))), "fake"),
        (
            lambda: modes.sliced_wasserstein(np.zeros((5, 2)), np.zeros((5, 2)), 0, np.random.default_rng(0)),
            "n_projections",
        ),
        (lambda: modes.sliced_wasserstein(np.zeros((5, 2)), np.zeros((5, 2)), 5, 0), "rng"),
        (
            lambda: modes.sliced_wasserstein(
                np.zeros((5, 2)), np.zeros((5, 2)), 5, np.random.default_rng(0), p=0.5
            ),
            "p",
        ),
        (lambda: modes.mmd(np.zeros((5, 2)), np.zeros((5, 2)), 0.0), "bandwidth"),
    ],
)
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        call()
