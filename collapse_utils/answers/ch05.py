"""Numeric answers of the exercises of chapter 05, "A VAE on MNIST".

ex-05-sampling-noise compares the decline of the latent spread that
sampling noise alone would cause (chapter 02's Gaussian refit) with the one
Shumailov et al. measured.

The answer of ex-05-accumulate is measured: :func:`accumulate_runs` runs the
chapter's VAE loop under replace and accumulate, :func:`accumulate_summary`
summarises the latent spreads; the chapter calls both with its parameters.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from collapse_utils import loop
from collapse_utils.answers import answer
from collapse_utils.exact import gaussian


@answer("ex-05-kl")
def kl_diagonal() -> dict[str, float]:
    """Chapter 05: KL(N(mu, diag sigma^2) || N(0, I)) at concrete values, per coordinate.

    Book: {ref}`ex-05-kl`
    """
    mu = np.array([0.5, -1.0])
    var = np.array([0.25, 4.0])
    per_coordinate = 0.5 * (mu**2 + var - 1 - np.log(var))
    return {"mu1": float(mu[0]), "mu2": float(mu[1]), "var1": float(var[0]), "var2": float(var[1]),
            "kl1": float(per_coordinate[0]), "kl2": float(per_coordinate[1]), "kl": float(per_coordinate.sum())}


# --- ex-05-sampling-noise -------------------------------------------------

#: Shumailov et al. (2024): the latent spread of their printed run (the fifth
#: of ``collapse_utils.measures.digits.PAPER_RUNS``, rounded to 3 decimals) at
#: their indices 0 to 4, our generations 1 to 5
PAPER_SPREAD = (0.674, 0.608, 0.527, 0.468, 0.433)

#: the chapter's n_train (digits per generation) under each profile: the
#: paper's full MNIST, the book's offline split, the smoke test's
SAMPLING_NOISE_SIZES = {"paper": 60000, "book": 4000, "smoke": 500}


@answer("ex-05-sampling-noise")
def sampling_noise() -> dict[str, float]:
    """Chapter 05: how fast sampling noise alone would shrink the latent
    spread, against the decline that Shumailov et al. measured.

    A linear-Gaussian latent model refitted by maximum likelihood is a
    Gaussian refit, so every fixed direction's variance follows chapter 02's
    chain: a factor (n - 1)/n per generation in expectation
    (``mean_factor``), drift delta_n = psi((n - 1)/2) + log(2/n) of its
    logarithm, so a typical path's spread shrinks by ``typical_factor`` =
    exp(delta_n / 2) per generation (paper's n). The spread, a
    standard deviation, halves when the variance falls to a quarter:
    ``halve_<profile>`` (a typical path), ``halve_mean`` (the expected
    variance, paper's n), ``halve_variance`` (the variance halves, a typical
    path, paper's n). The paper's decline: ``slope`` of log s_t by least
    squares, ``factor`` = exp(slope) per generation, ``paper_halve``
    generations to halve, ``speedup`` = halve_paper / paper_halve, and
    ``n_equiv``, the (real) n at which a typical path's spread falls as
    fast, delta_n / 2 = slope.

    Book: {ref}`ex-05-sampling-noise`
    """
    out: dict[str, float] = {f"paper{t}": s for t, s in enumerate(PAPER_SPREAD)}
    out["paper_last"] = len(PAPER_SPREAD) - 1
    out |= {f"{name}_n": n for name, n in SAMPLING_NOISE_SIZES.items()}
    n = SAMPLING_NOISE_SIZES["paper"]
    out["mean_factor"] = (n - 1) / n  # of the variance, in expectation
    out["typical_factor"] = math.exp(gaussian.log_variance_drift(n) / 2)
    out["noise_loss"] = 1 - out["typical_factor"]  # of the spread
    for name, size in SAMPLING_NOISE_SIZES.items():  # spread to a half
        out[f"halve_{name}"] = gaussian.generations_to_halve(
            size, quantity="typical", fraction=0.25)
    out["halve_mean"] = gaussian.generations_to_halve(
        n, quantity="mean", fraction=0.25)
    out["halve_variance"] = gaussian.generations_to_halve(n, quantity="typical")
    # least squares on the logs, in closed form
    t, y = np.arange(len(PAPER_SPREAD)), np.log(PAPER_SPREAD)
    slope = float(np.sum((t - t.mean()) * (y - y.mean()))
                  / np.sum((t - t.mean()) ** 2))
    out |= {"slope": slope, "factor": math.exp(slope),
            "loss": 1 - math.exp(slope), "paper_halve": math.log(0.5) / slope}
    out["speedup"] = out["halve_paper"] / out["paper_halve"]

    def spread_drift(m):  # of log sd, a typical path, for real m >= 2
        return (special.digamma((m - 1) / 2) + math.log(2 / m)) / 2

    out["n_equiv"] = optimize.brentq(lambda m: spread_drift(m) - slope, 2, n)
    return out


# --- ex-05-accumulate, measured ---------------------------------------------
# The chapter runs the measurement at the settings of its profile, capped so
# that it costs about a quarter of the chapter's own training: accumulate's
# generation t trains on (t + 1) n digits, so its cost grows quadratically with
# the generations.

#: at most this many generations after generation 0
ACCUMULATE_GENERATIONS = 3
#: independent repetitions (seeds) per policy
ACCUMULATE_SEEDS = 3
#: each repetition trains on n_train // ACCUMULATE_DIVISOR real digits
ACCUMULATE_DIVISOR = 10

#: the two policies compared, in the order of the results
ACCUMULATE_POLICIES = ("replace", "accumulate")


def _digest(images) -> str:
    """SHA-256 of the pixels: the cache key of a data set."""
    import hashlib

    data = images.detach().cpu().contiguous().numpy().tobytes()
    return hashlib.sha256(data).hexdigest()


def accumulate_runs(family, real, *, n: int, generations: int,
                    seeds: int = ACCUMULATE_SEEDS, n_samples: int,
                    seed: int, cache: bool = True,
                    progress: bool | None = None) -> dict[str, list]:
    """Chapter 05, ex-05-accumulate measured: the chapter's VAE loop under
    ``replace`` and under ``accumulate``, ``seeds`` times each.

    family: the chapter's :class:`collapse_utils.families.vae.VAEFamily`.
    real: the real digits, shape ``(N, 1, 28, 28)``; each repetition's
        generation 0 trains on ``n`` of them drawn at random.
    n: real digits, and generated digits added, per generation
        (``1 <= n <= N``).
    generations: retraining rounds after generation 0 (>= 1).
    seeds: independent repetitions (>= 1). Repetition i runs both policies
        from the i-th child of ``SeedSequence(seed)``, so the two share
        their generation 0 (same digits, same VAE).
    n_samples: samples of each generation whose latent spread
        (:func:`collapse_utils.measures.digits.latent_spread`) is measured
        under the repetition's generation-0 encoder (>= 2).
    seed: the root seed (>= 0).
    cache: cache every generation on disk (``collapse_utils.cache.Cache``,
        keyed by the digits, the settings and the code).

    Returns ``{"replace": [History, ...], "accumulate": [...]}``, one
    history per repetition, with the columns ``generation``, ``n_train``,
    ``n_real`` and ``latent_std``.

    Book: {ref}`ex-05-accumulate`
    """
    import sys
    from dataclasses import asdict

    from collapse_utils.cache import Cache, modules_used
    from collapse_utils.checks import check_bool, check_int
    from collapse_utils.families.vae import VAEFamily, check_images
    from collapse_utils.measures.digits import latent_spread

    if not isinstance(family, VAEFamily):
        raise ValueError(f"family must be a VAEFamily; got {family!r}")
    real = check_images(real)
    n = check_int("n", n, 1, len(real))
    generations = check_int("generations", generations, 1)
    seeds = check_int("seeds", seeds, 1)
    n_samples = check_int("n_samples", n_samples, 2)
    seed = check_int("seed", seed, 0)
    cache = check_bool("cache", cache)
    policies = {"replace": loop.Replace(), "accumulate": loop.Accumulate()}
    key = {"family": asdict(family), "real": _digest(real), "n": n,
           "n_samples": n_samples, "seed": seed}
    runs: dict[str, list] = {name: [] for name in policies}
    for i in range(seeds):

        def spread(step, i=i):  # samples drawn apart from training
            rng = np.random.default_rng([seed, i, step.generation])
            images = family.sample(step.model, n_samples, rng)
            return latent_spread(step.reference, images)

        for name, policy in policies.items():
            store = None
            if cache:  # keyed by this module and the library code it runs
                code = modules_used([family, policy, loop.run, latent_spread])
                store = Cache("05_ex_accumulate",
                              {**key, "policy": name, "repetition": i},
                              modules=[*code, sys.modules[__name__]])
            runs[name].append(loop.run(
                family, real=real, n=n, generations=generations,
                policy=policy, metrics={"latent_std": spread},
                # the i-th child of SeedSequence(seed), afresh for each
                # policy (the loop spawns from it)
                seed=np.random.SeedSequence(seed, spawn_key=(i,)),
                cache=store, progress=progress,
                desc=f"{name} {i + 1}/{seeds}"))
    return runs


def accumulate_summary(runs: dict[str, list]) -> dict[str, float]:
    """Chapter 05, ex-05-accumulate measured: the latent spread of
    :func:`accumulate_runs` at generation 0 and at the last generation,
    median, min and max over the repetitions, per policy.

    Returns the named numbers ``n``, ``generations``, ``seeds``,
    ``n_train_last`` (accumulate's last training set), ``first_*``
    (generation 0, which the policies share), ``<policy>_*`` (last
    generation) and ``<policy>_ratio_*`` (last over first, per
    repetition), with ``*`` in ``median``, ``min``, ``max``, and
    ``closer``: the repetitions in which accumulate's ratio is closer to 1
    than replace's.

    Book: {ref}`ex-05-accumulate`
    """
    if not (isinstance(runs, dict) and set(runs) == set(ACCUMULATE_POLICIES)):
        raise ValueError(f"runs must be accumulate_runs' dict with the keys "
                         f"{ACCUMULATE_POLICIES}; got {runs!r}")
    counts = {len(histories) for histories in runs.values()}
    lengths = {len(h) for histories in runs.values() for h in histories}
    if counts == {0} or len(counts) != 1 or len(lengths) != 1:
        raise ValueError("runs must hold as many histories per policy, "
                         "all of the same length, and at least one")
    spreads = {name: np.stack([h["latent_std"] for h in histories])
               for name, histories in runs.items()}
    flat = [name for name, s in spreads.items() if not np.all(s[:, 0] > 0)]
    if flat:
        raise ValueError(
            f"the latent spread of generation 0 is 0 (or not a number) in a repetition of {flat}: "
            "the ratios last/first are undefined; train with more images or epochs")
    sizes = runs["accumulate"][0]["n_train"]
    out = {"n": int(sizes[0]), "generations": len(sizes) - 1,
           "seeds": len(spreads["replace"]),
           "n_train_last": int(sizes[-1])}

    def spread_of(prefix, values):
        for name, f in (("median", np.median), ("min", np.min),
                        ("max", np.max)):
            out[f"{prefix}_{name}"] = float(f(values))

    spread_of("first", spreads["replace"][:, 0])
    change = {}
    for name, s in spreads.items():
        spread_of(name, s[:, -1])
        spread_of(f"{name}_ratio", s[:, -1] / s[:, 0])
        change[name] = np.abs(s[:, -1] / s[:, 0] - 1)
    out["closer"] = int(np.sum(change["accumulate"] < change["replace"]))
    return out
