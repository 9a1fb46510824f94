"""What the lifecycle machine draws from: its limits, its clock steps, its run statistics.

Kept apart from the rules so a test (or a user's own machine) can reuse the
timings that land an operation on the edges the reference model knows of.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import strategies as st

#: Logins per run, and at once: dead sessions stay in the run (cheap to check).
MAX_SESSIONS = 10
MAX_LIVE = 3
#: Refreshes of one :meth:`LifecycleMachine.stay_signed_in` walk at most (a default
#: session ends within four).
MAX_KEEP_ALIVE = 4


@dataclass
class RunStats:
    """What a machine class has run so far: examples started, and the first to fail."""

    examples: int = 0
    #: 1-based number of the first example that failed, if any did.
    first_failure: int | None = None
    #: Decision kinds and outcome classes reached (is the run reaching what matters?).
    tally: Counter[str] = field(default_factory=Counter)


indices = st.integers(0, 63)
offsets = st.sampled_from([-0.25, 0.0, 0.0, 0.25])
#: When a rule acts: after a plain pause (none, inside grace, at or past its end,
#: past the access TTL), or at a boundary the model knows of (see
#: ``Model.edge``), give or take 0.25 s. Each rule favours the edges that matter to it.
Timing = float | tuple[str, float]
pauses = st.sampled_from([0.0] * 6 + [1.0, 5.0, 10.0, 10.25, 30.0, 61.0])


def timings(*edges: str) -> st.SearchStrategy[Timing]:
    """Mostly no pause; a third of the time, an edge (most edges end something)."""
    return st.one_of(pauses, pauses, st.tuples(st.sampled_from(edges), offsets))


__all__ = (
    "MAX_KEEP_ALIVE",
    "MAX_LIVE",
    "MAX_SESSIONS",
    "RunStats",
    "Timing",
    "indices",
    "offsets",
    "pauses",
    "timings",
)
