"""On-disk cache of expensive steps, keyed by the parameters and the code version.

A :class:`Cache` is a folder of numbered entries (one per generation, say). Its
key hashes the experiment's name and parameters, the source code of the modules
that compute it, and the versions of Python, numpy and torch, so any change to
any of them starts a new folder: a stale result is never reused. Entries are
written atomically with an HMAC-SHA256 signature beside them, keyed by a secret
that never lives in the cache folder (:func:`signing_key`): an entry whose
signature does not match, whether damaged (a run killed mid-write, a disk
error) or planted (a pickle written by someone without the key, for instance
into a cache shared between CI runs), is reported, deleted and recomputed
*before* anything in it is unpickled, so a planted entry cannot run code. The
signature also covers the cache's key and the entry's step, so a valid entry
cannot be moved to another step or experiment. The retraining loop uses the
cache to skip finished generations and resume an interrupted run. (Chapter:
"How to run this book".)
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import inspect
import json
import os
import pickle
import platform
import secrets
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

CACHE_ENV = "COLLAPSE_CACHE_DIR"
KEY_ENV = "COLLAPSE_CACHE_KEY"
KEY_FILE_ENV = "COLLAPSE_CACHE_KEY_FILE"
_SIGNATURE_CONTEXT = b"collapse_utils cache entry v2"


class CorruptedCacheWarning(UserWarning):
    """A cache entry failed its checksum and will be recomputed.

    Book: {doc}`book/how_to_run`
    """


def default_root() -> Path:
    """``$COLLAPSE_CACHE_DIR`` if set, else ``~/.cache/collapse_utils``.

    Book: {doc}`book/how_to_run`
    """
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "collapse_utils"


def key_file() -> Path:
    """Where this machine's signing key lives: ``$COLLAPSE_CACHE_KEY_FILE``, else
    ``$XDG_CONFIG_HOME/collapse_utils/cache-key`` (``~/.config/...`` by default).

    Book: {doc}`book/how_to_run`
    """
    env = os.environ.get(KEY_FILE_ENV)
    if env:
        return Path(env)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "collapse_utils" / "cache-key"


def signing_key() -> bytes:
    """The secret that signs cache entries.

    ``$COLLAPSE_CACHE_KEY`` if set (at least 32 characters: a CI secret, so that
    runs sharing a cache trust each other and nobody else); otherwise the key in
    :func:`key_file`, created on first use (32 random bytes, readable by its
    owner only). Keep it out of any folder you share: whoever holds it can
    write entries the cache will load.

    Book: {doc}`book/how_to_run`
    """
    env = os.environ.get(KEY_ENV)
    if env:
        if len(env) < 32:
            raise ValueError(f"{KEY_ENV} must hold at least 32 characters (a random secret); got {len(env)}")
        return env.encode()
    path = key_file()
    for _ in range(2):
        try:
            text = path.read_text().strip()
            key = bytes.fromhex(text)
            if len(key) < 32:
                raise ValueError("too short")
            return key
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process created it first: read theirs
                continue
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32) + "\n")
        except ValueError:
            raise ValueError(f"the cache signing key {path} is not 64 hex digits; delete it to make a new one "
                             "(every cached entry will then be recomputed)") from None
    return bytes.fromhex(path.read_text().strip())


def _package_root() -> Path:
    return Path(__file__).parent


def _collapse_imports(module_name: str) -> set[str]:
    """The ``collapse_utils`` modules that ``module_name`` imports (statically, anywhere in it)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return set()
    tree = ast.parse(Path(spec.origin).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("collapse_utils"):
            found.add(node.module)
            for alias in node.names:  # "from collapse_utils.exact import gaussian" imports a module
                candidate = f"{node.module}.{alias.name}"
                if importlib.util.find_spec(node.module) is not None and _is_module(candidate):
                    found.add(candidate)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("collapse_utils"))
    return found


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def modules_used(objects: Iterable[Any]) -> list[ModuleType]:
    """The ``collapse_utils`` modules that define ``objects`` (functions, classes or
    instances) and every ``collapse_utils`` module they import, transitively.

    Objects defined outside the package (a notebook's lambda, numpy) add nothing.

    Book: {doc}`book/how_to_run`
    """
    import importlib

    todo = []
    for obj in objects:
        if obj is None:
            continue
        name = getattr(obj, "__module__", None) or getattr(type(obj), "__module__", "")
        if isinstance(obj, ModuleType):
            name = obj.__name__
        if name and name.startswith("collapse_utils"):
            todo.append(name)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(_collapse_imports(name) - seen)
    return [importlib.import_module(name) for name in sorted(seen)]


