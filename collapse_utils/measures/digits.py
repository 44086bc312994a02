"""Measurements of generated images: the latent spread under a reference encoder, and a digit classifier.

:func:`latent_spread` encodes images with a reference VAE (generation 0's) and measures the
spread of the latent means; :func:`train_classifier`, :func:`classify`, :func:`class_histogram`
and :func:`histogram_entropy` measure which digits a generation still draws.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_int
from collapse_utils.families.vae import ConvVAE, VAEFamily, check_images, encode

__all__ = ['UNSURE', 'latent_spread', 'SmallCNN', 'train_classifier', 'accuracy', 'classify', 'class_histogram', 'histogram_entropy', 'Probe', 'run']


#: the label :func:`classify` gives a digit it cannot classify confidently
UNSURE = -1



def latent_spread(reference: ConvVAE, images) -> float:
    """The paper's metric (chapter 05): the standard deviation of ``reference``'s latent
    means on ``images``, computed per latent dimension and averaged over dimensions."""
    mu = encode(reference, images)
    if len(mu) < 2:
        raise ValueError(f"images must hold at least 2 images; got {len(mu)}")
    return float(mu.std(dim=0).mean())



class SmallCNN(nn.Module):
    """A small digit classifier: two conv + pooling blocks and a linear layer (chapter 05)."""

    def __init__(self, classes: int = 10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 49, classes),
        )

    def forward(self, x):
        return self.net(x)



def train_classifier(images, labels, *, epochs: int = 10, seed: int = 0, batch_size: int = 64,
                     classes: int = 10) -> SmallCNN:
    """Train :class:`SmallCNN` on real digits labelled ``0..classes-1`` (Adam, lr 1e-3);
    returns it in eval mode (chapter 05)."""
    images = check_images(images)
    labels = torch.as_tensor(labels, dtype=torch.long)
    if len(labels) != len(images):
        raise ValueError(f"labels must have one entry per image; got {len(labels)} for {len(images)} images")
    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    classes = check_int("classes", classes, 2)
    if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise ValueError(f"labels must be in 0..{classes - 1}")
    torch.manual_seed(check_int("seed", seed, 0))
    model = SmallCNN(classes=classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(images)).split(batch_size):
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
    return model.eval()



def _probabilities(model: nn.Module, images) -> torch.Tensor:
    images = check_images(images)
    with torch.no_grad():
        return torch.cat([F.softmax(model(x), dim=1) for x in images.split(2048)])



def accuracy(model: nn.Module, images, labels) -> float:
    """Share of ``images`` whose most probable class is the label (chapter 05)."""
    predicted = _probabilities(model, images).argmax(dim=1)
    return float((predicted == torch.as_tensor(labels)).float().mean())



def classify(model: nn.Module, images, threshold: float = 0.9) -> np.ndarray:
    """Predicted digit of each image, or :data:`UNSURE` (-1) when the classifier's
    top probability is below ``threshold`` (chapter 05)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    top, predicted = _probabilities(model, images).max(dim=1)
    predicted[top < threshold] = UNSURE
    return predicted.numpy()



def class_histogram(predictions, classes: int = 10) -> np.ndarray:
    """Counts of each class ``0..classes-1`` followed by the count of :data:`UNSURE` (chapter 05)."""
    classes = check_int("classes", classes, 1)
    predictions = np.asarray(predictions)
    bad = predictions[(predictions != UNSURE) & ((predictions < 0) | (predictions >= classes))]
    if bad.size:
        raise ValueError(f"predictions must be in 0..{classes - 1} or {UNSURE}; got {bad[0]!r}")
    counts = np.bincount(predictions[predictions != UNSURE], minlength=classes)
    return np.append(counts, np.sum(predictions == UNSURE))



def histogram_entropy(histogram, include_unsure: bool = False) -> float:
    """Entropy in bits of a :func:`class_histogram` (chapter 05). By default over the
    confidently classified digits only (the last, unsure bin dropped); at most
    log2(10) = 3.32 bits for 10 equally frequent digits."""
    from scipy.stats import entropy

    counts = np.asarray(histogram, dtype=float)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0):
        raise ValueError("histogram must be a 1-D array of at least 2 non-negative counts")
    if not include_unsure:
        counts = counts[:-1]
    return float(entropy(counts, base=2)) if counts.sum() > 0 else 0.0


