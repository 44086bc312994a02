"""A tiny language model as a family of the loop (chapter 06).

Chapter 06, "Language models trained on their own text", replicates Shumailov et
al.'s (2024) OPT-125m experiment at laptop scale with the pieces of this module:

- :func:`train_tokenizer` / :class:`BPETokenizer`: a byte-level BPE tokenizer
  (Hugging Face ``tokenizers``) trained on the real training text. Byte-level BPE
  round-trips any text exactly, and its tokens are about word pieces, so a block
  of 64 tokens is a sentence or two (as for OPT's tokenizer) and the repetition
  penalty acts on word pieces, not on single letters, as in the paper;
- the network :class:`GPT` and its decoding :func:`sample` (from
  :mod:`collapse_utils.families.transformer`);
- :func:`train_lm`, :func:`sequence_nll`, :func:`perplexity`;
- :class:`LMFamily`: ``fit`` fine-tunes a copy of a fixed pretrained base model on
  a generation's data, ``sample`` continues real prompts (or the model's own
  training text, ``prompts_from="own"``);
- :func:`pretrained`: the setup chapters 06 and 10 share (tokenizer, seeded
  split, pretrained base model), cached; :func:`require_source` and
  :func:`resolve_device` check the corpus and pick the device (a GPU when
  present, for the ``paper`` profile) before any work;
- :class:`Arm` / :func:`run_arms`: the chapter's arms (decoding, prompts from
  real or own text, real share), every run seeded and cached, generation 0
  shared by the arms that fit alike.

The chapter's measurements are metrics of the loop in
:mod:`collapse_utils.measures.lm`. The module is longer than 400 lines because
the arms share the family's seeding, device and cache keys with the setup that
chapter 10 reuses; split apart, one protocol would live in two files.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from collapse_utils.checks import check_int, check_number, check_positive
from collapse_utils.families.transformer import (
    DECODINGS,
    GPT,
    _check_blocks,
    apply_repetition_penalty,
    sample,
)
from collapse_utils.loop import seed_torch

#: where :class:`LMFamily` takes its prompts: the real training blocks, or the model's own training blocks
PROMPT_SOURCES = ("real", "own")
#: ``device=`` values: the CPU, a CUDA GPU (required), or "auto" (CUDA when present, else the CPU)
DEVICES = ("cpu", "cuda", "auto")

__all__ = [
    "DECODINGS",
    "PROMPT_SOURCES",
    "resolve_device",
    "require_source",
    "Arm",
    "run_arms",
    "BPETokenizer",
    "train_tokenizer",
    "make_blocks",
    "GPT",
    "train_lm",
    "sequence_nll",
    "perplexity",
    "apply_repetition_penalty",
    "sample",
    "LMFamily",
    "Setup",
    "pretrained",
]


class BPETokenizer:
    """A byte-level BPE tokenizer (chapter 06); wraps a ``tokenizers.Tokenizer``.

    ``encode(text)`` gives an int64 numpy array of token ids, ``decode(ids)`` the
    text back (exactly: byte-level BPE loses nothing). Picklable (stored as JSON).

    Book: {ref}`sec-06-text`
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
    """Train a byte-level BPE tokenizer with ``vocab_size`` tokens on ``text`` (chapter 06).

    Book: {ref}`sec-06-text`
    """
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
    shape ``(n, block)`` int64; keeps the first ``max_blocks`` if given (chapter 06).

    Book: {ref}`sec-06-text`
    """
    block = check_int("block", block, 2)
    ids = np.asarray(ids, dtype=np.int64).ravel()
    n = len(ids) // block
    if max_blocks is not None:
        n = min(n, check_int("max_blocks", max_blocks, 1))
    if n == 0:
        raise ValueError(f"ids must hold at least block = {block} tokens; got {len(ids)}")
    return torch.as_tensor(ids[: n * block].reshape(n, block).copy())


def train_lm(model: GPT, blocks, *, epochs: int = 1, batch_size: int = 32, lr: float = 1e-3,
             weight_decay: float = 0.01, max_steps: int | None = None) -> list[float]:
    """Train ``model`` in place on ``blocks`` (next-token cross-entropy, AdamW, a fresh
    random order each epoch from torch's CPU generator; the batches move to the
    model's device) and return the mean loss of each epoch (chapter 06).

    Book: {ref}`sec-06-model`
    """
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
        for batch in torch.randperm(len(blocks)).split(batch_size):  # the order: CPU generator, any device
            x = blocks[batch].to(model.device)
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
    the first token of each block given (chapter 06).

    Book: {prf:ref}`def-06-perplexity`
    """
    blocks = _check_blocks(blocks, model)
    model.eval()
    out = []
    with torch.no_grad():
        for x in blocks.split(batch):
            x = x.to(model.device)
            logits, _ = model(x[:, :-1])
            nll = F.cross_entropy(logits.transpose(1, 2), x[:, 1:], reduction="none")
            out.append(nll.mean(dim=1).cpu())
    return torch.cat(out).numpy() if out else np.empty(0)


def perplexity(model: GPT, blocks) -> float:
    """Perplexity of ``model`` on ``blocks``: exp of the mean per-token NLL (chapter 06).

    Book: {prf:ref}`def-06-perplexity`
    """
    if len(_check_blocks(blocks, model)) == 0:
        raise ValueError(f"blocks must hold at least one block to take a perplexity of; got shape {tuple(blocks.shape)}")
    return float(np.exp(sequence_nll(model, blocks).mean()))


@dataclass(frozen=True)
class LMFamily:
    """The language model as a family of :func:`collapse_utils.loop.run` (chapter 06).

    ``fit(blocks, rng)`` fine-tunes a copy of the pretrained ``base`` model on
    ``blocks`` (Shumailov et al.: every generation starts from the same base);
    ``sample(model, n, rng)`` takes ``n`` of the real ``prompts`` (without
    replacement while they last) and returns the model's continuations of
    ``new_tokens`` tokens, decoded with :func:`sample`'s ``decoding``. A
    ``decoding=`` rule (:class:`collapse_utils.samplers.Decoding`, the loop's
    ``sampler=``) replaces the temperature of ancestral sampling by its
    :meth:`~collapse_utils.samplers.Decoding.logits`.

    ``prompts_from`` says where the prompts come from: ``"real"`` (the default,
    Shumailov et al.'s protocol: the fixed real ``prompts``, so real text enters
    every generation) or ``"own"`` (the blocks the model was trained on, which
    ``fit`` keeps as ``model.train_blocks``: from generation 1 on, text written
    by the previous generation, so nothing real enters after generation 0).
    The model is trained and decodes on the base model's device
    (:attr:`GPT.device`); data and samples stay on the CPU.

    Book: {ref}`sec-06-model`
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
    prompts_from: str = "real"

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
        if self.prompts_from not in PROMPT_SOURCES:
            raise ValueError(f"prompts_from must be one of {', '.join(map(repr, PROMPT_SOURCES))}; "
                             f"got {self.prompts_from!r}")

    def fit(self, data, rng: np.random.Generator, *, generation: int | None = None) -> GPT:
        blocks = _check_blocks(data, self.base)
        seed_torch(rng)
        model = copy.deepcopy(self.base)
        model.losses = train_lm(model, blocks, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr)
        if self.prompts_from == "own":
            model.train_blocks = blocks.clone()
        return model

    def sample(self, model: GPT, n: int, rng: np.random.Generator, decoding=None) -> torch.Tensor:
        n = check_int("n", n, 0)
        seed_torch(rng)
        if n == 0:
            return torch.empty(0, self.new_tokens, dtype=torch.long)
        pool = self.prompts if self.prompts_from == "real" else getattr(model, "train_blocks", None)
        if pool is None:
            raise ValueError("prompts_from='own' needs a model fitted by this family (model.train_blocks)")
        order = np.concatenate([rng.permutation(len(pool)) for _ in range(-(-n // len(pool)))])
        prompts = pool[torch.as_tensor(np.sort(order[:n]))]
        if decoding is not None and self.decoding != "ancestral":
            raise ValueError(f"a decoding rule needs ancestral sampling; this family decodes by {self.decoding!r}")
        return self.continue_prompts(model, prompts, logits_filter=None if decoding is None else decoding.logits)

    def continue_prompts(self, model: GPT, prompts, logits_filter=None) -> torch.Tensor:
        """:func:`sample` of ``model`` on ``prompts`` with this family's decoding (torch's generator)."""
        return sample(model, prompts, self.new_tokens, decoding=self.decoding, beams=self.beams,
                      repetition_penalty=self.repetition_penalty, temperature=self.temperature,
                      logits_filter=logits_filter)


@dataclass(frozen=True)
class Setup:
    """What chapters 06 and 10 share (:func:`pretrained`): the text and the base model.

    ``tokenizer``; ``base``, the pretrained :class:`GPT`; ``pretrain``, ``train``
    and ``test``, the token blocks of the seeded split (``train``: the real
    training blocks, generation 0's data and the prompts); ``corpora``, the
    text splits by name; ``source``, the corpus actually used (an online source
    may fall back to an offline one); ``key``, the parameters that determine the
    base model, for the cache keys of experiments built on it.

    Book: {ref}`sec-06-model`
    """

    tokenizer: BPETokenizer
    base: GPT = field(repr=False)
    pretrain: torch.Tensor = field(repr=False)
    train: torch.Tensor = field(repr=False)
    test: torch.Tensor = field(repr=False)
    corpora: dict = field(repr=False)
    source: str
    key: dict


def pretrained(source: str, vocab_size: int, block: int, d_model: int, layers: int, pretrain_tokens: int,
               n_train: int, n_test: int, seed: int, *, cache_root=None, device: str = "cpu") -> Setup:
    """The tokenizer, the seeded split and the pretrained base model of chapter 06, cached.

    The tokenizer (``vocab_size`` tokens) is trained on the corpus's pretraining
    split. From ``np.random.default_rng(seed)`` are drawn, in this order,
    ``pretrain_tokens // (2 * block)`` pretraining blocks of ``2 * block`` tokens,
    ``n_train`` training blocks and ``n_test`` test blocks of ``block`` tokens
    (each kept in text order). The base model (``layers`` blocks of width
    ``d_model``, context 128) is trained one epoch on the pretraining blocks.
    Tokenizer and base model are cached (``06_tokenizer``, ``06_base``) under
    keys that both chapters build here, so chapter 10 reuses chapter 06's model.
    ``device`` (:func:`resolve_device`): where the base model is trained and kept
    (and so every model fine-tuned from it); a GPU run is cached apart from a CPU
    run (``key`` then holds ``device``), a CPU run under the same key as before.
    The ``source`` is checked first (:func:`require_source`).

    Book: {ref}`sec-06-model`
    """
    from collapse_utils import data
    from collapse_utils.cache import Cache

    for name, value in (("block", block), ("d_model", d_model), ("layers", layers),
                        ("pretrain_tokens", pretrain_tokens), ("n_train", n_train), ("n_test", n_test)):
        check_int(name, value, 1)
    device = resolve_device(device)
    corpora = {split: data.load_text(require_source(source), split) for split in data.TEXT_SPLITS}
    used = corpora["train"].source
    key = dict(source=used, vocab_size=vocab_size, block=block, d_model=d_model, layers=layers,
               pretrain_tokens=pretrain_tokens, seed=seed)
    if device != "cpu":
        key["device"] = device
    tokenizer = Cache("06_tokenizer", {"source": used, "vocab_size": vocab_size}, uses=[train_tokenizer],
                      root=cache_root).get_or_compute(
        "tokenizer", lambda: train_tokenizer(corpora["pretrain"].text, vocab_size))
    split_rng = np.random.default_rng(seed)

    def blocks_of(split, length, count):
        all_blocks = make_blocks(tokenizer.encode(corpora[split].text), length)
        if count > len(all_blocks):
            raise ValueError(f"the {split} split has only {len(all_blocks)} blocks of {length} tokens; "
                             f"asked for {count}")
        return all_blocks[torch.as_tensor(np.sort(split_rng.choice(len(all_blocks), size=count, replace=False)))]

    pretrain_blocks = blocks_of("pretrain", 2 * block, max(1, pretrain_tokens // (2 * block)))
    train = blocks_of("train", block, n_train)
    test = blocks_of("test", block, n_test)

    def pretrain():
        torch.manual_seed(seed)
        model = GPT(tokenizer.vocab_size, context=128, d=d_model, layers=layers,
                    heads=4 if d_model % 4 == 0 else 1).to(device)
        model.losses = train_lm(model, pretrain_blocks, epochs=1, batch_size=32, lr=1e-3)
        return model

    base = Cache("06_base", key, uses=[GPT, train_lm], root=cache_root).get_or_compute("base", pretrain)
    return Setup(tokenizer=tokenizer, base=base, pretrain=pretrain_blocks, train=train, test=test,
                 corpora=corpora, source=used, key=key)


def resolve_device(device: str = "cpu") -> str:
    """The torch device for ``device``: ``"cpu"``; ``"cuda"`` (a CUDA GPU, which must be
    present); ``"auto"``: CUDA when present, else the CPU, so a run never requires a
    GPU (chapter 06's ``paper`` profile).

    Book: {ref}`sec-06-model`
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {', '.join(map(repr, DEVICES))}; got {device!r}")
    available = torch.cuda.is_available()
    if device == "cuda" and not available:
        raise ValueError("device='cuda' needs a CUDA GPU and none is present; use device='auto' or 'cpu'")
    return "cuda" if device == "cuda" or (device == "auto" and available) else "cpu"


def require_source(source: str) -> str:
    """Check, before any work, that the text ``source`` can be loaded here; return it.

    ``"shakespeare"`` and ``"pydoc"`` are offline. ``"wikitext2"`` (the corpus of
    Shumailov et al., chapter 06's ``paper`` profile) needs the ``datasets``
    package, which the book does not install, and a network the first time:
    without the package this raises :class:`collapse_utils.data.DataUnavailableError`
    at once, naming what to install, instead of failing after minutes of work.

    Book: {ref}`sec-06-text`
    """
    import importlib.util

    from collapse_utils import data

    if source not in data.TEXT_SOURCES:
        raise ValueError(f"source must be one of {', '.join(map(repr, data.TEXT_SOURCES))}; got {source!r}")
    if source == "wikitext2" and importlib.util.find_spec("datasets") is None:
        raise data.DataUnavailableError(
            "source='wikitext2' (the paper profile's corpus) needs the `datasets` package, which the book "
            "does not install: run `pip install datasets` (it downloads wikitext-2-raw-v1 once, so it needs "
            "a network), or use source='shakespeare' or 'pydoc' offline")
    return source


@dataclass(frozen=True)
class Arm:
    """One arm of chapter 06's experiment, for :func:`run_arms`: how each generation
    is fitted and sampled (``family``: decoding, prompts, epochs) and what it trains
    on (``policy``, e.g. ``loop.Replace()`` or ``loop.Mix(0.1)``). ``seeds``,
    ``generations``: this arm's, if not :func:`run_arms`' own; ``metrics``: the
    names of :func:`run_arms`' metrics it records (default: all of them).

    Book: {ref}`sec-06-generations`
    """

    family: LMFamily
    policy: object
    seeds: int | None = None
    generations: int | None = None
    metrics: tuple | None = None

    def __post_init__(self):
        if not isinstance(self.family, LMFamily):
            raise ValueError(f"Arm.family must be an LMFamily; got {type(self.family).__name__}")
        for name in ("seeds", "generations"):
            if getattr(self, name) is not None:
                check_int(f"Arm.{name}", getattr(self, name), 1 if name == "seeds" else 0)


def run_arms(arms: dict, *, real, generations: int, seeds: int, seed: int, metrics, key: dict,
             uses=(), cache_name: str = "06_lm", cache_root=None, progress=None) -> dict:
    """Run every :class:`Arm` of ``arms`` (``{name: arm}``) for its seeds with
    :func:`collapse_utils.loop.run`, each run cached; returns ``{name: [history per seed]}``.

    ``metrics``: the loop's metrics ``{name: f(step)}``, or a function of the
    arm's family returning them (as
    :func:`collapse_utils.measures.lm.lm_metrics`, whose ``example`` decodes like
    the family).

    Run ``s`` of every arm uses the seed ``SeedSequence([seed, s])`` and the cache
    ``Cache(cache_name, {**key, "setting": name, "run": s}, uses=[family, policy,
    loop.run, *uses])``, so a rebuild trains nothing. Generation 0 (the base model
    fine-tuned on the real data) depends only on the seed and on how the family
    fits (base, epochs, batch size, learning rate), not on the decoding, the
    prompts or the policy: runs that fit alike share it, bit for bit, through
    their caches (it is copied into a later arm's cache, with the earlier arm's
    metrics row; an arm that records the decoded ``example`` shares only with an
    arm that decodes alike). The paired runs of different arms therefore start
    from the same generation 0.

    Book: {ref}`sec-06-generations`
    """
    from collapse_utils import loop
    from collapse_utils.cache import Cache

    if not isinstance(arms, dict) or not arms or not all(isinstance(a, Arm) for a in arms.values()):
        raise ValueError("arms must be a non-empty dict {name: Arm}")
    generations = check_int("generations", generations, 0)
    seeds = check_int("seeds", seeds, 1)
    given = {name: metrics(arm.family) if callable(metrics) else metrics for name, arm in arms.items()}
    for name, arm in arms.items():
        if not isinstance(given[name], dict):
            raise ValueError(f"metrics must be a dict {{name: f(step)}} or a function of the family returning one; "
                             f"got {type(given[name]).__name__}")
        unknown = set(arm.metrics or ()) - set(given[name])
        if unknown:
            raise ValueError(f"arm {name!r} asks for metrics that are not given: {sorted(unknown)}; "
                             f"given: {sorted(given[name])}")
    first: dict = {}  # (how it fits, seed, how it decodes) -> generation 0's cache entry
    runs = {}
    for name, arm in arms.items():
        names = tuple(given[name]) if arm.metrics is None else tuple(arm.metrics)
        family = arm.family
        decodes = (family.decoding, family.beams, family.repetition_penalty, family.temperature)
        fits = (id(family.base), family.epochs, family.batch_size, family.lr)
        runs[name] = []
        for s in range(arm.seeds or seeds):
            cache = Cache(cache_name, {**key, "setting": name, "run": s},
                          uses=[family, arm.policy, loop.run, *uses], root=cache_root)
            share = (fits, s, decodes if "example" in names else None)
            entry = first.get(share)
            if cache.load(0) is None and entry is not None and set(names) <= set(entry["row"]):
                keep = {"generation", "n_train", "n_real", *names}
                model = entry["model"]
                if family.prompts_from == "own":  # what this family's fit keeps: generation 0's data
                    model = copy.deepcopy(model)
                    model.train_blocks = entry["real0"].clone()
                cache.save(0, {**entry, "model": model,
                               "row": {k: v for k, v in entry["row"].items() if k in keep}})
            runs[name].append(loop.run(
                family, real=real, generations=generations if arm.generations is None else arm.generations,
                policy=arm.policy, metrics={m: given[name][m] for m in names},
                seed=np.random.SeedSequence([seed, s]), desc=f"{name} {s}", cache=cache, progress=progress))
            first.setdefault(share, cache.load(0))
            if "example" in names:
                first.setdefault((fits, s, None), first[share])
    return runs
