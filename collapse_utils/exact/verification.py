"""A verifier and a corrector in the Gaussian loop, exactly (chapter 11).

Chapter 11, "Verification, curation and self-correction", checks synthetic data
before it is reused. Two exactly solvable Gaussian settings:

- **Verification.** Each synthetic sample is *correct* with probability ``accuracy``
  (then it is distributed as the truth, as a right answer is) and otherwise an
  *error* drawn from the current model N(mu_t, sigma_t^2). A verifier accepts a
  correct sample with probability ``true_accept`` and an error with probability
  ``false_accept``; the loop keeps drawing until it has n accepted samples. The
  accepted set is n i.i.d. draws from the mixture w p_0 + (1 - w) p_t with
  w = :func:`correct_share`, and the expected variance and squared mean error
  follow a linear recursion (:func:`verified_recursion`) with a closed-form
  fixed point (:func:`verified_fixed_point`).
- **Correction.** A corrector moves each synthetic sample a fraction ``strength``
  of the way along the optimal-transport map from the sampling distribution to
  a target (the truth, or an imperfect target). The expected standard
  deviation then follows a linear recursion (:func:`corrected_std_recursion`).

The loop pieces: :class:`AccuracySampler` (the ``sampler=`` hook that makes a
share of samples correct), :class:`Verifier` (the ``filter=`` hook) and
:class:`Corrector` (a ``sampler=`` hook); the family whose samples carry the
correctness flag is ``collapse_utils.families.labelled.LabelledGaussianFamily``
(this layer imports no family: models are read through ``mean``, ``var``, ``std``). :func:`simulate_verified` draws only
sufficient statistics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from collapse_utils.checks import check_int, check_number, check_positive

__all__ = [
    "check_rates",
    "correct_share",
    "acceptance_rate",
    "verified_recursion",
    "verified_fixed_point",
    "correct_share_needed",
    "odds_needed",
    "simulate_verified",
    "AccuracySampler",
    "Verifier",
    "Corrector",
    "mle_std_factor",
    "corrected_std_recursion",
    "corrected_fixed_point",
    "strength_needed",
]


def check_rates(true_accept, false_accept) -> tuple[float, float]:
    """The verifier's two acceptance rates, checked: numbers in [0, 1], not both 0.

    Book: {prf:ref}`prop-11-verifier`
    """
    a = check_number("true_accept", true_accept, 0.0, 1.0)
    f = check_number("false_accept", false_accept, 0.0, 1.0)
    if a == 0 and f == 0:
        raise ValueError("true_accept and false_accept must not both be 0 (the verifier would accept nothing); "
                         "got true_accept=0, false_accept=0")
    return a, f


def correct_share(accuracy, true_accept, false_accept) -> float:
    """Share of correct samples among the accepted ones: a q / (a q + f (1 - q)) (chapter 11).

    accuracy q: probability that a synthetic sample is correct; true_accept a and
    false_accept f: the verifier's acceptance rates of correct samples and errors.

    Book: {prf:ref}`prop-11-verifier`
    """
    q = check_number("accuracy", accuracy, 0.0, 1.0)
    a, f = check_rates(true_accept, false_accept)
    kept = a * q + f * (1 - q)
    if kept == 0:
        raise ValueError(f"the verifier accepts no sample at accuracy={q}, true_accept={a}, "
                         f"false_accept={f}: the accepted share a q + f (1 - q) is 0")
    return a * q / kept


def acceptance_rate(accuracy, true_accept, false_accept) -> float:
    """Share of synthetic samples the verifier accepts: a q + f (1 - q) (chapter 11).

    Book: {prf:ref}`prop-11-verifier`
    """
    q = check_number("accuracy", accuracy, 0.0, 1.0)
    a, f = check_rates(true_accept, false_accept)
    return a * q + f * (1 - q)


def _check_w(w) -> float:
    return check_number("w", w, 0.0, 1.0)


def _step(s, q, n, w, var0):
    """One step of the exact recursion of E[sigma^2] and E[(mu - mu_0)^2]."""
    v = w * var0 + (1 - w) * s + w * (1 - w) * q
    return (n - 1) / n * v, (1 - w) ** 2 * q + v / n


def verified_recursion(n: int, w: float, generations: int, var0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exact E[sigma_t^2] and E[(mu_t - mu_0)^2], t = 0..generations, MLE (chapter 11).

    Generation 0 is the truth N(mu_0, var0); generation 1 is fitted to n real
    draws; every later generation to n accepted samples, a share w of which is
    correct in expectation (n i.i.d. draws from w p_0 + (1 - w) p_t).

    Book: {prf:ref}`prop-11-verifier`
    """
    n = check_int("n", n, 2)
    w = _check_w(w)
    generations = check_int("generations", generations, 0)
    var0 = check_positive("var0", var0)
    s, q = np.empty(generations + 1), np.empty(generations + 1)
    s[0], q[0] = var0, 0.0
    for t in range(1, generations + 1):
        s[t], q[t] = _step(s[t - 1], q[t - 1], n, 1.0 if t == 1 else w, var0)
    return s, q


