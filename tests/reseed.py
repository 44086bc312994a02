"""Run the statistical tests over many seed offsets and count the failures (``make test-reseed``).

    python tests/reseed.py [--offsets 20] [pytest paths and options ...]

Each run sets ``COLLAPSE_TEST_SEED_OFFSET`` (see ``tests/conftest.py``), so every
seeded statistical check meets other random numbers. A check whose tolerance is
derived from the statistic's law fails rarely (the tests state their rates:
about 6e-5 per comparison at 4 standard errors, at most 1e-3 for the KS tests);
a test that fails in several of 20 offsets has a tolerance that is wrong, or an
unstated extra check. The report lists every failing test with its count.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the test folders with seeded Monte-Carlo checks (no notebooks, no build)
STATISTICAL = ["tests/exact", "tests/loop", "tests/measures", "tests/families/test_models.py",
               "tests/families/test_nonparametric.py", "tests/families/test_zipf.py", "tests/families/test_gmm.py"]


def run(offset: int, args: list[str], junit: Path) -> tuple[int, list[str]]:
    env = os.environ | {"COLLAPSE_TEST_SEED_OFFSET": str(offset), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not build and not browser",
               f"--junitxml={junit}", *args]
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    tree = ET.parse(junit)
    total, failed = 0, []
    for case in tree.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        total += 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return total, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offsets", type=int, default=20, help="how many seed offsets (1..N); default 20")
    parser.add_argument("pytest_args", nargs="*", help=f"test paths (default: {' '.join(STATISTICAL)})")
    args = parser.parse_args(argv)
    if args.offsets < 1:
        parser.error("--offsets must be at least 1")
    paths = args.pytest_args or STATISTICAL
    counts: Counter[str] = Counter()
    runs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for offset in range(1, args.offsets + 1):
            total, failed = run(offset, paths, Path(tmp) / f"{offset}.xml")
            runs += total
            counts.update(failed)
            print(f"offset {offset:3d}: {total} tests, {len(failed)} failed", flush=True)
    print(f"\n{runs} test runs ({args.offsets} offsets), {sum(counts.values())} failures")
    for name, count in counts.most_common():
        print(f"{count:4d} / {args.offsets}  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
