"""How far a fitted model is from the truth: distances, spreads, modes, 1-D summaries.

- Gaussian mixtures: the closed-form L2 distance (:func:`l2_inner`, :func:`l2_distance`,
  and :func:`l2_squared`, the squared distance Shumailov et al.'s code reports),
  per-component spread (:func:`component_std`, and :func:`paper_component_std`, the
  formula of Shumailov et al.'s code), how much two components overlap
  (:func:`component_overlap`), modes found (:func:`modes_recovered`, :func:`count_modes`).
- Any one-dimensional model of the book (each has ``pdf``, ``logpdf``, ``cdf`` and
  ``var``): :func:`mass_outside`, :func:`total_variation`.
"""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.checks import check_number, check_positive
from collapse_utils.families.gmm import GMMModel, check_model

__all__ = [
    "STD_KINDS",
    "l2_inner",
    "l2_distance",
    "l2_squared",
    "component_std",
    "paper_component_std",
    "component_overlap",
    "modes_recovered",
    "count_modes",
    "mass_outside",
    "total_variation",
]


STD_KINDS = ("geometric", "rms", "max")


def _gaussian_products(f: GMMModel, g: GMMModel) -> np.ndarray:
    # N(f.mu_i; g.mu_j, f.S_i + g.S_j) for every pair (i, j), shape (K_f, K_g)
    cov = f.covariances[:, None] + g.covariances[None, :]
    diff = f.means[:, None] - g.means[None, :]
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, diff[..., None])[..., 0]
    log_det = 2 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)
    return np.exp(-0.5 * (z**2).sum(axis=-1) - 0.5 * log_det - 0.5 * f.dim * math.log(2 * math.pi))


def l2_inner(f: GMMModel, g: GMMModel) -> float:
    """The L2 inner product of two mixture densities, in closed form (chapter 04).

    The product of two Gaussian densities integrates to a Gaussian density at
    one mean: integral N(x; a, A) N(x; b, B) dx = N(a; b, A + B). Hence
    ``<f, g> = sum_ij f.w_i g.w_j N(f.mu_i; g.mu_j, f.S_i + g.S_j)`` (all pairs
    at once, through a Cholesky factor of each ``f.S_i + g.S_j``).

    Book: {ref}`prop-04-l2`
    """
    f, g = check_model("f", f), check_model("g", g)
    if f.dim != g.dim:
        raise ValueError(f"f and g must have the same dimension; got {f.dim} and {g.dim}")
    return float(f.weights @ _gaussian_products(f, g) @ g.weights)


def l2_squared(f: GMMModel, g: GMMModel) -> float:
    """The squared L2 distance ``int (f - g)^2 dx`` between two mixture densities (chapter 04).

    ``<f, f> + <g, g> - 2 <f, g>`` from :func:`l2_inner`: the quantity that
    ``L2_of_gmms`` in Shumailov et al.'s ``Normals_GMM_experiments.ipynb``
    returns (its three sums of ``w_i w_j N(mu_i - mu_j; 0, S_i + S_j)``, no
    square root, no numerical integration) and their figure plots on a log
    scale. Not clipped: for ``f == g`` it is a rounding error that may be
    slightly negative, as theirs.

    Book: {ref}`prop-04-l2`
    """
    return l2_inner(f, f) + l2_inner(g, g) - 2.0 * l2_inner(f, g)


def l2_distance(f: GMMModel, g: GMMModel) -> float:
    """The L2 distance between two mixture densities, ``sqrt(int (f - g)^2)`` (chapter 04).

    Closed form ``sqrt(<f, f> - 2 <f, g> + <g, g>)``, the square root of
    :func:`l2_squared` (rounding below zero is clipped).

    Book: {ref}`prop-04-l2`
    """
    return float(math.sqrt(max(l2_squared(f, g), 0.0)))


def component_std(model: GMMModel, kind: str = "geometric") -> np.ndarray:
    """One standard deviation per component, shape (K,) (chapter 04).

    ``kind="geometric"``: ``det(S)^(1/(2d))``, the geometric mean of the standard
    deviations along the principal axes; ``"rms"``: ``sqrt(trace(S)/d)``;
    ``"max"``: the square root of the largest eigenvalue. In one dimension all
    three are the component's standard deviation.

    Book: {ref}`def-04-gmm`
    """
    model = check_model("model", model)
    if kind not in STD_KINDS:
        raise ValueError(f"kind must be one of {', '.join(STD_KINDS)}; got {kind!r}")
    eig = np.linalg.eigvalsh(model.covariances)
    if kind == "geometric":
        return np.exp(np.log(eig).mean(axis=1) / 2)
    if kind == "rms":
        return np.sqrt(eig.mean(axis=1))
    return np.sqrt(eig[:, -1])


