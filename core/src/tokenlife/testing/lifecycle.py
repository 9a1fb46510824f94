"""Property-based testing of the whole token lifecycle against your store.

``STORE_CONTRACT`` checks a store with a few dozen fixed examples; this kit
explores: Hypothesis builds sequences of logins, refreshes, replays seconds
later, concurrent refreshes racing a logout, revocations, purges, forged and
doctored tokens and clock steps, runs each through a real
:class:`~tokenlife.TokenAuthority` over a fresh store from your factory, and
after every step compares the outcome and the stored records with a naive
reference model of LIFECYCLE's rules and checks its twelve invariants. A
failure is shrunk to a short sequence and told in words
(:class:`LifecycleViolation`)::

    from tokenlife.testing.lifecycle import lifecycle_state_machine

    TestMyStore = lifecycle_state_machine(MyStore).TestCase  # pytest or unittest

:func:`http_lifecycle_state_machine` drives an app over HTTP instead, through
its framework adapter's routes, to certify the adapter (or the app) the same
way.

Needs Hypothesis, anyio and httpx (``pip install tokenlife[testing]``); the rest of
:mod:`tokenlife.testing` does not. Test tooling, not runtime: nothing in
``tokenlife`` imports this module.
"""

from __future__ import annotations

import typing
from typing import cast

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ._checks import Snapshot
from ._driver import Driver, LifecycleStoreFactory, outcome_of
from ._http import USERS, AppFactory, HttpDriver, HttpLifecycleMachine, HttpRefusal
from ._machine import LifecycleMachine, RunStats
from ._model import Config, Decision, MAccess, Model, MRefresh, MSession
from ._ops import (
    CLAIM_SETS,
    METADATA,
    SUBJECTS,
    Advance,
    ConcurrentRefresh,
    Doctored,
    Forged,
    Issue,
    ListSessions,
    Op,
    Purge,
    Refresh,
    RefreshAny,
    Revoke,
    RevokeSession,
    RevokeSubject,
    Verify,
    WrongType,
    random_ops,
)
from ._story import INVARIANTS, LifecycleViolation

if typing.TYPE_CHECKING:
    from tokenlife import Policy

#: Operations per example: long enough to rotate, replay and expire a session.
DEFAULT_STEPS = 25
#: Examples an HTTP machine runs by default: each step is a real request through
#: the framework, and the store-level bugs are the store machine's to find.
HTTP_EXAMPLES = 50


def config_from_policy(policy: Policy) -> Config:
    """The reference model's configuration for an authority built with ``policy``."""
    if policy.revocation != "strict":
        raise ValueError("the lifecycle machine checks strict revocation (every verify asks)")
    audience = policy.audience
    if isinstance(audience, tuple):
        audience = audience[0] if audience else None
    return Config(
        access_ttl=policy.access_ttl,
        refresh_ttl=policy.refresh_ttl,
        session_ttl=policy.session_ttl,
        grace=policy.grace,
        leeway=policy.leeway,
        floor_on_refresh=policy.access_floor_on_refresh,
        issuer=policy.issuer or Config.issuer,
        audience=audience or Config.audience,
    )


def subjects() -> st.SearchStrategy[str]:
    """Subjects the machine logs in, one awkward on purpose (stores build keys from ids)."""
    return st.sampled_from(SUBJECTS)


def claim_sets() -> st.SearchStrategy[dict[str, object]]:
    """Custom access-token claims a login carries (stores keep them with the session)."""
    return st.sampled_from(CLAIM_SETS)


def operation_sequences(*, max_size: int = 60) -> st.SearchStrategy[list[Op]]:
    """Whole operation sequences, weighted like the machine's rules, for a
    :class:`Driver` of your own (``Driver(factory, Config()).apply(op)`` each)."""
    return st.builds(random_ops, st.randoms(use_true_random=False), st.integers(1, max_size))


