"""Try bad inputs against the public API and tally what happens (issue 19).

    python tools/probe_inputs.py [--verbose] [--timeout 20]

Every case is one call with one bad argument (a NaN, a string, a bool, a
negative size, an absurd size, a missing generator, empty data ...) and the name
of that argument. A call ends one of four ways:

- **clear**: a ``ValueError`` or ``TypeError`` whose message names the argument;
- **traceback**: any other exception, or one whose message does not name it;
- **hang**: still running after ``--timeout`` seconds (the call runs in a thread);
- **silent**: it returned a value.

The tally is printed at the end; the exit status is 1 unless every call is
clear. ``tests/test_validation.py`` runs the same cases. Build-CLI inputs are
tested in ``tests/book`` and are not here.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NAN, INF = float("nan"), float("inf")


@dataclass(frozen=True)
class Case:
    """One bad call: ``label`` for the report, ``name`` the argument its message must name."""

    label: str
    name: str
    call: Callable[[], object]


def _rng():
    return np.random.default_rng(0)


def _cases_checks() -> list[Case]:
    from collapse_utils import checks

    return [
        Case("check_int('3')", "n", lambda: checks.check_int("n", "3", 0)),
        Case("check_int(True)", "n", lambda: checks.check_int("n", True, 0)),
        Case("check_int(2.5)", "n", lambda: checks.check_int("n", 2.5, 0)),
        Case("check_number(nan)", "x", lambda: checks.check_number("x", NAN)),
        Case("check_number('0.5')", "x", lambda: checks.check_number("x", "0.5")),
        Case("check_number(np.array([1.0]))", "x", lambda: checks.check_number("x", np.array([1.0]))),
        Case("check_positive(0)", "x", lambda: checks.check_positive("x", 0)),
        Case("check_fractions('0.5')", "share", lambda: checks.check_fractions("share", "0.5")),
        Case("check_fractions(np.True_)", "share", lambda: checks.check_fractions("share", np.True_)),
        Case("check_bool(1)", "flag", lambda: checks.check_bool("flag", 1)),
        Case("check_choice('x')", "mode", lambda: checks.check_choice("mode", "x", ("a", "b"))),
        Case("check_seed('abc')", "seed", lambda: checks.check_seed("seed", "abc")),
        Case("check_seed(1.5)", "seed", lambda: checks.check_seed("seed", 1.5)),
        Case("check_seed([])", "seed", lambda: checks.check_seed("seed", [])),
        Case("check_rng(None)", "rng", lambda: checks.check_rng("rng", None)),
        Case("check_rng(3)", "rng", lambda: checks.check_rng("rng", 3)),
        Case("check_sample_1d([nan])", "data", lambda: checks.check_sample_1d("data", [NAN, 1.0], 1)),
        Case("check_memory(1e15)", "big", lambda: checks.check_memory("big", 1e15)),
    ]


def _cases_loop() -> list[Case]:
    from collapse_utils import loop
    from collapse_utils.families.gaussian import GaussianFamily, GaussianModel

    def run(**kw):
        args = {"initial_model": GaussianModel(0.0, 1.0), "n": 10, "generations": 2, "progress": False} | kw
        family = args.pop("family", GaussianFamily())
        return loop.run(family, **args)

    def chains(**kw):
        args = {
            "family": GaussianFamily(),
            "initial_model": GaussianModel(0.0, 1.0),
            "n": 10,
            "generations": 1,
            "progress": False,
        } | kw
        return loop.run_chains(args.pop("chains", 2), **args)

    return [
        Case("run(family=None)", "family", lambda: run(family=None)),
        Case("run(family=object())", "family", lambda: run(family=object())),
        Case("run(generations=-1)", "generations", lambda: run(generations=-1)),
        Case("run(generations=2.5)", "generations", lambda: run(generations=2.5)),
        Case("run(generations='3')", "generations", lambda: run(generations="3")),
        Case("run(generations=True)", "generations", lambda: run(generations=True)),
        Case("run(generations=10**8)", "generations", lambda: run(generations=10**8)),
        Case("run(n=0)", "n", lambda: run(n=0)),
        Case("run(n=-5)", "n", lambda: run(n=-5)),
        Case("run(n=10.5)", "n", lambda: run(n=10.5)),
        Case("run(n='10')", "n", lambda: run(n="10")),
        Case("run(n=10**30)", "n", lambda: run(n=10**30)),
        Case("run(policy='mix')", "policy", lambda: run(policy="mix")),
        Case("run(policy=3)", "policy", lambda: run(policy=3)),
        Case("run(seed='abc')", "seed", lambda: run(seed="abc")),
        Case("run(seed=-1)", "seed", lambda: run(seed=-1)),
        Case("run(seed=1.5)", "seed", lambda: run(seed=1.5)),
        Case("run(initial_model=None)", "initial_model", lambda: run(initial_model=None)),
        Case("run(initial_model=N(0,-1))", "var", lambda: run(initial_model=GaussianModel(0.0, -1.0))),
        Case("run(initial_model=N(nan,1))", "mean", lambda: run(initial_model=GaussianModel(NAN, 1.0))),
        Case("run(real=[nan,...])", "data", lambda: run(initial_model=None, real=np.array([NAN] * 10))),
        Case("run(metrics=[1])", "metrics", lambda: run(metrics=[1])),
        Case("run(sampler=3)", "sampler", lambda: run(sampler=3)),
        Case("run(filter='x')", "filter", lambda: run(filter="x")),
        Case("run_chains(chains=0)", "chains", lambda: chains(chains=0)),
        Case("run_chains(chains=10**8)", "chains", lambda: chains(chains=10**8)),
        Case("run_chains(chains='2')", "chains", lambda: chains(chains="2")),
        Case("run_chains(seed='x')", "seed", lambda: chains(seed="x")),
    ]


def _cases_gaussian() -> list[Case]:
    from collapse_utils.exact import gaussian, gaussian_mixing, regression

    def sim(**kw):
        args = {"n": 10, "generations": 2, "chains": 5} | kw
        return gaussian.simulate(args.pop("n"), args.pop("generations"), args.pop("chains"), **args)

    return [
        Case("simulate(n=1)", "n", lambda: sim(n=1)),
        Case("simulate(n=10.0)", "n", lambda: sim(n=10.0)),
        Case("simulate(n='10')", "n", lambda: sim(n="10")),
        Case("simulate(n=nan)", "n", lambda: sim(n=NAN)),
        Case("simulate(n=True)", "n", lambda: sim(n=True)),
        Case("simulate(n=1e9, naive)", "n", lambda: sim(n=1e9, method="naive")),
        Case("simulate(n=10**10, naive)", "simulate", lambda: sim(n=10**10, method="naive")),
        Case("simulate(generations=-1)", "generations", lambda: sim(generations=-1)),
        Case("simulate(generations=10**9)", "simulate", lambda: sim(generations=10**9)),
        Case("simulate(chains=0)", "chains", lambda: sim(chains=0)),
        Case("simulate(sigma0_sq=0)", "sigma0_sq", lambda: sim(sigma0_sq=0)),
        Case("simulate(sigma0_sq=nan)", "sigma0_sq", lambda: sim(sigma0_sq=NAN)),
        Case("simulate(sigma0_sq=inf)", "sigma0_sq", lambda: sim(sigma0_sq=INF)),
        Case("simulate(sigma0_sq='1')", "sigma0_sq", lambda: sim(sigma0_sq="1")),
        Case("simulate(mu0=nan)", "mu0", lambda: sim(mu0=NAN)),
        Case("simulate(estimator='ml')", "estimator", lambda: sim(estimator="ml")),
        Case("simulate(method='fast')", "method", lambda: sim(method="fast")),
        Case("simulate(seed='abc')", "seed", lambda: sim(seed="abc")),
        Case("simulate(seed=-1)", "seed", lambda: sim(seed=-1)),
        Case("simulate(seed=2.5)", "seed", lambda: sim(seed=2.5)),
        Case("simulate_mvn(seed='abc')", "seed", lambda: gaussian.simulate_mvn(5, 2, 2, 3, seed="abc")),
        Case("simulate_mvn(n=2, d=3)", "n", lambda: gaussian.simulate_mvn(2, 3, 2, 3)),
        Case(
            "simulate_mvn(cov0=[[1,2],[2,1]])",
            "cov0",
            lambda: gaussian.simulate_mvn(5, 2, 2, 3, cov0=[[1.0, 2.0], [2.0, 1.0]]),
        ),
        Case(
            "simulate_mvn(cov0=nan)",
            "cov0",
            lambda: gaussian.simulate_mvn(5, 2, 2, 3, cov0=np.full((2, 2), NAN)),
        ),
        Case("simulate_mvn(chains=10**9)", "simulate_mvn", lambda: gaussian.simulate_mvn(5, 2, 2, 10**9)),
        Case("simulate_schedule(sizes=[1])", "sizes", lambda: gaussian.simulate_schedule([1], 3)),
        Case(
            "simulate_schedule(seed='abc')", "seed", lambda: gaussian.simulate_schedule([5, 5], 3, seed="abc")
        ),
        Case(
            "simulate_schedule(chains=10**10)",
            "simulate_schedule",
            lambda: gaussian.simulate_schedule([5, 5], 10**10),
        ),
        Case("expected_variance(t=-1)", "t", lambda: gaussian.expected_variance(10, -1)),
        Case("expected_variance(t=1.5)", "t", lambda: gaussian.expected_variance(10, 1.5)),
        Case("variance_cdf(fraction=0)", "fraction", lambda: gaussian.variance_cdf(10, 3, 0.0)),
        Case(
            "variance_cdf(temperature=nan)",
            "temperature",
            lambda: gaussian.variance_cdf(10, 3, 0.5, temperature=NAN),
        ),
        Case(
            "generations_to_halve(fraction=2)",
            "fraction",
            lambda: gaussian.generations_to_halve(10, fraction=2),
        ),
        Case(
            "simulate_mix(real_fraction=1.5)",
            "real_fraction",
            lambda: gaussian_mixing.simulate_mix(10, 1.5, 2, 3, seed=0),
        ),
        Case(
            "simulate_mix(seed='abc')",
            "seed",
            lambda: gaussian_mixing.simulate_mix(10, 0.5, 2, 3, seed="abc"),
        ),
        Case(
            "simulate_accumulate(seed='abc')",
            "seed",
            lambda: gaussian_mixing.simulate_accumulate(10, 2, 3, seed="abc"),
        ),
        Case("regression_error(t=1e9)", "t", lambda: regression.regression_error(10, 2, 1.0, 1e9)),
        Case("regression_error(t=-1)", "t", lambda: regression.regression_error(10, 2, 1.0, -1)),
        Case("regression_error(noise=nan)", "noise", lambda: regression.regression_error(10, 2, NAN, 1)),
        Case(
            "regression_error(samples=3, dim=2)", "samples", lambda: regression.regression_error(3, 2, 1.0, 1)
        ),
        Case(
            "simulate_regression(seed='abc')",
            "seed",
            lambda: regression.simulate_regression(10, 2, 1.0, 2, 3, seed="abc"),
        ),
        Case(
            "simulate_regression(chains=10**9)",
            "simulate_regression",
            lambda: regression.simulate_regression(10, 2, 1.0, 2, 10**9),
        ),
    ]


def _cases_zipf_categorical() -> list[Case]:
    from collapse_utils.exact import categorical, categorical_mixing, filtering, zipf

    p = zipf.zipf_probs(100, 1.5)

    def gens(**kw):
        args = {"p": p, "tokens": 100, "generations": 2} | kw
        return zipf.simulate_generations(args.pop("p"), args.pop("tokens"), args.pop("generations"), **args)

    def weights(**kw):
        args = {"weights": [0.5, 0.5], "n": 10, "generations": 2, "chains": 3} | kw
        return categorical.simulate_weights(
            args.pop("weights"), args.pop("n"), args.pop("generations"), args.pop("chains"), **args
        )

    return [
        Case("zipf_probs(vocab=0)", "vocab", lambda: zipf.zipf_probs(0, 1.5)),
        Case("zipf_probs(vocab=1e10)", "vocab", lambda: zipf.zipf_probs(1e10, 1.5)),
        Case("zipf_probs(vocab=10**10)", "zipf_probs", lambda: zipf.zipf_probs(10**10, 1.5)),
        Case("zipf_probs(vocab='100')", "vocab", lambda: zipf.zipf_probs("100", 1.5)),
        Case("zipf_probs(beta=nan)", "beta", lambda: zipf.zipf_probs(100, NAN)),
        Case("zipf_probs(beta=0.5)", "beta", lambda: zipf.zipf_probs(100, 0.5)),
        Case("simulate_generations(p=[nan,1])", "p", lambda: gens(p=[NAN, 1.0])),
        Case("simulate_generations(p=[0.5,0.6])", "p", lambda: gens(p=[0.5, 0.6])),
        Case("simulate_generations(p=[-0.5,1.5])", "p", lambda: gens(p=[-0.5, 1.5])),
        Case("simulate_generations(tokens=0)", "tokens", lambda: gens(tokens=0)),
        Case("simulate_generations(generations=-1)", "generations", lambda: gens(generations=-1)),
        Case("simulate_generations(seed='abc')", "seed", lambda: gens(seed="abc")),
        Case("simulate_generations(k=0)", "k", lambda: gens(k=0)),
        Case("simulate_generations(clean_fraction=2)", "clean_fraction", lambda: gens(clean_fraction=2)),
        Case("simulate_generations(transform=3)", "transform", lambda: gens(transform=3)),
        Case(
            "simulate_generations(chains=10**9, generations=10**3)",
            "simulate_generations",
            lambda: gens(chains=10**9, generations=10**3),
        ),
        Case("cut_tail(k=0)", "k", lambda: zipf.cut_tail(p, 0)),
        Case("simulate_weights(weights=[nan,1])", "weights", lambda: weights(weights=[NAN, 1.0])),
        Case("simulate_weights(weights=[0.5,0.6])", "weights", lambda: weights(weights=[0.5, 0.6])),
        Case("simulate_weights(n=0)", "n", lambda: weights(n=0)),
        Case("simulate_weights(chains=0)", "chains", lambda: weights(chains=0)),
        Case("simulate_weights(seed='abc')", "seed", lambda: weights(seed="abc")),
        Case("simulate_weights(method='x')", "method", lambda: weights(method="x")),
        Case("simulate_weights(oversample='3')", "oversample", lambda: weights(oversample="3")),
        Case("simulate_weights(oversample=nan)", "oversample", lambda: weights(oversample=NAN)),
        Case("simulate_weights(min_count=0)", "min_count", lambda: weights(min_count=0)),
        Case("simulate_weights(rare=2)", "rare", lambda: weights(rare=2)),
        Case(
            "simulate_weights(chains=10**9, generations=10**3)",
            "simulate_weights",
            lambda: weights(chains=10**9, generations=10**3),
        ),
        Case(
            "simulate_loss_times(seed='abc')",
            "seed",
            lambda: categorical.simulate_loss_times([0.5, 0.5], 10, 3, 5, seed="abc"),
        ),
        Case("survival_probability(w=1.5)", "w", lambda: categorical.survival_probability(1.5, 10, 1)),
        Case("survival_probability(w=nan)", "w", lambda: categorical.survival_probability(NAN, 10, 1)),
        Case("survival_probability(n=0)", "n", lambda: categorical.survival_probability(0.5, 0, 1)),
        Case("survival_probability(t=-1)", "t", lambda: categorical.survival_probability(0.5, 10, -1)),
        Case("loss_probability(w='0.1')", "w", lambda: categorical.loss_probability("0.1", 10)),
        Case(
            "simulate_minority(seed='abc')",
            "seed",
            lambda: categorical_mixing.simulate_minority(0.1, 10, 0.5, 2, 3, seed="abc"),
        ),
        Case("kept_fraction('0.5')", "synthetic_share", lambda: filtering.kept_fraction("0.5", 0.5, 0.1)),
        Case("kept_fraction(nan)", "synthetic_share", lambda: filtering.kept_fraction(NAN, 0.5, 0.1)),
        Case("kept_fraction(recall=1.5)", "recall", lambda: filtering.kept_fraction(0.5, 1.5, 0.1)),
        Case("kept_fraction(recall=True)", "recall", lambda: filtering.kept_fraction(0.5, True, 0.1)),
        Case(
            "effective_real_fraction(fpr='x')",
            "false_positive_rate",
            lambda: filtering.effective_real_fraction(0.5, 0.5, "x"),
        ),
    ]


def _cases_families() -> list[Case]:
    from collapse_utils.families import categorical, gmm, nonparametric, regression, zipf
    from collapse_utils.families.gaussian import GaussianFamily

    x2 = np.random.default_rng(0).normal(size=(50, 2))
    nan2 = x2.copy()
    nan2[3, 1] = NAN
    x1 = np.array([0.1, 0.5, 1.0, 2.0])
    return [
        Case(
            "GaussianFamily.fit([1,nan,2])",
            "data",
            lambda: GaussianFamily().fit(np.array([1.0, NAN, 2.0]), _rng()),
        ),
        Case(
            "GaussianFamily.fit([1,inf,2])",
            "data",
            lambda: GaussianFamily().fit(np.array([1.0, INF, 2.0]), _rng()),
        ),
        Case("GaussianFamily.fit([])", "data", lambda: GaussianFamily().fit(np.array([]), _rng())),
        Case("GaussianFamily(estimator='x')", "estimator", lambda: GaussianFamily("x")),
        Case(
            "GaussianFamily.sample(n=-1)",
            "n",
            lambda: GaussianFamily().sample(GaussianFamily().fit(x1), -1, _rng()),
        ),
        Case("GMMFamily.fit(nan)", "data", lambda: gmm.GMMFamily(2).fit(nan2, _rng())),
        Case("GMMFamily.fit(rng=None)", "rng", lambda: gmm.GMMFamily(2).fit(x2, None)),
        Case("GMMFamily.fit(rng=0)", "rng", lambda: gmm.GMMFamily(2).fit(x2, 0)),
        Case("GMMFamily(n_components=0)", "n_components", lambda: gmm.GMMFamily(0)),
        Case("GMMFamily(tol=nan)", "tol", lambda: gmm.GMMFamily(2, tol=NAN)),
        Case(
            "GMMFamily.sample(rng=None)",
            "rng",
            lambda: gmm.GMMFamily(1).sample(gmm.GMMModel([1.0], [[0.0]], [[[1.0]]]), 3, None),
        ),
        Case(
            "GMMModel(weights=[nan,1])",
            "weights",
            lambda: gmm.GMMModel([NAN, 1.0], [[0.0], [1.0]], [[[1.0]], [[1.0]]]),
        ),
        Case("KDEFamily.fit(nan)", "data", lambda: nonparametric.KDEFamily().fit(np.array([1.0, NAN, 2.0]))),
        Case("KDEFamily(bandwidth=0)", "bandwidth", lambda: nonparametric.KDEFamily(0)),
        Case(
            "HistogramFamily.fit(inf)",
            "data",
            lambda: nonparametric.HistogramFamily().fit(np.array([1.0, INF])),
        ),
        Case("HistogramFamily(bins=1e9)", "bins", lambda: nonparametric.HistogramFamily(bins=1e9)),
        Case(
            "HistogramFamily(bins=10**9)",
            "HistogramFamily",
            lambda: nonparametric.HistogramFamily(bins=10**9),
        ),
        Case("HistogramFamily(bins='many')", "bins", lambda: nonparametric.HistogramFamily(bins="many")),
        Case(
            "CategoricalFamily.fit([0.5])",
            "data",
            lambda: categorical.CategoricalFamily(2).fit(np.array([0.5])),
        ),
        Case("CategoricalFamily(k=1)", "k", lambda: categorical.CategoricalFamily(1)),
        Case("ZipfFamily.fit([])", "data", lambda: zipf.ZipfFamily(10).fit(np.array([], dtype=int), _rng())),
        Case("ZipfFamily(vocab=0)", "vocab", lambda: zipf.ZipfFamily(0)),
        Case(
            "LinearRegressionFamily(noise=nan)",
            "noise",
            lambda: regression.LinearRegressionFamily(np.ones((5, 2)), NAN),
        ),
        Case(
            "LinearRegressionFamily(X=nan)",
            "X",
            lambda: regression.LinearRegressionFamily(np.full((5, 2), NAN), 1.0),
        ),
    ]


def _cases_torch() -> list[Case]:
    import torch

    from collapse_utils.families import lm, transformer, vae

    images = torch.rand(8, 1, 28, 28)
    bad = images.clone()
    bad[0, 0, 0, 0] = float("nan")
    tiny = vae.VAEFamily(latent=2, width=2, epochs=1, batch_size=4, device="cpu")
    gpt = transformer.GPT(5, context=8, d=8, layers=1, heads=1)
    return [
        Case("VAEFamily(lr=0)", "lr", lambda: vae.VAEFamily(lr=0)),
        Case("VAEFamily(lr=nan)", "lr", lambda: vae.VAEFamily(lr=NAN)),
        Case("VAEFamily(lr=-1e-3)", "lr", lambda: vae.VAEFamily(lr=-1e-3)),
        Case("VAEFamily(epochs=0)", "epochs", lambda: vae.VAEFamily(epochs=0)),
        Case("VAEFamily(arch='big')", "arch", lambda: vae.VAEFamily(arch="big")),
        Case("VAEFamily.fit(nan images)", "images", lambda: tiny.fit(bad, _rng())),
        Case(
            "VAEFamily.fit(inf images)", "images", lambda: tiny.fit(bad.nan_to_num(nan=float("inf")), _rng())
        ),
        Case("VAEFamily.fit(0 images)", "images", lambda: tiny.fit(images[:0], _rng())),
        Case("VAEFamily.fit(numpy images)", "images", lambda: tiny.fit(images.numpy(), _rng())),
        Case("VAEFamily.fit(rng=None)", "rng", lambda: tiny.fit(images, None)),
        Case(
            "perplexity(empty blocks)",
            "blocks",
            lambda: lm.perplexity(gpt, torch.zeros(0, 4, dtype=torch.long)),
        ),
        Case("perplexity(ids >= vocab)", "blocks", lambda: lm.perplexity(gpt, torch.full((2, 4), 7))),
        Case("GPT(d=10, heads=3)", "d", lambda: transformer.GPT(5, d=10, heads=3)),
    ]


def _cases_measures() -> list[Case]:
    from collapse_utils.families.gmm import GMMModel
    from collapse_utils.measures import digits, distributions, lexical

    one = GMMModel([1.0], [[0.0]], [[[1.0]]])
    return [
        Case("histogram_entropy([nan,1,2])", "histogram", lambda: digits.histogram_entropy([NAN, 1, 2])),
        Case("histogram_entropy([inf,1,2])", "histogram", lambda: digits.histogram_entropy([INF, 1, 2])),
        Case("histogram_entropy([-1,1,2])", "histogram", lambda: digits.histogram_entropy([-1, 1, 2])),
        Case("histogram_entropy([])", "histogram", lambda: digits.histogram_entropy([])),
        Case("histogram_entropy('abc')", "histogram", lambda: digits.histogram_entropy("abc")),
        Case("class_histogram(classes=0)", "classes", lambda: digits.class_histogram([0, 1], classes=0)),
        Case("l2_distance(model=None)", "f", lambda: distributions.l2_distance(None, one)),
        Case("component_std(kind='x')", "kind", lambda: distributions.component_std(one, kind="x")),
        Case("mass_outside(low=nan)", "low", lambda: distributions.mass_outside(one, NAN, 1.0)),
        Case("count_modes(radius=-1)", "radius", lambda: distributions.count_modes(one, [[0.0]], -1.0)),
        Case("distinct_n('a string')", "texts", lambda: lexical.distinct_n("a b c")),
        Case("distinct_n(5)", "texts", lambda: lexical.distinct_n(5)),
        Case("distinct_n(n=0)", "n", lambda: lexical.distinct_n(["a b"], n=0)),
        Case("self_bleu(['one'])", "texts", lambda: lexical.self_bleu(["one text"])),
        Case(
            "self_bleu(seed='abc')",
            "seed",
            lambda: lexical.self_bleu(["a", "b", "c"], max_texts=2, seed="abc"),
        ),
        Case("repeated_ngram_share(n=1.5)", "n", lambda: lexical.repeated_ngram_share(["a b"], n=1.5)),
    ]


def cases(torch: bool = True) -> list[Case]:
    """Every bad call of the probe (``torch=False``: without the VAE and the transformer)."""
    out = (
        _cases_checks()
        + _cases_loop()
        + _cases_gaussian()
        + _cases_zipf_categorical()
        + _cases_families()
        + _cases_measures()
    )
    return out + (_cases_torch() if torch else [])


OUTCOMES = ("clear", "traceback", "hang", "silent")


def names(message: str, name: str) -> bool:
    """Whether ``message`` names ``name`` as a word ("n must be", not "negative")."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message) is not None


