"""Chapter 06's arms: prompts from the model's own text, run_arms (shared generation 0,
caching), the device and the source checks, and the `paper` profile's code path at a
tiny scale (smoke sizes, CPU, seconds; the notebook run is marked `build`)."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from collapse_utils import data, loop
from collapse_utils.book import params
from collapse_utils.book.profiles import PROFILES
from collapse_utils.families import lm
from collapse_utils.measures import lm as lm_measures

TEXT = "\n\n".join(
    f"Friends, Romans, countrymen, lend me your ears {i}; I come to bury Caesar, not to praise him. "
    f"The evil that men do lives after them {i % 5}."
    for i in range(50)
)


@pytest.fixture(scope="module")
def setup():
    tokenizer = lm.train_tokenizer(TEXT, vocab_size=300)
    blocks = lm.make_blocks(tokenizer.encode(TEXT), 8)
    torch.manual_seed(0)
    base = lm.GPT(tokenizer.vocab_size, context=32, d=32, layers=1, heads=2)
    lm.train_lm(base, blocks, epochs=1, batch_size=8, lr=3e-3)
    return tokenizer, blocks, base


def family_of(setup, **changes):
    tokenizer, blocks, base = setup
    return lm.LMFamily(base=base, prompts=blocks[:10], new_tokens=8, epochs=1, batch_size=5, beams=2, **changes)


def test_own_prompts_come_from_the_models_training_blocks(setup, monkeypatch):
    family = family_of(setup, prompts_from="own")
    written = setup[1][20:30]
    model = family.fit(written, np.random.default_rng(0))
    assert torch.equal(model.train_blocks, written)
    seen = {}

    def record(self, model, prompts, logits_filter=None):
        seen["prompts"] = prompts
        return torch.zeros(len(prompts), self.new_tokens, dtype=torch.long)

    monkeypatch.setattr(lm.LMFamily, "continue_prompts", record)
    family.sample(model, 6, np.random.default_rng(1))
    rows = {tuple(r) for r in written.tolist()}
    assert all(tuple(p) in rows for p in seen["prompts"].tolist())  # every prompt is a training block
    family_of(setup).sample(model, 6, np.random.default_rng(1))  # the paper's: the real prompts
    real = {tuple(r) for r in setup[1][:10].tolist()}
    assert all(tuple(p) in real for p in seen["prompts"].tolist())


def test_own_prompts_need_a_model_of_the_family_and_a_known_source(setup):
    _, _, base = setup
    with pytest.raises(ValueError, match="train_blocks"):
        family_of(setup, prompts_from="own").sample(base, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="prompts_from must be one of 'real', 'own'"):
        family_of(setup, prompts_from="previous")


def run(setup, arms, root, **kwargs):
    tokenizer, blocks, _ = setup
    return lm.run_arms(arms, real=blocks[:10], generations=2, seeds=2, seed=5,
                       metrics=lambda f: lm_measures.lm_metrics(f, tokenizer, blocks[30:36], n_texts=4),
                       key={"test": 1}, uses=[lm_measures], cache_root=root, **kwargs)


def test_arms_share_generation_0_bit_for_bit_and_a_rerun_trains_nothing(setup, tmp_path, monkeypatch):
    beam = family_of(setup)
    arms = {"replace": lm.Arm(beam, loop.Replace()),
            "own": lm.Arm(dataclasses.replace(beam, prompts_from="own"), loop.Replace(), metrics=("test_ppl",)),
            "mix": lm.Arm(dataclasses.replace(beam, decoding="ancestral"), loop.Mix(0.3), generations=1,
                          metrics=("test_ppl", "data_ppl"))}
    shared = run(setup, arms, tmp_path / "shared")
    assert [len(shared[name]) for name in arms] == [2, 2, 2]
    assert [len(h) for h in shared["mix"]] == [2, 2] and list(shared["mix"][0]["n_real"]) == [10, 3]
    assert shared["own"][0].columns == ["generation", "n_train", "n_real", "test_ppl"]
    for s in range(2):  # run s of every arm starts from the same generation 0
        assert shared["own"][s]["test_ppl"][0] == shared["mix"][s]["test_ppl"][0] == shared["replace"][s]["test_ppl"][0]
    # sharing changes nothing: each arm alone, from scratch, gives the same histories
    for name, arm in arms.items():
        alone = run(setup, {name: arm}, tmp_path / f"alone-{name}")[name]
        assert alone == shared[name], name
    # a rerun loads every generation from the caches
    monkeypatch.setattr(lm.LMFamily, "fit", lambda *a, **k: pytest.fail("a cached generation was refitted"))
    assert run(setup, arms, tmp_path / "shared") == shared


def test_run_arms_refuses_bad_arms(setup, tmp_path):
    with pytest.raises(ValueError, match="non-empty dict"):
        run(setup, {}, tmp_path)
    with pytest.raises(ValueError, match="not given: \\['bleu'\\]"):
        run(setup, {"a": lm.Arm(family_of(setup), loop.Replace(), metrics=("bleu",))}, tmp_path)
    with pytest.raises(ValueError, match="Arm.family"):
        lm.Arm("beam", loop.Replace())
    with pytest.raises(ValueError, match="Arm.seeds"):
        lm.Arm(family_of(setup), loop.Replace(), seeds=0)


def test_device_is_the_cpu_unless_a_gpu_is_asked_for_and_present(monkeypatch):
    assert lm.resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert lm.resolve_device("auto") == "cpu"  # a GPU is never required
    with pytest.raises(ValueError, match="needs a CUDA GPU"):
        lm.resolve_device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lm.resolve_device("auto") == lm.resolve_device("cuda") == "cuda"
    with pytest.raises(ValueError, match="device must be one of 'cpu', 'cuda', 'auto'"):
        lm.resolve_device("tpu")


def test_a_cpu_setup_keeps_its_cache_key_and_model_on_the_cpu(tmp_path):
    args = dict(source="pydoc", vocab_size=300, block=8, d_model=16, layers=1, pretrain_tokens=800, n_train=10,
                n_test=6, seed=4, cache_root=tmp_path)
    cpu = lm.pretrained(**args)
    assert "device" not in cpu.key and cpu.base.device.type == "cpu"  # chapter 10's keys are unchanged
    if not torch.cuda.is_available():
        assert lm.pretrained(**args, device="auto").key == cpu.key


def without_datasets(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "datasets" else real_find_spec(name, *a))


def test_wikitext2_without_datasets_fails_at_once_naming_the_package(monkeypatch):
    without_datasets(monkeypatch)
    monkeypatch.setattr(data, "load_text", lambda *a, **k: pytest.fail("the text was read before the check"))
    for call in (lambda: lm.require_source("wikitext2"),
                 lambda: lm.pretrained("wikitext2", 300, 8, 16, 1, 800, 10, 6, 0)):
        with pytest.raises(data.DataUnavailableError, match="pip install datasets"):
            call()
    assert lm.require_source("pydoc") == "pydoc"
    with pytest.raises(ValueError, match="source must be one of"):
        lm.require_source("books")


ROOT = Path(__file__).resolve().parents[2]
PAPER = params.profile("paper", ROOT)["06_language_models"]
# the paper profile's protocol at a tiny scale: offline text, smoke sizes; everything
# else (device "auto", 5 beams, penalty 3.0, 5 and 10 epochs, 5 seeds, 9 generations) as the profile has it
TINY = {"source": "pydoc", "vocab_size": 300, "block": 8, "d_model": 32, "layers": 1, "pretrain_tokens": 4000,
        "n_train": 20, "n_test": 16, "generations": 2, "seeds": 2, "epochs": 1, "mix_epochs": 2,
        "ngram_generations": 2}


def test_the_paper_profile_is_the_papers_protocol():
    assert PROFILES["paper"]["06_language_models"]["device"] == "auto"  # a GPU when present, never required
    assert {k: PAPER[k] for k in ("source", "block", "epochs", "mix_epochs", "seeds", "generations", "beams",
                                  "repetition_penalty", "real_fraction", "batch_size")} == {
        "source": "wikitext2", "block": 64, "epochs": 5, "mix_epochs": 10, "seeds": 5, "generations": 9,
        "beams": 5, "repetition_penalty": 3.0, "real_fraction": 0.1, "batch_size": 128}
    params.check("06_language_models", PAPER | TINY)


@pytest.mark.build
def test_the_paper_profile_runs_end_to_end_at_a_tiny_scale(tmp_path, monkeypatch):
    from collapse_utils.book import build
    from collapse_utils.book.glue_diff import glued_values

    for name, value in (("COLLAPSE_CACHE_DIR", tmp_path / "cache"), ("COLLAPSE_FIGURES_DIR", tmp_path / "figures"),
                        ("COLLAPSE_BUILD", 1), ("COLLAPSE_PROGRESS", 0)):
        monkeypatch.setenv(name, str(value))
    target = tmp_path / "06_language_models.ipynb"
    build.execute(ROOT / "notebooks" / "06_language_models.ipynb", target, PAPER | TINY, timeout=600)
    glued = glued_values(target)
    assert glued["fig-06-ppl"] == "<figure>" and "paper-vs-book-06" in glued
    assert glued["seeds"] == str(TINY["seeds"]) and glued["mix-epochs"] == str(TINY["mix_epochs"])
