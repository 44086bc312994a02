"""Measurements of generated images: the latent spread under a reference encoder, and a digit classifier.

:func:`latent_spread` encodes images with a reference VAE (generation 0's) and measures the
spread of the latent means; :func:`train_classifier`, :func:`classify`, :func:`class_histogram`
and :func:`histogram_entropy` measure which digits a generation still draws;
:func:`vae_metrics` gives all of them as ``metrics`` of :func:`collapse_utils.loop.run`, the
reference encoder being the loop's ``step.reference``. No VAE is trained here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_int
from collapse_utils.families.vae import ConvVAE, VAEFamily, check_images, encode

__all__ = [
    "UNSURE",
    "latent_spread",
    "SmallCNN",
    "train_classifier",
    "accuracy",
    "classify",
    "class_histogram",
    "histogram_entropy",
    "vae_metrics",
]


#: the label :func:`classify` gives a digit it cannot classify confidently
UNSURE = -1


def latent_spread(reference: ConvVAE, images) -> float:
    """The paper's metric (chapter 05): the standard deviation of ``reference``'s latent
    means on ``images``, computed per latent dimension and averaged over dimensions.

    Book: {ref}`def-05-latent-spread`
    """
    mu = encode(reference, images)
    if len(mu) < 2:
        raise ValueError(f"images must hold at least 2 images; got {len(mu)}")
    return float(mu.std(dim=0).mean())


class SmallCNN(nn.Module):
    """A small digit classifier: two conv + pooling blocks and a linear layer (chapter 05).

    Book: {ref}`sec-05-measures`
    """

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
    returns it in eval mode (chapter 05).

    Book: {ref}`sec-05-measures`
    """
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
    """Share of ``images`` whose most probable class is the label (chapter 05).

    Book: {ref}`sec-05-measures`
    """
    predicted = _probabilities(model, images).argmax(dim=1)
    return float((predicted == torch.as_tensor(labels)).float().mean())


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a number in [0, 1]; got {threshold!r}")
    return threshold


def classify(model: nn.Module, images, threshold: float = 0.9) -> np.ndarray:
    """Predicted digit of each image, or :data:`UNSURE` (-1) when the classifier's
    top probability is below ``threshold`` (chapter 05).

    Book: {ref}`sec-05-measures`
    """
    threshold = _check_threshold(threshold)
    top, predicted = _probabilities(model, images).max(dim=1)
    predicted[top < threshold] = UNSURE
    return predicted.numpy()


def class_histogram(predictions, classes: int = 10) -> np.ndarray:
    """Counts of each class ``0..classes-1`` followed by the count of :data:`UNSURE` (chapter 05).

    Book: {ref}`sec-05-measures`
    """
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
    log2(10) = 3.32 bits for 10 equally frequent digits.

    Book: {ref}`sec-05-measures`
    """
    from scipy.stats import entropy

    counts = np.asarray(histogram, dtype=float)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0):
        raise ValueError("histogram must be a 1-D array of at least 2 non-negative counts")
    if not include_unsure:
        counts = counts[:-1]
    return float(entropy(counts, base=2)) if counts.sum() > 0 else 0.0


def _sample_measures(family: VAEFamily, classifier: nn.Module, step, *, n_samples: int, grid: int,
                     threshold: float, seed: int) -> dict:
    rng = np.random.default_rng([seed, step.generation])
    images = family.sample(step.model, n_samples, rng)
    hist = class_histogram(classify(classifier, images, threshold))
    return {
        "latent_std": latent_spread(step.reference, images),
        "histogram": hist,
        "entropy": histogram_entropy(hist),
        "unsure": float(hist[-1] / hist.sum()),
        "grid": (images[:grid, 0] * 255).round().to(torch.uint8).numpy(),
    }


def vae_metrics(family: VAEFamily, classifier: nn.Module, *, n_samples: int = 2000, grid: int = 64,
                threshold: float = 0.9, seed: int = 0) -> dict:
    """The measurements of chapter 05 as ``metrics`` of :func:`collapse_utils.loop.run`.

    At generation t, ``n_samples`` images are drawn once from the generation's VAE
    (the stream ``[seed, t]``, independent of training) and give five columns:
    ``latent_std`` (:func:`latent_spread` under ``step.reference``, generation 0's
    encoder), ``entropy`` (:func:`histogram_entropy`), ``unsure`` (share of
    :data:`UNSURE` digits), ``histogram`` (:func:`class_histogram` of
    ``classifier``'s predictions at ``threshold``) and ``grid`` (the first
    ``grid`` samples, as uint8 pixels).

    Book: {ref}`sec-05-generations`
    """
    n_samples = check_int("n_samples", n_samples, 2)
    grid = check_int("grid", grid, 0)
    seed = check_int("seed", seed, 0)
    threshold = _check_threshold(threshold)
    last: list = [None, None]  # the step measured last and its measurements

    def measure(step, name):
        if last[0] is not step:
            last[:] = [step, _sample_measures(family, classifier, step, n_samples=n_samples, grid=grid,
                                              threshold=threshold, seed=seed)]
        return last[1][name]

    names = ("latent_std", "entropy", "unsure", "histogram", "grid")
    return {name: (lambda step, name=name: measure(step, name)) for name in names}
