"""Run the real ``tokenlife`` command as a subprocess, and check its output contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The fixed "now" every command run sees (FrozenClock's default start + 5 min).
T0 = 1_800_000_000.0
NOW = T0 + 300


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def one_line_error(self) -> str:
        """The single stderr line of a failed run (and check the failure contract)."""
        assert self.code != 0, self.out
        assert "Traceback" not in self.err, self.err
        lines = self.err.splitlines()
        assert len(lines) == 1, self.err
        assert lines[0].startswith("tokenlife: error: "), self.err
        assert self.out == "", self.out
        return lines[0]


def tokenlife(
    *args: str | Path,
    now: float | None = NOW,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Ran:
    """``python -m tokenlife_cli ARGS`` with ``TOKENLIFE_NOW`` pinned (``now=None``: real clock)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TOKENLIFE_")}
    environment["PYTHONWARNINGS"] = "error"
    if now is not None:
        environment["TOKENLIFE_NOW"] = repr(now)
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "tokenlife_cli", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


__all__ = ("NOW", "T0", "Ran", "tokenlife")
