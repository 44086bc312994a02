"""What chapter 06 measures at every generation of the language model's loop.

:func:`lm_metrics` gives plain metrics of :func:`collapse_utils.loop.run`
(``{name: f(step)}``); the perplexity of the generated text is taken under
``step.reference``, generation 0's model, as in Shumailov et al.'s Fig. 1b/c.
"""

from __future__ import annotations

import numpy as np
import torch

from collapse_utils.checks import check_int
from collapse_utils.families.lm import BPETokenizer, LMFamily, perplexity, sequence_nll
from collapse_utils.families.transformer import _check_blocks
from collapse_utils.measures import lexical

__all__ = ["generated_blocks", "lm_metrics"]


def generated_blocks(step) -> torch.Tensor:
    """The training blocks of ``step`` that a model wrote: all of them at generation 0
    (the real data), else those after the ``n_real`` real ones (the loop puts real
    data first).

    Book: {ref}`sec-06-generations`
    """
    blocks = _check_blocks(step.data)
    return blocks if step.generation == 0 else blocks[step.n_real:]


def lm_metrics(family: LMFamily, tokenizer: BPETokenizer, test, *, examples=None, n_texts: int = 200) -> dict:
    """Chapter 06's measurements as metrics of :func:`collapse_utils.loop.run`.

    At generation t (whose training data were written by generation t - 1, or are
    the real data at t = 0):

    - ``test_ppl``: :func:`collapse_utils.families.lm.perplexity` of the
      generation's model on the real held-out ``test`` blocks;
    - ``data_ppl``: the per-sequence perplexities of its generated training
      sequences (:func:`generated_blocks`) under ``step.reference``, generation 0's
      model (float32);
    - ``distinct1``, ``distinct2``, ``distinct3``, ``self_bleu``, ``rep2``: the
      diversity of the first ``n_texts`` of those sequences, decoded
      (:mod:`collapse_utils.measures.lexical`);
    - ``example`` (if ``examples`` are given): the model's continuation of each
      example prompt, decoded as in the family, with torch seeded by the generation.

    Book: {ref}`sec-06-generations`
    """
    if not isinstance(family, LMFamily):
        raise ValueError(f"family must be a collapse_utils.families.lm.LMFamily; got {type(family).__name__}")
    if not isinstance(tokenizer, BPETokenizer):
        raise ValueError(f"tokenizer must be a BPETokenizer; got {type(tokenizer).__name__}")
    test = _check_blocks(test, family.base)
    examples = None if examples is None else _check_blocks(examples, family.base)
    n_texts = check_int("n_texts", n_texts, 2)
    memo = {}

    def texts(step):  # decoded once per generation, shared by the diversity metrics
        key = (step.generation, id(step.model))
        if key not in memo:
            memo.clear()
            memo[key] = tokenizer.decode_batch(generated_blocks(step)[:n_texts].numpy())
        return memo[key]

    def data_ppl(step):
        if step.reference is None:
            raise ValueError("data_ppl needs step.reference, generation 0's model")
        return np.exp(sequence_nll(step.reference, generated_blocks(step))).astype(np.float32)

    def example(step):
        torch.manual_seed(step.generation)
        continuation = family.continue_prompts(step.model, examples)
        return np.array(tokenizer.decode_batch(continuation.numpy()), dtype=object)

    metrics = {
        "test_ppl": lambda step: perplexity(step.model, test),
        "data_ppl": data_ppl,
        "distinct1": lambda step: lexical.distinct_n(texts(step), 1),
        "distinct2": lambda step: lexical.distinct_n(texts(step), 2),
        "distinct3": lambda step: lexical.distinct_n(texts(step), 3),
        "self_bleu": lambda step: lexical.self_bleu(texts(step), max_texts=min(100, len(texts(step)))),
        "rep2": lambda step: lexical.repeated_ngram_share(texts(step), 2),
    }
    if examples is not None:
        metrics["example"] = example
    return metrics