def paper_component_std(model: GMMModel) -> np.ndarray:
    """Shumailov et al.'s per-component spread, ``sqrt(trace(S_k) / K)``, shape (K,) (chapter 04).

    Their ``Normals_GMM_experiments.ipynb`` computes
    ``np.sqrt(np.trace(covariances_[i]) / ncomponents)``: the trace is divided
    by the number of components ``K``, not by the dimension ``d``. In their
    experiment ``K = d = 2``, so it equals ``component_std(model, "rms")``, the
    root mean square of the standard deviations along the principal axes; for
    other ``K`` it is kept exactly as their code has it.

    Book: {doc}`notebooks/04_gaussian_mixtures`
    """
    model = check_model("model", model)
    return np.sqrt(np.trace(model.covariances, axis1=1, axis2=2) / model.n_components)


def component_overlap(model: GMMModel) -> np.ndarray:
    """The Bhattacharyya coefficients ``int sqrt(p_i p_j) dx`` of every pair of
    components, shape (K, K) (chapter 04).

    1 for identical components, near 0 for well-separated ones. For Gaussians
    ``BC = exp(-D)`` with ``D = (mu_i - mu_j)' S^-1 (mu_i - mu_j) / 8
    + log(det S / sqrt(det S_i det S_j)) / 2`` and ``S = (S_i + S_j) / 2``.

    Book: {doc}`notebooks/04_gaussian_mixtures`
    """
    model = check_model("model", model)
    c = model.covariances
    mean_cov = (c[:, None] + c[None, :]) / 2
    diff = model.means[:, None] - model.means[None, :]
    mahalanobis = np.einsum("...i,...i->...", diff, np.linalg.solve(mean_cov, diff[..., None])[..., 0])
    log_det = np.linalg.slogdet(c)[1]
    d_b = mahalanobis / 8 + (np.linalg.slogdet(mean_cov)[1] - (log_det[:, None] + log_det[None, :]) / 2) / 2
    return np.exp(-d_b)


def _check_centers(centers, dim: int) -> np.ndarray:
    c = np.asarray(centers, dtype=float)
    if c.ndim != 2 or c.shape[1] != dim or len(c) == 0 or not np.all(np.isfinite(c)):
        raise ValueError(f"centers must be a finite array of shape (M, {dim}); got shape {c.shape}")
    return c


def modes_recovered(model: GMMModel, centers, radius: float, min_weight: float = 0.0) -> np.ndarray:
    """Which reference modes the fitted ``model`` still has: a boolean per center (chapter 04).

    Mode j counts as recovered when some component of ``model`` with weight
    greater than ``min_weight`` has its mean within ``radius`` of ``centers[j]``.
    Take ``radius`` below half the smallest distance between centers, so that
    one component never recovers two modes and a broad component sitting
    between two modes recovers neither.

    Book: {ref}`def-04-modes`
    """
    model = check_model("model", model)
    c = _check_centers(centers, model.dim)
    radius = check_positive("radius", radius)
    if isinstance(min_weight, bool) or not isinstance(min_weight, (int, float)) or not 0 <= min_weight < 1:
        raise ValueError(f"min_weight must be a number in [0, 1); got {min_weight!r}")
    means = model.means[model.weights > min_weight]
    dist = np.linalg.norm(c[:, None, :] - means[None, :, :], axis=-1)
    return np.any(dist < radius, axis=1)


def count_modes(model: GMMModel, centers, radius: float, min_weight: float = 0.0) -> int:
    """How many reference modes ``model`` recovers (see :func:`modes_recovered`; chapter 04).

    Book: {ref}`def-04-modes`
    """
    return int(modes_recovered(model, centers, radius, min_weight).sum())


def _check_1d(name: str, model):
    # a one-dimensional model of the book has pdf, logpdf, cdf and var
    if not (hasattr(model, "pdf") and hasattr(model, "cdf")):
        raise ValueError(
            f"{name} must be a 1-D model with pdf and cdf methods (GaussianModel, 1-D GMMModel, "
            f"KDEModel, HistogramModel, CycleModel); got {type(model).__name__}"
        )
    return model


def mass_outside(model, low: float, high: float) -> float:
    """P(X < low) + P(X > high) under the 1-D model, from its ``cdf`` (chapter 14).

    Book: {ref}`prop-14-families`
    """
    low = check_number("low", low)
    high = check_number("high", high)
    if not low < high:
        raise ValueError(f"low must be below high; got low={low!r}, high={high!r}")
    c = _check_1d("model", model).cdf([low, high])
    return float(c[0] + 1.0 - c[1])


def total_variation(model, reference, grid) -> float:
    """Total variation distance between two 1-D models, ``1 - int min(p, q)``, by the
    trapezoidal rule on ``grid``, an increasing array that must hold (nearly) all of
    the ``reference``'s mass; the model's mass outside the grid is then counted
    correctly (chapter 14).

    Book: {ref}`prop-14-families`
    """
    g = np.asarray(grid, dtype=float)
    if g.ndim != 1 or len(g) < 2 or not np.all(np.diff(g) > 0):
        raise ValueError(f"grid must be an increasing 1-D array of at least 2 points; got shape {g.shape}")
    p, q = _check_1d("model", model).pdf(g), _check_1d("reference", reference).pdf(g)
    return float(1.0 - np.trapezoid(np.minimum(p, q), g))


