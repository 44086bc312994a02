"""Numeric answers of the exercises of chapter 05, "A VAE on MNIST"."""

from __future__ import annotations

import math

import numpy as np

from collapse_utils.answers import answer


@answer("ex-05-kl")
def kl_diagonal() -> dict[str, float]:
    """Chapter 05: KL(N(mu, diag sigma^2) || N(0, I)) at concrete values, per coordinate."""
    mu = np.array([0.5, -1.0])
    var = np.array([0.25, 4.0])
    per_coordinate = 0.5 * (mu**2 + var - 1 - np.log(var))
    return {"mu1": float(mu[0]), "mu2": float(mu[1]), "var1": float(var[0]), "var2": float(var[1]),
            "kl1": float(per_coordinate[0]), "kl2": float(per_coordinate[1]), "kl": float(per_coordinate.sum())}


@answer("ex-05-params")
def parameter_count() -> dict[str, float]:
    """Chapter 05: parameters of the chapter's convolutional VAE, layer by layer
    (weights + biases; a k x k convolution from c_in to c_out channels has
    c_in c_out k^2 + c_out)."""
    latent, width, k = 20, 16, 4
    w, hidden, flat = width, 8 * width, 2 * width * 7 * 7

    def conv(c_in, c_out):
        return c_in * c_out * k * k + c_out

    def dense(n_in, n_out):
        return n_in * n_out + n_out

    encoder = [conv(1, w), conv(w, 2 * w), dense(flat, hidden), dense(hidden, 2 * latent)]
    # a transposed convolution from c_in to c_out channels has as many parameters as a convolution
    decoder = [dense(latent, hidden), dense(hidden, flat), conv(2 * w, w), conv(w, 1)]
    total = sum(encoder) + sum(decoder)
    dense_flat = dense(flat, hidden) + dense(hidden, flat)
    return {"latent": latent, "width": width, "conv1": encoder[0], "conv2": encoder[1],
            "enc_dense": encoder[2], "enc_out": encoder[3], "encoder": sum(encoder),
            "decoder": sum(decoder), "total": total, "flat": flat, "hidden": hidden,
            "dense_share": dense_flat / total}


@answer("ex-05-entropy")
def histogram_entropy() -> dict[str, float]:
    """Chapter 05: the entropy in bits of a uniform ten-digit histogram and of a
    collapsed one with four digits left, and the effective number of digits 2^H."""
    counts = [1600, 1200, 800, 400]  # ones, sevens, nines, fours; no other digit
    p = np.array(counts) / sum(counts)
    collapsed = float(-(p * np.log2(p)).sum())
    return {"c1": counts[0], "c7": counts[1], "c9": counts[2], "c4": counts[3], "total": sum(counts),
            "uniform": math.log2(10), "collapsed": collapsed, "effective": 2**collapsed}
