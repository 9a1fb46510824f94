"""``python -m tests.bench [--quick] [--only SUBSTRING] [--json PATH]``."""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())
