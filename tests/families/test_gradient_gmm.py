"""Tests of collapse_utils.families.gradient_gmm (chapter 14, "Common confusions").

The fits are optimisations, not estimates, so most checks are against another
optimiser on the same data: EM (sklearn, chapter 04's GMMFamily) for the
maximum of the likelihood, torch.optim.Adam for the update rule. Seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from collapse_utils.families.gmm import GMMFamily, GMMModel, sample_gmm
from collapse_utils.families.gradient_gmm import GradientGMMFamily, check_data

TASK_A = GMMModel([0.85, 0.15], [[0.0], [4.0]], [[[1.0]], [[0.25]]])


def shifted(model: GMMModel, delta: float) -> GMMModel:
    return GMMModel(model.weights, model.means + delta, model.covariances)


def mean_loglik(model: GMMModel, x) -> float:
    return float(np.mean(model.logpdf(np.ravel(x))))


def test_fit_from_scratch_reaches_the_em_maximum():
    """Trained from the data's quantiles, Adam reaches the likelihood EM reaches
    on the same data (within 0.01 nats per point: both stop near the optimum)."""
    x = sample_gmm(TASK_A, 2000, np.random.default_rng(1))
    adam = GradientGMMFamily(epochs=60, batch_size=100).fit(x, np.random.default_rng(2))
    em = GMMFamily(2).fit(x, np.random.default_rng(3))
    assert mean_loglik(adam, x) > mean_loglik(em, x) - 0.01
    order = np.argsort(adam.means[:, 0])
    assert np.allclose(adam.means[order, 0], [0.0, 4.0], atol=0.15)
    assert np.allclose(adam.weights[order], [0.85, 0.15], atol=0.05)


def test_fit_is_reproducible_and_seeds_torch_from_the_generator():
    x = sample_gmm(TASK_A, 100, np.random.default_rng(4))
    family = GradientGMMFamily(epochs=5)
    a = family.fit(x, np.random.default_rng(5))
    b = family.fit(x, np.random.default_rng(5))
    c = family.fit(x, np.random.default_rng(6))
    assert a == b
    assert a != c  # another minibatch order


def test_the_update_is_torch_adam():
    """The written-out update gives torch.optim.Adam's parameters (defaults,
    same minibatches) up to rounding."""
    import torch

    from collapse_utils.families import gradient_gmm

    x = sample_gmm(TASK_A, 60, np.random.default_rng(7))[:, 0]
    start = (np.array([0.5, 0.5]), np.array([-1.0, 3.0]), np.array([2.0, 2.0]))
    torch.manual_seed(8)
    ours = gradient_gmm._adam(x, *start, epochs=4, batch_size=16, lr=0.05)
    torch.manual_seed(8)
    data = torch.tensor(x, dtype=torch.float64)
    params = [torch.tensor(v, dtype=torch.float64).requires_grad_()
              for v in (np.log(start[0]), start[1], np.log(start[2]))]
    optimiser = torch.optim.Adam(params, lr=0.05)
    for _ in range(4):
        for batch in torch.randperm(len(data)).split(16):
            logits, mu, log_sd = params
            z = (data[batch, None] - mu) / log_sd.exp()
            log_p = torch.log_softmax(logits, 0) - log_sd - 0.5 * math.log(2 * math.pi) - 0.5 * z**2
            loss = -torch.logsumexp(log_p, dim=1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    logits, mu, log_sd = (p.detach().numpy() for p in params)
    assert np.allclose(ours.means[:, 0], mu, rtol=1e-10, atol=1e-12)
    assert np.allclose(np.sqrt(ours.covariances[:, 0, 0]), np.exp(log_sd), rtol=1e-10)
    assert np.allclose(ours.weights, np.exp(logits) / np.exp(logits).sum(), rtol=1e-10)


def test_fine_tuning_moves_step_by_step_and_forgets_gradually():
    """Fine-tuned on a task shifted by 6, the model forgets the old task over
    several budgets of tune_epochs, not in one, and ends up fitting the new task.

    "Fitting" allows 0.3 nats per point short of EM's maximum: gradient training
    can leave a component unused for a while (weight near 0), and then it is
    about as good as one Gaussian, 0.2 to 0.25 nats short here.
    """
    rng = np.random.default_rng(9)
    family = GradientGMMFamily()
    task_b = shifted(TASK_A, 6.0)
    held_a = sample_gmm(TASK_A, 4000, rng)
    held_b = held_a + 6.0
    model = family.fit(sample_gmm(TASK_A, 100, rng), rng)
    old = [mean_loglik(model, held_a)]
    for _ in range(12):
        model = family.fit(sample_gmm(task_b, 100, rng), rng, start=model)
        old.append(mean_loglik(model, held_a))
    # Adam moves a parameter by about lr per step: less than the shift per budget
    steps = family.tune_epochs * math.ceil(100 / family.batch_size)
    assert steps * family.lr < 6.0
    assert old[0] > old[1] > old[2] > old[3]  # the old task's score falls step by step
    assert old[1] > old[-1] + 3  # one budget does not forget what twelve do
    assert old[-1] < old[0] - 5
    em = GMMFamily(2).fit(sample_gmm(task_b, 4000, rng), rng)
    assert mean_loglik(model, held_b) > mean_loglik(em, held_b) - 0.3


def test_fine_tuning_keeps_the_starting_point_when_the_data_agree():
    """Fine-tuned on a large sample of its own distribution, a model barely moves."""
    rng = np.random.default_rng(10)
    family = GradientGMMFamily(tune_epochs=2, batch_size=200)
    model = family.fit(sample_gmm(TASK_A, 4000, rng), rng, start=TASK_A)
    assert np.allclose(model.means[:, 0], [0.0, 4.0], atol=0.1)
    assert np.allclose(np.sqrt(model.covariances[:, 0, 0]), [1.0, 0.5], atol=0.1)


def test_sample_shape_and_determinism():
    family = GradientGMMFamily()
    a = family.sample(TASK_A, 50, np.random.default_rng(11))
    b = family.sample(TASK_A, 50, np.random.default_rng(11))
    assert a.shape == (50, 1) and np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_components": 0}, "n_components must be an integer >= 1"),
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"tune_epochs": 1.5}, "tune_epochs must be an integer >= 1"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"lr": 0.0}, "lr must be a finite number > 0"),
])
def test_parameters_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GradientGMMFamily(**kwargs)


def test_data_and_start_are_checked():
    family = GradientGMMFamily()
    rng = np.random.default_rng(12)
    with pytest.raises(ValueError, match=r"data must be finite numbers of shape \(n,\) or \(n, 1\)"):
        family.fit(np.zeros((10, 2)), rng)
    with pytest.raises(ValueError, match="n >= n_components = 2"):
        family.fit([1.0], rng)
    with pytest.raises(ValueError, match="data must be finite"):
        check_data([0.0, np.nan], 2)
    with pytest.raises(ValueError, match="start must be a GMMModel"):
        family.fit([0.0, 1.0, 2.0], rng, start="model")
    three = GMMModel([0.2, 0.3, 0.5], [[0.0], [1.0], [2.0]], [[[1.0]]] * 3)
    with pytest.raises(ValueError, match="start must be a 1-D GMMModel with n_components = 2"):
        family.fit([0.0, 1.0, 2.0], rng, start=three)
