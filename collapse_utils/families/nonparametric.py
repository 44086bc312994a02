"""Non-parametric model families for the retraining loop (chapter 14, "Common confusions").

Two one-dimensional families that are not "the same model" as the Gaussian
mixtures of chapter 04, so that the loop can alternate architectures:

- :class:`KDEFamily`: a Gaussian kernel density estimate
  (``scipy.stats.gaussian_kde``). Its distribution is the empirical
  distribution blurred by the kernel, so its variance is the *biased* sample
  variance plus the kernel variance h^2.
- :class:`HistogramFamily`: a histogram density (``numpy.histogram`` +
  ``scipy.stats.rv_histogram``), uniform within each bin. Its support is the
  range of the training data, so it can never produce a point outside the data
  it was fitted to.

Both follow the loop's protocol ``fit(data, rng, *, generation=None)`` / ``sample(model, n, rng)``.
Data are 1-D arrays or arrays of shape (n, 1) (the layout of
:class:`collapse_utils.families.gmm.GMMFamily` in one dimension); ``sample`` returns
shape (n, 1), so the families can be chained with a 1-D ``GMMFamily``.
Fitted models have the attributes of every 1-D model of the book: ``mean``, ``var``,
``pdf(x)``, ``logpdf(x)`` and ``cdf(x)``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from collapse_utils.checks import check_int, check_memory, check_positive, check_sample_1d

__all__ = ["BANDWIDTHS", "KDEModel", "KDEFamily", "HistogramModel", "HistogramFamily"]


BANDWIDTHS = ("scott", "silverman")


def _column(data, minimum: int) -> np.ndarray:
    return check_sample_1d("data", data, minimum)


class KDEModel:
    """A fitted Gaussian KDE (chapter 14): ``points`` (n,) and ``bandwidth`` h.

    Book: {ref}`prop-14-families`
    """

    def __init__(self, kde: stats.gaussian_kde):
        self.kde = kde

    @property
    def points(self) -> np.ndarray:
        return self.kde.dataset[0]

    @property
    def bandwidth(self) -> float:
        """The kernel's standard deviation h."""
        return float(np.sqrt(self.kde.covariance[0, 0]))

    @property
    def mean(self) -> float:
        return float(self.points.mean())

    @property
    def var(self) -> float:
        """Variance of the KDE distribution: biased sample variance + h^2."""
        return float(self.points.var() + self.bandwidth**2)

    def pdf(self, x) -> np.ndarray:
        # the mean of the kernels, as gaussian_kde.pdf computes it (faster in numpy for 1-D grids)
        x = np.atleast_1d(np.asarray(x, dtype=float))
        z = (x[:, None] - self.points[None, :]) / self.bandwidth
        return np.exp(-0.5 * z**2).mean(axis=1) / (self.bandwidth * np.sqrt(2 * np.pi))

    def logpdf(self, x) -> np.ndarray:
        # scipy's, in log space: finite far from the data
        return self.kde.logpdf(np.atleast_1d(np.asarray(x, dtype=float)))

    def cdf(self, x) -> np.ndarray:
        x = np.atleast_1d(np.asarray(x, dtype=float))
        return stats.norm.cdf((x[:, None] - self.points[None, :]) / self.bandwidth).mean(axis=1)

    def __repr__(self) -> str:
        return f"KDEModel(n={len(self.points)}, bandwidth={self.bandwidth:.4g})"


