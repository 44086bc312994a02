"""Synthetic data in the scaling law: least squares on a mix of real and synthetic labels (chapter 13).

Inputs x ~ N(0, I_dim). Real labels are x . w* + noise; synthetic labels come
from a generator w_g = w* + Delta, x . w_g + noise. Each of the n training
points is synthetic with probability ``share``, independently, and the model
is least squares on all n points. Its excess test error on real data,
E||w_hat - w*||^2, is known exactly (:func:`mixed_error`): the real-data error
noise^2 dim / (n - dim - 1) plus ||Delta||^2 (share^2 + a term of order
dim / n). As n grows the first term vanishes and the second does not: the
floor share^2 ||Delta||^2 of *strong model collapse* (Dohmatob, Feng,
Subramonian & Kempe 2025). A generator refitted on as many real points as the
model (``generator_n``) has an error that shrinks with n, and no floor.

:func:`simulate_mixed` draws the sufficient statistics (two Wishart matrices
and a Gaussian vector), so a chain costs O(dim^3) whatever n.
:func:`simulate_random_features` fits random-projection models of a given
width, the paper's stand-in for model size.
"""

from __future__ import annotations

import numpy as np

from collapse_utils.checks import check_int, check_memory, check_number, check_seed

__all__ = [
    "floor",
    "generator_error",
    "mixed_error",
    "mixed_error_large_n",
    "onset",
    "simulate_mixed",
    "simulate_random_features",
    "spread_factor",
]


def _common(n, dim, share, noise):
    dim = check_int("dim", dim, 1)
    n = check_int("n", n, 1)
    if n <= dim + 1:
        raise ValueError(f"n must exceed dim + 1 (least squares with a finite expected error); got n={n}, dim={dim}")
    share = check_number("share", share, 0.0, 1.0)
    noise = check_number("noise", noise, 0.0, strict=True)
    return n, dim, share, noise


def _gen(gen_error, generator_n, dim, noise):
    if (gen_error is None) == (generator_n is None):
        raise ValueError("give exactly one of gen_error (a fixed generator) and generator_n (a refitted one)")
    if generator_n is not None:
        generator_n = check_int("generator_n", generator_n, 1)
        if generator_n <= dim + 1:
            raise ValueError(f"generator_n must exceed dim + 1; got generator_n={generator_n}, dim={dim}")
        return generator_error(generator_n, dim, noise), generator_n
    return check_number("gen_error", gen_error, 0.0), None


def generator_error(generator_n: int, dim: int, noise: float = 1.0) -> float:
    """E||Delta||^2 of a generator fitted by least squares on ``generator_n`` real points.

    noise^2 dim / (generator_n - dim - 1), the inverse-Wishart mean.

    Book: {prf:ref}`thm-13-mixed`
    """
    dim = check_int("dim", dim, 1)
    generator_n = check_int("generator_n", generator_n, dim + 2)
    noise = check_number("noise", noise, 0.0, strict=True)
    return noise**2 * dim / (generator_n - dim - 1)


def spread_factor(n: int, dim: int) -> float:
    """K(n, dim): the exact fluctuation factor of the synthetic points' pull on least squares.

    K = (n^2 d + n^2 - n d - 5 n + 2 d + 2) / ((n - 1)(n + 2)(n - d - 1)), about
    (d + 1) / n for large n.

    Book: {prf:ref}`thm-13-mixed`
    """
    dim = check_int("dim", dim, 1)
    n = check_int("n", n, dim + 2)
    d = dim
    return (n * n * d + n * n - n * d - 5 * n + 2 * d + 2) / ((n - 1) * (n + 2) * (n - d - 1))


def mixed_error(n: int, dim: int, share: float, noise: float = 1.0, gen_error: float | None = None, *,
                generator_n: int | None = None) -> float:
    """Exact expected excess test error of least squares on n points, each synthetic with probability ``share``.

    noise^2 d / (n - d - 1) + c^2 [share K + (share (1 - share) / n + share^2)(1 - K)],
    K = :func:`spread_factor`, c^2 = ``gen_error`` (= ||Delta||^2 of a fixed
    generator) or, for a generator refitted on ``generator_n`` fresh real points,
    its expected error :func:`generator_error`.

    Book: {prf:ref}`thm-13-mixed`
    """
    n, dim, share, noise = _common(n, dim, share, noise)
    c2, _ = _gen(gen_error, generator_n, dim, noise)
    k = spread_factor(n, dim)
    second = share * (1 - share) / n + share**2  # E[(n_syn / n)^2], binomial n_syn
    return noise**2 * dim / (n - dim - 1) + c2 * (share * k + second * (1 - k))


