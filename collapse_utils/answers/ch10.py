"""Numeric answers of chapter 10's exercises ("Mitigations: sampling and diversity")."""

from __future__ import annotations

import math

from collapse_utils import samplers
from collapse_utils.answers import answer
from collapse_utils.exact import gaussian, zipf

VOCAB, BETA = 2000, 1.5  # the Zipf model of chapter 10 (its book parameters)


@answer("ex-10-compound")
def compound():
    """Chapter 10: generations at temperature 0.95 until the top token has more than 90% of the mass.

    Book: {ref}`ex-10-compound`
    """
    tau, share = 0.95, 0.9
    p = zipf.zipf_probs(VOCAB, BETA)
    t = 1
    while samplers.filter_probs(p, temperature=tau**t)[0] <= share:
        t += 1
    return {
        "vocab": VOCAB,
        "beta": BETA,
        "tau": tau,
        "generations": t,
        "p1": float(p[0]),
        "p1_before": float(samplers.filter_probs(p, temperature=tau ** (t - 1))[0]),
        "p1_at": float(samplers.filter_probs(p, temperature=tau**t)[0]),
        "effective_tau": tau**t,
    }


@answer("ex-10-gauss-small-n")
def gauss_small_n():
    """Chapter 10: the temperatures offsetting the Gaussian's collapse in mean and in median.

    Book: {ref}`ex-10-gauss-small-n`
    """
    out = {}
    for n in (10, 100):
        out[f"tau_mean_{n}"] = n / (n - 1)
        out[f"tau_log_{n}"] = math.exp(-gaussian.log_variance_drift(n))  # (n/2) exp(-psi((n-1)/2))
    out["drift_10"] = gaussian.log_variance_drift(10)  # E log(chi2_9 / 10)
    return out


@answer("ex-10-top-p")
def top_p():
    """Chapter 10: size of the nucleus of chapter 10's Zipf model at top-p 0.95 and 0.99.

    Book: {ref}`ex-10-top-p`
    """
    p = zipf.zipf_probs(VOCAB, BETA)
    out = {"vocab": VOCAB, "beta": BETA}
    for name, cut in (("95", 0.95), ("99", 0.99)):
        kept = samplers.filter_probs(p, top_p=cut) > 0
        out[f"size_{name}"] = int(kept.sum())
        out[f"mass_{name}"] = float(p[kept].sum())
    return out


@answer("ex-10-top-k")
def top_k():
    """Chapter 10: probability mass removed by top-k on chapter 10's Zipf model.

    Book: {ref}`ex-10-top-k`
    """
    p = zipf.zipf_probs(VOCAB, BETA)
    small, large = 50, 500
    out = {"vocab": VOCAB, "beta": BETA, "k_small": small, "k_large": large}
    out["removed_small"] = float(zipf.tail_mass(p, small))
    out["removed_large"] = float(zipf.tail_mass(p, large))
    out["share_of_vocab"] = large / VOCAB
    return out
