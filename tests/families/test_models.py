"""Every one-dimensional model of the book has the same methods: ``pdf``, ``logpdf``, ``cdf``, ``var``.

Checked for each model against numerical integration, a large sample and scipy:

- ``pdf`` integrates to 1 (``scipy.integrate.quad``, with the histogram's bin edges as break points);
- ``cdf(b) - cdf(a)`` is the integral of ``pdf`` from a to b;
- ``logpdf`` is ``log(pdf)``;
- ``var`` matches the variance of N = 200,000 draws from the model's family. The sample
  variance has standard error ``sqrt((m4 - s^4) / N)`` (m4 the sample's fourth central
  moment); the test allows 5 standard errors, a false failure with probability about 6e-7
  per model for a normal estimator;
- where scipy has the distribution (normal, Gaussian KDE, histogram; the mixture as a weighted
  sum of scipy normals), ``pdf``, ``logpdf``, ``cdf`` and ``var`` equal scipy's.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from scipy import integrate, stats

from collapse_utils.families.cycle import CycleFamily, CycleModel
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel
from collapse_utils.families.gmm import GMMFamily, GMMModel
from collapse_utils.families.nonparametric import HistogramFamily, KDEFamily

N_DRAWS = 200_000
Z = 5.0  # standard errors allowed between var and the sample variance


class _Mixture:
    # a two-component normal mixture built from scipy's normal distribution
    def __init__(self, w, m, s):
        self.parts = [(wk, stats.norm(mk, sk)) for wk, mk, sk in zip(w, m, s)]

    def pdf(self, x):
        return sum(w * d.pdf(x) for w, d in self.parts)

    def logpdf(self, x):
        return np.log(self.pdf(x))

    def cdf(self, x):
        return sum(w * d.cdf(x) for w, d in self.parts)

    def var(self):
        mean = sum(w * d.mean() for w, d in self.parts)
        return sum(w * (d.var() + (d.mean() - mean) ** 2) for w, d in self.parts)


class _KDE:
    # scipy's gaussian_kde with the names of a frozen distribution
    def __init__(self, kde):
        self.kde = kde

    def pdf(self, x):
        return self.kde.pdf(x)

    def logpdf(self, x):
        return self.kde.logpdf(x)

    def cdf(self, x):
        return np.array([self.kde.integrate_box_1d(-np.inf, v) for v in np.atleast_1d(x)])

    def var(self):
        return self.kde.dataset[0].var() + self.kde.covariance[0, 0]


@dataclass
class Case:
    model: Any
    family: Any
    low: float  # integration range holding all the mass but ~1e-30
    high: float
    scipy: Any
    breaks: tuple = ()


def _cases():
    rng = np.random.default_rng(20)
    kde = KDEFamily().fit(rng.normal(size=200))
    kde_low, kde_high = kde.points.min() - 15 * kde.bandwidth, kde.points.max() + 15 * kde.bandwidth
    hist = HistogramFamily(20).fit(rng.exponential(size=1000))
    gmm = GMMModel([0.3, 0.7], [[0.0], [4.0]], [[[1.0]], [[0.25]]])
    mixture = _Mixture([0.3, 0.7], [0.0, 4.0], [1.0, 0.5])
    return {
        "gaussian": Case(GaussianModel(1.0, 4.0), GaussianFamily(), -29.0, 31.0, stats.norm(1.0, 2.0)),
        "gmm": Case(gmm, GMMFamily(2), -15.0, 12.0, mixture),
        "kde": Case(kde, KDEFamily(), kde_low, kde_high, _KDE(kde.kde)),
        "histogram": Case(hist, HistogramFamily(20), *hist.support, stats.rv_histogram((hist.counts, hist.edges), density=False),
                          tuple(hist.edges[1:-1])),
        "cycle": Case(CycleModel(1, gmm), CycleFamily([KDEFamily(), GMMFamily(2)]), -15.0, 12.0, mixture),
    }


CASES = _cases()


def _integral(case: Case, low: float, high: float) -> float:
    def density(x):
        return float(case.model.pdf(x)[0])

    breaks = [b for b in case.breaks if low < b < high]
    value, _ = integrate.quad(density, low, high, points=breaks or None, limit=500, epsabs=1e-11, epsrel=1e-10)
    return value


@pytest.mark.parametrize("name", CASES)
def test_pdf_integrates_to_one(name):
    assert _integral(CASES[name], CASES[name].low, CASES[name].high) == pytest.approx(1.0, abs=1e-7)


@pytest.mark.parametrize("name", CASES)
def test_cdf_is_the_integral_of_the_pdf(name):
    case = CASES[name]
    xs = np.linspace(case.low, case.high, 9)[1:-1]
    c = case.model.cdf(xs)
    assert c.shape == xs.shape
    assert case.model.cdf([case.low])[0] == pytest.approx(0.0, abs=1e-9)
    for a, b, ca, cb in zip(xs[:-1], xs[1:], c[:-1], c[1:]):
        assert cb - ca == pytest.approx(_integral(case, a, b), abs=1e-7)


@pytest.mark.parametrize("name", CASES)
def test_logpdf_is_log_pdf(name):
    case = CASES[name]
    xs = np.linspace(case.low, case.high, 101)[1:-1]
    p = case.model.pdf(xs)
    inside = p > 1e-300
    assert np.allclose(case.model.logpdf(xs)[inside], np.log(p[inside]), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_var_matches_a_large_sample(name):
    case = CASES[name]
    x = np.asarray(case.family.sample(case.model, N_DRAWS, np.random.default_rng(21))).ravel()
    sample_var = x.var()
    se = math.sqrt((np.mean((x - x.mean()) ** 4) - sample_var**2) / N_DRAWS)
    assert isinstance(case.model.var, float)
    assert abs(case.model.var - sample_var) < Z * se


@pytest.mark.parametrize("name", CASES)
def test_methods_match_scipy(name):
    case = CASES[name]
    xs = np.linspace(case.low, case.high, 41)[1:-1]
    assert np.allclose(case.model.pdf(xs), case.scipy.pdf(xs), rtol=1e-9, atol=1e-300)
    assert np.allclose(case.model.cdf(xs), case.scipy.cdf(xs), rtol=1e-9, atol=1e-12)
    finite = case.scipy.pdf(xs) > 1e-250
    assert np.allclose(case.model.logpdf(xs)[finite], case.scipy.logpdf(xs)[finite], rtol=1e-9)
    assert case.model.var == pytest.approx(float(case.scipy.var()), rel=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_a_number_gives_an_array_of_one(name):
    model = CASES[name].model
    for method in (model.pdf, model.logpdf, model.cdf):
        assert method(0.5).shape == (1,)


def test_gaussian_model_keeps_its_fields():
    m = GaussianModel(2.0, 9.0)
    assert (m.mean, m.var) == (2.0, 9.0) and m == GaussianModel(mean=2.0, var=9.0)


def test_gmm_logpdf_in_two_dimensions_is_log_pdf():
    f = GMMModel([0.5, 0.5], [[-1.0, 0.0], [1.0, 0.5]], [np.eye(2), [[0.5, 0.2], [0.2, 0.8]]])
    points = np.random.default_rng(22).normal(size=(4, 3, 2))
    assert f.logpdf(points).shape == (4, 3)
    assert np.allclose(f.logpdf(points), np.log(f.pdf(points)))