def code_version(modules: Iterable[ModuleType] | None = None) -> str:
    """SHA-256 of the source of ``modules`` (default: every module of the library,
    that is the package less ``book/`` and ``answers/``).

    Book: {doc}`book/how_to_run`
    """
    if modules is None:
        package = _package_root()
        files = sorted(p for p in package.rglob("*.py") if p.parent.name not in ("book", "answers"))
        sources = [f.read_bytes() for f in files]
    else:
        sources = [inspect.getsource(m).encode() for m in modules]
    digest = hashlib.sha256()
    for source in sources:
        digest.update(hashlib.sha256(source).digest())
    return digest.hexdigest()


def environment_version() -> dict[str, str]:
    """Versions of what can change a numerical result: Python, numpy, torch.

    Book: {doc}`book/how_to_run`
    """
    versions = {"python": platform.python_version()}
    for package in ("numpy", "scipy", "scikit-learn", "torch"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def _canonical(params: dict) -> str:
    try:
        return json.dumps(params, sort_keys=True, default=repr)
    except TypeError as err:  # pragma: no cover - json with default=repr rarely fails
        raise ValueError(f"cache parameters must be JSON-like: {err}") from None


class Cache:
    """A folder of checksummed entries for one experiment and one set of parameters.

    name: the experiment (a folder name: letters, digits, ``-``, ``_``).
    params: everything the result depends on (JSON-serialisable values).
    uses: the functions, classes or objects (a family, a policy) that compute
        the result; the code version covers their modules and every
        ``collapse_utils`` module those import (:func:`modules_used`), so
        nobody lists modules by hand.
    modules: the modules the result depends on, explicitly (rarely needed).
        Without ``uses`` or ``modules`` the whole library counts.
    root: the cache root (default :func:`default_root`).

    Book: {doc}`book/how_to_run`
    """

    def __init__(
        self,
        name: str,
        params: dict,
        *,
        uses: Iterable[Any] | None = None,
        modules: Iterable[ModuleType] | None = None,
        root: str | os.PathLike | None = None,
    ):
        if not name or not all(c.isalnum() or c in "-_" for c in name):
            raise ValueError(f"cache name must use only letters, digits, '-' and '_'; got {name!r}")
        if not isinstance(params, dict):
            raise ValueError(f"params must be a dict, got {type(params).__name__}")
        self.name = name
        self.params = params
        self.key_material = {
            "name": name,
            "params": _canonical(params),
            "code": code_version(modules if uses is None else modules_used(uses)),
            "environment": environment_version(),
        }
        self.key = hashlib.sha256(_canonical(self.key_material).encode()).hexdigest()[:20]
        self.path = Path(root if root is not None else default_root()) / name / self.key

    def _files(self, step: int | str) -> tuple[Path, Path]:
        stem = f"{step:06d}" if isinstance(step, int) else str(step)
        return self.path / f"{stem}.pkl", self.path / f"{stem}.sig"

    def _signature(self, step_file: Path, payload: bytes) -> str:
        message = b"\0".join((_SIGNATURE_CONTEXT, self.key.encode(), step_file.stem.encode(), payload))
        return hmac.new(signing_key(), message, hashlib.sha256).hexdigest()

    def load(self, step: int | str) -> Any | None:
        """The stored value of ``step``, or ``None`` if absent, damaged or not signed with our key.

        The signature is checked before the entry is unpickled.
        """
        data_file, sig_file = self._files(step)
        if not data_file.exists():
            return None
        try:
            payload = data_file.read_bytes()
            expected = sig_file.read_text().strip()
            if not hmac.compare_digest(self._signature(data_file, payload), expected):
                raise ValueError("signature mismatch: damaged, or written without this machine's key")
            return pickle.loads(payload)  # signed by us: safe to unpickle
        except Exception as err:  # any failure means: do not trust this entry
            warnings.warn(
                f"cache entry {data_file} is corrupted or untrusted ({err}); recomputing it",
                CorruptedCacheWarning,
                stacklevel=2,
            )
            data_file.unlink(missing_ok=True)
            sig_file.unlink(missing_ok=True)
            return None

    def save(self, step: int | str, value: Any) -> None:
        """Store ``value`` for ``step`` atomically, with its signature."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "key.json").write_text(json.dumps(self.key_material, indent=1))
        data_file, sig_file = self._files(step)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        for target, content in (
            (data_file, payload),
            (sig_file, self._signature(data_file, payload).encode()),
        ):
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, target)

    def get_or_compute(self, step: int | str, compute: Callable[[], Any]) -> Any:
        """The cached value of ``step``, computing and storing it if needed."""
        value = self.load(step)
        if value is None:
            value = compute()
            self.save(step, value)
        return value

    def steps(self) -> list[str]:
        """Names of the stored entries."""
        return sorted(p.stem for p in self.path.glob("*.pkl"))

    def clear(self) -> None:
        """Delete every entry of this cache."""
        for p in self.path.glob("*"):
            p.unlink()