def verified_fixed_point(n: int, w: float, var0: float = 1.0) -> tuple[float, float]:
    """Fixed point (E[sigma^2], E[(mu - mu_0)^2]) of :func:`verified_recursion` (chapter 11).

    With V = w var0 / (w + (1 - w)^2 / (n (2 - w))): E[sigma^2] = (n - 1) V / n and
    E[(mu - mu_0)^2] = V / (n w (2 - w)). ``w = 0`` (plain replace) has no fixed
    point but collapse: ``ValueError``.

    Book: {prf:ref}`prop-11-verifier`
    """
    n = check_int("n", n, 2)
    w = _check_w(w)
    var0 = check_positive("var0", var0)
    if w == 0:
        raise ValueError("w must be > 0 for a fixed point: with no correct samples the variance collapses to 0")
    v = w * var0 / (w + (1 - w) ** 2 / (n * (2 - w)))
    return (n - 1) / n * v, v / (n * w * (2 - w))


def correct_share_needed(n: int, tolerance: float) -> float:
    """Smallest correct share w whose fixed point keeps 1 - tolerance of the variance (chapter 11).

    Needs tolerance > 1/n (even real data only keeps (n - 1)/n).

    Book: {prf:ref}`prop-11-verifier`
    """
    n = check_int("n", n, 2)
    tol = check_number("tolerance", tolerance, 0.0, 1.0, strict=True)
    if tol <= 1 / n:
        raise ValueError(f"tolerance must exceed 1/n = {1 / n:.4g}: real data alone keeps (n-1)/n of the "
                         f"variance; got {tol}")
    return float(optimize.brentq(lambda w: verified_fixed_point(n, w)[0] - (1 - tol), 1e-12, 1.0, xtol=1e-14))


def odds_needed(n: int, accuracy: float, tolerance: float) -> float:
    """The verifier quality a / f needed to keep 1 - tolerance of the variance (chapter 11).

    The accepted share is correct with odds (a/f) q/(1-q); it must reach
    w*/(1 - w*) with w* = :func:`correct_share_needed`. ``inf`` at accuracy 0.

    Book: {prf:ref}`prop-11-verifier`
    """
    q = check_number("accuracy", accuracy, 0.0, 1.0)
    w_star = correct_share_needed(n, tolerance)
    if q == 0:
        return math.inf
    if q == 1:
        return 0.0
    return w_star / (1 - w_star) * (1 - q) / q


