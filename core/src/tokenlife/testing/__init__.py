"""Deterministic time and ids, and the Store contract suite, for anyone's tests.

Run the contract against your own store with pytest and anyio::

    import pytest
    from tokenlife.testing import STORE_CONTRACT


    @pytest.mark.anyio
    @pytest.mark.parametrize("check", STORE_CONTRACT, ids=lambda c: c.__name__)
    async def test_store_contract(check, tmp_path):
        await check(lambda: MyStore(tmp_path / "db"))  # a fresh, empty store each time

Each check raises :class:`ContractViolation` with a precise message when the
store misbehaves. The concurrency checks need ``anyio`` (``tokenlife[testing]``).
"""

from __future__ import annotations

from tokenlife._contract import (
    STORE_CONTRACT,
    ContractCheck,
    ContractViolation,
    StoreFactory,
    make_session,
    refresh_request,
)

from ._fakes import FrozenClock, SequentialIds


async def run_store_contract(factory: StoreFactory) -> dict[str, ContractViolation | None]:
    """Every contract check against stores from ``factory``: name → violation or None."""
    outcome: dict[str, ContractViolation | None] = {}
    for check in STORE_CONTRACT:
        try:
            await check(factory)
        except ContractViolation as violation:
            outcome[check.__name__] = violation
        else:
            outcome[check.__name__] = None
    return outcome


__all__ = (
    "STORE_CONTRACT",
    "ContractCheck",
    "ContractViolation",
    "FrozenClock",
    "SequentialIds",
    "StoreFactory",
    "make_session",
    "refresh_request",
    "run_store_contract",
)
