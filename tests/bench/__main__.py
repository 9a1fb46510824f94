"""``python -m tests.bench [--quick] [--only SUBSTRING] [--json PATH]``."""

from __future__ import annotations

from ._harness import main

raise SystemExit(main())
