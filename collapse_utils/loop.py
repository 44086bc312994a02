"""The retraining loop: one generic loop, any model family, any data policy.

A *model family* knows how to ``fit(data, rng, *, generation)`` a model and how
to ``sample(model, n, rng)`` data from a fitted model. A *data policy*
(:mod:`collapse_utils.policies`) says what generation t trains on. :func:`run`
iterates fit -> sample -> assemble the next training set, and records the
metrics the caller asks for at every generation. Every experiment of the book
is this loop with another family, policy or hook:

- ``sampler=``: how synthetic data is drawn (a decoding rule such as
  :class:`collapse_utils.samplers.Decoding`, or any callable);
- ``filter=``: a verifier or detector that keeps or rejects synthetic samples;
- every :class:`Step` carries ``reference``, generation 0's model;
- :func:`run_chains` runs independent chains, each cached on its own.

Conventions (notation of the book, chapter 01):

- If ``initial_model`` is given it *is* the true distribution p_0 (generation 0),
  and generation 1 is fitted to ``n`` draws from it: this is the theory
  chapters' setting, where sigma_0^2 is the true variance.
- Otherwise generation 0 is the model fitted to the real data (Shumailov et
  al.'s "generation 0"), and generation 1 is fitted to its samples.

Data are numpy arrays, torch tensors or Python lists, indexed along the first
axis (one sample per row or item).

This module is longer than 400 lines because the loop is one control flow
(seeding, policy state, hooks, cache resume) that a reader should find in one
place, next to the records it returns (:class:`Step`, :class:`History`).

Book: {prf:ref}`def-iterative-retraining`
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from collapse_utils.checks import check_int, check_rng
from collapse_utils.policies import (
    POLICY_NAMES,
    Accumulate,
    AccumulateSubsample,
    Mix,
    Policy,
    PolicyState,
    Replace,
    concat,
    make_policy,
    take,
)

__all__ = [
    "ModelFamily",
    "Policy",
    "PolicyState",
    "Replace",
    "Mix",
    "Accumulate",
    "AccumulateSubsample",
    "make_policy",
    "POLICY_NAMES",
    "Step",
    "History",
    "run",
    "run_chains",
    "stack",
    "seed_torch",
    "MAX_FILTER_ROUNDS",
]

# HOOKS-READY: Policy protocol, sampler= and filter=, Step.reference, generation= to every fit,
# run_chains(cache=...).


class ModelFamily(Protocol):
    """What the loop needs from a model family: ``fit`` and ``sample``.

    ``fit`` is always called with the generation it fits (``generation=t``), so a
    family that changes with the generation (``families.cycle.CycleFamily``)
    needs nothing special; a family that does not care ignores it.

    Book: {ref}`def-iterative-retraining`
    """

    def fit(self, data: Any, rng: np.random.Generator, *, generation: int | None = None) -> Any: ...

    def sample(self, model: Any, n: int, rng: np.random.Generator) -> Any: ...


# --- the loop ----------------------------------------------------------------------


@dataclass
class Step:
    """What a metric sees at one generation: its index, model and training data.

    ``data`` is ``None`` at generation 0 when the loop starts from a given
    ``initial_model`` (the true distribution, which was not fitted).
    ``reference`` is generation 0's model: the ``initial_model`` when given,
    else the model fitted to the real data. Metrics that compare a generation
    with the start (an encoder, a perplexity under the first model) use it; it
    is the same object at every generation, also when earlier generations were
    loaded from a cache.

    Book: {ref}`def-iterative-retraining`
    """

    generation: int
    model: Any
    data: Any
    n_real: int
    reference: Any = None


class History:
    """One row per generation: ``generation``, ``n_train``, ``n_real`` and the metrics.

    ``history["name"]`` is a column as a numpy array; :meth:`to_frame` gives a
    pandas DataFrame. ``final_model`` is the model of the last generation.

    Book: {prf:ref}`def-iterative-retraining`
    """

    def __init__(self, rows: list[dict], final_model: Any = None):
        self.rows = rows
        self.final_model = final_model

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, name: str) -> np.ndarray:
        if not self.rows or name not in self.rows[0]:
            known = ", ".join(self.rows[0]) if self.rows else "none"
            raise KeyError(f"no column {name!r} in the history; columns: {known}")
        return np.array([row[name] for row in self.rows])

    @property
    def columns(self) -> list[str]:
        return list(self.rows[0]) if self.rows else []

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame(self.rows).set_index("generation")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return _rows_equal(self.rows, other.rows)


def _rows_equal(a: list[dict], b: list[dict]) -> bool:
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        if ra.keys() != rb.keys():
            return False
        for k in ra:
            if not np.array_equal(np.asarray(ra[k]), np.asarray(rb[k])):
                return False
    return True


def _progress_disable(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: shown in Jupyter and on a terminal, hidden when output is
    not interactive, when ``progress=False`` or when ``COLLAPSE_PROGRESS=0``."""
    if progress is not None:
        return not progress
    if os.environ.get("COLLAPSE_PROGRESS", "1") == "0":
        return True
    return False if "ipykernel" in sys.modules else None  # None: hide unless a terminal


