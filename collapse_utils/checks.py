"""Argument checks shared by every helper: a clear ``ValueError`` naming the
argument and the allowed values, raised before any computation.
(Chapter: "How to run this book".)"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (``high=None``: no upper bound).

    Book: {doc}`book/how_to_run`
    """
    ok = not isinstance(value, bool) and isinstance(value, (int, np.integer))
    if not ok or value < low or (high is not None and value > high):
        allowed = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return int(value)


def check_number(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    strict: bool = False,
) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``strict``).

    Book: {doc}`book/how_to_run`
    """
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(value)
    )
    if ok and low is not None:
        ok = value > low if strict else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        if low is not None and high is not None:
            allowed = f"a finite number in {'(' if strict else '['}{low}, {high}]"
        elif low is not None:
            allowed = f"a finite number {'>' if strict else '>='} {low}"
        elif high is not None:
            allowed = f"a finite number <= {high}"
        else:
            allowed = "a finite number"
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return float(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0.

    Book: {doc}`book/how_to_run`
    """
    return check_number(name, value, low=0, strict=True)


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``.

    Book: {doc}`book/how_to_run`
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")
    return value


def check_array(name: str, value: Any, allowed: str = "finite numbers") -> np.ndarray:
    """``value`` (a number, a numpy scalar or an array of numbers) as a float array of
    finite numbers; a ``ValueError`` naming ``name`` and ``allowed`` for anything
    else: strings (numpy would parse ``"0.5"``), booleans, objects, NaN or inf.

    Book: {doc}`book/how_to_run`
    """
    raw = None if isinstance(value, (str, bytes, bool)) else np.asarray(value)
    if raw is None or raw.dtype.kind not in "iuf" or not np.all(np.isfinite(raw)):
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return raw.astype(float)


def check_fractions(name: str, value: Any) -> np.ndarray:
    """``value`` (a number or an array of numbers) as a float array, every entry in [0, 1].

    Book: {doc}`book/how_to_run`
    """
    raw = np.asarray(value) if not isinstance(value, bool) else None  # a string is not a number
    arr = raw.astype(float) if raw is not None and raw.dtype.kind in "iuf" else None
    if arr is None or not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must be a number or an array of numbers in [0, 1]; got {value!r}")
    return arr


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is ``True`` or ``False`` (not 0, 1 or a string).

    Book: {doc}`book/how_to_run`
    """
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return value



def check_sample_1d(name: str, data: Any, minimum: int, minimum_name: str | None = None) -> np.ndarray:
    """``data`` as a float vector of at least ``minimum`` finite numbers, from shape
    ``(n,)`` or ``(n, 1)``; a ``ValueError`` naming ``name`` and the shape otherwise
    (and the parameter that sets the minimum, ``minimum_name``, if given).

    Book: {doc}`book/how_to_run`
    """
    raw = np.asarray(data)
    x = raw.astype(float) if raw.dtype.kind in "iuf" else np.full(raw.shape, np.nan)  # strings, bools: refused
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or len(x) < minimum or not np.all(np.isfinite(x)):
        raise ValueError(
            f"{name} must be finite numbers of shape (n,) or (n, 1) with n >= "
            f"{minimum_name + ' = ' if minimum_name else ''}{minimum}; "
            f"got shape {np.shape(data)}{'' if raw.dtype.kind in 'iuf' else f' of dtype {raw.dtype}'}"
        )
    return x


def check_seed(name: str, value: Any):
    """A seed numpy accepts: ``None``, a non-negative integer (numpy's too), a list
    of them, or a ``SeedSequence`` / ``Generator`` / ``BitGenerator``; a
    ``ValueError`` naming ``name`` otherwise, before numpy sees it.

    Book: {doc}`book/how_to_run`
    """
    if value is None or isinstance(value, (np.random.SeedSequence, np.random.Generator, np.random.BitGenerator)):
        return value
    def whole(v):
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
    if whole(value):
        return int(value)
    if isinstance(value, (list, tuple)) and value and all(whole(v) for v in value):
        return [int(v) for v in value]
    raise ValueError(f"{name} must be None, a non-negative integer (or a list of them) or a numpy "
                     f"SeedSequence / Generator; got {value!r}")


def check_rng(name: str, value: Any) -> np.random.Generator:
    """``value`` if it is a numpy ``Generator`` (what the loop hands every ``fit`` and
    ``sample``); a ``ValueError`` naming ``name`` otherwise (``None``, a seed, the
    legacy ``RandomState``), before anything draws from it.

    Book: {doc}`book/how_to_run`
    """
    if not isinstance(value, np.random.Generator):
        raise ValueError(f"{name} must be a numpy Generator, e.g. np.random.default_rng(seed); got {value!r}")
    return value


MEMORY_ENV = "COLLAPSE_MAX_MEMORY_GB"


def memory_limit() -> int:
    """Bytes one array may take: ``$COLLAPSE_MAX_MEMORY_GB`` GiB if set, else half
    this machine's memory (8 GiB if it cannot be read).

    Book: {doc}`book/how_to_run`
    """
    import os

    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return int(float(env) * 2**30)
        except ValueError:
            raise ValueError(f"{MEMORY_ENV} must be a number of GiB; got {env!r}") from None
    try:
        import psutil

        return int(psutil.virtual_memory().total // 2)
    except Exception:  # pragma: no cover - psutil is pinned
        return 8 * 2**30


def check_memory(what: str, n_bytes: float, hint: str = "") -> None:
    """Refuse, before allocating, an array of ``n_bytes`` above :func:`memory_limit`;
    the message says how much ``what`` would need.

    Book: {doc}`book/how_to_run`
    """
    import os

    limit = memory_limit()
    if n_bytes > limit:
        source = f"set by {MEMORY_ENV}" if os.environ.get(MEMORY_ENV) else \
            f"half this machine's memory; {MEMORY_ENV} changes it"
        raise ValueError(f"{what} would need {n_bytes / 2**30:,.1f} GiB of memory, more than the "
                         f"{limit / 2**30:,.1f} GiB allowed ({source}){'; ' + hint if hint else ''}")
