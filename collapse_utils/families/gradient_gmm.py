"""A Gaussian mixture trained by gradient descent, which can be fine-tuned (chapter 14).

:class:`GradientGMMFamily` fits a one-dimensional mixture of ``n_components``
Gaussians by minibatch Adam on the negative log-likelihood, in torch. Its
parameters (component logits, means and log standard deviations) are shared by
every task it is trained on: ``fit(data, rng, start=model)`` does not refit
from scratch but *fine-tunes* ``model`` for ``tune_epochs`` epochs on ``data``,
so a model trained on task A and then fine-tuned on task B only moves its
parameters step by step towards B and forgets A gradually, the setting of
catastrophic forgetting. Without ``start`` it trains from a data-driven start
(means at the data's quantiles, every standard deviation the data's) for
``epochs`` epochs, and is then a model family of :func:`collapse_utils.loop.run`
like :class:`collapse_utils.families.gmm.GMMFamily` (which uses EM).

Fitted models are plain :class:`collapse_utils.families.gmm.GMMModel` records,
with the methods of every 1-D model of the book (``pdf``, ``logpdf``, ``cdf``,
``var``). ``fit`` seeds torch from the generation's numpy stream
(:func:`collapse_utils.loop.seed_torch`, i.e. ``torch.manual_seed``), which
shuffles the minibatches, so a run is reproducible bit for bit on the CPU.
torch is imported when a model is trained, not with this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from collapse_utils.checks import check_int, check_positive, check_sample_1d
from collapse_utils.families.gmm import GMMModel, check_model, sample_gmm
from collapse_utils.loop import seed_torch

__all__ = ["GradientGMMFamily", "check_data"]


def check_data(data, n_components: int) -> np.ndarray:
    """``data`` as a float vector of at least ``n_components`` finite numbers
    (shape ``(n,)`` or ``(n, 1)``); a ``ValueError`` naming the shape otherwise.

    Book: {ref}`def-14-arms`
    """
    return check_sample_1d("data", data, n_components, "n_components")


@dataclass(frozen=True)
class GradientGMMFamily:
    """1-D Gaussian mixture trained by minibatch Adam, from scratch or fine-tuned.

    ``fit(data, rng)`` trains ``n_components`` components for ``epochs``
    epochs from the data's quantiles; ``fit(data, rng, start=model)`` starts
    from ``model``'s weights, means and standard deviations and trains for
    ``tune_epochs`` epochs only, the same optimiser on the new data alone.
    Each epoch visits the data once in minibatches of ``batch_size`` points (a
    fresh torch shuffle), with Adam at learning rate ``lr`` (a fresh optimiser
    per fit). ``sample`` draws from the fitted mixture with the loop's
    generator, shape ``(n, 1)``.

    Book: {ref}`def-14-arms`
    """

    n_components: int = 2
    epochs: int = 100
    tune_epochs: int = 10
    batch_size: int = 50
    lr: float = 0.03

    def __post_init__(self):
        check_int("n_components", self.n_components, 1)
        check_int("epochs", self.epochs, 1)
        check_int("tune_epochs", self.tune_epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_positive("lr", self.lr)

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None,
            start: GMMModel | None = None) -> GMMModel:
        x = check_data(data, self.n_components)
        if start is None:
            quantiles = (np.arange(self.n_components) + 0.5) / self.n_components
            weights = np.full(self.n_components, 1 / self.n_components)
            means = np.quantile(x, quantiles)
            sds = np.full(self.n_components, max(float(x.std()), 1e-3))
            epochs = self.epochs
        else:
            check_model("start", start)
            if start.dim != 1 or start.n_components != self.n_components:
                raise ValueError(
                    f"start must be a 1-D GMMModel with n_components = {self.n_components}; "
                    f"got {start!r}"
                )
            weights, means = start.weights, start.means[:, 0]
            sds = np.sqrt(start.covariances[:, 0, 0])
            epochs = self.tune_epochs
        seed_torch(rng)
        return _adam(x, weights, means, sds, epochs, self.batch_size, self.lr)

    def sample(self, model: GMMModel, n: int, rng: np.random.Generator) -> np.ndarray:
        return sample_gmm(model, n, rng)


def _adam(x, weights, means, sds, epochs, batch_size, lr) -> GMMModel:
    # minibatch Adam on the mean negative log-likelihood, in float64. The update
    # is torch.optim.Adam's with its defaults (betas 0.9, 0.999, eps 1e-8), written
    # out because creating a torch optimiser imports torch._dynamo (seconds); the
    # tests check that both give the same parameters.
    import torch

    data = torch.tensor(x, dtype=torch.float64)
    params = [torch.tensor(np.asarray(v, dtype=float), dtype=torch.float64).requires_grad_()
              for v in (np.log(weights), means, np.log(sds))]
    first = [torch.zeros_like(p) for p in params]
    second = [torch.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    step = 0
    for _ in range(epochs):
        for batch in torch.randperm(len(data)).split(batch_size):
            logits, mu, log_sd = params
            z = (data[batch, None] - mu) / log_sd.exp()
            log_p = torch.log_softmax(logits, 0) - log_sd - half_log_2pi - 0.5 * z**2
            loss = -torch.logsumexp(log_p, dim=1).mean()
            grads = torch.autograd.grad(loss, params)
            step += 1
            with torch.no_grad():
                for p, g, m, v in zip(params, grads, first, second):
                    m.mul_(beta1).add_(g, alpha=1 - beta1)
                    v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                    denominator = (v / (1 - beta2**step)).sqrt().add_(eps)
                    p.addcdiv_(m, denominator, value=-lr / (1 - beta1**step))
    logits, mu, log_sd = (p.detach() for p in params)
    w = torch.softmax(logits, 0).numpy().astype(float)
    return GMMModel(w / w.sum(), mu.numpy()[:, None].copy(),
                    np.exp(2 * log_sd.numpy())[:, None, None].copy())