def _real_sampler(real, initial_model, family) -> Callable[[int, np.random.Generator], Any]:
    if callable(real):
        return real
    if real is not None:
        def draw(k: int, rng: np.random.Generator):
            if k > len(real):
                raise ValueError(f"asked for {k} real points but the real data has {len(real)}")
            return take(real, np.sort(rng.choice(len(real), size=k, replace=False)))

        return draw
    return lambda k, rng: family.sample(initial_model, k, rng)


def _check_fit_signature(family) -> None:
    import inspect

    try:
        parameters = inspect.signature(family.fit).parameters
    except (TypeError, ValueError):  # a builtin or C callable: trust it
        return
    accepts = "generation" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    if not accepts:
        raise ValueError(
            f"{type(family).__name__}.fit must accept the keyword generation= "
            f"(the loop passes the generation to every fit): def fit(self, data, rng, *, generation=None)"
        )


#: At most this many draws (in multiples of the batch asked for) when a filter rejects samples.
MAX_FILTER_ROUNDS = 100
#: Bounds a run can honour: beyond them numpy allocates for minutes (spawning 10^8
#: seed streams) or fails deep inside a family; refused up front instead.
MAX_GENERATIONS = 10**6
MAX_SAMPLES = 10**9
MAX_CHAINS = 10**7


def _draw_synthetic(family, model, k, rng, sampler, filter, previous):
    """k samples of ``model``: through ``sampler`` if given, kept by ``filter`` if given."""
    def draw(m):
        return sampler(family, model, m, rng) if sampler is not None else family.sample(model, m, rng)

    if filter is None or k == 0:
        return draw(k)
    kept, have = [], 0
    for _ in range(MAX_FILTER_ROUNDS):
        batch = draw(k)
        mask = np.asarray(filter(batch, previous, rng))
        if mask.dtype != bool or mask.shape != (len(batch),):
            raise ValueError(
                f"filter must return a boolean mask of shape ({len(batch)},); got dtype {mask.dtype}, "
                f"shape {mask.shape}"
            )
        accepted = take(batch, np.flatnonzero(mask))
        if len(accepted):
            kept.append(accepted)
            have += len(accepted)
        if have >= k:
            return take(concat(kept), np.arange(k))
    raise ValueError(
        f"filter accepted {have} of {k * MAX_FILTER_ROUNDS} samples at generation {previous.generation + 1}; "
        f"it needs at least {k}: an acceptance rate below 1/{MAX_FILTER_ROUNDS} is refused"
    )


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


