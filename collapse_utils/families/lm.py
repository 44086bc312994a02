"""A tiny decoder-only transformer language model as a family of the loop (chapter 06).

Chapter 06, "Language models trained on their own text", replicates Shumailov et
al.'s (2024) OPT-125m experiment at laptop scale with the pieces of this module:

- :func:`train_tokenizer` / :class:`BPETokenizer`: a byte-level BPE tokenizer
  (Hugging Face ``tokenizers``) trained on the real training text. Byte-level BPE
  round-trips any text exactly, and its tokens are about word pieces, so a block
  of 64 tokens is a sentence or two (as for OPT's tokenizer) and the repetition
  penalty acts on word pieces, not on single letters, as in the paper;
- :class:`GPT`: a small GPT (learned position embeddings, pre-norm blocks, tied
  input and output embeddings) with a key/value cache for decoding;
- :func:`train_lm`, :func:`sequence_nll`, :func:`perplexity`;
- :func:`sample`: continuations of prompts, with the decoding a parameter:
  ``"beam"`` (beam search with a repetition penalty, the paper's) or
  ``"ancestral"`` (sampling token by token, with :func:`filter_logits`);
- :class:`LMFamily`: ``fit`` fine-tunes a copy of a fixed pretrained base model on
  a generation's data, ``sample`` continues real prompts;
- :class:`Probe` and :func:`run`: the chapter's measurements in the loop.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from collapse_utils.checks import check_int, check_number, check_positive
from collapse_utils.loop import seed_torch
from collapse_utils.samplers import filter_logits

__all__ = ['DECODINGS', 'BPETokenizer', 'train_tokenizer', 'make_blocks', 'GPT', 'train_lm', 'sequence_nll', 'perplexity', 'apply_repetition_penalty', 'sample', 'LMFamily', 'Probe', 'run']


DECODINGS = ("beam", "ancestral")



class BPETokenizer:
    """A byte-level BPE tokenizer (chapter 06); wraps a ``tokenizers.Tokenizer``.

    ``encode(text)`` gives an int64 numpy array of token ids, ``decode(ids)`` the
    text back (exactly: byte-level BPE loses nothing). Picklable (stored as JSON).
    """

    def __init__(self, json_text: str):
        from tokenizers import Tokenizer

        self._json = json_text
        self._tok = Tokenizer.from_str(json_text)

    @property
    def vocab_size(self) -> int:
        return self._tok.get_vocab_size()

    def encode(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise ValueError(f"text must be a string; got {type(text).__name__}")
        return np.asarray(self._tok.encode(text).ids, dtype=np.int64)

    def decode(self, ids) -> str:
        return self._tok.decode([int(i) for i in np.asarray(ids).ravel()], skip_special_tokens=False)

    def decode_batch(self, blocks) -> list[str]:
        return [self.decode(row) for row in np.asarray(blocks)]

    def __getstate__(self):
        return {"json": self._json}

    def __setstate__(self, state):
        self.__init__(state["json"])



def train_tokenizer(text: str, vocab_size: int = 1024) -> BPETokenizer:
    """Train a byte-level BPE tokenizer with ``vocab_size`` tokens on ``text`` (chapter 06)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    vocab_size = check_int("vocab_size", vocab_size, 257)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    chunks = text.split("\n\n")
    tok.train_from_iterator(chunks, trainer=trainer)
    return BPETokenizer(tok.to_str())