def mixed_error_large_n(n, dim: int, share: float, noise: float = 1.0, gen_error: float = 1.0):
    """Large-n form of :func:`mixed_error` (fixed generator): noise^2 d / n + c^2 (share^2 + share (1 - share)(d + 1) / n).

    ``n`` may be an array.

    Book: {prf:ref}`thm-13-mixed`
    """
    dim = check_int("dim", dim, 1)
    share = check_number("share", share, 0.0, 1.0)
    noise = check_number("noise", noise, 0.0, strict=True)
    c2 = check_number("gen_error", gen_error, 0.0)
    nn = np.asarray(n, dtype=float)
    if np.any(nn <= 0):
        raise ValueError(f"n must be positive; got {n!r}")
    return noise**2 * dim / nn + c2 * (share**2 + share * (1 - share) * (dim + 1) / nn)


def floor(share: float, gen_error: float) -> float:
    """The limit of :func:`mixed_error` as n grows, for a fixed generator: share^2 c^2.

    Book: {prf:ref}`cor-13-floor`
    """
    share = check_number("share", share, 0.0, 1.0)
    return share**2 * check_number("gen_error", gen_error, 0.0)


def onset(dim: int, share: float, noise: float = 1.0, gen_error: float = 1.0) -> float:
    """The data size n at which the real-data error noise^2 d / n has fallen to the floor share^2 c^2.

    noise^2 d / (share^2 c^2); infinite for share = 0 or c = 0.

    Book: {prf:ref}`cor-13-floor`
    """
    dim = check_int("dim", dim, 1)
    noise = check_number("noise", noise, 0.0, strict=True)
    low = floor(share, gen_error)
    return float("inf") if low == 0 else noise**2 * dim / low


def _wishart(df: np.ndarray, dim: int, rng: np.random.Generator) -> np.ndarray:
    """W(df_c, I_dim) per chain c: Bartlett's decomposition, or explicit rows where df_c < dim."""
    chains = len(df)
    out = np.zeros((chains, dim, dim))
    big = df >= dim
    if np.any(big):
        m = int(big.sum())
        low = np.tril(rng.standard_normal((m, dim, dim)), -1)
        diag = np.sqrt(rng.chisquare(df[big, None] - np.arange(dim)[None, :]))
        low[:, np.arange(dim), np.arange(dim)] = diag
        out[big] = low @ np.swapaxes(low, 1, 2)
    if np.any(~big):
        m = int((~big).sum())
        rows = rng.standard_normal((m, dim, dim)) * (np.arange(dim)[None, :] < df[~big, None])[..., None]
        out[~big] = np.swapaxes(rows, 1, 2) @ rows
    return out


