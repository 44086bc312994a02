"""Zipf-distributed tokens, tail cutting and the change of scaling law (chapter 12).

Chapter 12 ("A tale of tails") follows Dohmatob et al. (2024). Tokens have ranks
1..V and probabilities p_i proportional to i^(-beta) (:func:`zipf_probs`), or the
real English word frequencies shipped by ``wordfreq`` (:func:`english_word_probs`).
A model *learns the empirical distribution* of T training tokens; its error
on a fresh token is the probability that the token never occurred in training
(the memorising learner of Hutter's model that Dohmatob et al. analyse):

- :func:`test_error` for one training set, :func:`expected_error` in expectation,
  sum_i p_i (1 - q_i)^T when the T tokens are drawn from q;
- :func:`clean_error_asymptotic`: about Gamma(1 - 1/beta) / (beta zeta(beta)^(1/beta))
  T^(-(1 - 1/beta)) for clean data;
- :func:`cut_tail` (keep the k most probable tokens) and :func:`tail_mass`,
  the floor the error cannot go below when training data come from a model that
  cut its tail at rank k; asymptotically k^(-(beta-1)) / ((beta-1) zeta(beta))
  (:func:`tail_floor_asymptotic`);
- :func:`simulate_generations`: generation after generation, each model the
  empirical distribution of T tokens drawn from the previous one (optionally
  cut at k and mixed with a share of clean tokens).

The ``transform`` argument of :func:`simulate_generations` is the hook for
sampling schemes (temperature, top-k, top-p): any function from a probability
vector to a probability vector, applied to a model before it generates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import special

from collapse_utils.checks import check_array, check_int, check_memory, check_number, check_seed

__all__ = [
    "zipf_probs",
    "english_word_probs",
    "fit_power_law",
    "fit_zipf_exponent",
    "cut_tail",
    "tail_mass",
    "sample_counts",
    "test_error",
    "expected_error",
    "clean_error_asymptotic",
    "tail_floor_asymptotic",
    "apply_transform",
    "simulate_generations",
]


def _probs(p, name="p"):
    arr = check_array(name, p, "a non-empty 1-D array of non-negative numbers")
    if arr.ndim != 1 or arr.size == 0 or np.any(arr < 0):
        raise ValueError(f"{name} must be a non-empty 1-D array of non-negative numbers")
    total = arr.sum()
    if not abs(total - 1.0) < 1e-6:
        raise ValueError(f"{name} must sum to 1; its sum is {total!r}")
    return arr


def zipf_probs(vocab: int, beta: float) -> np.ndarray:
    """p_i proportional to i^(-beta) over ranks 1..vocab, normalised (chapter 12).

    Book: {prf:ref}`def-12-zipf`
    """
    vocab = check_int("vocab", vocab, 1)
    beta = check_number("beta", beta, 1, strict=True)
    check_memory(f"zipf_probs(vocab={vocab:,})", 16 * vocab, "use a smaller vocabulary")
    p = np.arange(1, vocab + 1, dtype=float) ** -beta
    return p / p.sum()


def english_word_probs(vocab: int | None = None, *, wordlist: str = "large") -> tuple[list[str], np.ndarray]:
    """Real English word frequencies from ``wordfreq``, sorted, renormalised (chapter 12).

    Returns ``(words, probs)`` for the ``vocab`` most frequent words (all of
    them by default; about 320,000 in the ``large`` list). ``wordfreq`` ships
    its data, so this works offline. Its frequencies are rounded to a
    logarithmic grid, so neighbouring ranks share values.

    Book: {prf:ref}`def-12-zipf`
    """
    if wordlist not in ("large", "best", "small"):
        raise ValueError(f"wordlist must be one of large, best, small; got {wordlist!r}")
    if vocab is not None:
        vocab = check_int("vocab", vocab, 1)
    try:
        import wordfreq
    except ImportError as err:  # pragma: no cover - wordfreq is in requirements.txt
        raise ImportError("english_word_probs needs the wordfreq package: pip install wordfreq") from err
    freqs = wordfreq.get_frequency_dict("en", wordlist=wordlist)
    items = sorted(freqs.items(), key=lambda kv: (-kv[1], kv[0]))
    if vocab is not None:
        items = items[:vocab]
    words = [w for w, _ in items]
    p = np.array([f for _, f in items], dtype=float)
    return words, p / p.sum()


def fit_power_law(x, y) -> float:
    """Least-squares slope of log y against log x (chapter 12): y ~ x^slope.

    Book: {doc}`notebooks/12_tale_of_tails`
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be 1-D arrays of the same length >= 2 with positive values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def fit_zipf_exponent(probs, first: int = 10, last: int = 10_000) -> float:
    """beta of p_i ~ i^(-beta) fitted on ranks first..last (chapter 12).

    Book: {prf:ref}`def-12-zipf`
    """
    p = _probs(probs, "probs")
    first = check_int("first", first, 1)
    last = check_int("last", last, first + 1)
    if last > p.size:
        raise ValueError(f"last must be <= the vocabulary size {p.size}; got {last}")
    ranks = np.arange(first, last + 1)
    return -fit_power_law(ranks, p[first - 1 : last])


