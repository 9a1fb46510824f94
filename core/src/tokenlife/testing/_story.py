"""Operations and failures in words, so a shrunk counterexample reads like a story.

Hypothesis prints the rule calls it shrank to (``refresh_newest(k=3, ...)``);
what a store author needs is what happened: who logged in, which token was
replayed how many seconds later, and which lifecycle rule the store broke.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from . import _model as m
from . import _ops as ops

#: The invariants of docs/design/lifecycle.md#invariants, as the failure message states them.
INVARIANTS: dict[int, str] = {
    1: "at most one ACTIVE refresh record per session",
    2: "revocation is monotone: a revoked session's tokens are never accepted again",
    3: "replay outside grace, or of an older ancestor, revokes the session, newest token too",
    4: "replay of the immediate parent inside grace returns the same successor, changes nothing",
    5: "a session's expiry never changes and no refresh token outlives it",
    6: "concurrent refreshes of one token yield exactly one successor; inside grace none revokes",
    7: "states only move forward: ACTIVE to ROTATED, open to revoked",
    8: "along a chain, parent and successor link up and sid/sub never change",
    9: "purge is invisible to live sessions",
    10: "a badly signed token never changes the store; verify never changes the store",
    11: "revoke is idempotent",
    12: "every store gives the same outcome for the same operations",
}

_CODES = {
    m.OK: "ok",
    m.EXPIRED: "expired",
    m.UNKNOWN: "unknown token",
    m.REVOKED: "revoked",
    m.SUPERSEDED: "superseded",
    m.REUSE: "reuse detected",
    m.BAD_SIGNATURE: "bad signature",
    m.WRONG_TYPE: "wrong token type",
    m.CLOCK_BEHIND: "clock behind the rotation",
}


def words(entry: str) -> str:
    """A trace entry (``ok``, ``ReuseDetectedError:reuse_detected>...``) in words."""
    if entry.startswith("ok:"):
        return f"ok ({entry[3:]})"
    if entry.startswith("HttpRefusal:"):
        return f"refused, {entry.partition(':')[2]}"
    parts = [_CODES.get(part, part) for part in entry.split(">")]
    if len(parts) == 2:
        return f"{parts[0]}; the newest token then: {parts[1]}"
    return " + ".join(_CODES.get(p, p) for p in entry.split("+")) if "+" in entry else parts[0]


def _session(model: m.Model, index: int | None) -> str:
    sessions = model.session_list()
    if index is None:
        return "an unknown session"
    if not sessions:
        return "no session"
    i = index % len(sessions)
    return f"session {i + 1} ({sessions[i].subject})"


def _token(kind: str, order: Sequence[str], index: int) -> str:
    if not order:
        return f"no {kind} token"
    return f"{kind} token {index % len(order) + 1} of {len(order)}"


def _back(back: int) -> str:
    return {0: "newest token", 1: "parent token"}.get(back, f"token {back} steps back")


def describe(op: ops.Op, model: m.Model, access: Sequence[str], refresh: Sequence[str]) -> str:
    """One operation, before it runs, with its indices resolved to what they pick."""
    twice = " (twice)" if getattr(op, "twice", False) else ""
    if isinstance(op, ops.Issue):
        extra = f" with scopes {' '.join(op.scopes)}" if op.scopes else ""
        if op.key is not None:
            extra += f", proving DPoP key {'AB'[op.key]}"
        return f"{op.subject} logs in{extra} (session {len(model.sessions) + 1})"
    if isinstance(op, ops.Advance):
        return f"{op.seconds:g} s pass"
    if isinstance(op, ops.Verify):
        return f"verify {_token('access', access, op.index)}"
    if isinstance(op, ops.WrongType):
        if op.kind == "verify":
            which = _token("refresh", refresh, op.index)
            return f"verify a refresh token as an access token ({which})"
        return f"refresh with an access token ({_token('access', access, op.index)})"
    if isinstance(op, ops.WrongKey):
        kind, order = ("access", access) if op.kind == "verify" else ("refresh", refresh)
        key = "no DPoP proof" if op.key is None else "a proof by the wrong DPoP key"
        return f"{op.kind} a live {kind} token with {key} (of {len(order)})"
    if isinstance(op, ops.Refresh):
        return f"refresh with the {_back(op.back)} of {_session(model, op.session)}"
    if isinstance(op, ops.RefreshAny):
        return f"refresh with {_token('refresh', refresh, op.index)}"
    if isinstance(op, ops.ConcurrentRefresh):
        which = ", ".join(_back(b) for b in op.backs)
        race = " while the session is revoked" if op.revoke else ""
        return f"{len(op.backs)} refreshes at once of {_session(model, op.session)} ({which}){race}"
    if isinstance(op, ops.Revoke):
        order = access if op.kind == "access" else refresh
        return f"revoke {_token(op.kind, order, op.index)}{twice}"
    if isinstance(op, ops.RevokeSession):
        return f"revoke {_session(model, op.session)}{twice}"
    if isinstance(op, ops.RevokeSubject):
        return f"log {op.subject} out everywhere{twice}"
    if isinstance(op, ops.Purge):
        return f"purge (batches of {op.batch})"
    if isinstance(op, ops.Forged):
        order = refresh if op.action == "refresh" else access
        kind = "refresh" if op.action == "refresh" else "access"
        return f"{op.action} a forged copy of {_token(kind, order, op.index)}"
    if isinstance(op, ops.Doctored):
        which = _token("refresh", refresh, op.index)
        return f"refresh with {which} re-signed naming another {op.claim}"
    assert isinstance(op, ops.ListSessions)
    return f"list {op.subject}'s sessions"


def _invariants(detail: str) -> list[str]:
    cited = sorted({int(n) for n in re.findall(r"invariants? (\d+)", detail)})
    cited += sorted({int(n) for n in re.findall(r"invariants \d+, (\d+)", detail)})
    if cited:
        return [f"invariant {n}: {INVARIANTS[n]}" for n in dict.fromkeys(cited)]
    if "model expects" in detail or "expected" in detail or "got " in detail:
        return ["an answer or the stored records differ from what the lifecycle rules prescribe"]
    return ["the store misbehaved (see the error below)"]


class LifecycleViolation(AssertionError):
    """A lifecycle rule the store (or the authority over it) broke, with the story.

    ``story`` lists the operations in words, the failing one last; ``broken``
    names the invariants (docs/design/lifecycle.md#invariants) the failure cites; ``detail`` is the
    precise check that failed.
    """

    def __init__(self, config: m.Config, story: Sequence[str], cause: BaseException) -> None:
        self.story = tuple(story)
        self.detail = str(cause) if isinstance(cause, AssertionError) else repr(cause)
        self.broken = tuple(_invariants(self.detail))
        setup = (
            f"grace {config.grace:g} s, leeway {config.leeway:g} s, access floor "
            f"{'on' if config.floor_on_refresh else 'off'}; access/refresh/session TTL "
            f"{config.access_ttl:g}/{config.refresh_ttl:g}/{config.session_ttl:g} s"
        )
        steps = "\n".join(f"  {i}. {line}" for i, line in enumerate(self.story, 1))
        broken = "\n".join(f"  - {b}" for b in self.broken)
        super().__init__(
            f"the lifecycle broke:\n{broken}\n\nwhat happened ({setup}):\n{steps}\n\n"
            f"the check that failed:\n  {self.detail}"
        )


__all__ = ("INVARIANTS", "LifecycleViolation", "describe", "words")