def simulate_mixed(n: int, dim: int, share: float, noise: float = 1.0, gen_error: float | None = None,
                   chains: int = 1000, *, generator_n: int | None = None, seed=None) -> np.ndarray:
    """Simulated ||w_hat - w*||^2 of least squares on a real/synthetic mix, one value per chain.

    Draws n_syn ~ Binomial(n, share), the Gram matrices of the real and the
    synthetic inputs (Wishart), and X^T eps ~ N(0, noise^2 X^T X) given them;
    then w_hat - w* = (X^T X)^-1 (G_syn Delta + X^T eps). A fixed generator has
    Delta = sqrt(gen_error) e_1 (the error does not depend on its direction); a
    refitted one (``generator_n``) has the least-squares error of its own
    ``generator_n`` real points, drawn afresh per chain.

    Book: {prf:ref}`thm-13-mixed`
    """
    n, dim, share, noise = _common(n, dim, share, noise)
    c2, gen_n = _gen(gen_error, generator_n, dim, noise)
    chains = check_int("chains", chains, 1)
    seed = check_seed("seed", seed)
    check_memory(f"simulate_mixed({dim=}, {chains=})", 8 * chains * (10 * dim * dim + 8 * dim + 2),
                 "simulate fewer chains at a time")
    rng = np.random.default_rng(seed)
    n_syn = rng.binomial(n, share, size=chains)
    g_syn = _wishart(n_syn, dim, rng)
    g_real = _wishart(n - n_syn, dim, rng)
    gram = g_syn + g_real
    root = np.linalg.cholesky(gram)
    xte = noise * (root @ rng.standard_normal((chains, dim, 1)))[..., 0]
    if gen_n is None:
        delta = np.zeros((chains, dim))
        delta[:, 0] = np.sqrt(c2)
    else:
        g_gen = _wishart(np.full(chains, gen_n), dim, rng)
        z = (np.linalg.cholesky(g_gen) @ rng.standard_normal((chains, dim, 1)))[..., 0]
        delta = noise * np.linalg.solve(g_gen, z[..., None])[..., 0]
    pull = (g_syn @ delta[..., None])[..., 0]
    err = np.linalg.solve(gram, (pull + xte)[..., None])[..., 0]
    return np.sum(err**2, axis=1)


def simulate_random_features(n: int, dim: int, widths, share: float, noise: float = 1.0,
                             gen_error: float = 1.0, chains: int = 3, *, ridge: float = 1e-6,
                             seed=None) -> np.ndarray:
    """Test error of random-projection models of each width, shape (chains, len(widths)).

    Model: x -> (S x) . v with S (width x dim) of N(0, 1/dim) entries, fixed per
    chain and width, and v fitted by ridge regression (penalty ``ridge`` times
    n, so that small values give the minimum-norm fit beyond the interpolation
    threshold width = n) on n points, each synthetic with probability ``share``
    (generator w* + Delta with ||Delta||^2 = gen_error, a random direction).
    w* ~ N(0, I_dim / dim). Returns the excess test error on real data,
    ||w* - S^T v||^2, exact over the test distribution.

    Book: {ref}`sec-13-model-size`
    """
    n = check_int("n", n, 1)
    dim = check_int("dim", dim, 1)
    share = check_number("share", share, 0.0, 1.0)
    noise = check_number("noise", noise, 0.0, strict=True)
    gen_error = check_number("gen_error", gen_error, 0.0)
    ridge = check_number("ridge", ridge, 0.0, strict=True)
    chains = check_int("chains", chains, 1)
    widths = np.asarray(widths)
    if widths.ndim != 1 or widths.size == 0 or widths.dtype.kind not in "iu" or np.any(widths < 1):
        raise ValueError(f"widths must be a non-empty 1-D array of integers >= 1; got {widths!r}")
    seed = check_seed("seed", seed)
    largest = int(widths.max())
    check_memory(f"simulate_random_features({n=}, {dim=}, widths up to {largest:,})",
                 8 * (2 * n * dim + 2 * largest * dim + 2 * n * largest + 2 * min(largest, n) ** 2),
                 "use smaller widths or fewer points")
    rng = np.random.default_rng(seed)
    out = np.zeros((chains, widths.size))
    for c in range(chains):
        w_star = rng.standard_normal(dim) / np.sqrt(dim)
        delta = rng.standard_normal(dim)
        delta *= np.sqrt(gen_error) / np.linalg.norm(delta)
        X = rng.standard_normal((n, dim))
        synthetic = rng.random(n) < share
        y = X @ w_star + synthetic * (X @ delta) + noise * rng.standard_normal(n)
        for j, m in enumerate(widths):
            S = rng.standard_normal((int(m), dim)) / np.sqrt(dim)
            Z = X @ S.T
            if m <= n:
                v = np.linalg.solve(Z.T @ Z + ridge * n * np.eye(int(m)), Z.T @ y)
            else:  # the same ridge solution through the n x n kernel
                v = Z.T @ np.linalg.solve(Z @ Z.T + ridge * n * np.eye(n), y)
            out[c, j] = np.sum((w_star - S.T @ v) ** 2)
    return out
