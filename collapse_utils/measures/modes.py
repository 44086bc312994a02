"""Quality and diversity of samples of a mixture of well-separated modes (2-D rings and grids).

The diffusion chapter's yardsticks, after Alemohammad et al. (2024, "Self-consuming
generative models go MAD", arXiv:2307.01850), who measure quality by precision
and diversity by recall:

- the truth: mode centres on a ring (:func:`ring_modes`) or a grid
  (:func:`grid_modes`), and equal-weight isotropic Gaussians around them
  (:func:`sample_modes`, :func:`sample_ring`, labelled by mode if asked);
- per mode: :func:`mode_counts` (points within ``threshold * std`` of a
  centre), :func:`modes_covered` (modes that hold at least ``min_share`` of
  their fair share ``n / k`` of the points), :func:`mode_recall` (the share of
  modes covered);
- per point: :func:`precision` (the share of points within ``threshold * std``
  of some centre: "high quality");
- without the centres, as MAD computes them: :func:`knn_precision_recall`, the
  k-nearest-neighbour precision and recall of Kynkäänniemi et al. (2019) with
  ``k = 5``;
- distances between two samples: :func:`sliced_wasserstein` (random 1-D
  projections, each an exact 1-D Wasserstein distance between empirical
  quantile functions) and :func:`mmd` (the unbiased squared maximum mean
  discrepancy with a Gaussian kernel).

Points are numpy arrays of shape ``(n, d)``; the functions that take mode
centres also accept a labelled sample ``(n, d + 1)`` with the label last (the
label is dropped).
"""

from __future__ import annotations

import numpy as np

from collapse_utils.checks import check_int, check_number, check_positive

__all__ = [
    "ring_modes",
    "grid_modes",
    "sample_modes",
    "sample_ring",
    "mode_counts",
    "modes_covered",
    "mode_recall",
    "precision",
    "knn_precision_recall",
    "sliced_wasserstein",
    "mmd",
]


def ring_modes(k: int = 8, radius: float = 2.0) -> np.ndarray:
    """``k`` mode centres equally spaced on a circle of ``radius`` around the
    origin, the first at angle 0 (as :func:`collapse_utils.families.gmm.ring_mixture`);
    shape ``(k, 2)``.

    Book: {ref}`sec-07-metrics`
    """
    k = check_int("k", k, 1)
    radius = check_positive("radius", radius)
    angles = 2 * np.pi * np.arange(k) / k
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def grid_modes(side: int = 5, spacing: float = 1.0) -> np.ndarray:
    """``side * side`` mode centres on a square grid with ``spacing`` between
    neighbours, centred on the origin, row by row; shape ``(side**2, 2)``.

    Book: {ref}`sec-07-metrics`
    """
    side = check_int("side", side, 1)
    spacing = check_positive("spacing", spacing)
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    xs, ys = np.meshgrid(axis, axis)
    return np.column_stack([xs.ravel(), ys.ravel()])


def _check_centres(centres) -> np.ndarray:
    c = np.asarray(centres, dtype=float)
    if c.ndim != 2 or len(c) < 1 or not np.all(np.isfinite(c)):
        raise ValueError(f"centres must be a finite array of shape (k, d) with k >= 1; got shape {c.shape}")
    return c


def _check_points(
    name: str, points, dim: int | None = None, minimum: int = 0, labelled: bool = False
) -> np.ndarray:
    """``points`` as a float array (n, d) (d = ``dim`` if given); with ``labelled``, an
    array (n, dim + 1) loses its last column (the label)."""
    x = np.asarray(points, dtype=float)
    if labelled and x.ndim == 2 and x.shape[1] == dim + 1:
        x = x[:, :dim]
    if dim is None:
        wanted = "(n, d)"
    else:
        wanted = f"(n, {dim})" + (f" or (n, {dim + 1}) with the label last" if labelled else "")
    if (
        x.ndim != 2
        or (dim is not None and x.shape[1] != dim)
        or len(x) < minimum
        or not np.all(np.isfinite(x))
    ):
        raise ValueError(
            f"{name} must be finite numbers of shape {wanted} with n >= {minimum}; "
            f"got shape {np.shape(points)}"
        )
    return x


def sample_modes(n: int, centres, std: float, rng: np.random.Generator, labels: bool = False) -> np.ndarray:
    """``n`` draws from the equal-weight mixture of isotropic Gaussians (standard
    deviation ``std``) at ``centres``: the mode of each draw is uniform, the
    point its centre plus Gaussian noise. Shape ``(n, d)``, or ``(n, d + 1)``
    with the mode index (a float) in the last column when ``labels``.

    Book: {ref}`sec-07-metrics`
    """
    n = check_int("n", n, 0)
    c = _check_centres(centres)
    std = check_positive("std", std)
    which = rng.integers(len(c), size=n)
    x = c[which] + std * rng.standard_normal((n, c.shape[1]))
    return np.column_stack([x, which.astype(float)]) if labels else x


