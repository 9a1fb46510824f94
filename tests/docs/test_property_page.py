"""The "Property-testing your store" page: DictStore and the ASGI app pass the kit, the broken
variants fail with their stories."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from docs.examples.property_store import DictStoreLifecycle, TestDictStoreLifecycle, find_the_bug
from tokenlife.testing.lifecycle import LifecycleViolation


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


def test_the_app_passes_the_kit_over_http() -> None:
    from docs.examples.property_app import AppLifecycle, TestAppLifecycle

    assert TestAppLifecycle.__name__.endswith("TestCase")
    cast(Any, run_state_machine_as_test)(
        AppLifecycle, settings=settings(AppLifecycle.TestCase.settings, database=None)
    )
    assert AppLifecycle.stats.examples >= 50
    assert AppLifecycle.stats.first_failure is None


def test_the_broken_app_fails_with_its_story() -> None:
    from docs.examples.property_app import find_the_bug

    found = find_the_bug()
    assert isinstance(found, LifecycleViolation), found
    assert "logs in" in found.story[0]
    assert found.story[-1].startswith("log out with") and found.story[-1].endswith("-> FAILS")
    assert "401 invalid_token" in found.detail