class Probe:
    """Measurements of chapter 05 at every generation of :func:`collapse_utils.loop.run`.

    At generation t it draws ``n_samples`` images from the generation's VAE (a
    fixed stream per generation, independent of training) and records:
    ``latent_std`` (:func:`latent_spread` under the reference encoder),
    ``histogram`` (:func:`class_histogram` of the classifier's predictions),
    ``entropy`` (:func:`histogram_entropy`), ``unsure`` (share of unsure
    digits) and ``grid`` (the first ``grid`` samples, as uint8 pixels).

    The reference encoder is ``reference`` if given, else the model of
    generation 0 of the run (kept when the loop fits it; when the loop loads
    generation 0 from a cache, call :meth:`restore_reference` first).
    """

    def __init__(self, family: VAEFamily, classifier: nn.Module, *, reference: ConvVAE | None = None,
                 n_samples: int = 2000, grid: int = 64, threshold: float = 0.9, seed: int = 0):
        self.family = family
        self.classifier = classifier
        self.reference = reference
        self.n_samples = check_int("n_samples", n_samples, 2)
        self.grid = check_int("grid", grid, 0)
        self.threshold = threshold
        self.seed = check_int("seed", seed, 0)
        self._last: tuple[int, int, dict] | None = None

    def restore_reference(self, cache) -> None:
        """Take generation 0's model from ``cache`` (a :class:`collapse_utils.cache.Cache`)
        as the reference encoder, if it is stored there and no reference is set."""
        if self.reference is None and cache is not None:
            entry = cache.load(0)
            if entry is not None:
                self.reference = entry["model"]

    def measure(self, model: ConvVAE, generation: int) -> dict:
        """All measurements of one model (see the class docstring)."""
        if self.reference is None:
            raise RuntimeError("no reference encoder: pass reference= or start the run at generation 0")
        rng = np.random.default_rng([self.seed, generation])
        images = self.family.sample(model, self.n_samples, rng)
        hist = class_histogram(classify(self.classifier, images, self.threshold))
        return {
            "latent_std": latent_spread(self.reference, images),
            "histogram": hist,
            "entropy": histogram_entropy(hist),
            "unsure": float(hist[-1] / hist.sum()),
            "grid": (images[: self.grid, 0] * 255).round().to(torch.uint8).numpy(),
        }

    def _get(self, step, name):
        key = (step.generation, id(step.model))
        if self._last is None or self._last[:2] != key:
            if step.generation == 0 and self.reference is None:
                self.reference = step.model
            self._last = (*key, self.measure(step.model, step.generation))
        return self._last[2][name]

    def metrics(self) -> dict:
        """``{name: f(step)}`` for :func:`collapse_utils.loop.run`; one sampling per generation."""
        names = ("latent_std", "entropy", "unsure", "histogram", "grid")
        return {name: (lambda step, name=name: self._get(step, name)) for name in names}



def run(family: VAEFamily, real, *, generations: int, probe: Probe, policy="replace", seed=0,
        cache=None, desc: str | None = None):
    """:func:`collapse_utils.loop.run` of the VAE family with ``probe``'s metrics (chapter 05).

    Generation 0 is the VAE trained on ``real``; each later generation trains a
    fresh VAE on ``len(real)`` images built by ``policy`` from the previous
    generation's samples. With a ``cache`` (a :class:`collapse_utils.cache.Cache`),
    every generation's model and measurements are stored, a rebuild trains
    nothing, and an interrupted run resumes; the probe's reference encoder is
    restored from the cached generation 0.
    """
    from collapse_utils import loop

    if not isinstance(probe, Probe):
        raise ValueError(f"probe must be a collapse_utils.measures.digits.Probe; got {type(probe).__name__}")
    probe.restore_reference(cache)
    return loop.run(family, real=check_images(real), generations=generations, policy=policy,
                    metrics=probe.metrics(), seed=seed, cache=cache, desc=desc)