def run(
    family: ModelFamily,
    *,
    generations: int,
    policy: Policy | str = "replace",
    n: int | None = None,
    real: Any = None,
    initial_model: Any = None,
    metrics: Mapping[str, Callable[[Step], Any]] | None = None,
    seed: int | np.random.SeedSequence = 0,
    cache: Any = None,
    progress: bool | None = None,
    desc: str | None = None,
    sampler: Callable[[Any, Any, int, np.random.Generator], Any] | None = None,
    filter: Callable[[Any, Step, np.random.Generator], Any] | None = None,  # noqa: A002 (the hook's name)
) -> History:
    """Run ``generations`` rounds of iterative retraining and return the history.

    family: the model family (``fit`` and ``sample``); ``fit`` receives the
        generation it fits as ``generation=t``.
    generations: number of retraining rounds (>= 0); the history has
        ``generations + 1`` rows, generation 0 included.
    policy: a :class:`Policy` or one of ``"replace"``, ``"accumulate"``
        (``Mix`` and ``AccumulateSubsample`` need options).
    n: samples per generation (>= 1). Defaults to the size of ``real`` when that
        is a data set.
    real: the real data: a data set (array, tensor or list) or a callable
        ``real(k, rng)`` returning k fresh draws from p_0. Optional when
        ``initial_model`` is given (then real draws are its samples).
    initial_model: the true distribution as a model of ``family`` (see the
        module docstring for the two conventions).
    metrics: ``{name: f(step)}``, each recorded at every generation; ``step`` is
        a :class:`Step` (with ``reference``, generation 0's model).
    seed: an integer or a ``SeedSequence``. Generation t uses its own stream
        spawned from the seed, so the same seed gives the same history bit for
        bit, and a run resumed from ``cache`` continues exactly as if it had
        never stopped.
    cache: a :class:`collapse_utils.cache.Cache`; each generation's model, the
        synthetic batch the policy keeps and the metrics row are stored there
        and reused.
    progress: show a tqdm progress bar (default: in Jupyter and on a terminal,
        not when the output is redirected or ``COLLAPSE_PROGRESS=0``, which the
        book build sets).
    desc: the progress bar's label (default: the policy's name).
    sampler: how synthetic data is drawn: ``sampler(family, model, k, rng)``
        instead of ``family.sample(model, k, rng)``; e.g. a
        :class:`collapse_utils.samplers.Decoding` (temperature, top-k, top-p).
    filter: a verifier or detector: ``filter(samples, step, rng)`` returns a
        boolean mask of the samples to keep, where ``step`` is the generation
        that drew them; the loop draws until it has enough kept samples.

    Book: {ref}`def-iterative-retraining`
    """
    generations = check_int("generations", generations, 0, MAX_GENERATIONS)
    if family is None or not (callable(getattr(family, "fit", None)) and callable(getattr(family, "sample", None))):
        raise ValueError(f"family must have fit(data, rng, *, generation) and sample(model, n, rng); got {family!r}")
    if isinstance(policy, str):
        if policy not in ("replace", "accumulate"):
            raise ValueError(
                f"policy must be a policy object or one of 'replace', 'accumulate' "
                f"(mix and accumulate_subsample need options: use Mix(...), "
                f"AccumulateSubsample(...)); got {policy!r}"
            )
        policy = make_policy(policy)
    if not isinstance(policy, Policy):
        raise ValueError(
            f"policy must be one of {', '.join(POLICY_NAMES)} or an object with the Policy protocol "
            f"(name, n_synthetic, assemble); got {policy!r}"
        )
    if real is None and initial_model is None:
        raise ValueError("give the real data (real=...) or the true model (initial_model=...)")
    if n is None:
        if real is None or callable(real):
            raise ValueError("n (samples per generation) is required unless real is a data set")
        n = len(real)
    n = check_int("n", n, 1, MAX_SAMPLES)
    if metrics is not None and not isinstance(metrics, Mapping):
        raise ValueError(f"metrics must be a mapping {{name: f(step)}} or None; got {metrics!r}")
    metrics = dict(metrics or {})
    for name, f in metrics.items():
        if not callable(f):
            raise ValueError(f"metric {name!r} must be callable, got {f!r}")
    for name, hook in (("sampler", sampler), ("filter", filter)):
        if hook is not None and not callable(hook):
            raise ValueError(f"{name} must be callable or None, got {hook!r}")
    _check_fit_signature(family)

    streams = _seed_sequence(seed).spawn(generations + 1)
    draw_real = _real_sampler(real, initial_model, family)
    first_fit = 1 if initial_model is not None else 0
    state: PolicyState | None = None
    model = reference = initial_model
    previous: Step | None = None
    rows: list[dict] = []

    from tqdm.auto import tqdm

    bar = tqdm(
        range(generations + 1),
        desc=desc or getattr(policy, "name", "loop"),
        disable=_progress_disable(progress),
        leave=False,
    )
    for t in bar:
        cached = cache.load(t) if cache is not None else None
        if cached is not None:
            model, row = cached["model"], cached["row"]
            if t == 0:
                reference = model if initial_model is None else initial_model
            if t == first_fit:
                state = PolicyState(real0=cached["real0"])
            elif cached["synthetic"] is not None:
                state.synthetic.append(cached["synthetic"])
            previous = Step(generation=t, model=model, data=None, n_real=row["n_real"], reference=reference)
            rows.append(row)
            continue
        rng = np.random.default_rng(streams[t])
        real0 = None
        kept_batch = None  # a synthetic batch the policy keeps for later generations
        if t < first_fit:
            data, n_real = None, 0
        elif t == first_fit:
            real0 = draw_real(n, rng)
            state = PolicyState(real0=real0)
            data, n_real = real0, len(real0)
        else:
            synthetic = _draw_synthetic(family, model, policy.n_synthetic(n), rng, sampler, filter, previous)
            before = len(state.synthetic)
            data, n_real = policy.assemble(synthetic, state, draw_real, rng)
            if len(state.synthetic) > before:
                kept_batch = state.synthetic[-1]
        if t >= first_fit:
            model = family.fit(data, rng, generation=t)
        if t == 0:
            reference = model
        step = Step(generation=t, model=model, data=data, n_real=n_real, reference=reference)
        row = {"generation": t, "n_train": 0 if data is None else len(data), "n_real": n_real}
        for name, f in metrics.items():
            row[name] = f(step)
        rows.append(row)
        previous = step
        if cache is not None:
            cache.save(
                t,
                {
                    "model": model,
                    "row": row,
                    "real0": real0,
                    "synthetic": kept_batch,
                },
            )
    return History(rows, final_model=model)


