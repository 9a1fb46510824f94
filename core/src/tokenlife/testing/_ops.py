"""The operations the lifecycle tests perform, as plain data.

Indices pick among what exists when the operation runs (modulo the count), so
any sequence of operations is meaningful in any state: the stateful machine
builds them from its rules, the cross-store test from a seeded ``random``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

#: The third subject is awkward on purpose: stores build keys and queries from ids.
SUBJECTS = ("alice", "bob", "zoë:{x}%_*'\"")
SCOPES = ((), ("read",), ("read", "write"))
#: Custom claims for a login's access tokens (stores keep them with the session).
CLAIM_SETS: tuple[dict[str, object], ...] = (
    {},
    {"tenant": "acme"},
    {"roles": ["a", "b"], "n": 1, "ratio": 0.5, "nested": {"x": None, "ok": True}, "ü": "ñ"},
)
#: Session metadata ("your devices" lists).
METADATA: tuple[dict[str, str], ...] = ({}, {"user_agent": "Tab/1.0 (ü)", "ip": "203.0.113.7"})
#: The RFC 7638 thumbprints of two clients' DPoP keys. The authority binds a
#: session to the thumbprint a proof established; checking proofs themselves
#: is the web layer's (tested on its own), so the kit states the proven key.
DPOP_KEYS = ("A" * 24 + "-dpop-key-one-thumb", "B" * 24 + "_dpop-key-two-thumb")


@dataclass(frozen=True)
class Issue:
    subject: str
    scopes: tuple[str, ...] = ()
    csrf: bool = False
    #: Indices into CLAIM_SETS and METADATA.
    claims: int = 0
    metadata: int = 0
    #: Index into DPOP_KEYS: the login proved that key and the session is bound to it.
    key: int | None = None


@dataclass(frozen=True)
class Verify:
    """Strict verify of an access token (any ever minted)."""

    index: int


@dataclass(frozen=True)
class WrongType:
    """A refresh token to verify, or an access token to refresh."""

    kind: Literal["verify", "refresh"]
    index: int


@dataclass(frozen=True)
class WrongKey:
    """A token of a live session, with the wrong DPoP key proven: a bound token
    with no proof (``key`` None) or another key's, an unbound access token with
    a proof. Refused before the store is asked, nothing changed."""

    kind: Literal["verify", "refresh"]
    index: int
    key: int | None = None


@dataclass(frozen=True)
class Refresh:
    """Refresh a token of session ``session``: ``back`` = 0 newest, 1 its parent, ...

    ``back`` is clipped to the chain, so it may land on the first token.
    """

    session: int
    back: int = 0


@dataclass(frozen=True)
class RefreshAny:
    """Refresh any refresh token ever issued, by issue order."""

    index: int


@dataclass(frozen=True)
class ConcurrentRefresh:
    """Refreshes of session ``session`` at once, one per entry of ``backs`` (which
    token each presents, as in :class:`Refresh`); with ``revoke``, a
    ``revoke_session`` of the session races them."""

    session: int
    backs: tuple[int, ...]
    revoke: bool = False


@dataclass(frozen=True)
class Revoke:
    """``revoke(token)`` with an access or refresh token; ``twice`` repeats it."""

    kind: Literal["access", "refresh"]
    index: int
    twice: bool = False


@dataclass(frozen=True)
class RevokeSession:
    """``revoke_session`` of a known session, or of an unknown sid when ``session`` is None."""

    session: int | None
    twice: bool = False


@dataclass(frozen=True)
class RevokeSubject:
    subject: str
    twice: bool = False


@dataclass(frozen=True)
class Advance:
    seconds: float


@dataclass(frozen=True)
class Purge:
    batch: int = 1000


@dataclass(frozen=True)
class Forged:
    """A token re-signed with a wrong key under the right ``kid``."""

    action: Literal["verify", "refresh", "revoke"]
    index: int


@dataclass(frozen=True)
class Doctored:
    """A refresh token correctly signed but naming another ``sid`` or ``sub``
    than its record: docs/design/lifecycle.md#refresh step 1 must refuse it untouched."""

    index: int
    claim: Literal["sid", "sub"]


