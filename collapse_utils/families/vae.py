"""A convolutional VAE on MNIST as a model family of the retraining loop (chapter 05).

Following Shumailov et al. (2024): latent dimension 20, loss = binary cross-entropy
summed over pixels + KL divergence to the N(0, I) prior, Adam with learning rate
1e-3 and weight decay 1e-5, batches of 256. Each generation trains a *fresh*
VAE (:class:`VAEFamily`); its samples are the decoder's Bernoulli means at latent
draws from the prior (``decoding="mean"``, the paper's) or Bernoulli pixels drawn
around them (``decoding="bernoulli"``). The width and the number of epochs are
parameters: small in the book, the paper's in the ``paper`` profile.

Two architectures: ``arch="book"`` (:class:`ConvVAE`, with a hidden layer) and
``arch="paper"`` (:class:`PaperVAE`, the released code's: two convolutions, then
a linear layer straight to the latent; 647,081 parameters at width 64).

Two ways to train generation t >= 1 on generation t - 1 (:func:`run_arms`): on a
*fixed* set of n generated digits (``loop.run``'s default), or, as the paper's
code does, on minibatches that are each decoded afresh from the previous VAE
(the :func:`fresh_batches` sampler hands ``fit`` a :class:`DecodedStream`), so
that no generated digit is seen twice.

This module is longer than 400 lines because the two architectures, the
trainer that decodes fresh minibatches and the arms that compare it with a
fixed training set are one experiment, whose pieces a reader should find next
to each other.

The chapter's measurements of generated digits (the latent spread under
generation 0's encoder, a digit classifier, the class histogram) are in
:mod:`collapse_utils.measures.digits`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils import loop
from collapse_utils.checks import check_choice, check_int, check_number, check_rng
from collapse_utils.loop import seed_torch

__all__ = ["ConvVAE", "PaperVAE", "make_vae", "ARCHITECTURES", "DECODINGS", "vae_loss", "VAEFamily",
           "encode", "check_images", "decode", "default_device", "DecodedStream", "fresh_batches",
           "epoch_batches", "Arm", "ARMS", "run_arms", "n_parameters"]

#: the two architectures: ``"book"`` (:class:`ConvVAE`) and ``"paper"`` (:class:`PaperVAE`)
ARCHITECTURES = ("book", "paper")
#: how a latent draw becomes an image: the decoder's pixel means, or Bernoulli pixels around them
DECODINGS = ("mean", "bernoulli")


def default_device() -> str:
    """``"cuda"`` when ``torch.cuda.is_available()``, else ``"cpu"``: where
    :class:`VAEFamily` trains with ``device="auto"`` (chapter 05).

    Book: {ref}`sec-05-model`
    """
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_images(images) -> torch.Tensor:
    """``images`` as a float tensor of shape ``(N, 1, 28, 28)`` with finite pixels; a
    ``ValueError`` naming the shape, or the number of images with NaN or inf, otherwise.

    Book: {ref}`sec-05-data`
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be a torch tensor of shape (N, 1, 28, 28); got {shape}")
    images = images.float()
    if not bool(torch.isfinite(images).all()):
        bad = int((~torch.isfinite(images)).flatten(1).any(dim=1).sum())
        raise ValueError(f"images must be finite (no NaN or inf pixels); got {bad} image(s) with NaN or inf")
    return images