def seed_torch(rng: np.random.Generator) -> int:
    """Seed torch from the generation's numpy stream; model families that use torch
    call this at the top of ``fit`` and ``sample`` so the loop stays reproducible
    bit for bit on the CPU. Returns the seed used. (Chapter 01.)

    Book: {prf:ref}`def-iterative-retraining`
    """
    import torch

    seed = int(check_rng("rng", rng).integers(2**63 - 1))
    torch.manual_seed(seed)
    return seed


def run_chains(
    chains: int,
    *,
    seed: int | np.random.SeedSequence = 0,
    progress: bool | None = None,
    cache: str | None = None,
    cache_params: Mapping[str, Any] | None = None,
    cache_root: Any = None,
    **kwargs,
) -> list[History]:
    """Run ``chains`` independent copies of :func:`run` (independent random streams).

    All other keyword arguments go to :func:`run`. Chain i uses the i-th child of
    ``SeedSequence(seed)``, so chains never share random numbers.

    cache: a name (letters, digits, ``-``, ``_``) to cache every chain on disk:
        chain i gets ``Cache(cache, {**cache_params, "seed": seed, "chain": i})``
        whose code version covers the modules of the family, the policy, the
        sampler and the filter (and what they import from ``collapse_utils``).
        The number of generations is not part of the key, so a longer run
        reuses the generations of a shorter one.
    cache_params: everything else the result depends on (JSON-like values).
    cache_root: the cache's root folder (default: ``$COLLAPSE_CACHE_DIR``).

    Book: {ref}`def-iterative-retraining`
    """
    chains = check_int("chains", chains, 1, MAX_CHAINS)
    if cache is None and (cache_params is not None or cache_root is not None):
        raise ValueError("cache_params and cache_root need cache=<name>")
    if "cache" in kwargs:
        raise ValueError("run_chains caches per chain: pass cache=<name> and cache_params={...}")
    seed_key = seed if not isinstance(seed, np.random.SeedSequence) else repr(seed.entropy)
    seeds = _seed_sequence(seed).spawn(chains)
    caches = [None] * chains
    if cache is not None:
        from collapse_utils.cache import Cache

        uses = [kwargs.get("family"), kwargs.get("policy"), kwargs.get("sampler"), kwargs.get("filter"), run]
        params = dict(cache_params or {})
        caches = [Cache(cache, {**params, "seed": seed_key, "chain": i}, uses=uses, root=cache_root)
                  for i in range(chains)]
    from tqdm.auto import tqdm

    return [
        run(seed=s, progress=False, cache=c, **kwargs)
        for s, c in tqdm(list(zip(seeds, caches)), desc="chains", disable=_progress_disable(progress), leave=False)
    ]


def stack(histories: Iterable[History], name: str) -> np.ndarray:
    """Column ``name`` of several histories as an array (chains x generations).

    Book: {prf:ref}`def-iterative-retraining`
    """
    return np.stack([h[name] for h in histories])
