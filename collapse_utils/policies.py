"""Data policies: what generation t of the retraining loop trains on.

A policy is any object with the :class:`Policy` protocol: a ``name``, how many
synthetic samples it wants (``n_synthetic(n)``) and how it assembles the next
training set from them (``assemble``). The book uses four (Definition
``def-policies`` of chapter 01): :class:`Replace`, :class:`Mix` (fresh or fixed
real data), :class:`Accumulate` and :class:`AccumulateSubsample`. A new
mitigation that changes the training set is a new policy; chapter 14's
``NewTask`` is one written in a notebook.

Data are numpy arrays, torch tensors or Python lists, indexed along the first
axis; :func:`concat` and :func:`take` work on all three.

Book: {ref}`def-policies`
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from collapse_utils.checks import check_bool, check_int, check_number

__all__ = [
    "Policy",
    "PolicyState",
    "Replace",
    "Mix",
    "Accumulate",
    "AccumulateSubsample",
    "make_policy",
    "POLICY_NAMES",
    "concat",
    "take",
]


# --- data helpers: numpy arrays, torch tensors and lists alike ------------------


def concat(batches: Sequence[Any]) -> Any:
    """Concatenate batches of data (arrays, tensors or lists) along the first axis.

    Book: {prf:ref}`def-policies`
    """
    first = batches[0]
    if isinstance(first, np.ndarray):
        return np.concatenate(batches, axis=0)
    if isinstance(first, list):
        return [item for batch in batches for item in batch]
    if type(first).__module__.startswith("torch"):
        import torch

        return torch.cat(list(batches), dim=0)
    raise TypeError(f"cannot concatenate data of type {type(first).__name__}")


def take(data: Any, index: np.ndarray) -> Any:
    """The items ``index`` of ``data`` (array, tensor or list), in that order.

    Book: {prf:ref}`def-policies`
    """
    if isinstance(data, list):
        return [data[i] for i in index]
    if type(data).__module__.startswith("torch"):
        import torch

        return data[torch.as_tensor(index, dtype=torch.long)]
    return data[index]


# --- the protocol ------------------------------------------------------------------


@dataclass
class PolicyState:
    """What a policy may keep between generations.

    ``real0`` is the real training set of the first fitted generation; a policy
    that keeps synthetic batches for later generations appends them to
    ``synthetic`` (the loop caches what was appended, so a resumed run sees the
    same state).

    Book: {prf:ref}`def-policies`
    """

    real0: Any
    synthetic: list = field(default_factory=list)


@runtime_checkable
class Policy(Protocol):
    """What the loop needs from a data policy.

    ``assemble(synthetic, state, draw_real, rng)`` gets the ``n_synthetic(n)``
    samples of the previous model, the :class:`PolicyState`, a function
    ``draw_real(k, rng)`` giving k fresh real points and the generation's random
    stream, and returns ``(training_set, n_real)``.

    Book: {prf:ref}`def-policies`
    """

    name: str

    def n_synthetic(self, n: int) -> int: ...

    def assemble(self, synthetic: Any, state: PolicyState,
                 draw_real: Callable[[int, np.random.Generator], Any],
                 rng: np.random.Generator) -> tuple[Any, int]: ...


@dataclass(frozen=True)
class Replace:
    """Generation t trains only on the n samples drawn from generation t-1.

    Book: {prf:ref}`def-policies`
    """

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

    Book: {prf:ref}`def-policies`
    """

    real_fraction: float
    fresh: bool = True
    name = "mix"

    def __post_init__(self):
        check_number("real_fraction", self.real_fraction, 0, 1)
        check_bool("fresh", self.fresh)

    def n_real(self, n: int) -> int:
        return int(round(self.real_fraction * n))

    def n_synthetic(self, n: int) -> int:
        return n - self.n_real(n)

    def assemble(self, synthetic, state, draw_real, rng):
        k = self.n_real(len(state.real0))
        if k == 0:
            return synthetic, 0
        real = draw_real(k, rng) if self.fresh else take(state.real0, np.arange(k))
        if len(synthetic) == 0:
            return real, k
        return concat([real, synthetic]), k


@dataclass(frozen=True)
class Accumulate:
    """Generation t trains on the real data plus every synthetic batch so far
    (Gerstgrasser et al. 2024).

    Book: {prf:ref}`def-policies`
    """

    name = "accumulate"

    def n_synthetic(self, n: int) -> int:
        return n

    def assemble(self, synthetic, state, draw_real, rng):
        state.synthetic.append(synthetic)
        return concat([state.real0, *state.synthetic]), len(state.real0)


@dataclass(frozen=True)
class AccumulateSubsample:
    """Like :class:`Accumulate`, but generation t trains on a uniform subsample of
    ``size`` points of the accumulated pool (Kazdan et al. 2024).

    Book: {prf:ref}`def-policies`
    """

    size: int
    name = "accumulate_subsample"

    def __post_init__(self):
        check_int("size", self.size, 1)

    def n_synthetic(self, n: int) -> int:
        return n

    def assemble(self, synthetic, state, draw_real, rng):
        state.synthetic.append(synthetic)
        pool = concat([state.real0, *state.synthetic])
        if len(pool) <= self.size:
            return pool, len(state.real0)
        index = np.sort(rng.choice(len(pool), size=self.size, replace=False))
        return take(pool, index), int(np.sum(index < len(state.real0)))


POLICY_NAMES = ("replace", "mix", "accumulate", "accumulate_subsample")


def make_policy(name: str, **options: Any) -> Policy:
    """Build a policy from its name: ``make_policy("mix", real_fraction=0.1)``.

    Book: {prf:ref}`def-policies`
    """
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
