"""The retraining loop: one generic loop, any model family, any data policy.

A *model family* knows how to ``fit(data, rng)`` a model and how to
``sample(model, n, rng)`` data from a fitted model. A *data policy* says what
generation t trains on. :func:`run` iterates fit -> sample -> assemble the next
training set, and records the metrics the caller asks for at every generation.
Every experiment of the book is this loop with another family or policy.
(Chapter 01, "The retraining loop".)

Conventions (notation of the book, chapter 01):

- If ``initial_model`` is given it *is* the true distribution p_0 (generation 0),
  and generation 1 is fitted to ``n`` draws from it: this is the theory
  chapters' setting, where sigma_0^2 is the true variance.
- Otherwise generation 0 is the model fitted to the real data (Shumailov et
  al.'s "generation 0"), and generation 1 is fitted to its samples.

Data are numpy arrays, torch tensors or Python lists, indexed along the first
axis (one sample per row or item).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from collapse_utils.checks import check_int, check_number

__all__ = [
    "ModelFamily",
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
]


class ModelFamily(Protocol):
    """What the loop needs from a model family (chapter 01)."""

    def fit(self, data: Any, rng: np.random.Generator) -> Any: ...

    def sample(self, model: Any, n: int, rng: np.random.Generator) -> Any: ...


# --- data helpers: numpy arrays, torch tensors and lists alike ------------------


def _concat(batches: Sequence[Any]) -> Any:
    first = batches[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(batches, axis=0)
    if isinstance(first, list):
        return [item for batch in batches for item in batch]
    if type(first).__module__.startswith("torch"):
        import torch

        return torch.cat(list(batches), dim=0)
    raise TypeError(f"cannot concatenate data of type {type(first).__name__}")


def _take(data: Any, index: np.ndarray) -> Any:
    if isinstance(data, list):
        return [data[i] for i in index]
    if type(data).__module__.startswith("torch"):
        import torch

        return data[torch.as_tensor(index, dtype=torch.long)]
    return data[index]


# --- data policies ---------------------------------------------------------------


@dataclass
class _PolicyState:
    real0: Any  # the real training set of the first fitted generation
    synthetic: list = field(default_factory=list)  # synthetic batches so far


@dataclass(frozen=True)
class Replace:
    """Generation t trains only on the n samples drawn from generation t-1."""

    name = "replace"

    def n_synthetic(self, n: int) -> int:
        return n

    def assemble(self, synthetic, state, draw_real, rng):
        return synthetic, 0


@dataclass(frozen=True)
class Mix:
    """Generation t trains on ``real_fraction`` of real data, the rest synthetic.

    ``fresh=True`` draws new real data each generation; ``fresh=False`` reuses one
    fixed real pool (the first ``round(real_fraction * n)`` points of the first
    real training set). The training set has ``n`` points in both cases.
    """

    real_fraction: float
    fresh: bool = True
    name = "mix"

    def __post_init__(self):
        check_number("real_fraction", self.real_fraction, 0, 1)
        if not isinstance(self.fresh, bool):
            raise ValueError(f"fresh must be True or False, got {self.fresh!r}")

    def n_real(self, n: int) -> int:
        return int(round(self.real_fraction * n))

    def n_synthetic(self, n: int) -> int:
        return n - self.n_real(n)

    def assemble(self, synthetic, state, draw_real, rng):
        k = self.n_real(len(state.real0))
        if k == 0:
            return synthetic, 0
        real = draw_real(k, rng) if self.fresh else _take(state.real0, np.arange(k))
        if len(synthetic) == 0:
            return real, k
        return _concat([real, synthetic]), k


@dataclass(frozen=True)
class Accumulate:
    """Generation t trains on the real data plus every synthetic batch so far
    (Gerstgrasser et al. 2024)."""

    name = "accumulate"

    def n_synthetic(self, n: int) -> int:
        return n

    def assemble(self, synthetic, state, draw_real, rng):
        state.synthetic.append(synthetic)
        return _concat([state.real0, *state.synthetic]), len(state.real0)


@dataclass(frozen=True)
class AccumulateSubsample:
    """Like :class:`Accumulate`, but generation t trains on a uniform subsample of
    ``size`` points of the accumulated pool (Kazdan et al. 2024)."""

    size: int
    name = "accumulate_subsample"

    def __post_init__(self):
        check_int("size", self.size, 1)

    def n_synthetic(self, n: int) -> int:
        return n

    def assemble(self, synthetic, state, draw_real, rng):
        state.synthetic.append(synthetic)
        pool = _concat([state.real0, *state.synthetic])
        if len(pool) <= self.size:
            return pool, len(state.real0)
        index = np.sort(rng.choice(len(pool), size=self.size, replace=False))
        return _take(pool, index), int(np.sum(index < len(state.real0)))


POLICY_NAMES = ("replace", "mix", "accumulate", "accumulate_subsample")


def make_policy(name: str, **options: Any):
    """Build a policy from its name: ``make_policy("mix", real_fraction=0.1)``."""
    classes = {
        "replace": Replace,
        "mix": Mix,
        "accumulate": Accumulate,
        "accumulate_subsample": AccumulateSubsample,
    }
    if name not in classes:
        raise ValueError(
            f"policy must be one of {', '.join(POLICY_NAMES)}; got {name!r}"
        )
    return classes[name](**options)


# --- the loop ----------------------------------------------------------------------


@dataclass
class Step:
    """What a metric sees at one generation: its index, model and training data.

    ``data`` is ``None`` at generation 0 when the loop starts from a given
    ``initial_model`` (the true distribution, which was not fitted)."""

    generation: int
    model: Any
    data: Any
    n_real: int


class History:
    """One row per generation: ``generation``, ``n_train``, ``n_real`` and the metrics.

    ``history["name"]`` is a column as a numpy array; :meth:`to_frame` gives a
    pandas DataFrame. ``final_model`` is the model of the last generation.
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
            return _take(real, np.sort(rng.choice(len(real), size=k, replace=False)))

        return draw
    return lambda k, rng: family.sample(initial_model, k, rng)


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
    policy: Any = "replace",
    n: int | None = None,
    real: Any = None,
    initial_model: Any = None,
    metrics: Mapping[str, Callable[[Step], Any]] | None = None,
    seed: int | np.random.SeedSequence = 0,
    cache: Any = None,
    progress: bool | None = None,
    desc: str | None = None,
) -> History:
    """Run ``generations`` rounds of iterative retraining and return the history.

    family: the model family (``fit`` and ``sample``). A family whose attribute
        ``fit_needs_generation`` is true is called as ``fit(data, rng, generation=t)``.
    generations: number of retraining rounds (>= 0); the history has
        ``generations + 1`` rows, generation 0 included.
    policy: a policy object or one of ``POLICY_NAMES`` (``"mix"`` needs options,
        so pass ``Mix(...)`` for it).
    n: samples per generation (>= 1). Defaults to the size of ``real`` when that
        is a data set.
    real: the real data: a data set (array, tensor or list) or a callable
        ``real(k, rng)`` returning k fresh draws from p_0. Optional when
        ``initial_model`` is given (then real draws are its samples).
    initial_model: the true distribution as a model of ``family`` (see the
        module docstring for the two conventions).
    metrics: ``{name: f(step)}``, each recorded at every generation.
    seed: an integer or a ``SeedSequence``. Generation t uses its own stream
        spawned from the seed, so the same seed gives the same history bit for
        bit, and a run resumed from ``cache`` continues exactly as if it had
        never stopped.
    cache: a :class:`collapse_utils.cache.Cache`; each generation's model, the
        synthetic batch and the metrics row are stored there and reused.
    progress: show a tqdm progress bar (default: in Jupyter and on a terminal,
        not when the output is redirected or ``COLLAPSE_PROGRESS=0``, which the
        book build sets).
    desc: the progress bar's label (default: the policy's name).
    """
    generations = check_int("generations", generations, 0)
    if isinstance(policy, str):
        if policy not in ("replace", "accumulate"):
            raise ValueError(
                f"policy must be a policy object or one of 'replace', 'accumulate' "
                f"(mix and accumulate_subsample need options: use Mix(...), "
                f"AccumulateSubsample(...)); got {policy!r}"
            )
        policy = make_policy(policy)
    if not hasattr(policy, "assemble"):
        raise ValueError(
            f"policy must be one of {', '.join(POLICY_NAMES)} or a policy object; got {policy!r}"
        )
    if real is None and initial_model is None:
        raise ValueError("give the real data (real=...) or the true model (initial_model=...)")
    if n is None:
        if real is None or callable(real):
            raise ValueError("n (samples per generation) is required unless real is a data set")
        n = len(real)
    n = check_int("n", n, 1)
    metrics = dict(metrics or {})
    for name, f in metrics.items():
        if not callable(f):
            raise ValueError(f"metric {name!r} must be callable, got {f!r}")

    streams = _seed_sequence(seed).spawn(generations + 1)
    draw_real = _real_sampler(real, initial_model, family)
    first_fit = 1 if initial_model is not None else 0
    state: _PolicyState | None = None
    model = initial_model
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
            if t == first_fit:
                state = _PolicyState(real0=cached["real0"])
            elif cached["synthetic"] is not None:
                state.synthetic.append(cached["synthetic"])
            rows.append(row)
            continue
        rng = np.random.default_rng(streams[t])
        real0 = None
        kept_batch = None  # a synthetic batch the policy keeps for later generations
        if t < first_fit:
            data, n_real = None, 0
        elif t == first_fit:
            real0 = draw_real(n, rng)
            state = _PolicyState(real0=real0)
            data, n_real = real0, len(real0)
        else:
            synthetic = family.sample(model, policy.n_synthetic(n), rng)
            before = len(state.synthetic)
            data, n_real = policy.assemble(synthetic, state, draw_real, rng)
            if len(state.synthetic) > before:
                kept_batch = state.synthetic[-1]
        if t >= first_fit:
            if getattr(family, "fit_needs_generation", False):  # e.g. families.CycleFamily (chapter 10)
                model = family.fit(data, rng, generation=t)
            else:
                model = family.fit(data, rng)
        step = Step(generation=t, model=model, data=data, n_real=n_real)
        row = {"generation": t, "n_train": 0 if data is None else len(data), "n_real": n_real}
        for name, f in metrics.items():
            row[name] = f(step)
        rows.append(row)
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
    bit for bit on the CPU. Returns the seed used. (Chapter 01.)"""
    import torch

    seed = int(rng.integers(2**63 - 1))
    torch.manual_seed(seed)
    return seed


def run_chains(chains: int, *, seed: int = 0, progress: bool | None = None, **kwargs) -> list[History]:
    """Run ``chains`` independent copies of :func:`run` (independent random streams).

    All other keyword arguments go to :func:`run`. Chain i uses the i-th child of
    ``SeedSequence(seed)``, so chains never share random numbers.
    """
    chains = check_int("chains", chains, 1)
    from tqdm.auto import tqdm

    seeds = _seed_sequence(seed).spawn(chains)
    return [
        run(seed=s, progress=False, **kwargs)
        for s in tqdm(seeds, desc="chains", disable=_progress_disable(progress), leave=False)
    ]


def stack(histories: Iterable[History], name: str) -> np.ndarray:
    """Column ``name`` of several histories as an array (chains x generations)."""
    return np.stack([h[name] for h in histories])
