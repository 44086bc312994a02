"""Chapter 14's non-parametric families, the cycling family and the loop's generation hook."""

import math

import numpy as np
import pytest
from scipy import stats

from collapse_utils import loop
from collapse_utils.families.cycle import CycleFamily, CycleModel
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel
from collapse_utils.families.gmm import GMMFamily, GMMModel
from collapse_utils.families.nonparametric import HistogramFamily, HistogramModel, KDEFamily, KDEModel
from collapse_utils.measures.distributions import mass_outside, total_variation


def test_kde_variance_is_sample_variance_plus_h2():
    x = np.random.default_rng(0).normal(2.0, 3.0, 500)
    model = KDEFamily().fit(x)
    kde = stats.gaussian_kde(x)
    h2 = kde.factor**2 * x.var(ddof=1)
    assert math.isclose(model.bandwidth**2, h2, rel_tol=1e-12)
    assert math.isclose(model.var, x.var() + h2, rel_tol=1e-12)
    # pdf and cdf agree with scipy (cdf by integrate_box_1d)
    assert np.allclose(model.pdf([0.0, 2.0]), kde.pdf([0.0, 2.0]))
    assert np.allclose(model.cdf([0.0, 2.0]), [kde.integrate_box_1d(-np.inf, v) for v in (0.0, 2.0)])


def test_kde_sample_moments():
    x = np.random.default_rng(1).normal(0.0, 1.0, 300)
    family = KDEFamily(0.3)
    model = family.fit(x.reshape(-1, 1))
    s = family.sample(model, 200_000, np.random.default_rng(2))
    assert s.shape == (200_000, 1)
    # mean within 4 SE; variance within 4 SE (SE of a sample variance ~ var * sqrt(2/N) for near-normal data)
    assert abs(s.mean() - model.mean) < 4 * math.sqrt(model.var / len(s))
    assert abs(s.var() - model.var) < 4 * model.var * math.sqrt(2.5 / len(s))


def test_histogram_support_and_moments():
    x = np.random.default_rng(3).exponential(1.0, 1000)
    family = HistogramFamily(20)
    model = family.fit(x)
    counts, edges = np.histogram(x, bins=20)
    ref = stats.rv_histogram((counts, edges), density=False)
    assert model.support == (x.min(), x.max())
    assert math.isclose(model.var, ref.var())
    s = family.sample(model, 100_000, np.random.default_rng(4))
    assert s.shape == (100_000, 1)
    assert s.min() >= x.min() and s.max() <= x.max()  # never outside the data's range
    sd = math.sqrt(ref.var())
    assert abs(s.mean() - ref.mean()) < 4 * sd / math.sqrt(len(s))  # 4 SE
    assert np.allclose(model.cdf([0.5, 1.0]), ref.cdf([0.5, 1.0]))


def test_summaries_of_parametric_models():
    g = GMMModel([0.3, 0.7], [[0.0], [4.0]], [[[1.0]], [[0.25]]])
    xs = np.array([-1.0, 2.0, 4.5])
    expected = 0.3 * stats.norm.cdf(xs) + 0.7 * stats.norm.cdf(xs, 4.0, 0.5)
    assert np.allclose(g.cdf(xs), expected)
    assert np.allclose(g.pdf(xs), g.pdf(xs[:, None]))  # numbers or points of shape (n, 1)
    mean = 0.7 * 4.0
    assert math.isclose(g.mean, mean)
    assert math.isclose(g.var, 0.3 * (1 + mean**2) + 0.7 * (0.25 + (4 - mean) ** 2))
    gm = GaussianModel(1.0, 4.0)
    assert math.isclose(mass_outside(gm, -1.0, 3.0), 2 * stats.norm.sf(1.0))
    assert abs(total_variation(gm, gm, np.linspace(-10, 10, 101))) < 1e-4  # trapezoidal error only
    # TV of two unit Gaussians one apart: 2 Phi(1/2) - 1
    tv = total_variation(GaussianModel(0.0, 1.0), GaussianModel(1.0, 1.0), np.linspace(-12, 13, 20001))
    assert math.isclose(tv, 2 * stats.norm.cdf(0.5) - 1, rel_tol=1e-6)
    cm = CycleModel(0, gm)
    assert math.isclose(cm.var, 4.0) and math.isclose(cm.mean, 1.0)
    assert np.array_equal(cm.cdf(xs), gm.cdf(xs)) and np.array_equal(cm.logpdf(xs), gm.logpdf(xs))
    assert math.isclose(mass_outside(cm, -1.0, 3.0), 2 * stats.norm.sf(1.0))