def cut_tail(p, k: int) -> np.ndarray:
    """Keep the k most probable tokens and renormalise (chapter 12; top-k with ties broken by rank).

    Book: {prf:ref}`prop-12-floor`
    """
    p = _probs(p)
    k = check_int("k", k, 1)
    if k >= p.size:
        return p.copy()
    threshold = np.partition(p, p.size - k)[p.size - k]  # the k-th largest value
    keep = p > threshold
    ties = np.flatnonzero(p == threshold)[: k - int(keep.sum())]  # lowest ranks first
    keep[ties] = True
    out = np.where(keep, p, 0.0)
    return out / out.sum()


def tail_mass(p, k) -> np.ndarray:
    """sum_(i>k) p_i for sorted p: the error floor after a tail cut at rank k (chapter 12).

    Book: {prf:ref}`prop-12-floor`
    """
    p = _probs(p)
    ks = np.asarray(k)
    if ks.dtype.kind not in "iu" or np.any(ks < 0):
        raise ValueError(f"k must be an integer >= 0 or an array of them; got {k!r}")
    upper = np.concatenate([[1.0], 1.0 - np.cumsum(p)])
    return np.clip(upper[np.minimum(ks, p.size)], 0.0, None)


def sample_counts(q, tokens: int, rng: np.random.Generator) -> np.ndarray:
    """Counts of ``tokens`` draws from q (one multinomial draw) (chapter 12).

    Book: {prf:ref}`def-12-learner`
    """
    q = _probs(q, "q")
    tokens = check_int("tokens", tokens, 0)
    return rng.multinomial(tokens, q)


def test_error(p, counts) -> float:
    """Probability that a fresh token from p never occurred in training (chapter 12).

    The error of a model that memorises what it saw (Hutter's model, used by
    Dohmatob et al.): sum of p_i over tokens with count 0.

    Book: {prf:ref}`def-12-learner`
    """
    p = _probs(p)
    counts = np.asarray(counts)
    if counts.shape != p.shape:
        raise ValueError(f"counts must have the shape of p {p.shape}; got {counts.shape}")
    return float(p[counts == 0].sum())


def expected_error(p, tokens, q=None) -> np.ndarray:
    """E[test error] = sum_i p_i (1 - q_i)^T when T tokens are drawn from q (default p) (chapter 12).

    ``tokens`` may be an array of training sizes T.

    Book: {prf:ref}`def-12-learner`
    """
    p = _probs(p)
    q = p if q is None else _probs(q, "q")
    if q.shape != p.shape:
        raise ValueError(f"q must have the shape of p {p.shape}; got {q.shape}")
    T = np.asarray(tokens, dtype=float)
    if np.any(T < 0) or not np.all(np.isfinite(T)):
        raise ValueError(f"tokens must be numbers >= 0; got {tokens!r}")
    log_miss = np.log1p(-np.minimum(q, 1.0 - 1e-300))
    flat = np.array([float(p @ np.exp(t * log_miss)) for t in T.ravel()])
    return flat.reshape(T.shape)


