"""The diffusion family: the sampler against exact answers, what a short fit learns, guidance,
SIMS's negative guidance, reproducibility, the loop, and clear errors for bad arguments.

Statistical checks use fixed seeds; each tolerance is a stated multiple of the
standard error plus, where a trained model is compared with the truth, a stated
allowance for the model's own bias, so a check fails by chance with the
probability stated next to it.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from collapse_utils import loop
from collapse_utils.families import diffusion
from collapse_utils.families.diffusion import DiffusionFamily, DiffusionModel, SIMSFamily
from collapse_utils.measures import modes

TINY = DiffusionFamily(train_steps=60)


def test_beta_schedules():
    linear = diffusion.beta_schedule("linear", 1000)
    np.testing.assert_allclose(linear[[0, -1]], [1e-4, 0.02])  # Ho et al.'s, T = 1000
    np.testing.assert_allclose(diffusion.beta_schedule("linear", 100)[[0, -1]], [1e-3, 0.2])
    for kind in diffusion.SCHEDULES:
        betas = diffusion.beta_schedule(kind, 100)
        assert betas.shape == (100,) and np.all(np.diff(betas) >= 0) and betas.max() <= 0.5
        assert math.sqrt(np.prod(1 - betas)) < 0.02  # x_T is nearly pure noise
    assert diffusion.guidance_for_lam(0.5) == pytest.approx(1.0)
    assert diffusion.lam_for_guidance(diffusion.guidance_for_lam(0.2)) == pytest.approx(0.2)


def test_timestep_embedding():
    e = diffusion.timestep_embedding(torch.tensor([0, 5]), 8)
    assert e.shape == (2, 8)
    np.testing.assert_allclose(e[0].numpy(), [0, 0, 0, 0, 1, 1, 1, 1])
    assert e[1, 0].item() == pytest.approx(math.sin(5.0))


class ExactNormal(torch.nn.Module):
    """The exact noise prediction when the (standardised) data are N(0, I): x_t ~ N(0, I)
    at every t and E[eps | x_t] = sqrt(1 - abar_t) x_t."""

    n_classes = 0

    def __init__(self, betas):
        super().__init__()
        self.abar = torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)

    def forward(self, x, t, y=None):
        return (1 - self.abar[t])[:, None].sqrt() * x


def exact_variance(family: DiffusionFamily, betas: np.ndarray) -> float:
    """The variance of the sampler's output for N(0, 1) data and the exact noise prediction,
    by the recursion over the visited steps (ddpm: v <- (1 - beta') v + noise * sigma^2;
    ddim: v <- (sqrt(abar_prev abar) + sqrt((1 - abar_prev)(1 - abar)))^2 v)."""
    abar = np.cumprod(1 - betas)
    taus = family._timesteps(len(betas))
    noise = family.lam if family.bias == "noise" else 1.0
    v = noise
    for i in range(len(taus) - 1, -1, -1):
        a_t, a_prev = abar[taus[i]], (abar[taus[i - 1]] if i > 0 else 1.0)
        if family.sampler == "ddim":
            v *= (math.sqrt(a_prev * a_t) + math.sqrt((1 - a_prev) * (1 - a_t))) ** 2
            continue
        beta = 1 - a_t / a_prev
        v *= 1 - beta
        if i > 0:
            v += noise * (beta if family.variance == "beta" else beta * (1 - a_prev) / (1 - a_t))
    return v


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"variance": "posterior"},
        {"sampler": "ddim"},
        {"steps": 10},
        {"steps": 10, "sampler": "ddim"},
        {"schedule": "linear"},
        {"lam": 0.5, "bias": "noise"},
    ],
)
def test_sampler_matches_the_exact_variance_for_gaussian_data(settings):
    # the sampler's arithmetic, free of training: exact noise prediction for N(0, I) data. The
    # sample variance of n = 20000 normal draws has se v sqrt(2 / (n - 1)); 4 se (false failure
    # ~6e-5 per coordinate) is 4 % of v.
    family = DiffusionFamily(**settings)
    betas = diffusion.beta_schedule(family.schedule, family.T)
    model = DiffusionModel(ExactNormal(betas), betas, np.zeros(2), np.ones(2))
    x = family.sample(model, 20000, np.random.default_rng(0))
    v = exact_variance(family, betas)
    assert np.all(np.abs(x.var(axis=0, ddof=1) - v) < 4 * v * math.sqrt(2 / 19999))
    assert np.all(np.abs(x.mean(axis=0)) < 4 * math.sqrt(v / 20000))
    if settings == {"lam": 0.5, "bias": "noise"}:
        assert v == pytest.approx(0.5, rel=0.01)  # reduced noise halves the variance


class ExactRing(torch.nn.Module):
    """The exact noise prediction for an equal-weight mixture of isotropic Gaussians
    (centres C, variance s2 per coordinate) in standardised coordinates."""

    n_classes = 0

    def __init__(self, betas, centres, s2):
        super().__init__()
        self.abar = torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)
        self.centres = torch.tensor(centres, dtype=torch.float32)
        self.s2 = torch.tensor(s2, dtype=torch.float32)

    def forward(self, x, t, y=None):
        a = self.abar[t][:, None]
        var = a * self.s2 + (1 - a)  # each mode's variance at t
        diff = x[:, None, :] - a.sqrt()[:, None, :] * self.centres[None]
        w = torch.softmax(-(diff**2 / var[:, None, :]).sum(-1) / 2, dim=1)
        return (w[..., None] * diff / var[:, None, :]).sum(1) * (1 - a).sqrt()


def mode_width(points, centres):
    """The standard deviation per coordinate of the points (a label column dropped) around
    their nearest centre."""
    points = points[:, : centres.shape[1]]
    nearest = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    return math.sqrt(((points - centres[nearest]) ** 2).sum(axis=1).mean() / 2)


@pytest.mark.parametrize("variance, low, high", [("beta", 0.99, 1.09), ("posterior", 0.79, 0.89)])
def test_sampler_with_the_exact_ring_score_reproduces_the_mode_width(variance, low, high):
    # the book's ring (8 modes, radius 2, std 0.1) as the module docstring quotes it: with T = 100
    # the cosine sampler widens the modes by about 4 % (beta_t) or narrows them by about 16 %
    # (posterior variance), even with the exact noise prediction. Over 10 seeds of 8000 samples
    # the width ratio was 1.038 +- 0.004 and 0.838 +- 0.003 (sd): the intervals reach > 10 sd.
    centres, std = modes.ring_modes(8, 2.0), 0.1
    scale = np.full(2, math.sqrt(2.0 + std**2))  # the standard deviation of the ring per coordinate
    family = DiffusionFamily(variance=variance)
    betas = diffusion.beta_schedule(family.schedule, family.T)
    model = DiffusionModel(ExactRing(betas, centres / scale, (std / scale) ** 2), betas, np.zeros(2), scale)
    x = family.sample(model, 8000, np.random.default_rng(1))
    assert modes.modes_covered(x, centres, std) == 8
    assert low < mode_width(x, centres) / std < high


@pytest.fixture(scope="module")
def gaussian_fit():
    """The default family fitted once to 20000 draws of a correlated 2-D Gaussian."""
    mu, cov = np.array([1.0, -2.0]), np.array([[1.0, 0.6], [0.6, 0.5]])
    rng = np.random.default_rng(0)
    data = rng.multivariate_normal(mu, cov, size=20000)
    family = DiffusionFamily()
    return family, family.fit(data, rng), mu, cov


def test_a_short_fit_learns_a_single_gaussian(gaussian_fit):
    # n = 20000 training points, m = 10000 samples. Sampling error of the sample mean against the
    # truth: se = sd sqrt(1/n + 1/m) (0.012 sd); of a variance: rel. se sqrt(2/n + 2/m) (1.7 %); of
    # the correlation: (1 - rho^2) sqrt(1/n + 1/m). Each check allows 4 se (false failure ~6e-5
    # each) plus the model's bias: 0.05 sd for a mean, 8 % for a variance, 0.03 for the
    # correlation (over 10 seeds a default fit's bias reached 0.034 sd, 6.1 % and 0.018). A model
    # that missed the correlation or the scale by a quarter fails.
    family, model, mu, cov = gaussian_fit
    n, m = 20000, 10000
    x = family.sample(model, m, np.random.default_rng(1))
    assert x.shape == (m, 2)
    sd = np.sqrt(np.diag(cov))
    rho = cov[0, 1] / sd.prod()
    assert np.all(np.abs(x.mean(axis=0) - mu) / sd < 4 * math.sqrt(1 / n + 1 / m) + 0.05)
    rel = np.diag(np.cov(x.T)) / np.diag(cov) - 1
    assert np.all(np.abs(rel) < 4 * math.sqrt(2 / n + 2 / m) + 0.08)
    r = np.corrcoef(x.T)[0, 1]
    assert abs(r - rho) < 4 * (1 - rho**2) * math.sqrt(1 / n + 1 / m) + 0.03
    assert model.losses.shape == (family.train_steps,)
    assert model.losses[-100:].mean() < model.losses[:100].mean()  # it learned


def test_same_seed_same_model_and_samples():
    data = modes.sample_ring(300, rng=np.random.default_rng(0))
    a = TINY.fit(data, np.random.default_rng(1))
    b = TINY.fit(data, np.random.default_rng(1))
    for p, q in zip(a.network.state_dict().values(), b.network.state_dict().values()):
        assert torch.equal(p, q)
    xa, xb = TINY.sample(a, 50, np.random.default_rng(2)), TINY.sample(b, 50, np.random.default_rng(2))
    assert np.array_equal(xa, xb)
    c = TINY.fit(data, np.random.default_rng(3))  # another seed: another network
    assert not torch.equal(a.network.net[0].weight, c.network.net[0].weight)
    assert not np.array_equal(xa, TINY.sample(a, 50, np.random.default_rng(4)))
    assert TINY.sample(a, 0, np.random.default_rng(2)).shape == (0, 2)
    again = pickle.loads(pickle.dumps(a))  # the loop's cache pickles models
    assert np.array_equal(xa, TINY.sample(again, 50, np.random.default_rng(2)))


def test_conditional_model_follows_its_labels():
    family = DiffusionFamily(n_classes=8)
    data = modes.sample_ring(2000, rng=np.random.default_rng(0), labels=True)
    model = family.fit(data, np.random.default_rng(1))
    centres, std = modes.ring_modes(8, 2.0), 0.1
    x = family.sample(model, 2000, np.random.default_rng(2))
    assert x.shape == (2000, 3) and set(np.unique(x[:, 2])) == set(range(8))
    nearest = np.argmin(((x[:, None, :2] - centres[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == x[:, 2]) > 0.99
    assert modes.modes_covered(x, centres, std) == 8
    # MAD's lam is the guidance weight 1 / lam - 1: the same samples
    by_lam = DiffusionFamily(n_classes=8, lam=0.5).sample(model, 500, np.random.default_rng(3))
    by_w = DiffusionFamily(n_classes=8, guidance=1.0).sample(model, 500, np.random.default_rng(3))
    assert np.array_equal(by_lam, by_w)


def test_guidance_pushes_overlapping_classes_apart_and_narrows_them():
    # two classes N((-1, 0), I) and N((1, 0), I). Classifier-free guidance samples (roughly) from
    # p(x | c)^(1 + w) / p(x)^w: each class moves away from the other and narrows along the axis
    # that separates them; the other axis is left alone. Over 5 seeds, w = 2 moved the classes
    # from 1.0 to 1.71 ... 1.87 away from the middle and narrowed them to 0.63 ... 0.69 of their
    # width; the checks ask for half of that.
    rng = np.random.default_rng(0)
    y = rng.integers(2, size=4000)
    x = rng.standard_normal((4000, 2)) + np.column_stack([2.0 * y - 1, np.zeros(4000)])
    model = DiffusionFamily(n_classes=2).fit(np.column_stack([x, y]), rng)

    def summary(w):
        s = DiffusionFamily(n_classes=2, guidance=w).sample(model, 4000, np.random.default_rng(1))
        away = (s[:, 0] * (2 * s[:, 2] - 1)).mean()
        along = np.mean([s[s[:, 2] == c, 0].std() for c in (0, 1)])
        return away, along, s[:, 1].std()

    (away0, along0, across0), (away2, along2, across2) = summary(0.0), summary(2.0)
    assert abs(away0 - 1) < 0.1 and abs(along0 - 1) < 0.1  # unguided: the classes as trained
    assert away2 > away0 + 0.35
    assert along2 < 0.85 * along0
    assert abs(across2 / across0 - 1) < 0.1


def test_fine_tune_and_negative_guidance():
    data = modes.sample_ring(300, rng=np.random.default_rng(0))
    base = TINY.fit(data, np.random.default_rng(1))
    before = {k: v.clone() for k, v in base.network.state_dict().items()}
    own = TINY.sample(base, 300, np.random.default_rng(2))
    aux = TINY.fine_tune(base, own, np.random.default_rng(3), steps=20)
    assert all(torch.equal(before[k], v) for k, v in base.network.state_dict().items())  # base untouched
    assert not torch.equal(aux.network.net[0].weight, base.network.net[0].weight)
    assert len(aux.losses) == 20
    # omega = 0 is the base model alone, bit for bit
    plain = TINY.sample(base, 100, np.random.default_rng(4))
    assert np.array_equal(TINY.sample_guided(base, aux, 100, np.random.default_rng(4), 0.0), plain)
    guided = TINY.sample_guided(base, aux, 100, np.random.default_rng(4), 1.0)
    assert guided.shape == (100, 2) and np.all(np.isfinite(guided)) and not np.array_equal(guided, plain)
    with pytest.raises(ValueError, match="base and self_model must share"):
        TINY.sample_guided(base, TINY.fit(own, np.random.default_rng(5)), 10, np.random.default_rng(0), 1.0)


def test_family_runs_through_the_loop_reproducibly():
    real = modes.sample_ring(400, rng=np.random.default_rng(0))
    metrics = {"mean_radius": lambda step: float(np.linalg.norm(step.model.shift))}
    runs = [
        loop.run(
            TINY, real=real, generations=2, policy=loop.Replace(), metrics=metrics, seed=4, progress=False
        )
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) == 3
    assert isinstance(runs[0].final_model, DiffusionModel)
    sims = loop.run(
        SIMSFamily(TINY, omega=1.0, tune_steps=10),
        real=real,
        generations=1,
        policy=loop.Replace(),
        seed=4,
        progress=False,
    )
    assert isinstance(sims.final_model, diffusion.GuidedModel)
    assert sims["n_train"].tolist() == [400, 400]


@pytest.mark.parametrize(
    "settings, name",
    [
        ({"steps": 0}, "steps"),
        ({"steps": 101}, "steps"),
        ({"guidance": -1.0, "n_classes": 3}, "guidance"),
        ({"guidance": float("nan"), "n_classes": 3}, "guidance"),
        ({"guidance": 1.0}, "guidance"),  # guidance needs a conditional model
        ({"lam": 0.0}, "lam"),
        ({"lam": 1.5}, "lam"),
        ({"lam": float("nan")}, "lam"),
        ({"lam": 0.5}, "lam"),  # MAD's guidance definition needs labels
        ({"lam": 0.5, "n_classes": 3, "guidance": 1.0}, "give the sampling bias"),
        ({"T": 1}, "T"),
        ({"schedule": "quadratic"}, "schedule"),
        ({"sampler": "euler"}, "sampler"),
        ({"variance": "learned"}, "variance"),
        ({"bias": "temperature"}, "bias"),
        ({"label_draw": "balanced"}, "label_draw"),
        ({"p_uncond": 1.5}, "p_uncond"),
        ({"lr": 0.0}, "lr"),
        ({"train_steps": 0}, "train_steps"),
        ({"batch_size": 0}, "batch_size"),
        ({"width": 0}, "width"),
        ({"fourier": -1}, "fourier"),
    ],
)
def test_bad_settings_name_the_parameter(settings, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        DiffusionFamily(**settings)


def test_bad_data_and_calls_name_the_problem():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="^data must"):
        TINY.fit(np.zeros(10), rng)
    with pytest.raises(ValueError, match="^data must"):
        TINY.fit(np.full((10, 2), np.nan), rng)
    conditional = DiffusionFamily(n_classes=3, train_steps=5)
    with pytest.raises(ValueError, match=r"^labels .* integers in \[0, 2\]"):
        conditional.fit(np.column_stack([np.zeros((4, 2)), [0, 1, 2, 3]]), rng)
    with pytest.raises(ValueError, match=r"^labels"):
        conditional.fit(np.column_stack([np.zeros((4, 2)), [0, 0.5, 1, 2]]), rng)
    model = TINY.fit(modes.sample_ring(50, rng=rng), rng)
    with pytest.raises(ValueError, match="^n must"):
        TINY.sample(model, -1, rng)
    with pytest.raises(ValueError, match="^rng must"):
        TINY.sample(model, 5, None)
    with pytest.raises(ValueError, match="^rng must"):
        TINY.fit(modes.sample_ring(50, rng=rng), 0)
    with pytest.raises(ValueError, match="^sampling would need"):
        TINY.sample(model, 10**12, rng)
    with pytest.raises(ValueError, match="^model must"):
        TINY.sample("not a model", 5, rng)
    with pytest.raises(ValueError, match="^omega must"):
        TINY.sample_guided(model, model, 5, rng, -1.0)
    with pytest.raises(ValueError, match="^omega must"):
        SIMSFamily(omega=float("inf"))
    with pytest.raises(ValueError, match="^steps must"):
        TINY.fine_tune(model, modes.sample_ring(50, rng=rng), rng, steps=0)
