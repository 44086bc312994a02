"""Benchmark: training throughput of chapter 06's tiny GPT on the CPU.

Trains :class:`collapse_utils.families.lm.GPT` (vocabulary 1024 BPE tokens, tied
embeddings, AdamW) on random token blocks and prints tokens per second
(forward + backward + update) and the achieved model FLOP/s, as a share of the
FLOP/s of one large ``torch.matmul`` (float32, ``--matmul`` square) measured in
the same process. Model FLOPs per trained token follow the usual count
(Kaplan et al. 2020; Chowdhery et al. 2022): ``6 N + 12 L d T``, with ``N`` the
parameters of the matrix products (``12 L d^2`` in the blocks plus the
``d x vocab`` output layer) and ``T`` the block length; embeddings lookups,
layer norms and the optimiser are not counted. Also prints the decoding speed of
beam search (5 beams) and of ancestral sampling, in generated tokens per second.

    .venv/bin/python bench/lm.py [--blocks 32 64 128] [--batch-size 32] [--d 128] [--layers 2]
        [--steps 30] [--repeats 2] [--threads N] [--matmul 2048]
"""

from __future__ import annotations

import argparse

import torch
from timing import best_time

from collapse_utils.families import lm


def matmul_flops(n: int, repeats: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)  # warm-up
    return 2 * n**3 / best_time(lambda: torch.matmul(a, b), max(3, repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--d", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--matmul", type=int, default=2048)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = matmul_flops(args.matmul, args.repeats)
    torch.manual_seed(0)
    model = lm.GPT(args.vocab, context=max(args.blocks), d=args.d, layers=args.layers)
    d, L, V = args.d, args.layers, args.vocab
    n_matmul = 12 * L * d * d + d * V
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; GPT d={d}, {L} layers, vocabulary {V}, "
          f"{model.n_parameters():,} parameters; batch {args.batch_size}, {args.steps} steps, best of {args.repeats}")
    print(f"torch.matmul {args.matmul}x{args.matmul} float32: {peak / 1e9:,.1f} GFLOP/s")
    print(f"{'block':>6} {'tokens/s':>10} {'GFLOP/s':>8} {'share of matmul':>16}")
    for T in args.blocks:
        data = torch.randint(0, V, (args.batch_size * args.steps, T + 1))
        lm.train_lm(model, data[: 2 * args.batch_size], batch_size=args.batch_size)  # warm-up
        seconds = best_time(lambda data=data: lm.train_lm(model, data, batch_size=args.batch_size), args.repeats)
        tokens = args.batch_size * args.steps * T  # predicted tokens
        flops = (6 * n_matmul + 12 * L * d * T) * tokens / seconds
        print(f"{T:>6} {tokens / seconds:>10,.0f} {flops / 1e9:>8.1f} {flops / peak:>16.0%}")
    prompts = torch.randint(0, V, (128, 32))
    for decoding, beams in (("beam", 5), ("ancestral", 1)):
        seconds = best_time(lambda decoding=decoding, beams=beams: lm.sample(
            model, prompts, 32, decoding=decoding, beams=beams, repetition_penalty=3.0), args.repeats)
        print(f"decoding {decoding:>9} ({beams} beam{'s' if beams > 1 else ''}): "
              f"{128 * 32 / seconds:,.0f} generated tokens/s (128 prompts of 32 tokens, 32 new)")


if __name__ == "__main__":
    main()
