"""The public kit's options: trio, a fixed policy, and its refusals."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis.stateful import run_state_machine_as_test

from tokenlife import Policy
from tokenlife.testing.lifecycle import (
    CLAIM_SETS,
    SUBJECTS,
    Config,
    Driver,
    Op,
    claim_sets,
    config_from_policy,
    lifecycle_state_machine,
    operation_sequences,
    subjects,
)

memory = pytest.importorskip("tokenlife_memory", reason="tokenlife-memory not installed")


def _run(machine: Any, examples: int) -> None:
    cast(Any, run_state_machine_as_test)(
        machine, settings=settings(max_examples=examples, database=None)
    )


def test_the_kit_runs_the_store_on_trio() -> None:
    machine = lifecycle_state_machine(memory.MemoryStore, backend="trio")
    _run(machine, 25)
    assert machine.stats.examples >= 25
    assert machine.stats.tally["refresh rotate"]


def test_a_fixed_policy_is_the_authority_s_policy() -> None:
    policy = Policy(issuer="https://app.example", audience="app", access_ttl=30, grace=5, leeway=2)
    machine = lifecycle_state_machine(memory.MemoryStore, policy=policy)
    assert machine.config == config_from_policy(policy)
    assert machine.config is not None
    assert (machine.config.grace, machine.config.issuer) == (5, "https://app.example")
    _run(machine, 25)
    assert machine.stats.first_failure is None


def test_stateless_revocation_and_unknown_loops_are_refused() -> None:
    with pytest.raises(ValueError, match="strict"):
        lifecycle_state_machine(memory.MemoryStore, policy=Policy(revocation="stateless"))
    with pytest.raises(ValueError, match="trio"):
        lifecycle_state_machine(memory.MemoryStore, backend="curio")


@given(ops=operation_sequences(max_size=15))
@settings(max_examples=10, database=None)
def test_operation_sequences_drive_a_driver(ops: list[Op]) -> None:
    driver = Driver(memory.MemoryStore, Config())
    try:
        for op in ops:
            driver.apply(op)
    finally:
        driver.close()
    assert len(driver.trace) == len(ops)


@given(subject=subjects(), claims=claim_sets())
@settings(max_examples=5, database=None)
def test_subjects_and_claims_are_what_the_machine_uses(
    subject: str, claims: dict[str, object]
) -> None:
    assert subject in SUBJECTS
    assert claims in CLAIM_SETS