def make_blocks(ids, block: int, max_blocks: int | None = None) -> torch.Tensor:
    """Cut a token stream into consecutive non-overlapping blocks of ``block`` tokens,
    shape ``(n, block)`` int64; keeps the first ``max_blocks`` if given (chapter 06)."""
    block = check_int("block", block, 2)
    ids = np.asarray(ids, dtype=np.int64).ravel()
    n = len(ids) // block
    if max_blocks is not None:
        n = min(n, check_int("max_blocks", max_blocks, 1))
    if n == 0:
        raise ValueError(f"ids must hold at least block = {block} tokens; got {len(ids)}")
    return torch.as_tensor(ids[: n * block].reshape(n, block).copy())



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
            mask = torch.ones(t, n_past + t, dtype=torch.bool).tril(diagonal=n_past)
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
    key/value cache (a list with one ``(k, v)`` per layer)."""

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
        x = self.tok(idx) + self.pos(torch.arange(start, start + t))
        cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if past is None else past[i], None if prefix is None else prefix[i])
            cache.append(kv)
        return self.ln(x) @ self.tok.weight.T, cache

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())



def _check_blocks(blocks, model: GPT | None = None) -> torch.Tensor:
    if not isinstance(blocks, torch.Tensor) or blocks.ndim != 2 or blocks.shape[1] < 2:
        shape = tuple(blocks.shape) if hasattr(blocks, "shape") else type(blocks).__name__
        raise ValueError(f"blocks must be a 2-D torch tensor of token ids (n, length >= 2); got {shape}")
    if model is not None and len(blocks) and (int(blocks.min()) < 0 or int(blocks.max()) >= model.vocab_size):
        raise ValueError(f"blocks must hold token ids in 0..{model.vocab_size - 1}")
    return blocks.long()



def train_lm(model: GPT, blocks, *, epochs: int = 1, batch_size: int = 32, lr: float = 1e-3,
             weight_decay: float = 0.01, max_steps: int | None = None) -> list[float]:
    """Train ``model`` in place on ``blocks`` (next-token cross-entropy, AdamW, a fresh
    random order each epoch from torch's generator) and return the mean loss of each
    epoch (chapter 06)."""
    blocks = _check_blocks(blocks, model)
    epochs = check_int("epochs", epochs, 1)
    batch_size = check_int("batch_size", batch_size, 1)
    check_positive("lr", lr)
    check_number("weight_decay", weight_decay, 0)
    if max_steps is not None:
        max_steps = check_int("max_steps", max_steps, 1)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    losses, steps = [], 0
    for _ in range(epochs):
        total, count = 0.0, 0
        for batch in torch.randperm(len(blocks)).split(batch_size):
            x = blocks[batch]
            logits, _ = model(x[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
            count += len(batch)
            steps += 1
            if max_steps is not None and steps >= max_steps:
                break
        losses.append(total / count)
        if max_steps is not None and steps >= max_steps:
            break
    model.eval()
    return losses



def sequence_nll(model: GPT, blocks, batch: int = 256) -> np.ndarray:
    """Mean negative log-likelihood (nats per token) of each block under ``model``,
    the first token of each block given (chapter 06)."""
    blocks = _check_blocks(blocks, model)
    model.eval()
    out = []
    with torch.no_grad():
        for x in blocks.split(batch):
            logits, _ = model(x[:, :-1])
            nll = F.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
            out.append(nll.mean(dim=1))
    return torch.cat(out).numpy() if out else np.empty(0)



def perplexity(model: GPT, blocks) -> float:
    """Perplexity of ``model`` on ``blocks``: exp of the mean per-token NLL (chapter 06)."""
    return float(np.exp(sequence_nll(model, blocks).mean()))



def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """The repetition penalty of Keskar et al. (2019), as in Hugging Face's
    ``generate``: the logit of every token already in the sequence (``seen``, a
    boolean mask like ``logits``) is divided by ``penalty`` if positive and
    multiplied by it if negative (chapter 06)."""
    penalty = check_positive("penalty", penalty)
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)



def _reorder(cache, index):
    return [(k.index_select(0, index), v.index_select(0, index)) for k, v in cache]



def _beam_search(model, prompts, new_tokens, beams, penalty):
    b, vocab = len(prompts), model.vocab_size
    seen = torch.zeros(b, vocab, dtype=torch.bool)
    seen.scatter_(1, prompts, True)
    logits, prefix = model(prompts)  # the prompt once per prompt, shared by its beams
    logp = F.log_softmax(apply_repetition_penalty(logits[:, -1], seen, penalty), dim=-1)
    k = min(beams, vocab)
    scores, token = torch.topk(logp, k, dim=1)  # all beams start from the prompt: the k best first tokens
    if k < beams:  # more beams than tokens: pad with impossible beams
        scores = torch.cat([scores, torch.full((b, beams - k), float("-inf"))], dim=1)
        token = torch.cat([token, token[:, :1].expand(b, beams - k)], dim=1)
    token = token.reshape(-1, 1)
    out = token
    seen = seen.repeat_interleave(beams, dim=0)
    seen.scatter_(1, token, True)
    offsets = (torch.arange(b) * beams)[:, None]
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



def _ancestral(model, prompts, new_tokens, penalty, temperature, top_k, top_p):
    vocab = model.vocab_size
    seen = torch.zeros(len(prompts), vocab, dtype=torch.bool)
    seen.scatter_(1, prompts, True)
    logits, cache = model(prompts)
    out = []
    for step in range(new_tokens):
        last = apply_repetition_penalty(logits[:, -1], seen, penalty)
        probs = torch.softmax(filter_logits(last, temperature, top_k, top_p), dim=-1)
        token = torch.multinomial(probs, 1)
        out.append(token)
        seen.scatter_(1, token, True)
        if step + 1 < new_tokens:
            logits, cache = model(token, cache)
    return torch.cat(out, dim=1)



def sample(model: GPT, prompts, new_tokens: int, *, decoding: str = "beam", beams: int = 5,
           repetition_penalty: float = 1.0, temperature: float = 1.0, top_k: int | None = None,
           top_p: float | None = None, batch: int = 128) -> torch.Tensor:
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
    model.eval()
    parts = []
    with torch.no_grad():
        for chunk in prompts.split(batch):
            if decoding == "beam":
                parts.append(_beam_search(model, chunk, new_tokens, beams, penalty))
            else:
                parts.append(_ancestral(model, chunk, new_tokens, penalty, temperature, top_k, top_p))
    return torch.cat(parts) if parts else torch.empty(0, new_tokens, dtype=torch.long)



@dataclass(frozen=True)
class LMFamily:
    """The language model as a family of :func:`collapse_utils.loop.run` (chapter 06).

    ``fit(blocks, rng)`` fine-tunes a copy of the pretrained ``base`` model on
    ``blocks`` (Shumailov et al.: every generation starts from the same base);
    ``sample(model, n, rng)`` takes ``n`` of the real ``prompts`` (without
    replacement while they last) and returns the model's continuations of
    ``new_tokens`` tokens, decoded with :func:`sample`'s ``decoding``.
    """

    base: GPT = field(compare=False, repr=False)
    prompts: torch.Tensor = field(compare=False, repr=False)
    new_tokens: int = 64
    epochs: int = 5
    batch_size: int = 32
    lr: float = 1e-3
    decoding: str = "beam"
    beams: int = 5
    repetition_penalty: float = 3.0
    temperature: float = 1.0

    def __post_init__(self):
        if not isinstance(self.base, GPT):
            raise ValueError(f"base must be a collapse_utils.families.lm.GPT; got {type(self.base).__name__}")
        _check_blocks(self.prompts, self.base)
        check_int("new_tokens", self.new_tokens, 1)
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 1)
        check_positive("lr", self.lr)
        if self.decoding not in DECODINGS:
            raise ValueError(f"decoding must be one of {', '.join(map(repr, DECODINGS))}; got {self.decoding!r}")
        check_int("beams", self.beams, 1)
        check_positive("repetition_penalty", self.repetition_penalty)
        check_positive("temperature", self.temperature)

    def fit(self, data, rng: np.random.Generator) -> GPT:
        blocks = _check_blocks(data, self.base)
        seed_torch(rng)
        model = copy.deepcopy(self.base)
        model.losses = train_lm(model, blocks, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr)
        return model

    def sample(self, model: GPT, n: int, rng: np.random.Generator) -> torch.Tensor:
        n = check_int("n", n, 0)
        seed_torch(rng)
        if n == 0:
            return torch.empty(0, self.new_tokens, dtype=torch.long)
        order = np.concatenate([rng.permutation(len(self.prompts)) for _ in range(-(-n // len(self.prompts)))])
        prompts = self.prompts[torch.as_tensor(np.sort(order[:n]))]
        return sample(model, prompts, self.new_tokens, decoding=self.decoding, beams=self.beams,
                      repetition_penalty=self.repetition_penalty, temperature=self.temperature)



class Probe:
    """Measurements of chapter 06 at every generation of :func:`collapse_utils.loop.run`.

    At generation t (whose training data were generated by generation t - 1, or
    are the real data at t = 0) it records:

    - ``test_ppl``: :func:`perplexity` of the generation's model on the real
      held-out ``test`` blocks;
    - ``data_ppl``: the per-sequence perplexities of the generation's *generated*
      training sequences (the real ones at t = 0) under the ``reference`` model,
      generation 0's (Shumailov et al.'s Fig. 1b/c);
    - ``distinct1``, ``distinct2``, ``distinct3``, ``self_bleu``, ``rep2``: the
      diversity of the first ``n_texts`` of those sequences, decoded
      (:mod:`collapse_utils.measures.lexical`);
    - ``example``: the model's continuation of each of ``examples`` (real held-out
      prompts), decoded as in the family.

    The reference is generation 0's model of the run (kept when the loop fits it;
    when the loop loads generation 0 from a cache, :meth:`restore_reference`).
    """

    def __init__(self, family: LMFamily, tokenizer: BPETokenizer, test, *, examples=None, n_texts: int = 200,
                 reference: GPT | None = None):
        from collapse_utils.measures import lexical

        self._tm = lexical
        self.family = family
        self.tokenizer = tokenizer
        self.test = _check_blocks(test, family.base)
        self.examples = None if examples is None else _check_blocks(examples, family.base)
        self.n_texts = check_int("n_texts", n_texts, 2)
        self.reference = reference
        self._last = None

    def restore_reference(self, cache) -> None:
        """Take generation 0's model from ``cache`` as the reference, if stored there."""
        if self.reference is None and cache is not None:
            entry = cache.load(0)
            if entry is not None:
                self.reference = entry["model"]

    def measure(self, model: GPT, data, n_real: int, generation: int) -> dict:
        if generation == 0 and self.reference is None:
            self.reference = model
        if self.reference is None:
            raise RuntimeError("no reference model: pass reference= or start the run at generation 0")
        blocks = _check_blocks(data, model)
        generated = blocks if generation == 0 else blocks[n_real:]
        texts = self.tokenizer.decode_batch(generated[: self.n_texts].numpy())
        row = {
            "test_ppl": perplexity(model, self.test),
            "data_ppl": np.exp(sequence_nll(self.reference, generated)).astype(np.float32),
            "distinct1": self._tm.distinct_n(texts, 1),
            "distinct2": self._tm.distinct_n(texts, 2),
            "distinct3": self._tm.distinct_n(texts, 3),
            "self_bleu": self._tm.self_bleu(texts, max_texts=min(100, len(texts))),
            "rep2": self._tm.repeated_ngram_share(texts, 2),
        }
        if self.examples is not None:
            f = self.family
            torch.manual_seed(generation)
            cont = sample(model, self.examples, f.new_tokens, decoding=f.decoding, beams=f.beams,
                          repetition_penalty=f.repetition_penalty, temperature=f.temperature)
            row["example"] = np.array(self.tokenizer.decode_batch(cont.numpy()), dtype=object)
        return row

    def _get(self, step, name):
        key = (step.generation, id(step.model))
        if self._last is None or self._last[0] != key:
            self._last = (key, self.measure(step.model, step.data, step.n_real, step.generation))
        return self._last[1][name]

    def metrics(self) -> dict:
        """``{name: f(step)}`` for :func:`collapse_utils.loop.run`; one measurement per generation."""
        names = ["test_ppl", "data_ppl", "distinct1", "distinct2", "distinct3", "self_bleu", "rep2"]
        if self.examples is not None:
            names.append("example")
        return {name: (lambda step, name=name: self._get(step, name)) for name in names}



def run(family: LMFamily, real, *, generations: int, probe: Probe, policy="replace", seed=0, cache=None,
        desc: str | None = None):
    """:func:`collapse_utils.loop.run` of the language-model family with ``probe``'s
    metrics (chapter 06). Generation 0 fine-tunes the base on the ``real`` blocks;
    generation t on as many blocks built by ``policy`` from generation t - 1's
    continuations of real prompts. With a ``cache``, every generation's model,
    data and measurements are stored: a rebuild trains nothing, an interrupted
    run resumes at the next generation."""
    from collapse_utils import loop

    if not isinstance(probe, Probe):
        raise ValueError(f"probe must be a collapse_utils.families.lm.Probe; got {type(probe).__name__}")
    probe.reference = None
    probe._last = None
    probe.restore_reference(cache)
    return loop.run(family, real=_check_blocks(real, family.base), generations=generations, policy=policy,
                    metrics=probe.metrics(), seed=seed, cache=cache, desc=desc)


