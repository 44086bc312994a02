"""A convolutional VAE on MNIST as a model family of the retraining loop (chapter 05).

Following Shumailov et al. (2024): latent dimension 20, loss = binary cross-entropy
summed over pixels + KL divergence to the N(0, I) prior, Adam with learning rate
1e-3 and weight decay 1e-5, batches of 256. Each generation trains a *fresh*
VAE (:class:`VAEFamily`); its samples are the decoder's Bernoulli means at latent
draws from the prior. The width and the number of epochs are parameters: small in
the book, the paper's in the ``paper`` profile.

The measurements of the chapter:

- :func:`latent_spread`: the standard deviation of a fixed reference encoder's
  latent means (the generation-0 VAE's) on a set of images, the paper's metric;
- :func:`train_classifier` / :func:`classify`: a small CNN trained on real
  digits; a prediction below a confidence threshold counts as *unsure*;
- :func:`class_histogram` and :func:`histogram_entropy`;
- :class:`Probe`: all of them at every generation of :func:`collapse_utils.loop.run`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_int, check_number
from collapse_utils.loop import seed_torch

__all__ = [
    "ConvVAE",
    "vae_loss",
    "VAEFamily",
    "encode",
    "latent_spread",
    "SmallCNN",
    "train_classifier",
    "accuracy",
    "classify",
    "class_histogram",
    "histogram_entropy",
    "Probe",
    "run",
    "UNSURE",
]

#: the label :func:`classify` gives a digit it cannot classify confidently
UNSURE = -1




def _check_images(images) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be a torch tensor of shape (N, 1, 28, 28); got {shape}")
    return images.float()


# --- the model --------------------------------------------------------------------


class ConvVAE(nn.Module):
    """Convolutional VAE for 28x28 images (chapter 05).

    Encoder: two stride-2 convolutions (``width`` and ``2 * width`` channels,
    28 -> 14 -> 7), a hidden layer of ``8 * width`` units, then the mean and
    log-variance of a ``latent``-dimensional Gaussian. The decoder mirrors it
    with transposed convolutions and returns pixel logits.
    """

    def __init__(self, latent: int = 20, width: int = 32):
        super().__init__()
        self.latent = check_int("latent", latent, 1)
        self.width = check_int("width", width, 1)
        w, hidden = self.width, 8 * self.width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * w * 49, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * latent),
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(),
            nn.Linear(hidden, 2 * w * 49), nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decoder(z), mu, logvar


def vae_loss(logits, x, mu, logvar) -> torch.Tensor:
    """Negative ELBO summed over the batch: BCE summed over pixels + KL(q(z|x) || N(0, I))."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kl


@dataclass(frozen=True)
class VAEFamily:
    """The VAE as a model family of :func:`collapse_utils.loop.run` (chapter 05).

    ``fit(images, rng)`` trains a fresh :class:`ConvVAE` for ``epochs`` epochs;
    ``sample(model, n, rng)`` decodes ``n`` latent draws from the prior and
    returns the pixel means, shape ``(n, 1, 28, 28)`` in [0, 1]. Both seed
    torch from ``rng``, so a run is reproducible bit for bit on the CPU.
    """

    latent: int = 20
    width: int = 32
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-5

    def __post_init__(self):
        check_int("latent", self.latent, 1)
        check_int("width", self.width, 1)
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_number("lr", self.lr, low=0)
        check_number("weight_decay", self.weight_decay, low=0)

    def fit(self, data, rng: np.random.Generator) -> ConvVAE:
        images = _check_images(data)
        seed_torch(rng)
        model = ConvVAE(self.latent, self.width)
        model.losses = []  # mean loss per image, one value per epoch
        optimiser = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        model.train()
        for _ in range(self.epochs):
            total = 0.0
            for batch in torch.randperm(len(images)).split(self.batch_size):
                x = images[batch]
                logits, mu, logvar = model(x)
                loss = vae_loss(logits, x, mu, logvar)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                total += loss.item()
            model.losses.append(total / len(images))
        return model.eval()

    def sample(self, model: ConvVAE, n: int, rng: np.random.Generator) -> torch.Tensor:
        n = check_int("n", n, 0)
        seed_torch(rng)
        if n == 0:
            return torch.empty(0, 1, 28, 28)
        with torch.no_grad():
            z = torch.randn(n, model.latent)
            return torch.cat([torch.sigmoid(model.decoder(chunk)) for chunk in z.split(1024)])


def encode(model: ConvVAE, images, batch: int = 2048) -> torch.Tensor:
    """Latent means of ``images`` under ``model``'s encoder, shape ``(N, latent)`` (chapter 05)."""
    images = _check_images(images)
    with torch.no_grad():
        return torch.cat([model.encode(x)[0] for x in images.split(batch)])


def latent_spread(reference: ConvVAE, images) -> float:
    """The paper's metric (chapter 05): the standard deviation of ``reference``'s latent
    means on ``images``, computed per latent dimension and averaged over dimensions."""
    mu = encode(reference, images)
    if len(mu) < 2:
        raise ValueError(f"images must hold at least 2 images; got {len(mu)}")
    return float(mu.std(dim=0).mean())


# --- the classifier ----------------------------------------------------------------


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
    images = _check_images(images)
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
    images = _check_images(images)
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


# --- per-generation measurements ----------------------------------------------------


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
        raise ValueError(f"probe must be a collapse_utils.vae.Probe; got {type(probe).__name__}")
    probe.restore_reference(cache)
    return loop.run(family, real=_check_images(real), generations=generations, policy=policy,
                    metrics=probe.metrics(), seed=seed, cache=cache, desc=desc)
