"""Explore your store's whole lifecycle with Hypothesis (``pip install 'tokenlife[testing]'``).

Copy this into your test suite and import your store instead of ``DictStore``.
"""

from __future__ import annotations

# --8<-- [start:run]
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from docs.examples.dict_store import DictStore  # your store here
from tokenlife.store import revoke_record
from tokenlife.testing.lifecycle import LifecycleViolation, lifecycle_state_machine

# pytest and unittest collect this: 200 examples (the current Hypothesis
# profile's budget) of up to 25 operations each, on a fresh DictStore each.
# DictStore uses asyncio.Lock; an anyio-based store can also run on backend="trio".
DictStoreLifecycle = lifecycle_state_machine(DictStore, backend="asyncio")
TestDictStoreLifecycle = DictStoreLifecycle.TestCase
# --8<-- [end:run]


# --8<-- [start:bug]
class SameInstantSurvivor(DictStore):
    """A realistic bug: "log out everywhere" revokes the sessions created
    strictly before now (``<`` where ``<=`` belongs)."""

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        async with self._lock:
            if keep_sid is None:
                self._watermarks[subject] = max(now, self._watermarks.get(subject, now))
            revoked = 0
            for sid, session in list(self._sessions.items()):
                open_ = session.subject == subject and session.revoked_at is None
                open_ = open_ and sid != keep_sid
                if open_ and session.created_at < now:  # the bug: `<=` belongs here
                    self._sessions[sid] = revoke_record(session, now=now, reason=reason)
                    revoked += 1
            return revoked


# --8<-- [end:bug]


def find_the_bug(max_examples: int = 200) -> LifecycleViolation | None:
    """Run the kit against the broken store; the shrunk failure it finds, if any."""
    try:
        run_state_machine_as_test(
            lifecycle_state_machine(SameInstantSurvivor),
            settings=settings(max_examples=max_examples, database=None, derandomize=True),
        )
    except LifecycleViolation as found:
        return found
    return None


if __name__ == "__main__":
    print(find_the_bug())