def _machine_class(
    base: type[LifecycleMachine],
    name: str,
    attributes: dict[str, object],
    *,
    policy: Policy | None,
    backend: str,
    steps: int,
    max_examples: int | None = None,
) -> type[LifecycleMachine]:
    if backend not in ("asyncio", "trio"):
        raise ValueError(f"backend must be 'asyncio' or 'trio', not {backend!r}")
    attributes = {
        **attributes,
        "config": None if policy is None else config_from_policy(policy),
        "backend": backend,
        "stats": RunStats(),
        "__module__": base.__module__,
    }
    machine = cast("type[LifecycleMachine]", type(name, (base,), attributes))
    configured = settings(
        deadline=None,
        stateful_step_count=steps,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    if max_examples is not None:
        configured = settings(configured, max_examples=max_examples)
    return configured(machine)


def lifecycle_state_machine(
    store_factory: LifecycleStoreFactory,
    *,
    policy: Policy | None = None,
    backend: str = "asyncio",
    steps: int = DEFAULT_STEPS,
    name: str = "LifecycleTest",
) -> type[LifecycleMachine]:
    """A Hypothesis state machine class driving ``TokenAuthority`` over your store.

    ``store_factory`` opens a fresh, empty store per example (a store class
    whose instances are async context managers will do, or a function
    returning one). ``policy`` fixes the authority's lifetimes, grace window,
    leeway and floor (strict revocation only); without it each example draws
    grace (0 or 10 s), leeway (0 or 5 s) and the floor, with 60 s access, 600 s
    refresh and 1800 s session lifetimes. ``backend`` is the event loop the
    store runs on: ``"asyncio"`` or ``"trio"``.

    Run it with ``MyTest = lifecycle_state_machine(...).TestCase`` (pytest and
    unittest collect it) or ``hypothesis.stateful.run_state_machine_as_test``.
    The class's ``stats`` (:class:`RunStats`) count the examples run and the
    first one that failed. The class carries settings (no deadline, ``steps``
    operations an example, the current profile's example budget); decorate it
    with ``@hypothesis.settings(...)`` to change them.
    """
    return _machine_class(
        LifecycleMachine,
        name,
        {"store_factory": staticmethod(store_factory)},
        policy=policy,
        backend=backend,
        steps=steps,
    )


def http_lifecycle_state_machine(
    app_factory: AppFactory,
    store_factory: LifecycleStoreFactory,
    *,
    policy: Policy | None = None,
    backend: str = "asyncio",
    steps: int = DEFAULT_STEPS,
    max_examples: int = HTTP_EXAMPLES,
    name: str = "HttpLifecycleTest",
) -> type[LifecycleMachine]:
    """The lifecycle state machine driving an ASGI app over HTTP.

    ``app_factory(authority, config, users)`` builds the app under test over
    the kit's :class:`~tokenlife.TokenAuthority` (on a fresh store from
    ``store_factory``, with the kit's clock and ids) and the
    :class:`~tokenlife.web.WebConfig` given, answering ``POST /login`` (JSON
    ``{"username", "password"}``, a user of ``users``), the config's refresh
    and logout routes, and ``GET /protected`` (``{"sub", "sid"}``), in bearer
    mode. Logins, verifications, refreshes and logouts are real HTTP requests,
    in-process through httpx's ``ASGITransport`` (the app's lifespan does not
    run: the kit opens and closes the store); the answers (status, RFC error
    code, ``WWW-Authenticate``, token bodies) and the store's records are
    checked against the same model and invariants as
    :func:`lifecycle_state_machine`'s. The rest is as there, but with
    ``max_examples`` examples by default (each step goes through the
    framework; the store's own bugs are the store machine's to find).
    """
    return _machine_class(
        HttpLifecycleMachine,
        name,
        {"app_factory": staticmethod(app_factory), "store_factory": staticmethod(store_factory)},
        policy=policy,
        backend=backend,
        steps=steps,
        max_examples=max_examples,
    )


__all__ = (
    "CLAIM_SETS",
    "DEFAULT_STEPS",
    "HTTP_EXAMPLES",
    "INVARIANTS",
    "METADATA",
    "SUBJECTS",
    "USERS",
    "Advance",
    "AppFactory",
    "ConcurrentRefresh",
    "Config",
    "Decision",
    "Doctored",
    "Driver",
    "Forged",
    "HttpDriver",
    "HttpLifecycleMachine",
    "HttpRefusal",
    "Issue",
    "LifecycleMachine",
    "LifecycleStoreFactory",
    "LifecycleViolation",
    "ListSessions",
    "MAccess",
    "MRefresh",
    "MSession",
    "Model",
    "Op",
    "Purge",
    "Refresh",
    "RefreshAny",
    "Revoke",
    "RevokeSession",
    "RevokeSubject",
    "RunStats",
    "Snapshot",
    "Verify",
    "WrongType",
    "claim_sets",
    "config_from_policy",
    "http_lifecycle_state_machine",
    "lifecycle_state_machine",
    "operation_sequences",
    "outcome_of",
    "random_ops",
    "subjects",
)
