"""The lifecycle kit catches real bugs: every mutant store fails within the default budget.

Each mutant (tests/property/mutants.py) is the memory store with one realistic
bug. The kit runs against it with the default budget (200 examples, the CI
profile), generation only and derandomized so the counts are the same on every
run: a mutant passes this test when the machine fails on it, and the number of
the first failing example is reported in the terminal summary ("examples to
catch"). ``pytest --hypothesis-seed=N`` runs it from seed N instead, to see
that no mutant needs a lucky draw.
"""

from __future__ import annotations

import time
from typing import Any, cast

import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from tokenlife.testing.lifecycle import LifecycleViolation, lifecycle_state_machine

mutants = pytest.importorskip("tests.property.mutants", reason="tokenlife-memory not installed")

#: The budget every mutant must be caught within (the CI profile's max_examples).
BUDGET = 200
#: mutant name -> (first failing example, seconds to it), for the terminal summary.
CAUGHT: dict[str, tuple[int, float]] = {}


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=lambda m: m.__name__)
def test_the_kit_catches(mutant: type[Any], request: pytest.FixtureRequest) -> None:
    seeded = request.config.getoption("hypothesis_seed", default=None) is not None
    machine = lifecycle_state_machine(mutant)
    started = time.perf_counter()
    with pytest.raises(LifecycleViolation) as caught:
        cast(Any, run_state_machine_as_test)(
            machine,
            settings=settings(
                max_examples=BUDGET,
                database=None,
                phases=(Phase.generate,),
                report_multiple_bugs=False,
                derandomize=not seeded,
            ),
        )
    first = machine.stats.first_failure
    assert first is not None
    CAUGHT[mutant.__name__] = (first, time.perf_counter() - started)
    assert first <= BUDGET
    assert caught.value.story, "a failure tells its story"
    assert caught.value.broken
