"""Linear (ridge) regression retrained on its own labels: one family for chapters 08 and 13.

The design ``X`` (samples x dim) is fixed; a model is a weight vector ``w``; a
data set is a vector of labels for the rows of ``X`` (or several such vectors
stacked, which the ``accumulate`` policy produces). ``fit`` is least squares,
or ridge regression with penalty ``ridge * ||w||^2``, on the design repeated
once per stacked label vector; ``sample`` draws labels ``X w + noise * eps``.
With ``initial_model = w*`` the loop is the setting of Gerstgrasser et al.
(2024) and, for replacement, of Dohmatob, Feng & Kempe (2024); its exact error
is :func:`collapse_utils.exact.regression.regression_error` (least squares) and
:func:`collapse_utils.exact.regression.ridge_error` (ridge, given the design),
and :func:`collapse_utils.exact.regression.simulate_regression` is its
vectorised simulator.

Book: {prf:ref}`prop-08-regression`
"""

from __future__ import annotations

import numpy as np

from collapse_utils.checks import check_int, check_number

__all__ = ["LinearRegressionFamily"]


class LinearRegressionFamily:
    """Least squares (``ridge=0``) or ridge regression on a fixed design ``X``, label noise ``noise``.

    Least squares needs more rows than columns; ridge (``ridge > 0``) fits any design.

    Book: {prf:ref}`prop-08-regression`
    """

    def __init__(self, X, noise: float, ridge: float = 0.0):
        X = np.asarray(X, dtype=float)
        ridge = check_number("ridge", ridge, 0.0)
        if X.ndim != 2 or not np.all(np.isfinite(X)) or (ridge == 0 and X.shape[0] <= X.shape[1]):
            raise ValueError(
                "X must be a finite 2-D design with more rows than columns (or any 2-D design "
                f"when ridge > 0); got shape {X.shape} with ridge={ridge}"
            )
        self.X = X
        self.noise = check_number("noise", noise, 0.0, strict=True)
        self.ridge = ridge
        self._gram = X.T @ X

    @property
    def samples(self) -> int:
        return self.X.shape[0]

    def fit(self, data, rng: np.random.Generator | None = None, *, generation: int | None = None) -> np.ndarray:
        y = np.asarray(data, dtype=float)
        if y.ndim != 1 or len(y) == 0 or len(y) % self.samples or not np.all(np.isfinite(y)):
            raise ValueError(
                f"data must be finite label vectors of length {self.samples} (the rows of X), stacked; "
                f"got shape {y.shape}"
            )
        reps = len(y) // self.samples
        xty = self.X.T @ y.reshape(reps, self.samples).sum(axis=0)
        return np.linalg.solve(reps * self._gram + self.ridge * np.eye(self.X.shape[1]), xty)

    def sample(self, model, n: int, rng: np.random.Generator) -> np.ndarray:
        n = check_int("n", n, 1)
        if n != self.samples:
            raise ValueError(f"n must equal the number of rows of X ({self.samples}); got {n}")
        return self.X @ np.asarray(model, dtype=float) + self.noise * rng.standard_normal(self.samples)
