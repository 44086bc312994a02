"""Benchmark: training and sampling throughput of the diffusion chapter's DDPM on the CPU.

Fits :class:`collapse_utils.families.diffusion.DiffusionFamily` (MLP denoiser with
Fourier features, cosine schedule, T = 100, Adam) to ``--n`` points of the 8-mode
ring for ``--steps`` minibatch steps at each width and prints training samples
per second (forward + backward + update; one sample = one point at one noise
level) and the achieved FLOP/s as a share of a large ``torch.matmul``'s FLOP/s
measured in the same process (the helper of ``bench/lm.py``). FLOPs per
trained sample: ``6 N`` with ``N`` the multiply-adds of the linear layers and
the Fourier projection (forward 2 N, backward 4 N); the activations, the
embeddings and the optimiser are not counted. Then prints sampling speed,
generated points per second, for the ancestral sampler over all T steps, with
classifier-free guidance (two network calls per step, in one batch), on 20
strided steps, and DDIM. Times are the best of ``--repeats`` runs.

    .venv/bin/python bench/diffusion.py [--widths 64 128] [--steps 300] [--n 2000] [--batch-size 256]
        [--samples 2000] [--repeats 2] [--threads N] [--matmul 1024]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from lm import matmul_flops
from timing import best_time

from collapse_utils.families.diffusion import DiffusionFamily
from collapse_utils.measures.modes import sample_ring


def matmul_macs(model) -> int:
    """Multiply-adds of one forward pass per point: every linear layer and the Fourier projection."""
    net = model.network
    macs = sum(
        layer.in_features * layer.out_features for layer in net.net if isinstance(layer, torch.nn.Linear)
    )
    return macs + net.frequencies.numel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--matmul", type=int, default=1024)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = matmul_flops(args.matmul, args.repeats)
    data = sample_ring(args.n, rng=np.random.default_rng(0), labels=True)
    default = DiffusionFamily()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; DDPM T={default.T} ({default.schedule}), "
        f"{default.layers} hidden layers, {default.fourier} Fourier features; {args.n} ring points, "
        f"batch {args.batch_size}, {args.steps} steps, best of {args.repeats}"
    )
    print(f"torch.matmul {args.matmul}x{args.matmul} float32: {peak / 1e9:,.1f} GFLOP/s")
    print(
        f"{'width':>6} {'parameters':>11} {'train samples/s':>16} {'GFLOP/s':>8} {'share of matmul':>16} "
        f"{'s per default fit':>18}"
    )
    for width in args.widths:
        family = DiffusionFamily(width=width, train_steps=args.steps, batch_size=args.batch_size)
        points = data[:, :2]
        # warm-up (the first optimiser imports torch._dynamo), and the parameter count
        model = family.fit(points, np.random.default_rng(0))
        params = sum(p.numel() for p in model.network.parameters())
        seconds = best_time(lambda f=family, x=points: f.fit(x, np.random.default_rng(1)), args.repeats)
        rate = args.steps * args.batch_size / seconds
        flops = 6 * matmul_macs(model) * rate
        per_fit = seconds / args.steps * default.train_steps
        print(
            f"{width:>6} {params:>11,} {rate:>16,.0f} {flops / 1e9:>8.2f} {flops / peak:>16.1%} {per_fit:>18.2f}"
        )

    unconditional = default.fit(data[:, :2], np.random.default_rng(2))
    conditional = DiffusionFamily(n_classes=8).fit(data, np.random.default_rng(3))
    print(f"sampling {args.samples} points (width {default.width}):")
    print(f"{'sampler':>32} {'points/s':>10} {'network calls':>14} {'GFLOP/s':>8} {'share of matmul':>16}")
    cases = [
        ("ddpm, all T steps", DiffusionFamily(), unconditional, default.T),
        (
            "ddpm, guidance w = 1 (8 classes)",
            DiffusionFamily(n_classes=8, guidance=1.0),
            conditional,
            2 * default.T,
        ),
        ("ddpm, 20 strided steps", DiffusionFamily(steps=20), unconditional, 20),
        ("ddim, all T steps", DiffusionFamily(sampler="ddim"), unconditional, default.T),
    ]
    for name, family, model, calls in cases:
        seconds = best_time(
            lambda f=family, m=model: f.sample(m, args.samples, np.random.default_rng(4)), args.repeats
        )
        rate = args.samples / seconds
        flops = 2 * matmul_macs(model) * calls * rate
        print(f"{name:>32} {rate:>10,.0f} {calls:>14} {flops / 1e9:>8.2f} {flops / peak:>16.1%}")


if __name__ == "__main__":
    main()
