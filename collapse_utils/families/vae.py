"""A convolutional VAE on MNIST as a model family of the retraining loop (chapter 05).

Following Shumailov et al. (2024): latent dimension 20, loss = binary cross-entropy
summed over pixels + KL divergence to the N(0, I) prior, Adam with learning rate
1e-3 and weight decay 1e-5, batches of 256. Each generation trains a *fresh*
VAE (:class:`VAEFamily`); its samples are the decoder's Bernoulli means at latent
draws from the prior. The width and the number of epochs are parameters: small in
the book, the paper's in the ``paper`` profile.

The chapter's measurements of generated digits (the latent spread under
generation 0's encoder, a digit classifier, the class histogram) are in
:mod:`collapse_utils.measures.digits`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_int, check_number
from collapse_utils.loop import seed_torch

__all__ = ["ConvVAE", "vae_loss", "VAEFamily", "encode", "check_images"]


def check_images(images) -> torch.Tensor:
    """``images`` as a float tensor of shape ``(N, 1, 28, 28)``; a ``ValueError``
    naming the shape otherwise.

    Book: {ref}`sec-05-data`
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or tuple(images.shape[1:]) != (1, 28, 28):
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise ValueError(f"images must be a torch tensor of shape (N, 1, 28, 28); got {shape}")
    return images.float()


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

    ``fit(images, rng)`` trains a fresh :class:`ConvVAE` for ``epochs`` epochs;
    ``sample(model, n, rng)`` decodes ``n`` latent draws from the prior and
    returns the pixel means, shape ``(n, 1, 28, 28)`` in [0, 1]. Both seed
    torch from ``rng``, so a run is reproducible bit for bit on the CPU.

    Book: {ref}`sec-05-model`
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

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> ConvVAE:
        images = check_images(data)
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
    """Latent means of ``images`` under ``model``'s encoder, shape ``(N, latent)`` (chapter 05).

    Book: {ref}`def-05-latent-spread`
    """
    images = check_images(images)
    with torch.no_grad():
        return torch.cat([model.encode(x)[0] for x in images.split(batch)])
