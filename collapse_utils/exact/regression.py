"""Linear regression retrained on its own labels: exact error, simulator (chapters 08 and 13).

Under ``replace`` the least-squares test error grows linearly in the generations
(Dohmatob, Feng & Kempe 2024); under ``accumulate`` it stays below pi^2/6 times
the one-generation error (Gerstgrasser et al. 2024). Ridge regression under
``replace`` has an exact error given the design (:func:`ridge_error`): the
penalty trades a bias that grows with the generations for a variance that
stops growing.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from collapse_utils.checks import check_bool, check_int, check_memory, check_number, check_seed

__all__ = ["REGRESSION_POLICIES", "regression_error", "ridge_error", "simulate_regression"]


REGRESSION_POLICIES = ("replace", "accumulate")


def _policy(policy):
    if policy not in REGRESSION_POLICIES:
        raise ValueError(f"policy must be one of {', '.join(REGRESSION_POLICIES)}; got {policy!r}")
    return policy


def _generations(t) -> np.ndarray:
    tt = np.asarray(t)
    if tt.dtype.kind not in "iu" or np.any(tt < 0):
        raise ValueError(f"t must be an integer >= 0 or an array of them; got {t!r}")
    return tt


def regression_error(samples: int, dim: int, noise: float, t, policy: str = "replace") -> np.ndarray:
    """Expected excess test error E||w_t - w*||^2 of least squares after t generations.

    Standard Gaussian design (samples x dim), fixed across generations or drawn
    afresh every generation (the same value under replace), labels
    y = X w_(t-1) + noise; generation 1 uses the true w*. One generation costs
    E1 = noise^2 dim / (samples - dim - 1). Replace: t E1. Accumulate (least
    squares on all labels so far, fixed design): E1 sum_(j<=t) 1/j^2 < (pi^2/6) E1
    (Gerstgrasser et al. 2024).

    Book: {prf:ref}`prop-08-regression`
    """
    samples = check_int("samples", samples, 3)
    dim = check_int("dim", dim, 1)
    if samples <= dim + 1:
        raise ValueError(f"samples must exceed dim + 1; got samples={samples}, dim={dim}")
    noise = check_number("noise", noise, 0.0, strict=True)
    policy = _policy(policy)
    tt = _generations(t)
    e1 = noise**2 * dim / (samples - dim - 1)
    if policy == "replace":
        return e1 * tt.astype(float)
    # sum_(j<=t) 1/j^2 = pi^2/6 - psi'(t + 1) (the trigamma function): no array of length t,
    # so t = 10**9 costs what t = 10 does (a cumulative sum allocated 7.5 GiB there)
    harmonic2 = np.where(tt == 0, 0.0, np.pi**2 / 6 - special.polygamma(1, tt + 1.0))
    return e1 * harmonic2


def ridge_error(X, w_star, noise: float, ridge: float, t) -> np.ndarray:
    """Exact E[||w_t - w*||^2 | X, w*] of ridge regression retrained under replace.

    Fixed design X; w_t minimises ||X w - y_t||^2 + ridge ||w||^2 with labels
    y_t = X w_(t-1) + noise * eps and w_0 = w*. In the eigenbasis of X^T X
    (eigenvalues s, shrinkage a = s / (s + ridge)) the error of generation t is
    sum_k (1 - a_k^t)^2 w*_k^2 + noise^2 s_k / (s_k + ridge)^2 sum_(j<t) a_k^(2j):
    a bias that grows towards ||w*||^2 and a variance that saturates. With
    ridge = 0 it is noise^2 t tr((X^T X)^-1).

    Book: {prf:ref}`prop-13-ridge`
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ValueError(f"X must be a finite 2-D design; got shape {X.shape}")
    w_star = np.asarray(w_star, dtype=float)
    if w_star.shape != (X.shape[1],) or not np.all(np.isfinite(w_star)):
        raise ValueError(f"w_star must be a finite vector of length {X.shape[1]}; got shape {w_star.shape}")
    noise = check_number("noise", noise, 0.0, strict=True)
    ridge = check_number("ridge", ridge, 0.0)
    tt = np.atleast_1d(_generations(t)).astype(float)
    s, vecs = np.linalg.eigh(X.T @ X)
    if ridge == 0 and s.min() <= 1e-12 * max(s.max(), 1.0):
        raise ValueError("ridge must be > 0 when X^T X is singular (fewer independent rows than columns)")
    coef2 = (vecs.T @ w_star) ** 2
    a = s / (s + ridge)
    power = a[:, None] ** tt[None, :]  # a_k^t
    bias = np.sum((1 - power) ** 2 * coef2[:, None], axis=0)
    # sum_(j<t) a^(2j): (1 - a^(2t)) / (1 - a^2), or t when a = 1
    one = np.isclose(a, 1.0, rtol=0, atol=1e-15)
    geometric = np.where(one[:, None], tt[None, :],
                         (1 - power**2) / np.where(one, 1.0, 1 - a**2)[:, None])
    variance = noise**2 * np.sum((s / (s + ridge) ** 2)[:, None] * geometric, axis=0)
    return (bias + variance).reshape(np.shape(t))


