"""Every web adapter passes the lifecycle machine over HTTP, and it catches broken apps.

``http_lifecycle_state_machine`` drives each adapter's conformance app (the
:data:`ADAPTERS` of conftest.py: a new adapter is one more entry there) with
real requests through httpx's ASGITransport, checking every answer and the
store's records against the reference model: the same certification the store
machine gives a store, for the web layer. The broken apps of _mutant_apps.py
must each fail it within the HTTP budget; the terminal summary reports after
how many examples. Both run derandomized (the same examples in every run);
``pytest --hypothesis-seed=N`` explores from seed N instead.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any, cast

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.http._mutant_apps import MUTANT_APPS
from tests.http.conftest import ADAPTERS
from tokenlife.testing.lifecycle import (
    HTTP_EXAMPLES,
    LifecycleViolation,
    http_lifecycle_state_machine,
)
from tokenlife_memory import MemoryStore

#: What every HTTP run reaches many times over, or it proved less than it seems.
MUST_REACH = (
    "refresh rotate",
    "refresh reuse",
    "refresh expired",
    "verify ok",
    "concurrent ok",
    "purge removed",
)
#: mutant name -> (first failing example, seconds to it), for the terminal summary.
CAUGHT: dict[str, tuple[int, float]] = {}
run_machine = cast(Any, run_state_machine_as_test)


def _seeded(request: pytest.FixtureRequest) -> bool:
    """``--hypothesis-seed`` given: explore from it; else derandomized, the same every run."""
    return request.config.getoption("hypothesis_seed", default=None) is not None


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_the_adapter_passes_the_lifecycle_machine(
    adapter: str, request: pytest.FixtureRequest
) -> None:
    needs, factory = ADAPTERS[adapter]
    if importlib.util.find_spec(needs) is None:
        pytest.skip(f"{needs} is not installed in this environment")
    seeded = _seeded(request)
    machine = http_lifecycle_state_machine(factory, MemoryStore)
    run_machine(
        machine,
        settings=settings(machine.TestCase.settings, database=None, derandomize=not seeded),
    )
    assert machine.stats.examples >= HTTP_EXAMPLES
    if not seeded:  # 50 examples reach all of these, but not from every seed
        missed = [what for what in MUST_REACH if not machine.stats.tally[what]]
        assert not missed, f"never reached {missed}; reached {dict(machine.stats.tally)}"


@pytest.mark.parametrize("mutant", MUTANT_APPS, ids=lambda m: m.__name__)
def test_the_http_machine_catches(mutant: Any, request: pytest.FixtureRequest) -> None:
    seeded = _seeded(request)
    machine = http_lifecycle_state_machine(mutant, MemoryStore)
    started = time.perf_counter()
    with pytest.raises(LifecycleViolation) as caught:
        run_machine(
            machine,
            settings=settings(
                machine.TestCase.settings,
                database=None,
                phases=(Phase.generate,),
                report_multiple_bugs=False,
                derandomize=not seeded,
            ),
        )
    first = machine.stats.first_failure
    assert first is not None
    CAUGHT[mutant.__name__] = (first, time.perf_counter() - started)
    assert first <= HTTP_EXAMPLES
    assert caught.value.story
