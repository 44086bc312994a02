"""Independent checks of the numeric answers of chapter 05's exercises."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from scipy import stats
from torch.distributions import Independent, Normal, kl_divergence

from collapse_utils.answers import ch05, solve
from collapse_utils.book import params
from collapse_utils.exact import gaussian
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


# --- ex-05-sampling-noise ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "05_vae_mnist.ipynb"


def notebook_paper_spread() -> list[float]:
    """The spread list of the chapter's exercise code (``spread = [...]``), read from its text."""
    import re

    for cell in nbformat.read(NOTEBOOK, as_version=4).cells:
        found = re.search(r"spread = (\[[0-9., ]+\])  # Shumailov et al.", cell.source)
        if found:
            return ast.literal_eval(found.group(1))
    raise AssertionError("no spread list of Shumailov et al. in the chapter")


def test_paper_spread_is_their_printed_run_rounded():
    assert list(ch05.PAPER_SPREAD) == [round(x, 3) for x in digits.paper_runs("std")[4]]
    assert notebook_paper_spread() == list(ch05.PAPER_SPREAD)


def log_chi2_drift(n: float) -> float:
    """E[log(chi2_(n-1) / n)] by numerical quadrature of the chi-square density
    (not the digamma formula), over the mean +- 40 standard deviations."""
    df = n - 1
    sd = math.sqrt(2 * df)
    return stats.chi2(df).expect(lambda c: math.log(c / n), lb=max(0.0, df - 40 * sd), ub=df + 40 * sd,
                                 epsabs=1e-14, epsrel=1e-12)


def test_sampling_noise_givens_are_the_chapters():
    a = solve("ex-05-sampling-noise")
    spread = notebook_paper_spread()
    assert a["paper_last"] == len(spread) - 1
    assert [a[f"paper{t}"] for t in range(len(spread))] == spread
    for name in ("paper", "book", "smoke"):  # the chapter's n_train under each profile
        values = params.profile(name, root=ROOT, notebooks=[NOTEBOOK])["05_vae_mnist"]
        assert a[f"{name}_n"] == values["n_train"], name


def test_a_fixed_direction_of_a_linear_gaussian_refit_follows_chapter_02s_chain():
    """Monte Carlo of the linear-Gaussian latent model h = b + W z refitted by maximum
    likelihood (W = V L^(1/2) from the eigendecomposition V L V^T of the sample covariance
    with divisor n), from a correlated start: the variance along a fixed direction has mean
    ((n-1)/n)^t and log-drift t delta_n. Tolerance: 4 standard errors of the chains' means."""
    n, d, chains, generations = 5, 3, 200_000, 3
    rng = np.random.default_rng(2024)
    w0 = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [-0.5, 0.3, 1.2]])
    b, w = np.zeros((chains, d)), np.tile(w0, (chains, 1, 1))
    for _ in range(generations):
        h = b[:, None] + rng.standard_normal((chains, n, d)) @ np.swapaxes(w, 1, 2)
        b = h.mean(axis=1)
        centred = h - b[:, None]
        values, vectors = np.linalg.eigh(np.einsum("cki,ckj->cij", centred, centred) / n)
        w = vectors * np.sqrt(np.clip(values, 0, None))[:, None]  # w w^T = sample covariance
    a = np.array([0.3, -1.0, 2.0])
    ratio = ((a @ w) ** 2).sum(-1) / (a @ w0 @ w0.T @ a)
    se = ratio.std(ddof=1) / math.sqrt(chains)
    assert abs(ratio.mean() - ((n - 1) / n) ** generations) < 4 * se
    logs = np.log(ratio)
    se = logs.std(ddof=1) / math.sqrt(chains)
    assert abs(logs.mean() - generations * log_chi2_drift(n)) < 4 * se


def test_sampling_noise_halving_times_by_brute_force():
    a = solve("ex-05-sampling-noise")
    for name in ("paper", "book", "smoke"):
        n = a[f"{name}_n"]
        drift = log_chi2_drift(n)
        t = 1
        while t * drift >= math.log(0.25):  # a typical path's spread above half
            t += 1
        assert a[f"halve_{name}"] == t, name
    n = a["paper_n"]
    drift = log_chi2_drift(n)
    assert a["typical_factor"] == pytest.approx(math.exp(drift / 2), rel=1e-12)
    assert a["noise_loss"] == pytest.approx(-math.expm1(drift / 2), rel=1e-6)
    assert a["mean_factor"] == pytest.approx(stats.chi2(n - 1).mean() / n, rel=1e-15)
    t = 1
    while t * drift >= math.log(0.5):  # a typical path's variance above half
        t += 1
    assert a["halve_variance"] == t
    t, mean = 0, 1.0
    while mean >= 0.25:  # the expected variance: a product of (n-1)/n factors
        mean *= (n - 1) / n
        t += 1
    assert a["halve_mean"] == t
    assert a["halve_paper"] == pytest.approx(n * math.log(2), rel=1e-3)  # about n log 2


def test_least_squares_fit_of_the_paper_spread():
    a = solve("ex-05-sampling-noise")
    t = np.arange(a["paper_last"] + 1)
    y = np.log([a[f"paper{k}"] for k in t])
    slope, _ = np.polyfit(t, y, 1)
    assert a["slope"] == pytest.approx(slope, rel=1e-10)
    assert a["slope"] == pytest.approx(stats.linregress(t, y).slope, rel=1e-10)
    assert a["factor"] == pytest.approx(math.exp(slope), rel=1e-10)
    assert a["loss"] == pytest.approx(1 - a["factor"], rel=1e-12)
    assert math.exp(slope * a["paper_halve"]) == pytest.approx(0.5, rel=1e-10)
    assert a["speedup"] == pytest.approx(a["halve_paper"] / a["paper_halve"], rel=1e-12)
    # n_equiv: a typical path's spread falls as fast as the paper's, by quadrature ...
    assert log_chi2_drift(a["n_equiv"]) / 2 == pytest.approx(slope, rel=1e-6)
    # ... and it lies between the integers whose library drifts bracket the slope
    low, high = math.floor(a["n_equiv"]), math.ceil(a["n_equiv"])
    assert gaussian.log_variance_drift(low) / 2 < slope < gaussian.log_variance_drift(high) / 2


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


def test_accumulate_summary_refuses_a_zero_spread_at_generation_0():
    """A run too small to spread its latents (std 0 at generation 0) has no ratio last/first:
    a clear error, not NaN in the summary."""
    history = {"latent_std": np.array([0.0, 0.1]), "n_train": np.array([10, 20])}
    fine = {"latent_std": np.array([0.5, 0.4]), "n_train": np.array([10, 20])}
    with pytest.raises(ValueError, match=r"latent spread of generation 0 is 0 .*\['replace'\]"):
        ch05.accumulate_summary({"replace": [history], "accumulate": [fine]})
    summary = ch05.accumulate_summary({"replace": [fine], "accumulate": [fine]})
    assert summary["replace_ratio_median"] == pytest.approx(0.8)