def simulate_regression(samples: int, dim: int, noise: float, generations: int, chains: int,
                        policy: str = "replace", seed=None, *, ridge: float = 0.0,
                        fresh_design: bool = False) -> np.ndarray:
    """Simulated ||w_t - w*||^2 per chain, shape (chains, generations + 1).

    Real least-squares (or ridge) fits, vectorised over chains: each chain
    draws its own Gaussian design X and w* ~ N(0, I); generation t draws
    labels X w_(t-1) + noise and fits on them (replace) or on all labels drawn
    so far (accumulate: the stacked designs). With ``fresh_design`` every
    generation draws a new design (the setting of Dohmatob et al. 2024). For a
    standard Gaussian test point the excess test error equals ||w_t - w*||^2.

    Book: {prf:ref}`prop-08-regression`
    """
    samples = check_int("samples", samples, 3)
    dim = check_int("dim", dim, 1)
    ridge = check_number("ridge", ridge, 0.0)
    if ridge == 0 and samples <= dim:
        raise ValueError(f"samples must exceed dim for least squares (ridge = 0); got samples={samples}, dim={dim}")
    noise = check_number("noise", noise, 0.0, strict=True)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    policy = _policy(policy)
    fresh_design = check_bool("fresh_design", fresh_design)
    seed = check_seed("seed", seed)
    # per chain: the design and its labels, the Gram matrices, the errors of every generation
    check_memory(f"simulate_regression({samples=}, {dim=}, {generations=}, {chains=})",
                 8 * chains * (3 * samples * dim + 2 * samples + 4 * dim * dim + 6 * dim + generations + 1),
                 "simulate fewer chains at a time")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((chains, samples, dim))
    w_star = rng.standard_normal((chains, dim))
    gram = np.einsum("csi,csj->cij", X, X)
    penalty = ridge * np.eye(dim)
    w = w_star.copy()
    xty_sum = np.zeros((chains, dim))
    gram_sum = np.zeros((chains, dim, dim))
    err = np.zeros((chains, generations + 1))
    for t in range(1, generations + 1):
        if fresh_design and t > 1:
            X = rng.standard_normal((chains, samples, dim))
            gram = np.einsum("csi,csj->cij", X, X)
        y = np.einsum("csi,ci->cs", X, w) + noise * rng.standard_normal((chains, samples))
        xty = np.einsum("csi,cs->ci", X, y)
        if policy == "replace":
            w = np.linalg.solve(gram + penalty, xty[..., None])[..., 0]
        else:
            xty_sum += xty
            gram_sum += gram
            w = np.linalg.solve(gram_sum + penalty, xty_sum[..., None])[..., 0]
        err[:, t] = np.sum((w - w_star) ** 2, axis=1)
    return err
