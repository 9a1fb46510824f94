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

import itertools
from datetime import datetime, timedelta, timezone

from ._contract import (
    STORE_CONTRACT,
    ContractCheck,
    ContractViolation,
    StoreFactory,
    make_session,
    refresh_request,
)


class FrozenClock:
    """A clock that moves only when told to. Pass it as ``TokenAuthority(clock=...)``."""

    __slots__ = ("now",)

    def __init__(self, start: float | datetime = 1_800_000_000.0) -> None:
        self.now = start.timestamp() if isinstance(start, datetime) else float(start)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float | timedelta) -> float:
        """Move forward (never back) and return the new time."""
        step = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if step < 0:
            raise ValueError("a FrozenClock never moves backwards")
        self.now += step
        return self.now

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now, tz=timezone.utc)


class SequentialIds:
    """Ids ``prefix-000001``, ``prefix-000002``, …: reproducible runs, readable failures."""

    __slots__ = ("_counter", "prefix")

    def __init__(self, prefix: str = "id") -> None:
        self.prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self.prefix}-{next(self._counter):06d}"


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