def sample_ring(
    n: int,
    k: int = 8,
    radius: float = 2.0,
    std: float = 0.1,
    rng: np.random.Generator | None = None,
    labels: bool = False,
) -> np.ndarray:
    """``n`` draws from ``k`` equal-weight Gaussian modes (standard deviation
    ``std``) on a ring of ``radius`` (:func:`ring_modes`, :func:`sample_modes`);
    shape ``(n, 2)``, or ``(n, 3)`` with the mode index last when ``labels``.

    Book: {ref}`sec-07-metrics`
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)); got {rng!r}")
    return sample_modes(n, ring_modes(k, radius), std, rng, labels=labels)


def _nearest(points: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each point's nearest centre and the distance to it."""
    d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=-1)
    which = d2.argmin(axis=1)
    return which, np.sqrt(d2[np.arange(len(points)), which])


def mode_counts(points, centres, std: float, threshold: float = 3.0) -> np.ndarray:
    """How many ``points`` lie within ``threshold * std`` of each centre: shape
    ``(k,)``, integers. A point is given to its nearest centre, so it is counted
    at most once (when the modes are more than ``2 * threshold * std`` apart the
    balls are disjoint and "nearest" changes nothing). For draws from an
    isotropic 2-D Gaussian mode the share within ``3 std`` is ``1 - exp(-4.5)
    = 0.989`` (the distance is Rayleigh distributed).

    Book: {ref}`sec-07-metrics`
    """
    c = _check_centres(centres)
    x = _check_points("points", points, c.shape[1], labelled=True)
    std = check_positive("std", std)
    threshold = check_positive("threshold", threshold)
    which, dist = _nearest(x, c)
    return np.bincount(which[dist <= threshold * std], minlength=len(c))


def modes_covered(points, centres, std: float, threshold: float = 3.0, min_share: float = 0.1) -> int:
    """The number of modes *covered* by ``points``: a mode is covered when it holds
    (:func:`mode_counts`) at least ``min_share`` of its fair share of the points,
    ``count >= max(1, min_share * n / k)`` (``n`` points, ``k`` centres). With
    the default 0.1, a mode that gets a tenth of what an equal-weight mixture
    would give it counts; a stray point or two does not.

    Book: {ref}`sec-07-metrics`
    """
    c = _check_centres(centres)
    min_share = check_number("min_share", min_share, 0.0, 1.0)
    counts = mode_counts(points, c, std, threshold)
    n = len(_check_points("points", points, c.shape[1], labelled=True))
    return int(np.sum(counts >= max(1.0, min_share * n / len(c))))


def mode_recall(points, centres, std: float, threshold: float = 3.0, min_share: float = 0.1) -> float:
    """Diversity as the share of the modes that ``points`` cover
    (:func:`modes_covered` divided by the number of centres). This is a
    mode-counting recall; MAD's own recall is :func:`knn_precision_recall`'s.

    Book: {ref}`sec-07-metrics`
    """
    c = _check_centres(centres)
    return modes_covered(points, c, std, threshold, min_share) / len(c)


def precision(points, centres, std: float, threshold: float = 3.0) -> float:
    """Quality: the share of ``points`` within ``threshold * std`` of some centre
    (0.989 for exact draws at ``threshold = 3`` in two dimensions; see
    :func:`mode_counts`). ``nan`` for no points.

    Book: {ref}`sec-07-metrics`
    """
    c = _check_centres(centres)
    x = _check_points("points", points, c.shape[1], labelled=True)
    if len(x) == 0:
        return float("nan")
    return float(mode_counts(x, c, std, threshold).sum() / len(x))


def _kth_neighbour_radius(x: np.ndarray, k: int) -> np.ndarray:
    from scipy.spatial import cKDTree

    # the nearest neighbour of a point in its own set is itself (distance 0): ask for k + 1
    dist, _ = cKDTree(x).query(x, k=k + 1)
    return dist[:, k]