class ConvVAE(nn.Module):
    """Convolutional VAE for 28x28 images (chapter 05).

    Encoder: two stride-2 convolutions (``width`` and ``2 * width`` channels,
    28 -> 14 -> 7), a hidden layer of ``8 * width`` units, then the mean and
    log-variance of a ``latent``-dimensional Gaussian. The decoder mirrors it
    with transposed convolutions and returns pixel logits.

    Book: {ref}`def-05-vae`
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


class PaperVAE(nn.Module):
    """The VAE of Shumailov et al.'s released code (``VAE_experiments.ipynb``,
    cell 3), at any width (their ``capacity``, 64).

    Encoder: two 4x4 stride-2 convolutions (``width`` and ``2 * width`` channels,
    ReLU, 28 -> 14 -> 7), then two linear layers straight to the mean and the
    log-variance of the ``latent``-dimensional Gaussian. Decoder: a linear layer
    (no activation) to ``2 * width`` maps of 7x7, two transposed convolutions
    (ReLU between). It returns pixel *logits*: their decoder ends with a sigmoid
    and their loss is ``F.binary_cross_entropy``, the same function of the
    logits (:func:`vae_loss` computes it stably). 647,081 parameters at width 64,
    as their notebook prints.

    Book: {ref}`sec-05-model`
    """

    def __init__(self, latent: int = 20, width: int = 64):
        super().__init__()
        self.latent = check_int("latent", latent, 1)
        self.width = check_int("width", width, 1)
        w = self.width
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 4, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(),
        )
        self.fc_mu = nn.Linear(2 * w * 49, latent)
        self.fc_logvar = nn.Linear(2 * w * 49, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 2 * w * 49), nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_logvar(h)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.decoder(z), mu, logvar


def make_vae(arch: str = "book", latent: int = 20, width: int = 32) -> nn.Module:
    """A fresh :class:`ConvVAE` (``arch="book"``) or :class:`PaperVAE` (``"paper"``).

    Book: {ref}`sec-05-model`
    """
    arch = check_choice("arch", arch, ARCHITECTURES)
    return (PaperVAE if arch == "paper" else ConvVAE)(latent, width)


def n_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of ``model`` (chapter 05).

    Book: {ref}`sec-05-model`
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def decode(model: nn.Module, z: torch.Tensor, decoding: str = "mean") -> torch.Tensor:
    """Images of the latent codes ``z`` under ``model``'s decoder: the pixel means
    (``decoding="mean"``, what the paper's code trains on) or one Bernoulli draw
    per pixel around them (``"bernoulli"``, a sample of the model's likelihood).
    Uses torch's random stream for the Bernoulli draws.

    Book: {ref}`sec-05-decoding`
    """
    decoding = check_choice("decoding", decoding, DECODINGS)
    means = torch.sigmoid(model.decoder(z))
    return torch.bernoulli(means) if decoding == "bernoulli" else means


@dataclass(frozen=True)
class DecodedStream:
    """A training "set" of ``n`` images per epoch that are never stored: every
    minibatch is decoded afresh from ``model`` (latent draws from the prior,
    ``decoding`` as in :func:`decode`), as in the paper's code. ``len`` is ``n``,
    so the loop records it as the generation's training size.

    Book: {ref}`sec-05-replication`
    """

    model: Any
    n: int
    decoding: str = "mean"

    def __post_init__(self):
        check_int("n", self.n, 1)
        check_choice("decoding", self.decoding, DECODINGS)

    def __len__(self) -> int:
        return self.n


def fresh_batches(family: VAEFamily, model, k: int, rng: np.random.Generator) -> DecodedStream:
    """The ``sampler=`` hook of :func:`collapse_utils.loop.run` for the paper's
    protocol: instead of ``k`` stored samples, a :class:`DecodedStream` of ``k``
    images per epoch decoded afresh at every minibatch, with ``family.decoding``.

    Book: {ref}`sec-05-replication`
    """
    return DecodedStream(model, check_int("k", k, 1), family.decoding)


def epoch_batches(n: int, batch_size: int) -> list[int]:
    """The minibatch sizes of one epoch over ``n`` images: full batches, then the
    remainder (their ``DataLoader`` over 60,000 digits in batches of 256: 234 of
    256 and one of 96).

    Book: {ref}`sec-05-replication`
    """
    n, batch_size = check_int("n", n, 1), check_int("batch_size", batch_size, 1)
    return [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])


def vae_loss(logits, x, mu, logvar) -> torch.Tensor:
    """Negative ELBO summed over the batch: BCE summed over pixels + KL(q(z|x) || N(0, I)).

    Book: {ref}`def-05-vae`
    """
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kl


@dataclass(frozen=True)
class VAEFamily:
    """The VAE as a model family of :func:`collapse_utils.loop.run` (chapter 05).

    ``fit(data, rng)`` trains a fresh VAE (``arch``: :class:`ConvVAE` or
    :class:`PaperVAE`) for ``epochs`` epochs, on a tensor of images or on a
    :class:`DecodedStream` (every minibatch decoded afresh from the previous
    VAE); ``sample(model, n, rng)`` decodes ``n`` latent draws from the prior,
    shape ``(n, 1, 28, 28)`` in [0, 1]: pixel means or Bernoulli pixels
    (``decoding``). Both seed torch from ``rng``, so a run is reproducible bit
    for bit on the CPU. ``device="auto"`` trains on CUDA when it is available
    (:func:`default_device`); the fitted model is returned on the CPU.

    Book: {ref}`sec-05-model`
    """

    latent: int = 20
    width: int = 32
    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-5
    arch: str = "book"
    decoding: str = "mean"
    device: str = "auto"

    def __post_init__(self):
        check_int("latent", self.latent, 1)
        check_int("width", self.width, 1)
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_number("lr", self.lr, low=0, strict=True)  # lr = 0 would train nothing
        check_number("weight_decay", self.weight_decay, low=0)
        check_choice("arch", self.arch, ARCHITECTURES)
        check_choice("decoding", self.decoding, DECODINGS)
        check_choice("device", self.device, ("auto", "cpu", "cuda"))

    def resolved_device(self) -> str:
        """The device ``fit`` trains on: ``device``, or :func:`default_device` for ``"auto"``."""
        return default_device() if self.device == "auto" else self.device

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> nn.Module:
        check_rng("rng", rng)
        stream = data if isinstance(data, DecodedStream) else None
        images = None if stream is not None else check_images(data)
        if images is not None and len(images) == 0:
            raise ValueError("images must hold at least one image to train on; got shape (0, 1, 28, 28)")
        device = torch.device(self.resolved_device())
        seed_torch(rng)
        model = make_vae(self.arch, self.latent, self.width).to(device)
        model.losses = []  # mean loss per image, one value per epoch
        model.steps = model.decoder_calls = model.latent_draws = 0
        teacher = None
        if stream is not None:  # a copy on the device, the cached original untouched
            teacher = copy.deepcopy(stream.model).to(device).eval()
        else:
            images = images.to(device)
        optimiser = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        model.train()
        n = len(data)
        for _ in range(self.epochs):
            total = 0.0
            if stream is None:
                batches = (images[b.to(device)] for b in torch.randperm(n).split(self.batch_size))
            else:
                batches = (self._decoded(teacher, model, size, stream.decoding, device)
                           for size in epoch_batches(n, self.batch_size))
            for x in batches:
                logits, mu, logvar = model(x)
                loss = vae_loss(logits, x, mu, logvar)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                model.steps += 1
                total += loss.item()
            model.losses.append(total / n)
        return model.cpu().eval()

    @staticmethod
    def _decoded(teacher, model, size, decoding, device) -> torch.Tensor:
        """One minibatch decoded afresh by ``teacher`` (counted on ``model``)."""
        with torch.no_grad():
            z = torch.randn(size, teacher.latent, device=device)
            x = decode(teacher, z, decoding)
        model.decoder_calls += 1
        model.latent_draws += size
        return x

    def sample(self, model: nn.Module, n: int, rng: np.random.Generator) -> torch.Tensor:
        n = check_int("n", n, 0)
        seed_torch(rng)
        if n == 0:
            return torch.empty(0, 1, 28, 28)
        with torch.no_grad():
            z = torch.randn(n, model.latent)
            return torch.cat([decode(model, chunk, self.decoding) for chunk in z.split(1024)])


def encode(model: nn.Module, images, batch: int = 2048) -> torch.Tensor:
    """Latent means of ``images`` under ``model``'s encoder, shape ``(N, latent)`` (chapter 05).

    Book: {ref}`def-05-latent-spread`
    """
    images = check_images(images)
    with torch.no_grad():
        return torch.cat([model.encode(x)[0] for x in images.split(batch)])


# --- the chapter's arms: how generation t >= 1 sees generation t - 1 --------------------


@dataclass(frozen=True)
class Arm:
    """One way to train generation t >= 1 on generation t - 1 (chapter 05).

    ``fresh=True``: every minibatch decoded afresh from the previous VAE (the
    paper's code; :func:`fresh_batches`); ``fresh=False``: a fixed set of ``n``
    generated digits, drawn once per generation and reused every epoch (the
    article's finite-sample mechanism). ``decoding`` is ``"mean"`` (the
    paper's) or ``"bernoulli"``.

    Book: {ref}`sec-05-replication`
    """

    name: str
    fresh: bool
    decoding: str = "mean"

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ValueError(f"Arm.name must use only letters, digits, '-' and '_'; got {self.name!r}")
        if not isinstance(self.fresh, bool):
            raise ValueError(f"Arm.fresh must be True or False; got {self.fresh!r}")
        check_choice("decoding", self.decoding, DECODINGS)


#: the chapter's arms: the paper's protocol first, then one change each
ARMS = (
    Arm("paper", fresh=True, decoding="mean"),
    Arm("bernoulli", fresh=True, decoding="bernoulli"),
    Arm("finite", fresh=False, decoding="mean"),
)


def _digest(images: torch.Tensor) -> str:
    import hashlib

    return hashlib.sha256(images.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def run_arms(family: VAEFamily, real, *, generations: int, seeds: int, seed: int,
             arms: Iterable[Arm] = ARMS, metrics: Callable[[int], dict] | None = None,
             cache: str | None = None, cache_params: dict | None = None, uses: Iterable[Any] = (),
             progress: bool | None = None) -> dict[str, list[loop.History]]:
    """Chapter 05's experiment: every arm, ``seeds`` times, through :func:`collapse_utils.loop.run`.

    family: the :class:`VAEFamily` of generation 0; an arm changes only its
        ``decoding`` (and, when ``fresh``, passes :func:`fresh_batches` as the
        loop's sampler). Every generation trains for ``family.epochs`` epochs
        of ``len(real)`` images, so all arms take the same optimiser steps.
    real: the real digits, shape ``(N, 1, 28, 28)``, generation 0's training set.
    generations: retraining rounds after generation 0 (>= 1).
    seeds: independent repetitions (>= 1): repetition i runs every arm from the
        i-th child of ``SeedSequence(seed)``, so all arms of a repetition share
        generation 0 (trained once: the later arms load it from the first
        arm's cache entry).
    metrics: ``metrics(i)`` gives repetition i's ``{name: f(step)}``.
    cache: a name to cache every generation (:class:`collapse_utils.cache.Cache`,
        keyed by ``cache_params``, the family, the arm, the digits and the code
        of the family, the loop and ``uses``); ``None``: no cache.

    Returns ``{arm.name: [History, ...]}``, one history per repetition; each
    history's ``reference`` is its generation-0 VAE (``None`` without metrics
    and cache).

    Book: {ref}`sec-05-replication`
    """
    from collapse_utils.cache import Cache

    if not isinstance(family, VAEFamily):
        raise ValueError(f"family must be a VAEFamily; got {family!r}")
    real = check_images(real)
    generations = check_int("generations", generations, 1)
    seeds = check_int("seeds", seeds, 1)
    seed = check_int("seed", seed, 0)
    arms = list(arms)
    if not arms or not all(isinstance(a, Arm) for a in arms) or len({a.name for a in arms}) != len(arms):
        raise ValueError(f"arms must be a non-empty sequence of Arm with distinct names; got {arms!r}")
    key = {**(cache_params or {}), "family": asdict(family), "real": _digest(real), "seed": seed}
    runs: dict[str, list[loop.History]] = {arm.name: [] for arm in arms}
    for i in range(seeds):
        first = None  # the cache holding this repetition's generation 0
        for arm in arms:
            arm_family = replace(family, decoding=arm.decoding)
            store = None
            if cache is not None:
                store = Cache(cache, {**key, "arm": asdict(arm), "repetition": i},
                              uses=[VAEFamily, loop.run, *uses])
                shared = first.load(0) if first is not None and store.load(0) is None else None
                if shared is not None:
                    store.save(0, shared)
                first = first or store
            seen: list = [None]  # generation 0's VAE, as the metrics see it

            def watched(f, seen=seen):
                return lambda step: (seen.__setitem__(0, step.reference), f(step))[1]

            history = loop.run(
                arm_family, real=real, generations=generations, policy=loop.Replace(),
                sampler=fresh_batches if arm.fresh else None,
                metrics={name: watched(f) for name, f in (metrics(i) if metrics is not None else {}).items()},
                seed=np.random.SeedSequence(seed, spawn_key=(i,)), cache=store,
                progress=progress, desc=f"{arm.name} {i + 1}/{seeds}")
            history.reference = seen[0] if seen[0] is not None or store is None else store.load(0)["model"]
            runs[arm.name].append(history)
    return runs
