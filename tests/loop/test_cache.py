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
        (c.path / "000005.sig").unlink()
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


class _Planted:
    """A pickle that runs code when loaded: it writes a file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))  # any callable would do: os.system, subprocess.run


def test_a_planted_entry_with_a_matching_checksum_runs_nothing_and_is_recomputed(tmp_path):
    """Issue 19: a pickle planted in the cache with a correct SHA-256 sidecar (what the
    old format trusted) or with a signature made with another key is never unpickled."""
    import hashlib
    import hmac
    import pickle

    c = Cache("exp", {"n": 3}, root=tmp_path)
    c.save(1, "genuine")
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Planted(marker))
    data_file, sig_file = c.path / "000001.pkl", c.path / "000001.sig"
    forged = {
        "old checksum": hashlib.sha256(payload).hexdigest(),
        "another key": hmac.new(b"x" * 32, payload, hashlib.sha256).hexdigest(),
    }
    for how, signature in forged.items():
        data_file.write_bytes(payload)
        sig_file.write_text(signature)
        with pytest.warns(CorruptedCacheWarning, match="untrusted"):
            assert c.get_or_compute(1, lambda: "recomputed") == "recomputed", how
        assert not marker.exists(), f"a planted entry ({how}) ran code"
        assert c.load(1) == "recomputed"
    # the control: the same payload, signed with our key, does run (so the test can see a failure)
    data_file.write_bytes(payload)
    sig_file.write_text(c._signature(data_file, payload))
    c.load(1)
    assert marker.exists()


def test_a_valid_entry_cannot_be_moved_to_another_step_or_experiment(tmp_path):
    a = Cache("exp", {"n": 3}, root=tmp_path)
    b = Cache("exp", {"n": 4}, root=tmp_path)
    a.save(1, "step one")
    for target, name in ((a, "000002"), (b, "000001")):
        target.path.mkdir(parents=True, exist_ok=True)
        for suffix in ("pkl", "sig"):
            (target.path / f"{name}.{suffix}").write_bytes((a.path / f"000001.{suffix}").read_bytes())
        with pytest.warns(CorruptedCacheWarning):
            assert target.load(int(name)) is None


def test_the_signing_key_comes_from_the_environment_or_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv(cache_module.KEY_ENV, raising=False)
    monkeypatch.setenv(cache_module.KEY_FILE_ENV, str(tmp_path / "conf" / "key"))
    key = cache_module.signing_key()
    path = tmp_path / "conf" / "key"
    assert len(key) == 32 and path.stat().st_mode & 0o777 == 0o600
    assert cache_module.signing_key() == key  # created once, then read
    c = Cache("exp", {}, root=tmp_path / "cache")
    c.save(0, 1)
    monkeypatch.setenv(cache_module.KEY_FILE_ENV, str(tmp_path / "other" / "key"))  # another machine
    with pytest.warns(CorruptedCacheWarning):
        assert c.load(0) is None
    monkeypatch.setenv(cache_module.KEY_ENV, "s" * 40)  # a CI secret overrides the file
    c.save(0, 2)
    monkeypatch.setenv(cache_module.KEY_FILE_ENV, str(tmp_path / "third" / "key"))
    assert c.load(0) == 2
    monkeypatch.setenv(cache_module.KEY_ENV, "short")
    with pytest.raises(ValueError, match="COLLAPSE_CACHE_KEY must hold at least 32"):
        cache_module.signing_key()
    monkeypatch.delenv(cache_module.KEY_ENV)
    path.write_text("not hex\n")
    monkeypatch.setenv(cache_module.KEY_FILE_ENV, str(path))
    with pytest.raises(ValueError, match="not 64 hex digits"):
        cache_module.signing_key()