def classify(case: Case, timeout: float = 20.0) -> tuple[str, str]:
    """How ``case`` ends (one of :data:`OUTCOMES`) and what it said."""
    result: dict[str, object] = {}

    def target():
        try:
            result["value"] = case.call()
        except BaseException as error:  # noqa: BLE001 - the probe reports every kind
            result["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return "hang", f"still running after {timeout:g} s"
    if "error" not in result:
        value = " ".join(str(result["value"]).split())
        return "silent", f"returned {type(result['value']).__name__}: {value[:80]}"
    error = result["error"]
    text = f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
    if isinstance(error, (ValueError, TypeError)) and names(str(error), case.name):
        return "clear", text
    return "traceback", text


def limit_address_space(headroom_gb: float) -> None:
    """Let this process map at most ``headroom_gb`` GiB more than it maps now (Linux)."""
    try:
        import resource

        status = open("/proc/self/status").read()
        size_kb = int(status.split("VmSize:")[1].split()[0])
    except (ImportError, OSError, IndexError, ValueError):
        return
    cap = size_kb * 1024 + int(headroom_gb * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds before a call counts as a hang")
    parser.add_argument("--verbose", action="store_true", help="print every case, not only the unclear ones")
    parser.add_argument("--no-torch", action="store_true", help="skip the VAE and transformer cases")
    parser.add_argument(
        "--headroom-gb",
        type=float,
        default=4.0,
        help="address space the calls may add (GiB) before an allocation fails with "
        "MemoryError, so that a call the checks let through cannot exhaust the machine",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("COLLAPSE_PROGRESS", "0")
    todo = cases(torch=not args.no_torch)  # imports everything first
    limit_address_space(args.headroom_gb)
    tally: Counter[str] = Counter()
    start = time.perf_counter()
    for case in todo:
        outcome, text = classify(case, args.timeout)
        tally[outcome] += 1
        if args.verbose or outcome != "clear":
            print(f"{outcome:9s}  {case.label:55s}  {text}")
    tried = sum(tally.values())
    print(
        f"\n{tried} bad inputs tried: {tally['clear']} clear errors, {tally['traceback']} other tracebacks, "
        f"{tally['hang']} hangs, {tally['silent']} silent ({time.perf_counter() - start:.1f} s)"
    )
    return 0 if tally["clear"] == tried else 1


if __name__ == "__main__":
    sys.exit(main())
