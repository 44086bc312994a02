"""Bad input gets one clear ValueError naming the parameter, before any computation (issue 19).

Each case was a traceback, a NaN result, a silent acceptance or a multi-GiB allocation
before: the message must name the parameter and what is allowed (or, for memory,
how much the call would need)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from collapse_utils import checks, loop
from collapse_utils.exact import (
    categorical,
    categorical_mixing,
    filtering,
    gaussian,
    gaussian_mixing,
    regression,
    strong_collapse,
    zipf,
)
from collapse_utils.families import gmm, nonparametric
from collapse_utils.families.gaussian import GaussianFamily, GaussianModel
from collapse_utils.measures import digits, lexical

ROOT = Path(__file__).resolve().parents[1]

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("call, message", [
    (lambda: GaussianModel(0.0, -1.0), "var must be a finite number >= 0.0; got -1.0"),
    (lambda: GaussianModel(float("nan"), 1.0), "mean must be a finite number; got nan"),
    (lambda: GaussianFamily().fit(np.array([1.0, np.nan, 2.0]), RNG), "data must be finite numbers"),
    (lambda: GaussianFamily().fit(np.array([1.0, np.inf, 2.0]), RNG), "data must be finite numbers"),
    (lambda: gaussian.simulate(10, 2, 5, seed="abc"), "seed must be None, a non-negative integer"),
    (lambda: gaussian.simulate(10, 2, 5, seed=-1), "seed must be None, a non-negative integer"),
    (lambda: zipf.simulate_generations(zipf.zipf_probs(100, 1.5), 1000, 2, seed="abc"), "seed must be None"),
    (lambda: loop.run(None, initial_model=GaussianModel(0, 1), n=10, generations=2, progress=False),
     "family must have fit"),
    (lambda: filtering.kept_fraction("0.5", 0.5, 0.1), "synthetic_share must be a number or an array of numbers"),
    (lambda: filtering.effective_real_fraction(0.5, [0.5, "x"], 0.1), "recall must be a number"),
    (lambda: nonparametric.HistogramFamily(bins=1e9), r"bins must be an integer >= 1; got 1000000000.0"),
    # item (c): one seed check for every simulator, strings and bools never parsed as numbers
    (lambda: gaussian.simulate_mvn(5, 2, 2, 3, seed="abc"), "seed must be None, a non-negative integer"),
    (lambda: gaussian.simulate_schedule([5, 5], 3, seed="abc"), "seed must be None, a non-negative integer"),
    (lambda: gaussian_mixing.simulate_mix(10, 0.5, 2, 3, seed="abc"), "seed must be None"),
    (lambda: gaussian_mixing.simulate_accumulate(10, 2, 3, seed=1.5), "seed must be None"),
    (lambda: categorical_mixing.simulate_minority(0.1, 10, 0.5, 2, 3, seed="abc"), "seed must be None"),
    (lambda: categorical.simulate_weights([0.5, 0.5], 10, 2, 3, seed="abc"), "seed must be None"),
    (lambda: categorical.simulate_loss_times([0.5, 0.5], 10, 3, 5, seed=-2), "seed must be None"),
    (lambda: regression.simulate_regression(10, 2, 1.0, 2, 3, seed="abc"), "seed must be None"),
    (lambda: strong_collapse.simulate_mixed(20, 2, 0.5, gen_error=1.0, seed="abc"), "seed must be None"),
    (lambda: strong_collapse.simulate_random_features(20, 2, [3], 0.5, seed="abc"), "seed must be None"),
    (lambda: lexical.self_bleu(["a", "b", "c"], max_texts=2, seed="abc"), "seed must be None"),
    (lambda: categorical.loss_probability("0.1", 10), r"w must be a weight in \[0, 1\]"),
    (lambda: categorical.simulate_weights(["0.5", "0.5"], 10, 2, 3), "weights must be a 1-D array"),
    (lambda: zipf.simulate_generations(["0.5", "0.5"], 10, 2), "p must be a non-empty 1-D array"),
    (lambda: filtering.kept_fraction(0.5, True, 0.1), "recall must be a number"),
    (lambda: checks.check_number("x", np.array(0.5)), "x must be a finite number"),  # a 0-d array is not a scalar
    (lambda: checks.check_array("x", np.array([1.0, np.nan])), "x must be finite numbers"),
    (lambda: checks.check_array("x", np.bool_(True)), "x must be finite numbers"),
    (lambda: lexical.distinct_n(5), "texts must be a sequence of strings"),
    (lambda: GaussianFamily().fit(["1", "2", "3"]), r"data must be finite numbers .* of dtype <U1"),
    (lambda: GaussianFamily().fit(np.array([True, False, True])), "data must be finite numbers .* of dtype bool"),
    (lambda: loop.run(GaussianFamily(), initial_model=GaussianModel(0, 1), n=10, generations=2, progress=False,
                      metrics=[len]), r"metrics must be a mapping \{name: f\(step\)\} or None"),
    # a generator is required wherever one is drawn from (rng=None was an AttributeError)
    (lambda: checks.check_rng("rng", np.random.RandomState(0)), "rng must be a numpy Generator"),
    (lambda: gmm.GMMFamily(2).fit(RNG.normal(size=(20, 2)), None), "rng must be a numpy Generator"),
    (lambda: gmm.GMMFamily(1).fit(RNG.normal(size=(20, 2)), 3), "rng must be a numpy Generator"),
    (lambda: gmm.sample_gmm(gmm.GMMModel([1.0], [[0.0]], [[[1.0]]]), 3, None), "rng must be a numpy Generator"),
    (lambda: GaussianFamily().sample(GaussianModel(0, 1), 3, None), "rng must be a numpy Generator"),
    (lambda: loop.seed_torch(7), "rng must be a numpy Generator"),
    # item (b): measures refuse what they cannot measure
    (lambda: digits.histogram_entropy([np.nan, 1, 2]), "histogram must be a 1-D array of at least 2 finite"),
    (lambda: digits.histogram_entropy([np.inf, 1, 2]), "histogram must be a 1-D array of at least 2 finite"),
    (lambda: digits.histogram_entropy("abc"), "histogram must be a 1-D array"),
])
def test_bad_values_are_named_before_anything_runs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, what", [
    (lambda: zipf.zipf_probs(10**10, 1.5), r"zipf_probs\(vocab=10,000,000,000\) would need 149.0 GiB"),
    (lambda: gaussian.simulate(10, 10**5, 10**6, seed=0),
     r"simulate\(n=10, generations=100000, chains=1000000\) would need 1,490.1 GiB"),
    # the naive method holds the n samples of one chain at a time when n > 2^18
    (lambda: gaussian.simulate(10**10, 2, 5, method="naive"),
     r"simulate\(n=10000000000, generations=2, chains=5\) would need 74.5 GiB"),
    (lambda: nonparametric.HistogramFamily(bins=10**9), r"HistogramFamily\(bins=1,000,000,000\) would need 44.7 GiB"),
    (lambda: gaussian.simulate_mvn(5, 2, 2, 10**9), r"simulate_mvn\(n=5, d=2, generations=2, chains=1000000000\) would need 186.3 GiB"),
    (lambda: gaussian.simulate_schedule([5, 5], 10**10), r"simulate_schedule\(2 sizes, chains=10000000000\) would need 447.0 GiB"),
    (lambda: categorical.simulate_weights([0.5, 0.5], 10, 10**3, 10**9),
     r"simulate_weights\(chains=1000000000, generations=1000, K=2\) would need 14,975.7 GiB"),
    (lambda: zipf.simulate_generations([0.5, 0.5], 10, 10**3, chains=10**9),
     r"simulate_generations\(chains=1000000000, generations=1000\) would need 7,458.0 GiB"),
    (lambda: regression.simulate_regression(10, 2, 1.0, 2, 10**9), r"simulate_regression\(samples=10, dim=2, generations=2, chains=1000000000\) would need 827.0 GiB"),
    (lambda: gaussian_mixing.simulate_mix(10, 0.5, 10**3, 10**9), r"simulate_mix\(chains=1000000000, generations=1000\) would need 14,916.1 GiB"),
])
def test_huge_arrays_are_refused_with_their_size_before_allocating(call, what, monkeypatch):
    monkeypatch.setenv(checks.MEMORY_ENV, "4")
    with pytest.raises(ValueError, match=what + r" of memory, more than the 4.0 GiB allowed"):
        call()


def test_the_memory_limit_follows_the_environment(monkeypatch):
    monkeypatch.setenv(checks.MEMORY_ENV, "0.5")
    assert checks.memory_limit() == 2**29
    checks.check_memory("x", 2**29)  # at the limit: allowed
    with pytest.raises(ValueError, match="x would need 0.5 GiB"):
        checks.check_memory("x", 2**29 + 1)
    monkeypatch.setenv(checks.MEMORY_ENV, "lots")
    with pytest.raises(ValueError, match="COLLAPSE_MAX_MEMORY_GB must be a number of GiB"):
        checks.memory_limit()
    monkeypatch.delenv(checks.MEMORY_ENV)
    assert checks.memory_limit() > 2**30  # half of any machine that runs the book


def test_valid_numpy_scalars_and_seeds_are_accepted():
    assert categorical.check_pipeline(100, 4, 1, np.int64(3), np.int64(0)) == (1, 3.0, 0.0)
    assert filtering.kept_fraction(np.float32(0.5), 1, 0) == pytest.approx(0.5)
    for seed in (None, 3, np.int64(3), [1, 2], np.random.SeedSequence(3), np.random.default_rng(3)):
        checks.check_seed("seed", seed)
    means, variances = gaussian.simulate(10, 2, 5, seed=np.int64(3))
    assert means.shape == variances.shape == (5, 3)
    assert GaussianModel(np.float64(0.5), 0.0).var == 0.0  # a collapsed model is a model


@pytest.mark.parametrize("kwargs, message", [
    ({"generations": 10**8}, r"generations must be an integer in \[0, 1000000\]"),
    ({"n": 10**30}, r"n must be an integer in \[1, 1000000000\]"),
])
def test_the_loop_refuses_runs_it_cannot_honour_before_spawning_seeds(kwargs, message):
    """loop.run(generations=10**8) used to hang in SeedSequence.spawn before the first generation."""
    args = {"initial_model": GaussianModel(0, 1), "n": 10, "generations": 2, "progress": False} | kwargs
    with pytest.raises(ValueError, match=message):
        loop.run(GaussianFamily(), **args)
    with pytest.raises(ValueError, match=r"chains must be an integer in \[1, 10000000\]"):
        loop.run_chains(10**8, family=GaussianFamily(), initial_model=GaussianModel(0, 1), n=10, generations=1)


def test_the_naive_simulator_is_charged_for_the_samples_it_holds(monkeypatch):
    """It refits 2^18 // n chains at a time: n = 1000 and 2,000 chains hold 262 x 1000 samples
    (2.1 MB), not 2,000 x 1000 (16 MB, which the first estimate refused under a 4 MiB limit)."""
    monkeypatch.setenv(checks.MEMORY_ENV, str(4 / 1024))
    means, variances = gaussian.simulate(1000, 1, 2000, method="naive", seed=0)
    assert means.shape == variances.shape == (2000, 2)
    with pytest.raises(ValueError, match="would need"):
        gaussian.simulate(1000, 1, 80_000, method="naive", seed=0)  # outputs 2.4 MiB + samples 2.0 MiB


def test_accumulate_regression_error_needs_no_array_of_generations():
    """sum_(j<=t) 1/j^2 in closed form (trigamma): t = 10**9 allocated 7.5 GiB for a cumulative sum."""
    t = np.arange(60)
    e1 = 1.0**2 * 2 / (10 - 2 - 1)
    by_sum = e1 * np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, 60) ** 2)])
    np.testing.assert_allclose(regression.regression_error(10, 2, 1.0, t, "accumulate"), by_sum, rtol=1e-13, atol=0)
    huge = regression.regression_error(10, 2, 1.0, 10**9, "accumulate")
    assert huge == pytest.approx(e1 * (np.pi**2 / 6 - 1e-9), rel=1e-12)


def test_numpy_scalars_pass_every_check():
    """numpy's integers and floats are numbers wherever a number is asked for (item c)."""
    counts = categorical.simulate_weights([0.9, 0.1], 30, 2, 4, seed=0, oversample=np.int64(3), rare=np.float32(0.2))
    assert counts.shape == (4, 3, 2)
    assert categorical.loss_probability(np.float64(0.1), np.int64(10)) == pytest.approx(0.9)
    assert zipf.zipf_probs(np.int64(100), np.float64(1.5)).shape == (100,)
    assert checks.check_array("x", np.float32(0.5)) == 0.5
    assert checks.check_array("x", [1, 2]).dtype == float
    rng = checks.check_rng("rng", np.random.default_rng(0))
    assert isinstance(rng, np.random.Generator)
    means, _ = gaussian.simulate(np.int64(10), np.int32(2), np.uint8(3), sigma0_sq=np.float32(2.0), seed=np.uint64(1))
    assert means.shape == (3, 3)


