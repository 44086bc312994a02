"""The small decoder-only transformer of chapter 06 and its decoding rules.

- :class:`GPT`: a small GPT (learned position embeddings, pre-norm blocks, tied
  input and output embeddings) with a key/value cache for decoding;
- :func:`sample`: continuations of prompts, with the decoding a parameter:
  ``"beam"`` (beam search with a repetition penalty, Shumailov et al.'s) or
  ``"ancestral"`` (sampling token by token, with
  :func:`collapse_utils.samplers.filter_logits`);
- :func:`apply_repetition_penalty`.

:mod:`collapse_utils.families.lm` trains it and wraps it as a family of the loop.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_int, check_positive
from collapse_utils.samplers import filter_logits

__all__ = ["DECODINGS", "GPT", "apply_repetition_penalty", "sample"]


DECODINGS = ("beam", "ancestral")


class _Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, past=None, prefix=None):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2) for z in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        if prefix is not None:  # one new token per row; rows share a prefix in groups
            y = _grouped_attention(q, k, v, *prefix)
        elif past is not None and t > 1:  # causal within the new tokens; each sees all cached ones
            n_past = past[0].shape[2]
            mask = torch.ones(t, n_past + t, dtype=torch.bool, device=x.device).tril(diagonal=n_past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=past is None)
        x = x + self.proj(y.transpose(1, 2).reshape(b, t, d))
        x = x + self.mlp(self.ln2(x))
        return x, (k, v)


def _grouped_attention(q, k, v, pk, pv):
    """Attention of one new token per row over a prefix shared by groups of rows
    (``pk``, ``pv``: one row per group) and the row's own keys ``k``, ``v``. Beam
    search uses it so that the prompt's keys are stored once per prompt, not once
    per beam, and never copied when beams are reordered."""
    rows, heads, _, dh = q.shape
    groups = pk.shape[0]
    g = q.view(groups, rows // groups, heads, 1, dh)
    scale = 1.0 / math.sqrt(dh)
    prefix_scores = torch.einsum("gbhqd,ghkd->gbhqk", g, pk).reshape(rows, heads, 1, -1) * scale
    own_scores = (q @ k.transpose(-1, -2)) * scale
    weights = torch.softmax(torch.cat([prefix_scores, own_scores], dim=-1), dim=-1)
    n_prefix = pk.shape[2]
    wp = weights[..., :n_prefix].reshape(groups, rows // groups, heads, 1, n_prefix)
    return torch.einsum("gbhqk,ghkd->gbhqd", wp, pv).reshape(rows, heads, 1, dh) + weights[..., n_prefix:] @ v


class GPT(nn.Module):
    """A small decoder-only transformer (chapter 06): ``layers`` pre-norm blocks of
    width ``d`` with ``heads`` attention heads, context ``context`` tokens, tied
    input/output embeddings. ``forward(idx, past)`` returns the logits and the
    key/value cache (a list with one ``(k, v)`` per layer).

    Book: {ref}`sec-06-model`
    """

    def __init__(self, vocab_size: int, context: int = 128, d: int = 128, layers: int = 2, heads: int = 4):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, 2)
        self.context = check_int("context", context, 2)
        self.d = check_int("d", d, 1)
        heads = check_int("heads", heads, 1)
        if d % heads:
            raise ValueError(f"d must be a multiple of heads; got d={d}, heads={heads}")
        self.tok = nn.Embedding(vocab_size, d)
        self.pos = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(_Block(d, heads) for _ in range(check_int("layers", layers, 1)))
        self.ln = nn.LayerNorm(d)
        self.apply(self._init)
        for block in self.blocks:  # GPT-2's scaled initialisation of the residual projections
            for lin in (block.proj, block.mlp[2]):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * len(self.blocks)))

    @staticmethod
    def _init(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def forward(self, idx: torch.Tensor, past=None, prefix=None):
        """Logits of every position and the new key/value cache. ``past``: the cache of
        earlier tokens; ``prefix``: a cache shared by groups of consecutive rows (one
        new token per row), see :func:`_grouped_attention`."""
        start = 0 if past is None else past[0][0].shape[2]
        if prefix is not None:
            start += prefix[0][0].shape[2]
        t = idx.shape[1]
        if start + t > self.context:
            raise ValueError(f"sequence of {start + t} tokens exceeds the context of {self.context}")
        x = self.tok(idx) + self.pos(torch.arange(start, start + t, device=idx.device))
        cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if past is None else past[i], None if prefix is None else prefix[i])
            cache.append(kv)
        return self.ln(x) @ self.tok.weight.T, cache

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @property
    def device(self) -> torch.device:
        """Where the weights are (the CPU, or a GPU when the model was moved there)."""
        return self.tok.weight.device


def _check_blocks(blocks, model: GPT | None = None) -> torch.Tensor:
    if not isinstance(blocks, torch.Tensor) or blocks.ndim != 2 or blocks.shape[1] < 2:
        shape = tuple(blocks.shape) if hasattr(blocks, "shape") else type(blocks).__name__
        raise ValueError(f"blocks must be a 2-D torch tensor of token ids (n, length >= 2); got {shape}")
    if model is not None and len(blocks) and (int(blocks.min()) < 0 or int(blocks.max()) >= model.vocab_size):
        raise ValueError(f"blocks must hold token ids in 0..{model.vocab_size - 1}")
    return blocks.long()


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """The repetition penalty of Keskar et al. (2019), as in Hugging Face's
    ``generate``: the logit of every token already in the sequence (``seen``, a
    boolean mask like ``logits``) is divided by ``penalty`` if positive and
    multiplied by it if negative (chapter 06).

    Book: {ref}`ex-06-penalty`
    """
    penalty = check_positive("penalty", penalty)
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


def _reorder(cache, index):
    return [(k.index_select(0, index), v.index_select(0, index)) for k, v in cache]


def _beam_search(model, prompts, new_tokens, beams, penalty):
    b, vocab, device = len(prompts), model.vocab_size, prompts.device
    seen = torch.zeros(b, vocab, dtype=torch.bool, device=device)
    seen.scatter_(1, prompts, True)
    logits, prefix = model(prompts)  # the prompt once per prompt, shared by its beams
    logp = F.log_softmax(apply_repetition_penalty(logits[:, -1], seen, penalty), dim=-1)
    k = min(beams, vocab)
    scores, token = torch.topk(logp, k, dim=1)  # all beams start from the prompt: the k best first tokens
    if k < beams:  # more beams than tokens: pad with impossible beams
        scores = torch.cat([scores, torch.full((b, beams - k), float("-inf"), device=device)], dim=1)
        token = torch.cat([token, token[:, :1].expand(b, beams - k)], dim=1)
    token = token.reshape(-1, 1)
    out = token
    seen = seen.repeat_interleave(beams, dim=0)
    seen.scatter_(1, token, True)
    offsets = (torch.arange(b, device=device) * beams)[:, None]
    cache = None
    for _ in range(new_tokens - 1):
        logits, cache = model(token, cache, prefix)
        logp = F.log_softmax(apply_repetition_penalty(logits[:, -1], seen, penalty), dim=-1)
        total = (scores.reshape(-1, 1) + logp).reshape(b, beams * vocab)
        scores, flat = torch.topk(total, beams, dim=1)
        source = (flat // vocab + offsets).reshape(-1)
        token = (flat % vocab).reshape(-1, 1)
        out = torch.cat([out.index_select(0, source), token], dim=1)
        seen = seen.index_select(0, source)
        seen.scatter_(1, token, True)
        cache = _reorder(cache, source)
    best = scores.argmax(dim=1) + offsets[:, 0]
    return out.index_select(0, best)


def _ancestral(model, prompts, new_tokens, penalty, rule):
    vocab = model.vocab_size
    seen = torch.zeros(len(prompts), vocab, dtype=torch.bool, device=prompts.device)
    seen.scatter_(1, prompts, True)
    logits, cache = model(prompts)
    out = []
    for step in range(new_tokens):
        last = apply_repetition_penalty(logits[:, -1], seen, penalty)
        probs = torch.softmax(rule(last), dim=-1)
        token = torch.multinomial(probs, 1)
        out.append(token)
        seen.scatter_(1, token, True)
        if step + 1 < new_tokens:
            logits, cache = model(token, cache)
    return torch.cat(out, dim=1)


def sample(model: GPT, prompts, new_tokens: int, *, decoding: str = "beam", beams: int = 5,
           repetition_penalty: float = 1.0, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, batch: int = 128, logits_filter=None) -> torch.Tensor:
    """Continue each prompt by ``new_tokens`` tokens; returns only the new tokens,
    shape ``(len(prompts), new_tokens)`` (chapter 06).

    decoding: ``"beam"``: beam search with ``beams`` beams, keeping the beam of
        highest total log-probability (all beams have the same length, so no length
        penalty applies); ``"ancestral"``: draw each token from the model's
        distribution after :func:`filter_logits` (``temperature``, ``top_k``,
        ``top_p``), using torch's global generator.
    repetition_penalty: :func:`apply_repetition_penalty` on the tokens of the
        prompt and of the continuation so far (1.0: none).
    batch: prompts decoded together.
    The decoding runs on the model's device (:attr:`GPT.device`: a GPU when the
    model is there); the continuations come back as CPU tensors.
    logits_filter: replaces :func:`filter_logits` with ``temperature``,
        ``top_k``, ``top_p`` in ancestral sampling (a
        :meth:`collapse_utils.samplers.Decoding.logits`).

    Book: {ref}`sec-06-model`
    """
    if decoding not in DECODINGS:
        raise ValueError(f"decoding must be one of {', '.join(map(repr, DECODINGS))}; got {decoding!r}")
    prompts = _check_blocks(prompts, model)
    new_tokens = check_int("new_tokens", new_tokens, 1)
    beams = check_int("beams", beams, 1)
    penalty = check_positive("repetition_penalty", repetition_penalty)
    batch = check_int("batch", batch, 1)
    check_positive("temperature", temperature)
    if prompts.shape[1] + new_tokens > model.context:
        raise ValueError(f"prompt length + new_tokens = {prompts.shape[1] + new_tokens} exceeds the "
                         f"model's context of {model.context}")
    if logits_filter is None:
        def logits_filter(logits):
            return filter_logits(logits, temperature, top_k, top_p)
    elif not callable(logits_filter):
        raise ValueError(f"logits_filter must be callable or None; got {logits_filter!r}")
    model.eval()
    parts = []
    with torch.no_grad():
        for chunk in prompts.split(batch):
            chunk = chunk.to(model.device)  # decode where the model is; the tokens come back to the CPU
            if decoding == "beam":
                parts.append(_beam_search(model, chunk, new_tokens, beams, penalty).cpu())
            else:
                parts.append(_ancestral(model, chunk, new_tokens, penalty, logits_filter).cpu())
    return torch.cat(parts) if parts else torch.empty(0, new_tokens, dtype=torch.long)
