"""Run tokenlife's store contract against your own store with pytest (and anyio).

Copy this into your test suite and import your store instead of ``DictStore``.
"""

from __future__ import annotations

import pytest

from docs.examples.dict_store import DictStore  # your store here
from tokenlife.testing import STORE_CONTRACT, ContractCheck

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # DictStore uses asyncio.Lock; an anyio-based store can run on "trio" too


@pytest.mark.parametrize("check", STORE_CONTRACT, ids=lambda check: check.__name__)
async def test_store_contract(check: ContractCheck) -> None:
    # Each check opens fresh, empty stores from the factory it is given and
    # raises ContractViolation, with a precise message, when the store is wrong.
    await check(DictStore)
