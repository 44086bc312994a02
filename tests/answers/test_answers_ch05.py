"""Independent checks of the numeric answers of chapter 05's exercises."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import Independent, Normal, kl_divergence

from collapse_utils.answers import solve
from collapse_utils.families import vae
from collapse_utils.measures import digits


def test_kl_of_a_diagonal_gaussian_to_the_standard_normal():
    a = solve("ex-05-kl")
    mu = torch.tensor([a["mu1"], a["mu2"]], dtype=torch.float64)
    var = torch.tensor([a["var1"], a["var2"]], dtype=torch.float64)
    assert mu.tolist() == [0.5, -1.0] and var.tolist() == [0.25, 4.0]
    per_coordinate = kl_divergence(Normal(mu, var.sqrt()), Normal(torch.zeros(2, dtype=torch.float64),
                                                                   torch.ones(2, dtype=torch.float64)))
    assert [a["kl1"], a["kl2"]] == pytest.approx(per_coordinate.tolist(), rel=1e-12)
    q = Independent(Normal(mu, var.sqrt()), 1)
    prior = Independent(Normal(torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)), 1)
    assert a["kl"] == pytest.approx(float(kl_divergence(q, prior)), rel=1e-12)
    # the chapter's loss uses the same term: vae_loss minus the BCE part
    logits, x = torch.zeros(1, 4), torch.full((1, 4), 0.5)
    loss = vae.vae_loss(logits, x, mu[None].float(), var.log()[None].float())
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    assert float(loss - bce) == pytest.approx(a["kl"], rel=1e-6)


def test_parameters_of_the_chapter_vae_at_width_16():
    a = solve("ex-05-params")
    assert (a["latent"], a["width"]) == (20, 16)
    model = vae.ConvVAE(a["latent"], a["width"])
    assert a["total"] == sum(p.numel() for p in model.parameters())
    assert a["encoder"] == sum(p.numel() for p in model.encoder.parameters())
    assert a["decoder"] == sum(p.numel() for p in model.decoder.parameters())
    layers = [m for m in model.encoder if sum(p.numel() for p in m.parameters())]
    assert [a["conv1"], a["conv2"], a["enc_dense"], a["enc_out"]] == [
        sum(p.numel() for p in m.parameters()) for m in layers]
    assert a["flat"] == model.encoder[5].in_features and a["hidden"] == model.encoder[5].out_features
    dense = model.encoder[5].weight.numel() + model.encoder[5].bias.numel()
    dense += model.decoder[2].weight.numel() + model.decoder[2].bias.numel()
    assert a["dense_share"] == pytest.approx(dense / a["total"])


def test_entropy_of_a_uniform_and_a_collapsed_digit_histogram():
    a = solve("ex-05-entropy")
    assert a["uniform"] == pytest.approx(stats.entropy(np.ones(10), base=2), rel=1e-12)
    histogram = np.zeros(10)
    histogram[[1, 7, 9, 4]] = [a["c1"], a["c7"], a["c9"], a["c4"]]
    assert histogram.tolist() == [0, 1600, 0, 0, 400, 0, 0, 1200, 0, 800] and a["total"] == histogram.sum()
    assert a["collapsed"] == pytest.approx(stats.entropy(histogram, base=2), rel=1e-12)
    assert a["collapsed"] == pytest.approx(digits.histogram_entropy(np.r_[histogram, 0]), rel=1e-12)
    # 2^H digits equally often would have the same entropy
    assert a["effective"] == pytest.approx(2 ** stats.entropy(histogram, base=2), rel=1e-12)