def simulate_verified(n: int, w: float, generations: int, chains: int, rng: np.random.Generator,
                      var0: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Fitted (mean, variance) of the verified loop, chains x (generations + 1), truth N(0, var0).

    Draws sufficient statistics only: K ~ Binomial(n, w) correct samples (their
    mean and sum of squares from the truth) and n - K errors from the model
    (chapter 11). Independent of :func:`verified_recursion`, which it checks.

    Book: {prf:ref}`prop-11-verifier`
    """
    n = check_int("n", n, 2)
    w = _check_w(w)
    generations = check_int("generations", generations, 0)
    chains = check_int("chains", chains, 1)
    mu, var = np.zeros((chains, generations + 1)), np.full((chains, generations + 1), float(var0))
    m, v = np.zeros(chains), np.full(chains, float(var0))
    sd0 = math.sqrt(var0)
    for t in range(1, generations + 1):
        k = np.full(chains, n) if t == 1 else rng.binomial(n, w, size=chains)
        parts = []
        for count, centre, sd in ((k, 0.0, np.full(chains, sd0)), (n - k, m, np.sqrt(v))):
            safe = np.maximum(count, 1)
            mean = centre + sd * rng.standard_normal(chains) / np.sqrt(safe)
            ss = sd**2 * rng.chisquare(np.maximum(safe - 1, 1)) * (count > 1)
            parts.append((count, np.where(count > 0, mean, 0.0), ss))
        (k1, m1, ss1), (k2, m2, ss2) = parts
        m = (k1 * m1 + k2 * m2) / n
        v = (ss1 + ss2 + k1 * (m1 - m) ** 2 + k2 * (m2 - m) ** 2) / n
        mu[:, t], var[:, t] = m, v
    return mu, var


@dataclass(frozen=True)
class AccuracySampler:
    """``sampler=`` hook: each sample is correct (a draw of ``truth``, flag 1) with
    probability ``accuracy``, else the model's own draw (flag 0) (chapter 11).

    Book: {prf:ref}`prop-11-verifier`
    """

    truth: object  # the true model: anything with mean and std (a GaussianModel)
    accuracy: float

    def __post_init__(self):
        check_number("accuracy", self.accuracy, 0.0, 1.0)

    def __call__(self, family, model, k: int, rng: np.random.Generator) -> np.ndarray:
        out = np.asarray(family.sample(model, k, rng), dtype=float).copy()
        correct = rng.random(k) < self.accuracy
        out[correct, 0] = rng.normal(self.truth.mean, self.truth.std, size=int(correct.sum()))
        out[:, 1] = correct
        return out


@dataclass(frozen=True)
class Verifier:
    """``filter=`` hook: accepts a correct sample with probability ``true_accept``
    and an error with probability ``false_accept`` (chapter 11).

    Works on any samples whose last column is the correctness flag. A perfect
    verifier is (1, 0); a useless one has equal rates.

    Book: {prf:ref}`prop-11-verifier`
    """

    true_accept: float
    false_accept: float

    def __post_init__(self):
        check_rates(self.true_accept, self.false_accept)

    def __call__(self, samples, step, rng: np.random.Generator) -> np.ndarray:
        flags = np.asarray(samples)[:, -1] > 0.5
        return rng.random(len(flags)) < np.where(flags, self.true_accept, self.false_accept)


@dataclass(frozen=True)
class Corrector:
    """``sampler=`` hook: draws from the model (with its variance times ``sampling_scale``)
    and moves each sample a fraction ``strength`` of the way along the
    optimal-transport map to ``target`` (chapter 11).

    x -> (1 - g) x + g (m_c + (s_c / s)(x - m)), where N(m, s^2) is the sampling
    distribution and N(m_c, s_c^2) the target: the corrected samples are exactly
    N((1 - g) m + g m_c, ((1 - g) s + g s_c)^2). ``strength=0`` is plain
    sampling, ``strength=1`` draws from the target.

    Book: {prf:ref}`prop-11-correction`
    """

    target: object  # the corrector's target: anything with mean and std (a GaussianModel)
    strength: float
    sampling_scale: float = 1.0

    def __post_init__(self):
        check_number("strength", self.strength, 0.0, 1.0)
        check_positive("sampling_scale", self.sampling_scale)

    def __call__(self, family, model, k: int, rng: np.random.Generator) -> np.ndarray:
        s = math.sqrt(self.sampling_scale * model.var)
        x = model.mean + s * rng.standard_normal(k)
        mapped = self.target.mean + self.target.std / s * (x - model.mean) if s > 0 else np.full(k, self.target.mean)
        return (1 - self.strength) * x + self.strength * mapped


def mle_std_factor(n: int) -> float:
    """E[sigma_hat] / sigma for the MLE of n Gaussian draws: sqrt(2/n) Gamma(n/2) / Gamma((n-1)/2).

    Book: {prf:ref}`prop-11-correction`
    """
    n = check_int("n", n, 2)
    return float(math.sqrt(2 / n) * math.exp(special.gammaln(n / 2) - special.gammaln((n - 1) / 2)))


def corrected_std_recursion(n: int, strength: float, generations: int, sampling_scale: float = 1.0,
                            target_std: float = 1.0) -> np.ndarray:
    """Exact E[sigma_t], t = 0..generations, under the corrector (truth N(0, 1), MLE) (chapter 11).

    E[sigma_{t+1}] = c_n ((1 - g) sqrt(tau) E[sigma_t] + g s_c) with c_n = :func:`mle_std_factor`;
    generation 1 is fitted to n real draws.

    Book: {prf:ref}`prop-11-correction`
    """
    n = check_int("n", n, 2)
    g = check_number("strength", strength, 0.0, 1.0)
    generations = check_int("generations", generations, 0)
    tau = check_positive("sampling_scale", sampling_scale)
    sc = check_positive("target_std", target_std)
    c = mle_std_factor(n)
    out = np.empty(generations + 1)
    out[0] = 1.0
    for t in range(1, generations + 1):
        out[t] = c if t == 1 else c * ((1 - g) * math.sqrt(tau) * out[t - 1] + g * sc)
    return out


def corrected_fixed_point(n: int, strength: float, sampling_scale: float = 1.0, target_std: float = 1.0) -> float:
    """Fixed point c_n g s_c / (1 - c_n sqrt(tau) (1 - g)) of :func:`corrected_std_recursion`.

    ``inf`` when the slope c_n sqrt(tau) (1 - g) is at least 1 (no stable fixed point).

    Book: {prf:ref}`prop-11-correction`
    """
    n = check_int("n", n, 2)
    g = check_number("strength", strength, 0.0, 1.0)
    tau = check_positive("sampling_scale", sampling_scale)
    sc = check_positive("target_std", target_std)
    c = mle_std_factor(n)
    slope = c * math.sqrt(tau) * (1 - g)
    return math.inf if slope >= 1 else c * g * sc / (1 - slope)


def strength_needed(n: int, sampling_scale: float) -> float:
    """Smallest correction strength for which the corrected loop is stable: 1 - 1/(c_n sqrt(tau)), at least 0.

    Book: {prf:ref}`prop-11-correction`
    """
    n = check_int("n", n, 2)
    tau = check_positive("sampling_scale", sampling_scale)
    return max(0.0, 1 - 1 / (mle_std_factor(n) * math.sqrt(tau)))
