"""Style: ruff passes on the package, the tests, the benchmarks, the tools and the notebooks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    targets = [p for p in ("collapse_utils", "tests", "notebooks", "bench", "tools") if (ROOT / p).exists()]
    done = subprocess.run([str(ruff), "check", "--output-format", "concise", *targets],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