def _inside_balls(query: np.ndarray, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Whether each query point lies in some ball (centre, radius), boundary included."""
    from scipy.spatial import cKDTree

    tree = cKDTree(centres)
    inside = np.zeros(len(query), dtype=bool)
    for i, neighbours in enumerate(tree.query_ball_point(query, r=radii.max())):
        if neighbours:
            d = np.sqrt(((centres[neighbours] - query[i]) ** 2).sum(axis=1))
            inside[i] = bool(np.any(d <= radii[neighbours]))
    return inside


def knn_precision_recall(real, fake, k: int = 5) -> tuple[float, float]:
    """Precision and recall of Kynkäänniemi et al. (2019), as MAD computes them
    (section 2.4, ``k = 5``). Each point of a set gets a ball whose radius is
    the distance to its ``k``-th nearest neighbour in its own set.
    Precision: the share of ``fake`` points inside some ball of ``real``
    (quality); recall: the share of ``real`` points inside some ball of
    ``fake`` (diversity). Both need more than ``k`` points per set; in two
    dimensions they are computed exactly with a k-d tree.

    Book: {ref}`sec-07-metrics`
    """
    k = check_int("k", k, 1)
    x = _check_points("real", real, minimum=k + 1)
    y = _check_points("fake", fake, x.shape[1], minimum=k + 1)
    precision_ = _inside_balls(y, x, _kth_neighbour_radius(x, k)).mean()
    recall_ = _inside_balls(x, y, _kth_neighbour_radius(y, k)).mean()
    return float(precision_), float(recall_)


def _wasserstein_1d(a: np.ndarray, b: np.ndarray, p: float) -> np.ndarray:
    """W_p^p between the empirical distributions of the columns of ``a`` (n, m) and
    ``b`` (n', m), exactly: the integral over u in (0, 1) of |F_a^-1(u) - F_b^-1(u)|^p,
    both quantile functions being step functions."""
    a, b = np.sort(a, axis=0), np.sort(b, axis=0)
    n, m = len(a), len(b)
    # the breakpoints of both step functions; on each piece both quantiles are constant
    u = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
    widths = np.diff(np.concatenate([[0.0], u]))
    mid = u - widths / 2
    ia = np.minimum((mid * n).astype(int), n - 1)
    ib = np.minimum((mid * m).astype(int), m - 1)
    return (np.abs(a[ia] - b[ib]) ** p * widths[:, None]).sum(axis=0)


def sliced_wasserstein(
    x, y, n_projections: int = 200, rng: np.random.Generator | None = None, p: float = 2.0
) -> float:
    """The sliced ``p``-Wasserstein distance between two samples: the mean over
    ``n_projections`` random directions (uniform on the sphere, drawn with
    ``rng``) of the exact 1-D ``W_p^p`` between the projected samples, to the
    power ``1 / p``, i.e. ``SW_p = (E_theta W_p^p(theta.x, theta.y))^(1/p)``, the
    definition of POT's ``ot.sliced_wasserstein_distance``. ``x`` (n, d) and
    ``y`` (m, d) may differ in size. For two Gaussians with the same covariance
    and means ``delta`` apart, ``SW_2 = |delta| / sqrt(d)``.

    Book: {ref}`sec-07-metrics`
    """
    a = _check_points("x", x, minimum=1)
    b = _check_points("y", y, a.shape[1], minimum=1)
    n_projections = check_int("n_projections", n_projections, 1)
    p = check_number("p", p, low=1.0)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)); got {rng!r}")
    theta = rng.standard_normal((a.shape[1], n_projections))
    theta /= np.linalg.norm(theta, axis=0, keepdims=True)
    return float(_wasserstein_1d(a @ theta, b @ theta, p).mean() ** (1 / p))


def mmd(x, y, bandwidth: float = 1.0) -> float:
    """The unbiased estimate of the squared maximum mean discrepancy between two
    samples with the Gaussian kernel ``exp(-|u - v|^2 / (2 bandwidth^2))``
    (Gretton et al. 2012): the means of the kernel within ``x`` and within
    ``y`` (diagonals left out) minus twice its mean across. It can be slightly
    negative when the two distributions are equal. Needs at least 2 points per
    sample; memory grows as ``n * m``.

    Book: {ref}`sec-07-metrics`
    """
    a = _check_points("x", x, minimum=2)
    b = _check_points("y", y, a.shape[1], minimum=2)
    bandwidth = check_positive("bandwidth", bandwidth)
    from collapse_utils.checks import check_memory

    check_memory("mmd", 8.0 * (len(a) + len(b)) ** 2, "use fewer points")

    def kernel_sum(u, v):
        d2 = (u**2).sum(1)[:, None] + (v**2).sum(1)[None, :] - 2 * u @ v.T
        return np.exp(-np.maximum(d2, 0.0) / (2 * bandwidth**2)).sum()

    n, m = len(a), len(b)
    within_x = (kernel_sum(a, a) - n) / (n * (n - 1))
    within_y = (kernel_sum(b, b) - m) / (m * (m - 1))
    return float(within_x + within_y - 2 * kernel_sum(a, b) / (n * m))
