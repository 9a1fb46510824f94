"""tokenlife.testing without Hypothesis: its clock, ids and contract still import."""

from __future__ import annotations

import subprocess
import sys

_BLOCKED = """
import sys
sys.modules["hypothesis"] = None  # as if it were not installed
import tokenlife.testing as t
assert t.FrozenClock().advance(1) == 1_800_000_001.0
assert t.SequentialIds("s")() == "s-000001"
assert t.STORE_CONTRACT
try:
    import tokenlife.testing.lifecycle
except ImportError as exc:
    print("lifecycle needs", exc.name)
"""


def test_testing_imports_without_hypothesis() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BLOCKED], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "lifecycle needs hypothesis"
