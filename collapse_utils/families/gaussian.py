"""The one-dimensional Gaussian family: fit by maximum likelihood (or the unbiased estimator), sample.

The simplest model the loop (:mod:`collapse_utils.loop`) retrains; its exact laws live in
:mod:`collapse_utils.exact.gaussian`. Explained in notebooks/01_retraining_loop and
notebooks/02_variance_decay.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from collapse_utils.checks import check_choice, check_int, check_number, check_rng, check_sample_1d
from collapse_utils.exact.gaussian import ESTIMATORS

__all__ = ["GaussianModel", "GaussianFamily"]


@dataclass(frozen=True)
class GaussianModel:
    """A fitted 1-D Gaussian N(mean, var).

    Like every one-dimensional model of the book it has ``pdf(x)``, ``logpdf(x)``,
    ``cdf(x)`` (arrays of shape ``np.atleast_1d(x).shape``) and ``var``.

    Book: {ref}`thm-02-variance-decay`
    """

    mean: float
    var: float

    def __post_init__(self):
        check_number("mean", self.mean)
        check_number("var", self.var, 0.0)

    @property
    def std(self) -> float:
        return float(np.sqrt(self.var))

    def pdf(self, x) -> np.ndarray:
        return stats.norm.pdf(_points(x), self.mean, self.std)

    def logpdf(self, x) -> np.ndarray:
        return stats.norm.logpdf(_points(x), self.mean, self.std)

    def cdf(self, x) -> np.ndarray:
        return stats.norm.cdf(_points(x), self.mean, self.std)


def _points(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


class GaussianFamily:
    """1-D Gaussian refitted each generation (chapter 01, chapter 02).

    ``estimator="mle"`` divides the sum of squares by n (the article's setting);
    ``"unbiased"`` divides by n - 1.

    Book: {ref}`thm-02-variance-decay`
    """

    def __init__(self, estimator: str = "mle"):
        self.estimator = check_choice("estimator", estimator, ESTIMATORS)

    def fit(self, data: np.ndarray, rng: np.random.Generator | None = None, *, generation: int | None = None) -> GaussianModel:
        data = check_sample_1d("data", data, 2)
        ddof = 0 if self.estimator == "mle" else 1
        return GaussianModel(mean=float(data.mean()), var=float(data.var(ddof=ddof)))

    def sample(self, model: GaussianModel, n: int, rng: np.random.Generator) -> np.ndarray:
        n, rng = check_int("n", n, 0), check_rng("rng", rng)
        return rng.normal(model.mean, np.sqrt(model.var), size=n)

    def __repr__(self) -> str:
        return f"GaussianFamily(estimator={self.estimator!r})"


