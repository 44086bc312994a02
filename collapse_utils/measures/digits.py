"""Measurements of generated images: the latent spread under a reference encoder, and a digit classifier.

:func:`paper_latent_std` is Shumailov et al.'s metric exactly as their code computes it
(``np.std`` of generation 0's encoder means on 100 decoded samples, all latent coordinates
pooled), :func:`paper_metrics` gives it to the loop, and :data:`PAPER_RUNS` holds the five
runs their notebook lists, in their generation numbering (:func:`paper_index`).
:func:`latent_spread` encodes images with a reference VAE (generation 0's) and measures the
spread of the latent means per coordinate; :func:`train_classifier`, :func:`classify`, :func:`class_histogram`
and :func:`histogram_entropy` measure which digits a generation still draws;
:func:`vae_metrics` gives all of them as ``metrics`` of :func:`collapse_utils.loop.run`, the
reference encoder being the loop's ``step.reference``. No VAE is trained here.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_array, check_int
from collapse_utils.families.vae import ConvVAE, VAEFamily, check_images, decode, encode
from collapse_utils.loop import seed_torch

__all__ = [
    "PAPER_RUNS",
    "PAPER_METRIC_SAMPLES",
    "PAPER_FIRST_GENERATION",
    "paper_index",
    "paper_runs",
    "prior_means",
    "pooled_latent_std",
    "paper_latent_std",
    "paper_metrics",
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


#: Shumailov et al. (2024), ``VAE_experiments.ipynb`` (github.com/iliaishacked/curse_recurse),
#: cell 14: the commented list ``mu_sig`` of five runs, each five ``(np.mean, np.std)`` of
#: generation 0's encoder means over 100 decoded samples x 20 latent coordinates, at their
#: generations 0-4 (their generation 0 is the first VAE trained on generated digits, our
#: generation 1). Run 5 is also the output printed by cell 13 ("Gen 0 0.0037199787
#: 0.67357385" ... "Gen 4 0.055885438 0.43289876").
PAPER_RUNS = (
    ((0.014538932, 0.6995303), (0.032151498, 0.60134965), (-0.012714024, 0.5541111),
     (0.0055421903, 0.48931533), (0.013153562, 0.46653777)),
    ((-0.012844566, 0.69527394), (0.018827086, 0.59368867), (-0.015168274, 0.5296458),
     (-0.019374713, 0.48430806), (-0.014797333, 0.4310458)),
    ((-0.012720791, 0.6922824), (-0.029163573, 0.60909194), (-0.009332741, 0.53359216),
     (-0.012893185, 0.4891546), (-0.031725854, 0.45829764)),
    ((0.022953195, 0.67841727), (0.045430116, 0.605033), (0.05141772, 0.52345085),
     (0.047837593, 0.48296788), (0.07407785, 0.42802373)),
    ((0.0037199787, 0.67357385), (0.037649374, 0.60761327), (0.028401546, 0.5273319),
     (0.051906876, 0.46807787), (0.055885438, 0.43289876)),
)

#: the decoded samples of their metric: ``latent = torch.randn(100, latent_dims)`` (cell 9)
PAPER_METRIC_SAMPLES = 100

#: our generation of their generation (index) 0: the first VAE trained on generated digits
PAPER_FIRST_GENERATION = 1


def paper_index(generation: int) -> int:
    """The paper's generation index of our ``generation`` (>= 1): theirs counts
    the VAEs trained on generated digits from 0, ours counts the VAE trained on
    real digits as generation 0, so their index is ours minus
    :data:`PAPER_FIRST_GENERATION`.

    Book: {ref}`sec-05-replication`
    """
    generation = check_int("generation", generation, PAPER_FIRST_GENERATION)
    return generation - PAPER_FIRST_GENERATION


def paper_runs(quantity: str = "std") -> np.ndarray:
    """:data:`PAPER_RUNS` as an array (runs x their generations 0-4) of the
    ``"std"`` (the metric) or the ``"mean"``.

    Book: {ref}`sec-05-replication`
    """
    if quantity not in ("mean", "std"):
        raise ValueError(f"quantity must be 'mean' or 'std'; got {quantity!r}")
    return np.array(PAPER_RUNS)[:, :, 0 if quantity == "mean" else 1]


def prior_means(model: nn.Module, n: int, rng: np.random.Generator) -> torch.Tensor:
    """``n`` images of ``model``: the decoder's pixel means at ``n`` latent draws
    from the prior (torch seeded from ``rng``), as the paper's metric decodes them.

    Book: {ref}`sec-05-replication`
    """
    n = check_int("n", n, 1)
    seed_torch(rng)
    with torch.no_grad():
        return decode(model, torch.randn(n, model.latent), "mean")


def pooled_latent_std(reference: nn.Module, images) -> tuple[float, float]:
    """``(np.mean, np.std)`` of ``reference``'s encoder means on ``images``, all
    images and latent coordinates pooled (``mus.flatten()``), as the paper's
    cell 13 computes them (``np.std``: divisor N).

    Book: {ref}`sec-05-replication`
    """
    mus = encode(reference, images).numpy()
    if mus.size < 2:
        raise ValueError(f"images must hold at least 1 image with 2 latent coordinates; got {mus.shape}")
    values = mus.flatten()
    return float(np.mean(values)), float(np.std(values))


def paper_latent_std(reference: nn.Module, model: nn.Module, rng: np.random.Generator,
                     n: int = PAPER_METRIC_SAMPLES) -> tuple[float, float]:
    """The paper's metric of ``model``: :func:`pooled_latent_std` under
    ``reference`` (generation 0's VAE, trained on real digits) of
    :func:`prior_means` of ``model`` (``n`` = 100 in the paper).

    Book: {ref}`sec-05-replication`
    """
    return pooled_latent_std(reference, prior_means(model, n, rng))


def paper_metrics(*, n: int = PAPER_METRIC_SAMPLES, seed: int = 0, repetition: int = 0) -> dict:
    """The paper's metric as ``metrics`` of :func:`collapse_utils.loop.run`:
    ``paper_std`` and ``paper_mean`` of :func:`paper_latent_std` at every
    generation, under ``step.reference``, from the stream
    ``[seed, repetition, generation]`` (independent of training; the same
    latent draws for every arm of a repetition).

    Book: {ref}`sec-05-replication`
    """
    n = check_int("n", n, 1)
    seed, repetition = check_int("seed", seed, 0), check_int("repetition", repetition, 0)
    last: list = [None, None]

    def measure(step, which):
        if last[0] is not step:
            rng = np.random.default_rng([seed, repetition, step.generation])
            last[:] = [step, paper_latent_std(step.reference, step.model, rng, n)]
        return last[1][which]

    return {"paper_mean": lambda step: measure(step, 0), "paper_std": lambda step: measure(step, 1)}


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

    allowed = "a 1-D array of at least 2 finite, non-negative counts"
    counts = check_array("histogram", histogram, allowed)
    if counts.ndim != 1 or counts.size < 2 or np.any(counts < 0):
        raise ValueError(f"histogram must be {allowed}; got {histogram!r}")
    if not include_unsure:
        counts = counts[:-1]
    return float(entropy(counts, base=2)) if counts.sum() > 0 else 0.0


def _sample_measures(family: VAEFamily, classifier: nn.Module, step, *, n_samples: int, grid: int,
                     threshold: float, seed: int, repetition: int | None) -> dict:
    stream = [seed, step.generation] if repetition is None else [seed, repetition, step.generation]
    rng = np.random.default_rng(stream)
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
                threshold: float = 0.9, seed: int = 0, repetition: int | None = None) -> dict:
    """The measurements of chapter 05 as ``metrics`` of :func:`collapse_utils.loop.run`.

    At generation t, ``n_samples`` images are drawn once from the generation's VAE
    (the stream ``[seed, t]``, independent of training) and give five columns:
    ``latent_std`` (:func:`latent_spread` under ``step.reference``, generation 0's
    encoder), ``entropy`` (:func:`histogram_entropy`), ``unsure`` (share of
    :data:`UNSURE` digits), ``histogram`` (:func:`class_histogram` of
    ``classifier``'s predictions at ``threshold``) and ``grid`` (the first
    ``grid`` samples, as uint8 pixels). With ``repetition`` the stream is
    ``[seed, repetition, t]`` (one per repetition of :func:`run_arms`).

    Book: {ref}`sec-05-classes`
    """
    n_samples = check_int("n_samples", n_samples, 2)
    grid = check_int("grid", grid, 0)
    seed = check_int("seed", seed, 0)
    threshold = _check_threshold(threshold)
    if repetition is not None:
        repetition = check_int("repetition", repetition, 0)
    last: list = [None, None]  # the step measured last and its measurements

    def measure(step, name):
        if last[0] is not step:
            last[:] = [step, _sample_measures(family, classifier, step, n_samples=n_samples, grid=grid,
                                              threshold=threshold, seed=seed, repetition=repetition)]
        return last[1][name]

    names = ("latent_std", "entropy", "unsure", "histogram", "grid")
    return {name: (lambda step, name=name: measure(step, name)) for name in names}
