"""The on-disk cache: keys, atomic checksummed entries, corruption detection."""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils import cache as cache_module
from collapse_utils.cache import Cache, CorruptedCacheWarning


def test_key_depends_on_name_params_code_and_environment(tmp_path, monkeypatch):
    a = Cache("exp", {"n": 10, "seed": 1}, root=tmp_path)
    assert a.key == Cache("exp", {"seed": 1, "n": 10}, root=tmp_path).key  # order-free
    assert a.key != Cache("exp", {"n": 11, "seed": 1}, root=tmp_path).key
    assert a.key != Cache("other", {"n": 10, "seed": 1}, root=tmp_path).key
    import collapse_utils.exact.gaussian as gaussian_module
    import collapse_utils.loop as loop_module

    assert Cache("exp", {}, modules=[loop_module]).key != Cache("exp", {}, modules=[gaussian_module]).key
    monkeypatch.setattr(cache_module, "environment_version", lambda: {"torch": "0.0"})
    assert Cache("exp", {"n": 10, "seed": 1}, root=tmp_path).key != a.key


def test_round_trip_and_get_or_compute_skips_cached_steps(tmp_path):
    c = Cache("exp", {"n": 3}, root=tmp_path)
    assert c.load(0) is None
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3)}

    first = c.get_or_compute(0, compute)
    second = c.get_or_compute(0, compute)
    assert calls == [1]
    assert np.array_equal(first["x"], second["x"])
    assert c.steps() == ["000000"]
    assert (c.path / "key.json").exists()
    assert not list(c.path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["flip", "truncate", "no-checksum"])
def test_corrupted_entry_is_detected_and_recomputed(tmp_path, damage):
    c = Cache("exp", {"n": 3}, root=tmp_path)
    c.save(5, [1, 2, 3])
    data_file = c.path / "000005.pkl"
    payload = bytearray(data_file.read_bytes())
    if damage == "flip":
        payload[len(payload) // 2] ^= 0xFF
        data_file.write_bytes(bytes(payload))
    elif damage == "truncate":
        data_file.write_bytes(bytes(payload[:5]))
    else:
        (c.path / "000005.sha256").unlink()
    with pytest.warns(CorruptedCacheWarning, match="corrupted"):
        assert c.load(5) is None
    assert not data_file.exists()
    assert c.get_or_compute(5, lambda: "fresh") == "fresh"
    assert c.load(5) == "fresh"


def test_bad_names_and_params(tmp_path):
    with pytest.raises(ValueError, match="cache name must use only"):
        Cache("a/b", {}, root=tmp_path)
    with pytest.raises(ValueError, match="params must be a dict"):
        Cache("a", [1], root=tmp_path)


def test_default_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLAPSE_CACHE_DIR", str(tmp_path))
    assert Cache("exp", {}).path.parent.parent == tmp_path