@dataclass(frozen=True)
class ListSessions:
    subject: str


Op = (
    Issue
    | Verify
    | WrongType
    | WrongKey
    | Refresh
    | RefreshAny
    | ConcurrentRefresh
    | Revoke
    | RevokeSession
    | RevokeSubject
    | Advance
    | Purge
    | Forged
    | Doctored
    | ListSessions
)

#: Clock steps by what they are meant to cross (grace is 0 or 10 s, access TTL
#: 60 s, refresh TTL 600 s, session TTL 1800 s); fractions exercise truncation.
ADVANCE_RANGES = ((0, 3), (4, 12), (11, 70), (59, 610), (600, 1900))
FRACTIONS = (0.0, 0.0, 0.25, 0.5)


def random_ops(rng: random.Random, length: int) -> list[Op]:
    """A reproducible operation sequence, weighted like the stateful machine."""
    ops: list[Op] = [Issue(rng.choice(SUBJECTS))]
    makers: list[tuple[int, Callable[[], Op]]] = [
        (
            3,
            lambda: Issue(
                rng.choice(SUBJECTS),
                rng.choice(SCOPES),
                rng.random() < 0.3,
                rng.randrange(len(CLAIM_SETS)),
                rng.randrange(len(METADATA)),
                rng.choice((None, None, 0, 1)),
            ),
        ),
        (
            2,
            lambda: WrongKey(
                rng.choice(("verify", "refresh")), rng.randrange(64), rng.choice((None, 0, 1))
            ),
        ),
        (5, lambda: Verify(rng.randrange(64))),
        (1, lambda: WrongType(rng.choice(("verify", "refresh")), rng.randrange(64))),
        (8, lambda: Refresh(rng.randrange(8), 0)),
        (4, lambda: Refresh(rng.randrange(8), 1)),
        (2, lambda: Refresh(rng.randrange(8), rng.randrange(2, 5))),
        (2, lambda: RefreshAny(rng.randrange(64))),
        (3, lambda: ConcurrentRefresh(rng.randrange(8), _backs(rng), rng.random() < 0.3)),
        (
            2,
            lambda: Revoke(
                rng.choice(("access", "refresh")), rng.randrange(64), rng.random() < 0.5
            ),
        ),
        (1, lambda: RevokeSession(rng.choice((None, *range(8))), rng.random() < 0.5)),
        (1, lambda: RevokeSubject(rng.choice(SUBJECTS), rng.random() < 0.3)),
        (8, lambda: Advance(_advance(rng))),
        (1, lambda: Purge(rng.choice((1, 2, 1000)))),
        (2, lambda: Forged(rng.choice(("verify", "refresh", "revoke")), rng.randrange(64))),
        (1, lambda: Doctored(rng.randrange(64), rng.choice(("sid", "sub")))),
        (1, lambda: ListSessions(rng.choice(SUBJECTS))),
    ]
    weights = [w for w, _ in makers]
    while len(ops) < length:
        (_, make), *_ = rng.choices(makers, weights=weights)
        ops.append(make())
    return ops


def _backs(rng: random.Random) -> tuple[int, ...]:
    """Mostly N callers with one token; sometimes a mix of the newest and older ones."""
    n = rng.randint(2, 5)
    if rng.random() < 0.7:
        return (rng.choice((0, 0, 1)),) * n
    return tuple(rng.choice((0, 1, 2)) for _ in range(n))


def _advance(rng: random.Random) -> float:
    low, high = rng.choice(ADVANCE_RANGES)
    return rng.randint(low, high) + rng.choice(FRACTIONS)


__all__ = (
    "ADVANCE_RANGES",
    "CLAIM_SETS",
    "DPOP_KEYS",
    "FRACTIONS",
    "METADATA",
    "SCOPES",
    "SUBJECTS",
    "Advance",
    "ConcurrentRefresh",
    "Doctored",
    "Forged",
    "Issue",
    "ListSessions",
    "Op",
    "Purge",
    "Refresh",
    "RefreshAny",
    "Revoke",
    "RevokeSession",
    "RevokeSubject",
    "Verify",
    "WrongKey",
    "WrongType",
    "random_ops",
)
