"""Using a SQLiteStore before opening it says how to open it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tokenlife import StoreError
from tokenlife_sqlite import SQLiteStore


def test_an_unopened_store_says_how_to_open_it(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "tokens.db")
    with pytest.raises(StoreError) as caught:
        asyncio.run(store.session("anything"))
    assert "async with SQLiteStore(path) as store:" in str(caught.value)
    assert "await store.open()" in str(caught.value)
