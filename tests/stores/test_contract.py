"""The public Store contract, run against every selected backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backends import Backend
from tokenlife.testing import STORE_CONTRACT, ContractCheck

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("check", STORE_CONTRACT, ids=lambda check: check.__name__)
async def test_store_contract(check: ContractCheck, backend: Backend, tmp_path: Path) -> None:
    await check(lambda: backend.open(tmp_path))