def test_vae_refuses_a_learning_rate_and_images_it_cannot_train_with():
    """Item (a): lr = 0 trained with no effect; NaN or inf pixels gave a NaN model; no images
    divided by zero; rng=None was an AttributeError."""
    torch = pytest.importorskip("torch")
    from collapse_utils.families import vae

    for lr in (0, -1e-3, float("nan"), float("inf"), "1e-3", True):
        with pytest.raises(ValueError, match="lr must be a finite number > 0"):
            vae.VAEFamily(lr=lr)
    family = vae.VAEFamily(latent=2, width=2, epochs=1, batch_size=4, device="cpu")
    images = torch.rand(8, 1, 28, 28)
    for value in (float("nan"), float("inf"), -float("inf")):
        bad = images.clone()
        bad[3, 0, 5, 5] = value
        with pytest.raises(ValueError, match=r"images must be finite \(no NaN or inf pixels\); got 1 image"):
            family.fit(bad, np.random.default_rng(0))
    with pytest.raises(ValueError, match="images must hold at least one image"):
        family.fit(images[:0], np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng must be a numpy Generator"):
        family.fit(images, None)
    model = family.fit(images, np.random.default_rng(0))  # the valid call still trains
    assert len(model.losses) == 1 and np.isfinite(model.losses[0])


def test_perplexity_refuses_empty_input():
    """Item (b): the mean NLL of no blocks was NaN (with a RuntimeWarning)."""
    torch = pytest.importorskip("torch")
    from collapse_utils.families import lm, transformer

    gpt = transformer.GPT(5, context=8, d=8, layers=1, heads=1)
    with pytest.raises(ValueError, match=r"blocks must hold at least one block .*got shape \(0, 4\)"):
        lm.perplexity(gpt, torch.zeros(0, 4, dtype=torch.long))
    assert np.isfinite(lm.perplexity(gpt, torch.zeros(2, 4, dtype=torch.long)))


def test_histogram_entropy_still_measures_valid_histograms():
    assert digits.histogram_entropy([5, 5, 0]) == pytest.approx(1.0)  # the unsure bin dropped
    assert digits.histogram_entropy(np.array([0, 0, 3])) == 0.0


def _probe():
    spec = importlib.util.spec_from_file_location("probe_inputs", ROOT / "tools" / "probe_inputs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_every_bad_input_of_the_probe_gets_a_clear_error(monkeypatch):
    """tools/probe_inputs.py's 181 bad calls (loop, simulators, families, measures, checks):
    each a ValueError or TypeError naming the argument, none a traceback, a hang or a value."""
    monkeypatch.setenv("COLLAPSE_PROGRESS", "0")
    probe = _probe()
    cases = probe.cases(torch=importlib.util.find_spec("torch") is not None)
    assert len(cases) >= 100
    outcomes = {case.label: probe.classify(case, timeout=60) for case in cases}
    unclear = {label: text for label, (outcome, text) in outcomes.items() if outcome != "clear"}
    assert not unclear, unclear
    assert probe.names("n must be an integer", "n") and not probe.names("negative dimensions", "n")