def clean_error_asymptotic(beta: float, tokens) -> np.ndarray:
    """Gamma(1 - 1/beta) / (beta zeta(beta)^(1/beta)) T^(-(1 - 1/beta)), infinite vocabulary (chapter 12).

    Book: {prf:ref}`thm-12-clean`
    """
    beta = check_number("beta", beta, 1, strict=True)
    T = np.asarray(tokens, dtype=float)
    if np.any(T <= 0):
        raise ValueError(f"tokens must be > 0; got {tokens!r}")
    const = special.gamma(1 - 1 / beta) / (beta * special.zeta(beta) ** (1 / beta))
    return const * T ** (-(1 - 1 / beta))


def tail_floor_asymptotic(beta: float, k) -> np.ndarray:
    """k^(-(beta-1)) / ((beta-1) zeta(beta)), the tail mass beyond rank k for large k (chapter 12).

    Book: {prf:ref}`prop-12-floor`
    """
    beta = check_number("beta", beta, 1, strict=True)
    k = np.asarray(k, dtype=float)
    if np.any(k <= 0):
        raise ValueError(f"k must be > 0; got {k!r}")
    return k ** (-(beta - 1)) / ((beta - 1) * special.zeta(beta))


def apply_transform(q, transform: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    """The hook for sampling schemes: ``transform(q)``, checked to be a distribution (chapter 12).

    ``None`` leaves q unchanged. Chapter 10's temperature / top-k / top-p
    filter plugs in here.

    Book: {prf:ref}`def-10-sampling`
    """
    q = _probs(q, "q")
    if transform is None:
        return q
    if not callable(transform):
        raise ValueError(f"transform must be a callable or None; got {transform!r}")
    out = np.asarray(transform(q), dtype=float)
    if out.shape != q.shape:
        raise ValueError(f"transform must return an array of shape {q.shape}; got {out.shape}")
    return _probs(out, "transform(q)")


def simulate_generations(p, tokens: int, generations: int, *, k: int | None = None,
                         clean_fraction: float = 0.0, transform=None, chains: int = 1,
                         seed=None) -> np.ndarray:
    """Test error of generations 0..generations of retraining on tokens (chapter 12).

    Generation 0 is the truth p (error 0). Generation t >= 1 is the empirical
    distribution of ``tokens`` training tokens: round(clean_fraction * tokens)
    drawn from p, the rest from generation t - 1's model after ``transform``
    (the sampling hook) and, if ``k`` is given, a tail cut at rank k
    (:func:`cut_tail`). Generation 1 therefore draws its synthetic share from
    the (cut) truth. Returns the test errors, shape (chains, generations + 1).

    Book: {doc}`notebooks/12_tale_of_tails`
    """
    p = _probs(p)
    tokens = check_int("tokens", tokens, 1)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    if k is not None:
        k = check_int("k", k, 1)
    clean_fraction = check_number("clean_fraction", clean_fraction, 0, 1)
    if transform is not None and not callable(transform):
        raise ValueError(f"transform must be a callable or None; got {transform!r}")
    seed = check_seed("seed", seed)
    check_memory(f"simulate_generations({chains=}, {generations=})", 8 * chains * (generations + 1),
                 "simulate fewer chains or generations at a time")
    rng = np.random.default_rng(seed)
    n_clean = int(round(clean_fraction * tokens))
    errors = np.zeros((chains, generations + 1))
    for c in range(chains):
        q = p
        for t in range(1, generations + 1):
            source = apply_transform(q, transform)
            if k is not None:
                source = cut_tail(source, k)
            counts = rng.multinomial(tokens - n_clean, source)
            if n_clean:
                counts = counts + rng.multinomial(n_clean, p)
            errors[c, t] = test_error(p, counts)
            q = counts / tokens
    return errors


