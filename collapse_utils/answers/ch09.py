"""Numeric answers of chapter 09's exercises ("Filtering, provenance and stability")."""

from __future__ import annotations

import math

from scipy import optimize

from collapse_utils.answers import answer
from collapse_utils.exact import filtering, gaussian_mixing


def _stability_edge(n, tau):
    """The real share lambda at which the mix recursion's radius is one."""

    def excess(lam):
        return float(gaussian_mixing.mix_contraction(n, lam, sampling_scale=tau)) - 1

    return optimize.brentq(excess, 1e-6, 1 - 1e-9, xtol=1e-14)


@answer("ex-09-biased-fixed-point")
def biased_fixed_point():
    """Chapter 09: mix with a sampler N(mu, tau sigma^2): fixed point, edge."""
    n, lam, tau_a, tau_b = 100, 0.1, 1.05, 1.2
    slope_a, slope_b = tau_a * (1 - lam), tau_b * (1 - lam)  # large n
    exact_a = gaussian_mixing.mix_fixed_point(n, lam, sampling_scale=tau_a)
    radius_a, radius_b = (float(gaussian_mixing.mix_contraction(
        n, lam, sampling_scale=tau)) for tau in (tau_a, tau_b))
    edge_a, edge_b = _stability_edge(n, tau_a), _stability_edge(n, tau_b)
    return {
        "n": n,
        "lam": lam,
        "tau_a": tau_a,
        "tau_b": tau_b,
        "slope_a": slope_a,
        "slope_b": slope_b,
        "gain_a": 1 / (1 - slope_a),
        "s_approx_a": lam / (1 - slope_a),
        "s_exact_a": exact_a[0],
        "radius_a": radius_a,
        "radius_b": radius_b,
        "edge_approx_a": 1 - 1 / tau_a,
        "edge_approx_b": 1 - 1 / tau_b,
        "edge_a": edge_a,
        "edge_b": edge_b,
        "rho_approx_a": 1 / (tau_a - 1),
        "rho_approx_b": 1 / (tau_b - 1),
        "rho_a": (1 - edge_a) / edge_a,
        "rho_b": (1 - edge_b) / edge_b,
    }


@answer("ex-09-crawl-size")
def crawl_size():
    """Chapter 09: the recall a crawl needs at n = 100, and the n from which it needs no filter."""
    eps, s, f, n = 0.02, 0.9, 0.05, 100
    lam_star = gaussian_mixing.real_fraction_needed(n, eps)
    r_star = 1 - (1 - s) * (1 - f) * (1 - lam_star) / (lam_star * s)
    kept = float(filtering.kept_fraction(s, r_star, f))
    real_points = 1 / (2 * eps) - 1
    n_exact = 2
    while gaussian_mixing.mix_fixed_point(n_exact, 1 - s)[0] < 1 - eps:
        n_exact += 1
    return {
        "eps": eps,
        "s": s,
        "f": f,
        "n": n,
        "lam_star": lam_star,
        "r_star": r_star,
        "kept": kept,
        "docs_per_doc": 1 / kept,
        "real_points": real_points,
        "n_approx": math.ceil(real_points / (1 - s) - 1e-9),  # 24 / 0.1 is 240.00000000000003 in floats
        "n_approx_two_minus": math.ceil((1 / ((2 - (1 - s)) * eps) - s) / (1 - s)),
        "n_exact": n_exact,
    }