class KDEFamily:
    """Gaussian kernel density estimate refitted each generation (chapter 14).

    ``bandwidth`` is passed to ``scipy.stats.gaussian_kde`` as ``bw_method``:
    ``"scott"`` (factor n^(-1/5) in one dimension), ``"silverman"``, or a
    positive number, the factor that multiplies the sample standard deviation
    (ddof=1) to give h. Sampling draws a data point uniformly and adds kernel
    noise (``gaussian_kde.resample`` with the loop's generator).

    Book: {ref}`prop-14-families`
    """

    def __init__(self, bandwidth: str | float = "scott"):
        if isinstance(bandwidth, str):
            if bandwidth not in BANDWIDTHS:
                raise ValueError(f"bandwidth must be one of {', '.join(BANDWIDTHS)} or a number > 0; got {bandwidth!r}")
        else:
            bandwidth = check_positive("bandwidth", bandwidth)
        self.bandwidth = bandwidth

    def fit(self, data, rng: np.random.Generator | None = None, *, generation: int | None = None) -> KDEModel:
        x = _column(data, 2)
        if np.ptp(x) == 0:
            raise ValueError("data must contain at least two distinct values (a KDE needs a spread)")
        return KDEModel(stats.gaussian_kde(x, bw_method=self.bandwidth))

    def sample(self, model: KDEModel, n: int, rng: np.random.Generator) -> np.ndarray:
        if not isinstance(model, KDEModel):
            raise ValueError(f"model must be a KDEModel; got {type(model).__name__}")
        n = check_int("n", n, 0)
        return model.kde.resample(n, seed=rng).reshape(n, 1)

    def __repr__(self) -> str:
        return f"KDEFamily(bandwidth={self.bandwidth!r})"


class HistogramModel:
    """A fitted histogram density (chapter 14): ``counts`` and bin ``edges``.

    Book: {ref}`prop-14-families`
    """

    def __init__(self, counts: np.ndarray, edges: np.ndarray):
        self.counts = np.asarray(counts)
        self.edges = np.asarray(edges, dtype=float)
        self.dist = stats.rv_histogram((self.counts, self.edges), density=False)

    @property
    def support(self) -> tuple[float, float]:
        return float(self.edges[0]), float(self.edges[-1])

    @property
    def mean(self) -> float:
        return float(self.dist.mean())

    @property
    def var(self) -> float:
        return float(self.dist.var())

    def pdf(self, x) -> np.ndarray:
        return self.dist.pdf(np.atleast_1d(np.asarray(x, dtype=float)))

    def logpdf(self, x) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def cdf(self, x) -> np.ndarray:
        return self.dist.cdf(np.atleast_1d(np.asarray(x, dtype=float)))

    def __repr__(self) -> str:
        return f"HistogramModel(bins={len(self.counts)}, support=({self.edges[0]:.4g}, {self.edges[-1]:.4g}))"


class HistogramFamily:
    """Histogram density refitted each generation (chapter 14).

    ``bins`` is an integer number of equal-width bins over the data's range or
    one of numpy's rules (``"auto"``, ``"fd"``, ``"sturges"``, ...), passed to
    ``numpy.histogram``; the density is uniform within each bin
    (``scipy.stats.rv_histogram``).

    Book: {ref}`prop-14-families`
    """

    RULES = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")

    def __init__(self, bins: int | str = "auto"):
        if isinstance(bins, str):
            if bins not in self.RULES:
                raise ValueError(f"bins must be an integer >= 1 or one of {', '.join(self.RULES)}; got {bins!r}")
        else:
            bins = check_int("bins", bins, 1)
            # fit allocates the edges and counts, rv_histogram its pdf and cdf: 48 bytes a bin (measured)
            check_memory(f"HistogramFamily(bins={bins:,})", 48 * bins, "use fewer bins or a rule such as 'auto'")
        self.bins = bins

    def fit(self, data, rng: np.random.Generator | None = None, *, generation: int | None = None) -> HistogramModel:
        x = _column(data, 1)
        if np.ptp(x) == 0:
            raise ValueError("data must contain at least two distinct values (a histogram needs a range)")
        counts, edges = np.histogram(x, bins=self.bins)
        return HistogramModel(counts, edges)

    def sample(self, model: HistogramModel, n: int, rng: np.random.Generator) -> np.ndarray:
        if not isinstance(model, HistogramModel):
            raise ValueError(f"model must be a HistogramModel; got {type(model).__name__}")
        n = check_int("n", n, 0)
        return model.dist.rvs(size=n, random_state=rng).reshape(n, 1)

    def __repr__(self) -> str:
        return f"HistogramFamily(bins={self.bins!r})"


