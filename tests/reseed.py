"""Run the statistical tests over many seed offsets and count the failures (``make test-reseed``).

    python tests/reseed.py [--offsets 20] [pytest paths and options ...]

Each run sets ``COLLAPSE_TEST_SEED_OFFSET`` (see ``tests/conftest.py``), so every
seeded statistical check meets other random numbers. A check whose tolerance is
derived from the statistic's law fails rarely, and a test states that rate with
``@pytest.mark.false_failure_rate(rate)`` (the probability that the whole test
fails when the code is right). The report adds the stated rates of every run into
the expected number of failures, gives the Poisson probability of seeing as many
as were seen, and lists every failing test with its count and its rate; a test
that fails in several of 20 offsets has a tolerance that is wrong, or an
unstated extra check. Tests marked ``pinned_seed`` (a scenario that one picked
seed shows, e.g. a chain that keeps a mode) are left out: they are not
statistical checks, and other seeds do not show their scenario.
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
#: the test folders with seeded Monte-Carlo checks (no notebooks, no build); the exercise
#: answers' checks too (one of them failed for 4% of seeds under the exact law)
STATISTICAL = ["tests/exact", "tests/loop", "tests/measures", "tests/answers", "tests/families/test_models.py",
               "tests/families/test_nonparametric.py", "tests/families/test_zipf.py", "tests/families/test_gmm.py"]


def run(offset: int, args: list[str], junit: Path) -> tuple[int, list[str], dict[str, float]]:
    env = os.environ | {"COLLAPSE_TEST_SEED_OFFSET": str(offset), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not build and not browser and not pinned_seed",
               f"--junitxml={junit}", *args]
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    tree = ET.parse(junit)
    total, failed, rates = 0, [], {}
    for case in tree.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        total += 1
        name = f"{case.get('classname')}::{case.get('name')}"
        for prop in case.iter("property"):
            if prop.get("name") == "false_failure_rate":
                rates[name] = float(prop.get("value"))
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(name)
    return total, failed, rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offsets", type=int, default=20, help="how many seed offsets (1..N); default 20")
    parser.add_argument("pytest_args", nargs="*", help=f"test paths (default: {' '.join(STATISTICAL)})")
    args = parser.parse_args(argv)
    if args.offsets < 1:
        parser.error("--offsets must be at least 1")
    paths = args.pytest_args or STATISTICAL
    counts: Counter[str] = Counter()
    rates: dict[str, float] = {}
    runs = expected = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for offset in range(1, args.offsets + 1):
            total, failed, stated = run(offset, paths, Path(tmp) / f"{offset}.xml")
            runs += total
            expected += sum(stated.values())
            rates.update(stated)
            counts.update(failed)
            print(f"offset {offset:3d}: {total} tests, {len(failed)} failed", flush=True)
    with_rate = sum(c for name, c in counts.items() if name in rates)
    print(f"\n{int(runs)} test runs ({args.offsets} offsets), {sum(counts.values())} failures")
    print(f"tests that state their false-failure rate ({len(rates)}): {with_rate} failures, "
          f"{expected:.3f} expected (Poisson probability of >= {with_rate}: {poisson_tail(with_rate, expected):.3g})")
    print(f"tests that state none: {sum(counts.values()) - with_rate} failures")
    for name, count in counts.most_common():
        rate = f"rate {rates[name]:.1e}" if name in rates else "no stated rate"
        print(f"{count:4d} / {args.offsets}  {name}  ({rate})")
    return 0


def poisson_tail(k: int, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean)."""
    import math

    if k <= 0:
        return 1.0
    return max(0.0, 1.0 - sum(math.exp(-mean) * mean**i / math.factorial(i) for i in range(k)))


if __name__ == "__main__":
    raise SystemExit(main())
