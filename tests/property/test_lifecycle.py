"""The lifecycle, against a reference model, on every store.

Invariants 1-12 of docs/design/lifecycle.md#invariants:

* ``test_lifecycle_machine``: a Hypothesis ``RuleBasedStateMachine`` per store
  backend (the ``backend`` fixture of tests/conftest.py: unavailable stores
  skip, or fail under ``TOKENLIFE_REQUIRE_SERVICES=1``).
* ``test_scenario``: hand-written sequences with their expected traces, which
  pin the reference model itself to docs/design/lifecycle.md.
* ``test_every_store_gives_the_same_trace``: invariant 12 across stores, on
  seeded generated sequences run against all available backends.

Each step runs through :class:`tests.property.driver.Driver`, which checks the
outcome against the model and every applicable invariant on the stored records.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests import backends
from tests.property.scenarios import SCENARIOS
from tokenlife.store import Store
from tokenlife.testing import lifecycle as lc
from tokenlife.testing._machine import LifecycleMachine

#: The "long" profile (``--hypothesis-profile=long``) also walks longer sequences.
LONG = settings().max_examples > 1000
STEPS = 50 if LONG else 25
#: Stores' files go to a RAM disk when there is one: thousands of short-lived
#: databases per run, and fsync latency would dominate the run time.
#: (mkdtemp makes a private directory there, so the shared location is safe.)
_RAM_DISK = "/dev/shm"  # noqa: S108
SCRATCH = _RAM_DISK if Path(_RAM_DISK).is_dir() else None


def factory_of(backend: backends.Backend) -> Callable[[], AbstractAsyncContextManager[Store]]:
    """A store factory for the kit: each store in a private directory, removed after."""

    @asynccontextmanager
    async def fresh() -> AsyncIterator[Store]:
        workdir = Path(tempfile.mkdtemp(prefix="tokenlife-property-", dir=SCRATCH))
        try:
            async with backend.open(workdir) as store:
                yield store
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    return fresh


#: What a CI-sized run reaches dozens of times; reaching none of one means the
#: rules or strategies no longer get there (and the run proved less than it seems).
MUST_REACH = (
    "refresh rotate",
    "refresh replay",
    "refresh reuse",
    "refresh revoked",
    "refresh expired",
    "verify ok",
    "verify RevokedTokenError:revoked",
    "verify ExpiredTokenError:expired",
    "concurrent ok",
    "concurrent race",
    "purge removed",
    "forged refresh",
    "doctored unknown",
    # DPoP: the rarer refusals (another key) are pinned by a scenario instead.
    "refresh rotate (DPoP-bound)",
    "wrong key verify dpop_not_bound",
    "wrong key refresh dpop_required",
)


@pytest.mark.timeout(0 if LONG else 300)
def test_lifecycle_machine(backend: backends.Backend) -> None:
    machine: type[LifecycleMachine] = lc.lifecycle_state_machine(factory_of(backend), steps=STEPS)
    # It accepts any factory at run time; its annotation differs between Hypothesis
    # releases (untyped, then ``type[RuleBasedStateMachine]``), so call it untyped.
    run_machine = cast(Any, run_state_machine_as_test)
    run_machine(machine, settings=settings(stateful_step_count=STEPS))
    tally = machine.stats.tally
    if settings().max_examples >= 200:
        missed = [what for what in MUST_REACH if not tally[what]]
        assert not missed, f"the machine never reached {missed}; it reached {dict(tally)}"


def _trace(
    backend: backends.Backend, config: lc.Config, steps: list[tuple[lc.Op, str]]
) -> list[str]:
    """Apply ``steps`` to a fresh driver on ``backend``; the trace it produced."""
    driver = lc.Driver(factory_of(backend), config)
    try:
        for op, _ in steps:
            driver.apply(op)
    finally:
        driver.close()
    return driver.trace


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(backend: backends.Backend, name: str) -> None:
    config, steps = SCENARIOS[name]
    assert _trace(backend, config, steps) == [expected for _, expected in steps]


# -- invariant 12 across stores ----------------------------------------------------------------

TRACE_SEEDS = range(8)
TRACE_LENGTH = 60


def _random_config(rng: random.Random) -> lc.Config:
    return lc.Config(
        grace=rng.choice((10.0, 10.0, 0.0)),
        leeway=rng.choice((0.0, 0.0, 5.0)),
        floor_on_refresh=rng.random() < 0.8,
    )


def _available(request: pytest.FixtureRequest) -> list[backends.Backend]:
    found: list[backends.Backend] = []
    for name in backends.selected_names():
        backend = backends.load(name)
        if isinstance(backend, str):
            if backends.services_required():
                pytest.fail(f"required store backend unavailable: {backend}")
            continue
        request.config.add_cleanup(backend.cleanup)
        found.append(backend)
    return found


def test_every_store_gives_the_same_trace(request: pytest.FixtureRequest) -> None:
    stores = _available(request)
    if not stores:
        pytest.skip("no store backend available")
    sequences = [(name, *SCENARIOS[name]) for name in SCENARIOS]
    for seed in TRACE_SEEDS:
        rng = random.Random(seed)
        config = _random_config(rng)
        sequences.append(
            (f"seed {seed}", config, [(op, "") for op in lc.random_ops(rng, TRACE_LENGTH)])
        )
    for label, config, steps in sequences:
        traces: dict[str, list[str]] = {}
        for backend in stores:
            traces[backend.name] = _trace(backend, config, steps)
        first, *others = stores
        for other in others:
            assert traces[other.name] == traces[first.name], (
                f"{label}: {other.name} and {first.name} traces differ"
            )
