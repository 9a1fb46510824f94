"""The "Property-testing your store" page: DictStore passes the kit, the broken variant fails."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from docs.examples.property_store import DictStoreLifecycle, TestDictStoreLifecycle, find_the_bug


def test_the_dict_store_passes_the_kit() -> None:
    assert TestDictStoreLifecycle.__name__.endswith("TestCase")
    cast(Any, run_state_machine_as_test)(
        DictStoreLifecycle, settings=settings(max_examples=30, database=None)
    )
    assert DictStoreLifecycle.stats.examples >= 30
    assert DictStoreLifecycle.stats.first_failure is None


def test_the_broken_variant_fails_with_its_story() -> None:
    found = find_the_bug()
    assert found is not None, "the kit did not catch the same-instant survivor"
    assert "logs in" in found.story[0]
    assert found.story[-1].endswith("out everywhere -> FAILS")
    assert "revoke_subject(" in found.detail
    assert "what happened" in str(found)