def test_cycle_family_through_the_loop():
    families = [GMMFamily(1), KDEFamily(), HistogramFamily(10)]
    cycle = CycleFamily(families)

    def real(k, rng):
        return rng.normal(size=(k, 1))

    h = loop.run(cycle, generations=7, n=50, real=real, seed=5,
                 metrics={"index": lambda s: s.model.index, "kind": lambda s: type(s.model.model).__name__})
    assert list(h["index"]) == [t % 3 for t in range(8)]
    assert list(h["kind"][:3]) == ["GMMModel", "KDEModel", "HistogramModel"]
    assert loop.run(cycle, generations=7, n=50, real=real, seed=5) == loop.run(cycle, generations=7, n=50,
                                                                              real=real, seed=5)


def test_cycle_family_fits_with_the_generation_it_is_given():
    cycle = CycleFamily([GaussianFamily(), KDEFamily()])
    x, rng = np.random.default_rng(6).normal(size=20), np.random.default_rng(7)
    assert cycle.fit(x, rng, generation=0) == CycleModel(0, GaussianFamily().fit(x))
    assert isinstance(cycle.fit(x, rng, generation=3).model, KDEModel)
    assert not hasattr(cycle, "fit_needs_generation")


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: KDEFamily("wide"), "bandwidth"),
        (lambda: KDEFamily(-1.0), "bandwidth"),
        (lambda: HistogramFamily(0), "bins"),
        (lambda: HistogramFamily("many"), "bins"),
        (lambda: KDEFamily().fit(np.ones((5, 2))), "data"),
        (lambda: KDEFamily().fit(np.ones(5)), "data"),
        (lambda: HistogramFamily().fit([np.nan, 1.0]), "data"),
        (lambda: KDEFamily().sample(HistogramModel([1], [0.0, 1.0]), 3, np.random.default_rng()), "model"),
        (lambda: HistogramFamily().sample(None, 3, np.random.default_rng()), "model"),
        (lambda: KDEFamily().sample(KDEFamily().fit([0.0, 1.0]), -1, np.random.default_rng()), "n"),
        (lambda: CycleFamily([]), "families"),
        (lambda: CycleFamily([GMMFamily(1)]).fit(np.zeros((3, 1)), np.random.default_rng()), "generation"),
        (lambda: CycleFamily([GMMFamily(1)]).sample(GaussianModel(0, 1), 2, np.random.default_rng()), "model"),
        (lambda: mass_outside("model", 0.0, 1.0), "model"),
        (lambda: total_variation(GaussianModel(0, 1), None, [0.0, 1.0]), "reference"),
        (lambda: mass_outside(GaussianModel(0, 1), 1.0, 0.0), "low"),
        (lambda: total_variation(GaussianModel(0, 1), GaussianModel(0, 1), [1.0, 0.0]), "grid"),
        (lambda: GMMModel([1.0], [[0.0, 0.0]], [np.eye(2)]).cdf([0.0]), "one-dimensional"),
        (lambda: GMMModel([1.0], [[0.0, 0.0]], [np.eye(2)]).var, "one-dimensional"),
        (lambda: mass_outside(GMMModel([1.0], [[0.0, 0.0]], [np.eye(2)]), 0.0, 1.0), "one-dimensional"),
    ],
)
def test_bad_input_raises(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_kde_model_repr():
    assert "KDEModel" in repr(KDEFamily().fit([0.0, 1.0, 3.0]))
    assert isinstance(KDEFamily().fit([0.0, 1.0, 3.0]), KDEModel)


def test_logpdf_matches_pdf_and_stays_finite():
    g = GMMModel([0.3, 0.7], [[0.0], [4.0]], [[[1.0]], [[0.25]]])
    xs = np.array([-1.0, 2.0, 4.5])
    assert np.allclose(g.logpdf(xs), np.log(g.pdf(xs)))
    assert np.isfinite(g.logpdf([200.0])[0])  # pdf underflows to 0 there, the log-space sum does not
    k = KDEFamily().fit([0.0, 1.0, 3.0])
    assert np.allclose(k.logpdf(xs), np.log(k.pdf(xs)))
    assert np.allclose(GaussianModel(1.0, 2.0).logpdf(xs), stats.norm.logpdf(xs, 1.0, math.sqrt(2.0)))


def test_total_variation_counts_mass_outside_the_grid():
    # a wide model whose mass mostly lies outside the grid: TV = 1 - int min(p, q), q inside the grid
    wide, ref = GaussianModel(0.0, 100.0**2), GaussianModel(0.0, 1.0)
    grid = np.linspace(-10, 10, 4001)
    fine = np.linspace(-1000, 1000, 400_001)
    assert math.isclose(total_variation(wide, ref, grid), total_variation(wide, ref, fine), rel_tol=1e-6)
