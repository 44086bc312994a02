"""Independent checks of the numeric answers of chapter 05's exercises."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import Independent, Normal, kl_divergence

from collapse_utils.answers import ch05, solve
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


# --- ex-05-accumulate, measured: the runs on a tiny configuration ------------------

TINY = dict(n=12, generations=2, seeds=3, n_samples=16, seed=5)


@pytest.fixture(scope="module")
def tiny_real():
    """40 random 'images' (the loop does not care what the pixels show)."""
    return torch.rand(40, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def tiny_family():
    return vae.VAEFamily(latent=3, width=2, epochs=1, batch_size=8)


@pytest.fixture(scope="module")
def tiny_runs(tiny_family, tiny_real):
    return ch05.accumulate_runs(tiny_family, tiny_real, cache=False, progress=False, **TINY)


def test_accumulate_runs_shapes_and_training_set_sizes(tiny_runs):
    n, generations, seeds = TINY["n"], TINY["generations"], TINY["seeds"]
    assert list(tiny_runs) == list(ch05.ACCUMULATE_POLICIES) == ["replace", "accumulate"]
    t = np.arange(generations + 1)
    for name, histories in tiny_runs.items():
        assert len(histories) == seeds
        for h in histories:
            assert h.columns == ["generation", "n_train", "n_real", "latent_std"]
            assert h["generation"].tolist() == t.tolist()
            assert np.all(np.isfinite(h["latent_std"])) and np.all(h["latent_std"] > 0)
            if name == "accumulate":  # all real digits plus every generated batch so far
                assert h["n_train"].tolist() == ((t + 1) * n).tolist()
                assert h["n_real"].tolist() == [n] * (generations + 1)
            else:
                assert h["n_train"].tolist() == [n] * (generations + 1)
                assert h["n_real"].tolist() == [n] + [0] * generations


def test_accumulate_runs_share_generation_0_and_differ_between_seeds(tiny_runs):
    first = {name: [h["latent_std"][0] for h in histories] for name, histories in tiny_runs.items()}
    assert first["replace"] == first["accumulate"]  # same stream, same digits, same VAE
    assert len(set(first["replace"])) == TINY["seeds"]  # independent repetitions


def test_accumulate_runs_generation_0_rebuilt_independently(tiny_family, tiny_real, tiny_runs):
    """Repetition i's generation 0 is the VAE fitted to n digits drawn by the i-th child
    of SeedSequence(seed) (the loop's convention), measured by digits.latent_spread on
    n_samples of its own samples under itself; rebuilt here without the loop."""
    n, generations, seed = TINY["n"], TINY["generations"], TINY["seed"]
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(TINY["seeds"])):
        rng = np.random.default_rng(child.spawn(generations + 1)[0])
        real0 = tiny_real[np.sort(rng.choice(len(tiny_real), size=n, replace=False))]
        model = tiny_family.fit(real0, rng, generation=0)
        images = tiny_family.sample(model, TINY["n_samples"], np.random.default_rng([seed, i, 0]))
        assert digits.latent_spread(model, images) == tiny_runs["replace"][i]["latent_std"][0]


def test_accumulate_runs_are_deterministic_and_cached(tiny_family, tiny_real, tiny_runs, tmp_path,
                                                      monkeypatch):
    again = ch05.accumulate_runs(tiny_family, tiny_real, cache=False, progress=False, **TINY)
    assert again == tiny_runs
    monkeypatch.setenv("COLLAPSE_CACHE_DIR", str(tmp_path))
    computed = ch05.accumulate_runs(tiny_family, tiny_real, progress=False, **TINY)
    folders = sorted((tmp_path / "05_ex_accumulate").iterdir())
    assert computed == tiny_runs and len(folders) == 2 * TINY["seeds"]
    assert all(len(list(f.glob("*.pkl"))) == TINY["generations"] + 1 for f in folders)
    loaded = ch05.accumulate_runs(tiny_family, tiny_real, progress=False, **TINY)  # from the cache
    assert loaded == tiny_runs


def test_accumulate_summary_is_the_order_statistics_of_the_runs(tiny_runs):
    a = ch05.accumulate_summary(tiny_runs)
    n, generations, seeds = TINY["n"], TINY["generations"], TINY["seeds"]
    assert (a["n"], a["generations"], a["seeds"]) == (n, generations, seeds)
    assert a["n_train_last"] == (generations + 1) * n
    spreads = {name: np.array([h["latent_std"] for h in hs]) for name, hs in tiny_runs.items()}
    first = spreads["replace"][:, 0]
    assert [a["first_min"], a["first_median"], a["first_max"]] == sorted(first.tolist())  # 3 seeds
    change = {}
    for name, s in spreads.items():
        assert [a[f"{name}_min"], a[f"{name}_median"], a[f"{name}_max"]] == sorted(s[:, -1].tolist())
        ratio = sorted((s[:, -1] / first).tolist())
        assert [a[f"{name}_ratio_min"], a[f"{name}_ratio_median"], a[f"{name}_ratio_max"]] == ratio
        change[name] = abs(s[:, -1] / first - 1)
    assert a["closer"] == sum(change["accumulate"] < change["replace"])
    assert all(isinstance(value, (int, float)) and np.isfinite(value) for value in a.values())


@pytest.mark.parametrize("change, message", [
    ({"n": 41}, "n must be an integer in"),
    ({"n": 0}, "n must be an integer in"),
    ({"generations": 0}, "generations must be"),
    ({"seeds": 0}, "seeds must be"),
    ({"n_samples": 1}, "n_samples must be"),
    ({"seed": -1}, "seed must be"),
    ({"cache": "yes"}, "cache must be"),
])
def test_accumulate_runs_refuses_bad_arguments(tiny_family, tiny_real, change, message):
    with pytest.raises(ValueError, match=message):
        ch05.accumulate_runs(tiny_family, tiny_real, **{**TINY, **change})


def test_accumulate_runs_refuses_other_families_and_data(tiny_family, tiny_real):
    with pytest.raises(ValueError, match="family must be a VAEFamily"):
        ch05.accumulate_runs(object(), tiny_real, **TINY)
    with pytest.raises(ValueError, match="images must be a torch tensor"):
        ch05.accumulate_runs(tiny_family, tiny_real[:, 0], **TINY)
    with pytest.raises(ValueError, match="runs must be accumulate_runs' dict"):
        ch05.accumulate_summary({"replace": []})
    with pytest.raises(ValueError, match="runs must hold"):
        ch05.accumulate_summary({"replace": [], "accumulate": []})
