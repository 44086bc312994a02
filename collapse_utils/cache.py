"""On-disk cache of expensive steps, keyed by the parameters and the code version.

A :class:`Cache` is a folder of numbered entries (one per generation, say). Its
key hashes the experiment's name and parameters, the source code of the modules
that compute it, and the versions of Python, numpy and torch, so any change to
any of them starts a new folder: a stale result is never reused. Entries are
written atomically with a SHA-256 checksum beside them; an entry whose checksum
does not match (a run killed mid-write, a disk error) is reported, deleted and
recomputed, never trusted. The retraining loop uses it to skip finished
generations and resume an interrupted run. (Chapter: "How to run this book".)
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import os
import pickle
import platform
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

CACHE_ENV = "COLLAPSE_CACHE_DIR"


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
        return self.path / f"{stem}.pkl", self.path / f"{stem}.sha256"

    def load(self, step: int | str) -> Any | None:
        """The stored value of ``step``, or ``None`` if absent or corrupted."""
        data_file, sum_file = self._files(step)
        if not data_file.exists():
            return None
        try:
            payload = data_file.read_bytes()
            expected = sum_file.read_text().strip()
            if hashlib.sha256(payload).hexdigest() != expected:
                raise ValueError("checksum mismatch")
            return pickle.loads(payload)
        except Exception as err:  # any failure means: do not trust this entry
            warnings.warn(
                f"cache entry {data_file} is corrupted ({err}); recomputing it",
                CorruptedCacheWarning,
                stacklevel=2,
            )
            data_file.unlink(missing_ok=True)
            sum_file.unlink(missing_ok=True)
            return None

    def save(self, step: int | str, value: Any) -> None:
        """Store ``value`` for ``step`` atomically, with its checksum."""
        self.path.mkdir(parents=True, exist_ok=True)
        (self.path / "key.json").write_text(json.dumps(self.key_material, indent=1))
        data_file, sum_file = self._files(step)
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        for target, content in (
            (data_file, payload),
            (sum_file, hashlib.sha256(payload).hexdigest().encode()),
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
