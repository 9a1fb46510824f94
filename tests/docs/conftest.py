"""Shared pieces for the documentation tests: paths, a frozen clock, authorities."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import pytest

from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.store import Store
from tokenlife.testing import FrozenClock

ROOT: Final = Path(__file__).resolve().parents[2]
DOCS: Final = ROOT / "docs"
EXAMPLES: Final = DOCS / "examples"
SECRET: Final = "documentation-tests-hs256-secret-0123456789"


def pages() -> list[Path]:
    """Every Markdown page of the site."""
    return sorted(DOCS.rglob("*.md"))


def make_authority(store: Store, clock: FrozenClock, **policy: Any) -> TokenAuthority:
    return TokenAuthority(
        store, keys=KeySet.from_secret(SECRET), policy=Policy(**policy), clock=clock
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
