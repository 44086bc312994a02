"""A small denoising diffusion model (DDPM) on low-dimensional data, as a model family of the loop.

The diffusion chapter's family, written to be read. Ho et al. (2020,
arXiv:2006.11239) add Gaussian noise in ``T`` steps with variances ``beta_t``,
``x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`` with ``abar_t = prod_{s <= t}
(1 - beta_s)``, and train a network ``eps_theta(x_t, t)`` to predict the noise
``eps`` (mean squared error, ``t`` uniform). Sampling runs the chain backwards
from ``x_T ~ N(0, I)``:

    x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) * eps_theta(x_t, t)) / sqrt(1 - beta_t) + sigma_t z,

with ``sigma_t^2 = beta_t`` or the posterior variance ``beta_t (1 - abar_{t-1}) /
(1 - abar_t)`` (the two choices of their section 3.2) and no noise at the last step.
With T = 100 steps the sampler itself changes the width of narrow modes even
with the exact noise prediction: on the book's 8-mode ring (mode std 0.1 at
radius 2) the cosine schedule with ``beta_t`` widens them by about 4 %, the
posterior variance narrows them by about 16 %, DDIM by about 8 % (the linear
schedule: +11 %, -23 %, -10 %); all shrink as T grows (T = 1000: within 6 %).
The defaults are the cosine schedule and ``beta_t``.

- :class:`Denoiser`: an MLP that sees ``x_t`` (and random Fourier features of
  it), a sinusoidal embedding of ``t`` and, for a class-conditional model, an
  embedding of the label (index ``n_classes`` is the *null* label of
  classifier-free guidance).
- :func:`beta_schedule`: ``"linear"`` (Ho et al.'s 1e-4 ... 0.02 at T = 1000,
  stretched to ``T`` steps) or ``"cosine"`` (Nichol & Dhariwal 2021), every
  ``beta`` capped at 0.5.
- :class:`DiffusionModel`: a fitted model (network, schedule, data scaling).
- :class:`DiffusionFamily`: ``fit(data, rng, *, generation=None)`` trains a
  fresh network on standardised data; ``sample(model, n, rng)`` draws with the
  family's sampler (``"ddpm"`` ancestral, ``"ddim"`` deterministic), on all
  ``T`` steps or a strided subset (``steps``), with classifier-free guidance
  ``guidance`` (Ho & Salimans 2021: ``eps = (1 + w) eps_cond - w eps_uncond``)
  and the sampling bias ``lam`` of Alemohammad et al. (2024, "Self-consuming
  generative models go MAD", arXiv:2307.01850). ``fine_tune`` continues the
  training of a fitted model on new data (same scaling and schedule);
  ``sample_guided`` is the negative guidance of SIMS (Alemohammad et al. 2024,
  arXiv:2408.16333): ``eps = (1 + omega) eps_base - omega eps_self``, with
  ``eps_self`` a model fine-tuned on the base model's own samples.
- :class:`SIMSFamily`: that recipe as a family of the loop.

Data: unconditional, a float array ``(n, d)``; class-conditional
(``n_classes >= 1``), ``(n, d + 1)`` with the integer label in the last column
(samples come back the same way). MAD's sampling bias ``lam`` in (0, 1]: for
DDPM they define it through guidance, ``lam = 1 / (1 + w)`` (their section 2.3),
which is ``bias="guidance"`` here and needs a conditional model;
``bias="noise"`` instead draws ``x_T`` with variance ``lam`` and scales every
step's noise by ``sqrt(lam)``, the diffusion analogue of their Gaussian
``N(mu, lam Sigma)`` and of their normalizing flow's latent ``N(0, lam I)``
(appendix B.4), and works for unconditional models too.

``fit`` and ``sample`` seed torch from the loop's numpy stream
(:func:`collapse_utils.loop.seed_torch`), so a run is reproducible bit for bit
on the CPU with a fixed number of threads.

This module is longer than 400 lines because the network, its training, the
sampler and the three ways of biasing it (classifier-free guidance, MAD's
``lam``, SIMS's negative guidance) are one lesson: every bias is a change of
the same few lines of the sampler, which a reader should see side by side.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from collapse_utils.checks import check_choice, check_int, check_memory, check_number
from collapse_utils.loop import seed_torch

__all__ = [
    "SCHEDULES",
    "SAMPLERS",
    "VARIANCES",
    "BIASES",
    "LABEL_DRAWS",
    "beta_schedule",
    "timestep_embedding",
    "Denoiser",
    "DiffusionModel",
    "DiffusionFamily",
    "GuidedModel",
    "SIMSFamily",
    "guidance_for_lam",
    "lam_for_guidance",
]

#: noise schedules: Ho et al.'s linear one (stretched to T steps) and Nichol & Dhariwal's cosine one
SCHEDULES = ("linear", "cosine")
#: samplers: DDPM's ancestral sampler, DDIM's deterministic one (eta = 0)
SAMPLERS = ("ddpm", "ddim")
#: the reverse-step variance of the DDPM sampler: ``beta_t`` or the posterior variance (Ho et al., section 3.2)
VARIANCES = ("beta", "posterior")
#: how ``lam`` biases sampling: MAD's guidance definition, or reduced noise
BIASES = ("guidance", "noise")
#: which labels a conditional model is asked for: uniform over the classes, or the training frequencies
LABEL_DRAWS = ("uniform", "fitted")


def guidance_for_lam(lam: float) -> float:
    """The classifier-free guidance weight ``w = 1 / lam - 1`` of MAD's sampling
    bias ``lam`` in (0, 1] (they define ``lam = 1 / (1 + w)`` for DDPM,
    arXiv:2307.01850, section 2.3); ``lam = 1`` is unguided.

    Book: {ref}`def-07-lambda`
    """
    lam = check_number("lam", lam, 0.0, 1.0, strict=True)
    return 1.0 / lam - 1.0


def lam_for_guidance(guidance: float) -> float:
    """MAD's sampling bias ``lam = 1 / (1 + w)`` of a guidance weight ``w >= 0``.

    Book: {ref}`def-07-lambda`
    """
    guidance = check_number("guidance", guidance, low=0.0)
    return 1.0 / (1.0 + guidance)


def beta_schedule(kind: str = "cosine", T: int = 100, max_beta: float = 0.5) -> np.ndarray:
    """The ``T`` noise variances ``beta_1 ... beta_T`` (float64), each capped at ``max_beta``.

    ``"linear"``: Ho et al. (2020) use ``beta`` from 1e-4 to 0.02 with
    T = 1000 (their section 4); for other ``T`` both ends are multiplied by
    ``1000 / T``, so that the total noise ``sum beta`` is the same and ``x_T``
    is again nearly pure noise. ``"cosine"``: ``abar(t) = cos^2(pi/2 (t/T + s)
    / (1 + s))`` with ``s = 0.008`` (Nichol & Dhariwal 2021, who cap ``beta``
    at 0.999). The cap here is 0.5: a sampler step divides by ``sqrt(1 -
    beta_t)``, so with 0.999 the last cosine step multiplies the network's
    error at pure noise by 30 and a few samples land tens of standard
    deviations away; with 0.5 (the last three cosine steps at T = 100) the
    signal left at ``T`` is still small (``sqrt(abar_T) = 0.017``).

    Book: {ref}`sec-07-ddpm`
    """
    kind = check_choice("schedule", kind, SCHEDULES)
    T = check_int("T", T, 2)
    max_beta = check_number("max_beta", max_beta, 0.0, 1.0, strict=True)
    if max_beta == 1.0:
        raise ValueError(f"max_beta must be a number in (0, 1); got {max_beta!r}")
    if kind == "linear":
        scale = 1000 / T
        betas = np.linspace(1e-4 * scale, 0.02 * scale, T)
    else:
        s = 0.008
        steps = np.arange(T + 1) / T
        abar = np.cos((steps + s) / (1 + s) * np.pi / 2) ** 2
        betas = 1 - abar[1:] / abar[:-1]
    return np.minimum(betas, max_beta)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """The sinusoidal embedding of the integer steps ``t`` (shape ``(n,)``) in
    ``dim`` (even) dimensions: ``sin`` and ``cos`` of ``t`` times frequencies
    from 1 down to 1/1000, geometrically spaced (the Transformer's position
    embedding, which Ho et al. use for the step).

    Book: {ref}`sec-07-ddpm`
    """
    half = dim // 2
    frequencies = torch.exp(-math.log(1000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.to(torch.float32)[:, None] * frequencies[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class Denoiser(nn.Module):
    """The noise predictor ``eps_theta(x_t, t[, y])``: an MLP (``layers`` hidden
    layers of ``width`` units, SiLU) on the concatenation of ``x_t`` (``dim``
    numbers), its random Fourier features ``sin(x_t B), cos(x_t B)`` (``B``:
    ``dim x fourier`` fixed frequencies drawn from ``N(0, fourier_scale^2)``,
    Tancik et al. 2020, arXiv:2006.10739; ``fourier=0``: none), the sinusoidal
    embedding of ``t`` (``time_dim`` numbers) and, when ``n_classes >= 1``, a
    learned embedding of the label (``label_dim`` numbers; label ``n_classes``
    is the null label, "no condition"). The Fourier features let a small MLP
    draw modes much narrower than the data's spread within a short training;
    without them the modes come out too wide.

    Book: {ref}`sec-07-ddpm`
    """

    def __init__(
        self,
        dim: int = 2,
        width: int = 64,
        layers: int = 3,
        n_classes: int = 0,
        fourier: int = 16,
        fourier_scale: float = 4.0,
        time_dim: int = 32,
        label_dim: int = 16,
    ):
        super().__init__()
        self.dim = check_int("dim", dim, 1)
        self.n_classes = check_int("n_classes", n_classes, 0)
        self.time_dim = 2 * (check_int("time_dim", time_dim, 2) // 2)
        width, layers = check_int("width", width, 1), check_int("layers", layers, 1)
        fourier = check_int("fourier", fourier, 0)
        fourier_scale = check_number("fourier_scale", fourier_scale, low=0.0, strict=True)
        self.register_buffer("frequencies", fourier_scale * torch.randn(dim, fourier))
        self.label = nn.Embedding(n_classes + 1, label_dim) if n_classes else None
        size = dim + 2 * fourier + self.time_dim + (label_dim if n_classes else 0)
        hidden: list[nn.Module] = []
        for _ in range(layers):
            hidden += [nn.Linear(size, width), nn.SiLU()]
            size = width
        self.net = nn.Sequential(*hidden, nn.Linear(size, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        z = x @ self.frequencies
        parts = [x, torch.sin(z), torch.cos(z), timestep_embedding(t, self.time_dim)]
        if self.label is not None:
            if y is None:  # no label given: the null label
                y = torch.full((len(x),), self.n_classes, dtype=torch.long)
            parts.append(self.label(y))
        return self.net(torch.cat(parts, dim=1))


@dataclass(frozen=True, eq=False)
class DiffusionModel:
    """A fitted diffusion model: the trained :class:`Denoiser` (``network``, in
    eval mode on the CPU), its noise variances ``betas`` (``T``,), the data
    scaling (the network works on ``(x - shift) / scale``), the number of
    classes (0: unconditional), the share of each class in the training data
    (``class_weights``; empty when unconditional) and the training loss per
    step (``losses``, for a look at convergence).

    Book: {ref}`sec-07-ddpm`
    """

    network: Denoiser
    betas: np.ndarray
    shift: np.ndarray
    scale: np.ndarray
    n_classes: int = 0
    class_weights: np.ndarray = field(default_factory=lambda: np.zeros(0))
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def T(self) -> int:
        return len(self.betas)

    @property
    def dim(self) -> int:
        return len(self.shift)

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.n_classes else "unconditional"
        return f"DiffusionModel(d={self.dim}, T={self.T}, {kind})"


@dataclass(frozen=True, eq=False)
class GuidedModel:
    """A base model and an auxiliary model fine-tuned on the base model's own
    samples, sampled with SIMS's negative guidance of weight ``omega``
    (:meth:`DiffusionFamily.sample_guided`); what :class:`SIMSFamily` fits.

    Book: {ref}`sec-07-sims`
    """

    base: DiffusionModel
    auxiliary: DiffusionModel
    omega: float


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator (np.random.default_rng(seed)); got {rng!r}")
    return rng


def _check_model(name: str, model) -> DiffusionModel:
    if not isinstance(model, DiffusionModel):
        raise ValueError(
            f"{name} must be a DiffusionModel (from DiffusionFamily.fit); got {type(model).__name__}"
        )
    return model


@dataclass(frozen=True)
class DiffusionFamily:
    """A DDPM on low-dimensional data as a model family of :func:`collapse_utils.loop.run`.

    Network: :class:`Denoiser` with ``layers`` hidden layers of ``width``
    units and ``fourier`` random Fourier features of scale ``fourier_scale``
    (in units of the standardised data). Training (``fit``): a fresh network,
    ``train_steps`` Adam steps at learning rate ``lr`` (cosine-decayed to 0)
    on minibatches of ``batch_size`` points drawn with replacement, the data
    standardised per coordinate; a conditional model (``n_classes >= 1``) sees
    the null label with probability ``p_uncond`` (Ho & Salimans's label
    dropout). Schedule: ``T`` steps of :func:`beta_schedule` ``(schedule, T)``.

    Sampling (``sample``): ``sampler="ddpm"`` (ancestral, with the reverse
    variance ``variance``: ``"beta"`` or ``"posterior"``) or ``"ddim"``
    (deterministic given ``x_T``), on all ``T`` steps (``steps=None``) or on
    ``steps`` of them evenly spaced (the chain respaced: ``beta'_i = 1 -
    abar_{tau_i} / abar_{tau_{i-1}}``, the same marginals). ``guidance`` is the
    classifier-free guidance weight ``w >= 0`` of a conditional model (0:
    plain conditional); ``lam`` in (0, 1] is MAD's sampling bias: with
    ``bias="guidance"`` (their definition for DDPM) the weight ``w = 1/lam -
    1`` (give either ``lam`` or ``guidance``, not both); with ``bias="noise"``
    ``x_T ~ N(0, lam I)`` and every ancestral step's noise is scaled by
    ``sqrt(lam)``. A conditional model is asked for labels drawn uniformly
    (``label_draw="uniform"``) or with the training frequencies
    (``"fitted"``); its samples are ``(n, d + 1)`` with the label last.

    The first fit in a process also pays about 2 s for torch's optimiser
    import; after that a default fit takes about 1 s on one CPU thread.

    Book: {ref}`sec-07-ddpm`
    """

    width: int = 64
    layers: int = 3
    fourier: int = 16
    fourier_scale: float = 4.0
    T: int = 100
    schedule: str = "cosine"
    train_steps: int = 1000
    batch_size: int = 256
    lr: float = 1e-2
    n_classes: int = 0
    p_uncond: float = 0.1
    sampler: str = "ddpm"
    variance: str = "beta"
    steps: int | None = None
    guidance: float = 0.0
    lam: float = 1.0
    bias: str = "guidance"
    label_draw: str = "uniform"

    def __post_init__(self):
        check_int("width", self.width, 1)
        check_int("layers", self.layers, 1)
        check_int("fourier", self.fourier, 0)
        check_number("fourier_scale", self.fourier_scale, low=0.0, strict=True)
        check_choice("schedule", self.schedule, SCHEDULES)
        beta_schedule(self.schedule, self.T)  # checks T
        check_int("train_steps", self.train_steps, 1)
        check_int("batch_size", self.batch_size, 1)
        check_number("lr", self.lr, low=0.0, strict=True)
        check_int("n_classes", self.n_classes, 0)
        check_number("p_uncond", self.p_uncond, 0.0, 1.0)
        check_choice("sampler", self.sampler, SAMPLERS)
        check_choice("variance", self.variance, VARIANCES)
        if self.steps is not None:
            check_int("steps", self.steps, 1, self.T)
        check_number("guidance", self.guidance, low=0.0)
        check_number("lam", self.lam, 0.0, 1.0, strict=True)
        check_choice("bias", self.bias, BIASES)
        check_choice("label_draw", self.label_draw, LABEL_DRAWS)
        if self.n_classes == 0 and self.guidance > 0:
            raise ValueError(
                f"guidance > 0 needs a conditional model (n_classes >= 1); got guidance="
                f"{self.guidance!r} with n_classes=0"
            )
        if self.bias == "guidance" and self.lam < 1:
            if self.n_classes == 0:
                raise ValueError(
                    f"lam < 1 with bias='guidance' (MAD's definition lam = 1/(1 + w)) needs a "
                    f"conditional model (n_classes >= 1); got lam={self.lam!r} with n_classes=0 "
                    f"(use bias='noise' for an unconditional model)"
                )
            if self.guidance > 0:
                raise ValueError(
                    f"give the sampling bias either as lam or as guidance, not both (with "
                    f"bias='guidance', lam = 1/(1 + guidance)); got lam={self.lam!r}, "
                    f"guidance={self.guidance!r}"
                )

    # --- the pieces ---------------------------------------------------------------

    def guidance_weight(self) -> float:
        """The classifier-free guidance weight ``sample`` uses: ``guidance``, or
        ``1/lam - 1`` when ``lam < 1`` with ``bias="guidance"``."""
        if self.bias == "guidance" and self.lam < 1:
            return guidance_for_lam(self.lam)
        return float(self.guidance)

    def _split(self, data) -> tuple[np.ndarray, np.ndarray | None]:
        """Points (n, d) and labels (n,) or None; a ValueError naming the shape otherwise."""
        x = np.asarray(data, dtype=float)
        extra = 1 if self.n_classes else 0
        wanted = "(n, d + 1) with the label last" if extra else "(n, d)"
        if x.ndim != 2 or x.shape[1] < 1 + extra or len(x) < 2 or not np.all(np.isfinite(x)):
            raise ValueError(
                f"data must be finite numbers of shape {wanted} with n >= 2 and d >= 1; "
                f"got shape {np.shape(data)}"
            )
        if not extra:
            return x, None
        labels = x[:, -1]
        if np.any(labels != np.round(labels)) or np.any(labels < 0) or np.any(labels >= self.n_classes):
            raise ValueError(
                f"labels (the last column of data) must be integers in [0, {self.n_classes - 1}]; "
                f"got values in [{labels.min()}, {labels.max()}]"
            )
        return x[:, :-1], labels.astype(np.int64)

    def _train(
        self,
        network: Denoiser,
        x: np.ndarray,
        labels: np.ndarray | None,
        betas: np.ndarray,
        steps: int,
        lr: float,
    ) -> np.ndarray:
        """``steps`` Adam steps of the noise-prediction loss on the (scaled) points ``x``;
        returns the loss of every step."""
        abar = torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)
        data = torch.tensor(x, dtype=torch.float32)
        y_all = torch.tensor(labels) if labels is not None else None
        optimiser = torch.optim.Adam(network.parameters(), lr=lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=steps)
        losses = np.empty(steps)
        network.train()
        for step in range(steps):
            idx = torch.randint(len(data), (self.batch_size,))
            t = torch.randint(len(betas), (self.batch_size,))
            eps = torch.randn(self.batch_size, data.shape[1])
            a = abar[t][:, None]
            x_t = a.sqrt() * data[idx] + (1 - a).sqrt() * eps
            y = None
            if y_all is not None:
                drop = torch.rand(self.batch_size) < self.p_uncond
                y = torch.where(drop, torch.full_like(y_all[idx], self.n_classes), y_all[idx])
            loss = ((network(x_t, t, y) - eps) ** 2).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            schedule.step()
            losses[step] = loss.item()
        network.eval()
        return losses

    # --- the family ---------------------------------------------------------------

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> DiffusionModel:
        x, labels = self._split(data)
        seed_torch(_check_rng(rng))
        shift = x.mean(axis=0)
        std = x.std(axis=0)
        scale = np.where(std > 0, std, 1.0)
        betas = beta_schedule(self.schedule, self.T)
        network = Denoiser(
            x.shape[1], self.width, self.layers, self.n_classes, self.fourier, self.fourier_scale
        )
        losses = self._train(network, (x - shift) / scale, labels, betas, self.train_steps, self.lr)
        weights = (
            np.bincount(labels, minlength=self.n_classes) / len(labels) if labels is not None else np.zeros(0)
        )
        return DiffusionModel(network, betas, shift, scale, self.n_classes, weights, losses)

    def fine_tune(
        self,
        model: DiffusionModel,
        data,
        rng: np.random.Generator,
        *,
        steps: int | None = None,
        lr: float | None = None,
    ) -> DiffusionModel:
        """A copy of ``model`` trained further on ``data`` (``steps`` Adam steps,
        default ``train_steps // 4``, at ``lr``, default the family's; a fresh
        optimiser), keeping its schedule, data scaling and class weights, so
        that the two models' noise predictions can be combined
        (:meth:`sample_guided`). ``model`` is not changed.

        Book: {ref}`sec-07-sims`
        """
        model = _check_model("model", model)
        steps = max(1, self.train_steps // 4) if steps is None else check_int("steps", steps, 1)
        lr = self.lr if lr is None else check_number("lr", lr, low=0.0, strict=True)
        x, labels = self._split(data)
        if x.shape[1] != model.dim or self.n_classes != model.n_classes:
            raise ValueError(
                f"data must have d = {model.dim} coordinates and the family n_classes = "
                f"{model.n_classes}, as the model; got d = {x.shape[1]}, n_classes = {self.n_classes}"
            )
        seed_torch(_check_rng(rng))
        network = copy.deepcopy(model.network)
        losses = self._train(network, (x - model.shift) / model.scale, labels, model.betas, steps, lr)
        return DiffusionModel(
            network, model.betas, model.shift, model.scale, model.n_classes, model.class_weights, losses
        )

    def sample(self, model: DiffusionModel | GuidedModel, n: int, rng: np.random.Generator) -> np.ndarray:
        if isinstance(model, GuidedModel):
            return self.sample_guided(model.base, model.auxiliary, n, rng, model.omega)
        model = _check_model("model", model)
        return self._sample([(1.0, model)], n, rng)

    def sample_guided(
        self, base: DiffusionModel, self_model: DiffusionModel, n: int, rng: np.random.Generator, omega: float
    ) -> np.ndarray:
        """``n`` samples with SIMS's negative guidance (Alemohammad et al. 2024,
        arXiv:2408.16333): the sampler of this family run on the extrapolated
        noise prediction ``(1 + omega) eps_base - omega eps_self`` (their score
        ``(1 + omega) s_base - omega s_self``; a score is ``-eps / sqrt(1 -
        abar_t)``, so the same weights), ``omega >= 0`` (0: the base model
        alone). ``self_model`` is ``base`` fine-tuned on its own samples
        (:meth:`fine_tune`): both must share the schedule and data scaling.

        Book: {ref}`sec-07-sims`
        """
        base, self_model = _check_model("base", base), _check_model("self_model", self_model)
        omega = check_number("omega", omega, low=0.0)
        same = (
            np.array_equal(base.betas, self_model.betas)
            and np.array_equal(base.shift, self_model.shift)
            and np.array_equal(base.scale, self_model.scale)
            and base.n_classes == self_model.n_classes
        )
        if not same:
            raise ValueError(
                "base and self_model must share the schedule, the data scaling and n_classes "
                "(make self_model with DiffusionFamily.fine_tune(base, ...))"
            )
        return self._sample([(1.0 + omega, base), (-omega, self_model)], n, rng)

    # --- sampling -----------------------------------------------------------------

    def _timesteps(self, T: int) -> np.ndarray:
        """The steps the sampler visits, increasing: all ``T``, or ``steps`` evenly spaced from 0 to T - 1."""
        if self.steps is None or self.steps >= T:
            return np.arange(T)
        return np.unique(np.round(np.linspace(0, T - 1, self.steps)).astype(int))

    def _eps(self, terms, x: torch.Tensor, t: int, y: torch.Tensor | None, w: float) -> torch.Tensor:
        """The combined noise prediction at step ``t``: sum of weight * eps of each model,
        each with classifier-free guidance of weight ``w`` when conditional."""
        tt = torch.full((len(x),), t, dtype=torch.long)
        total = torch.zeros_like(x)
        for weight, model in terms:
            net = model.network
            if y is None:
                eps = net(x, tt)
            elif w == 0:
                eps = net(x, tt, y)
            else:  # the conditional and the unconditional prediction in one batch
                null = torch.full_like(y, model.n_classes)
                both = net(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([y, null]))
                cond, uncond = both.chunk(2)
                eps = (1 + w) * cond - w * uncond
            total = total + weight * eps
        return total

    def _labels(self, model: DiffusionModel, n: int, rng: np.random.Generator) -> np.ndarray:
        if self.label_draw == "fitted" and model.class_weights.sum() > 0:
            return rng.choice(model.n_classes, size=n, p=model.class_weights / model.class_weights.sum())
        return rng.integers(model.n_classes, size=n)

    def _sample(self, terms, n: int, rng: np.random.Generator) -> np.ndarray:
        n = check_int("n", n, 0)
        model = terms[0][1]
        if model.n_classes != self.n_classes:
            raise ValueError(f"the model has n_classes = {model.n_classes} but the family {self.n_classes}")
        d = model.dim
        check_memory("sampling", 4.0 * n * d * 8, "draw fewer points at a time")
        seed_torch(_check_rng(rng))
        labels = self._labels(model, n, rng) if model.n_classes else None
        if n == 0:
            return np.empty((0, d + (1 if labels is not None else 0)))
        noise = self.lam if self.bias == "noise" else 1.0
        w = self.guidance_weight() if labels is not None else 0.0
        abar = np.cumprod(1 - model.betas)
        taus = self._timesteps(model.T)
        y = torch.tensor(labels) if labels is not None else None
        with torch.no_grad():
            x = math.sqrt(noise) * torch.randn(n, d)
            for i in range(len(taus) - 1, -1, -1):
                a_t = abar[taus[i]]
                a_prev = abar[taus[i - 1]] if i > 0 else 1.0
                eps = self._eps(terms, x, int(taus[i]), y, w)
                if self.sampler == "ddim":
                    x0 = (x - math.sqrt(1 - a_t) * eps) / math.sqrt(a_t)
                    x = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
                    continue
                beta = 1 - a_t / a_prev  # the respaced chain's variance for this step
                x = (x - beta / math.sqrt(1 - a_t) * eps) / math.sqrt(1 - beta)
                if i > 0:
                    sigma = math.sqrt(beta if self.variance == "beta" else beta * (1 - a_prev) / (1 - a_t))
                    x = x + math.sqrt(noise) * sigma * torch.randn(n, d)
        points = x.numpy().astype(float) * model.scale + model.shift
        return np.column_stack([points, labels.astype(float)]) if labels is not None else points


@dataclass(frozen=True)
class SIMSFamily:
    """SIMS (Alemohammad et al. 2024, arXiv:2408.16333) as a model family of the loop.

    ``fit(data, rng)``: the ``family``'s base model on ``data``; ``n_self``
    samples of it (default ``len(data)``); the base model fine-tuned on them
    for ``tune_steps`` steps (default ``family.train_steps // 4``): the
    auxiliary model. ``sample`` draws with the negative guidance
    ``(1 + omega) eps_base - omega eps_aux`` (:meth:`DiffusionFamily.sample_guided`).
    The sizes and budgets are this book's choices, not the paper's.

    Book: {ref}`sec-07-sims`
    """

    family: DiffusionFamily = field(default_factory=DiffusionFamily)
    omega: float = 1.0
    n_self: int | None = None
    tune_steps: int | None = None

    def __post_init__(self):
        if not isinstance(self.family, DiffusionFamily):
            raise ValueError(f"family must be a DiffusionFamily; got {type(self.family).__name__}")
        check_number("omega", self.omega, low=0.0)
        if self.n_self is not None:
            check_int("n_self", self.n_self, 2)
        if self.tune_steps is not None:
            check_int("tune_steps", self.tune_steps, 1)

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> GuidedModel:
        base = self.family.fit(data, rng, generation=generation)
        own = self.family.sample(base, self.n_self or len(data), rng)
        auxiliary = self.family.fine_tune(base, own, rng, steps=self.tune_steps)
        return GuidedModel(base, auxiliary, self.omega)

    def sample(self, model: GuidedModel, n: int, rng: np.random.Generator) -> np.ndarray:
        if not isinstance(model, GuidedModel):
            raise ValueError(f"model must be a GuidedModel (from SIMSFamily.fit); got {type(model).__name__}")
        return self.family.sample(model, n, rng)
