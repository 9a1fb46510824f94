"""The remote key set as a sans-IO state machine: clock and fetch results in, actions out.

A resource server asks :meth:`RemoteKeyState.decide` what to do about the
``kid`` a token names and gets one of four answers:

- :class:`UseKeys`: verify with these keys (fresh, or stale within the window
  while the issuer is failing or being asked again);
- :class:`Fetch`: fetch the JWKS now, then report :meth:`~RemoteKeyState.fetched`
  or :meth:`~RemoteKeyState.failed` (the state counts the fetch as in flight);
- :class:`Wait`: a fetch is in flight; wait for it, then ask again;
- :class:`Refuse`: raise its error (an unknown ``kid`` fetched for recently,
  or no usable keys left: fail closed).

Every fetch is at least ``min_interval`` after the previous attempt when a
token names an unknown ``kid``, ``retry_interval`` after a failure, and the
issuer's ``max-age`` (within bounds) after a success: whatever tokens arrive,
the fetch rate is bounded by the policy, never by the traffic.
"""

from __future__ import annotations

import logging
from typing import Final

import msgspec

from ._errors import JWKSError, KeySetUnavailableError, TokenLifeError, UnknownKeyError
from ._jwks import RemoteKeyPolicy, parse_jwks, same_keys
from ._keys import KeySet

logger: Final = logging.getLogger("tokenlife.remote")
_NEVER: Final = float("-inf")


class UseKeys(msgspec.Struct, frozen=True):
    """Verify with ``keys``; ``stale`` when they are past their freshness."""

    keys: KeySet
    stale: bool = False


class Fetch(msgspec.Struct, frozen=True):
    """Fetch the document now and report the result; the caller owns the fetch."""


class Wait(msgspec.Struct, frozen=True):
    """Another caller's fetch is in flight: share it, then decide again."""


class Refuse(msgspec.Struct, frozen=True):
    """Raise ``error``: ``UnknownKeyError`` (401) or ``KeySetUnavailableError`` (503)."""

    error: TokenLifeError


Decision = UseKeys | Fetch | Wait | Refuse

_FETCH: Final = Fetch()
_WAIT: Final = Wait()


class RemoteKeyState:
    """What is known about one issuer's key set, and the rules for asking again.

    Not thread-safe: one event loop drives it (decisions are synchronous, so
    no two callers interleave inside one).
    """

    __slots__ = (
        "_failed",
        "_in_flight",
        "_last_attempt",
        "_last_error",
        "_stale_until",
        "fetches",
        "fresh_until",
        "generation",
        "keys",
        "policy",
    )

    def __init__(self, policy: RemoteKeyPolicy, keys: KeySet | None = None) -> None:
        if not isinstance(policy, RemoteKeyPolicy):
            raise TypeError("RemoteKeyState needs a RemoteKeyPolicy")
        self.policy = policy
        #: The last good key set, fresh or not (read it; only reports change it).
        self.keys = keys
        #: Until when ``keys`` are fresh: a hot path compares ``now`` with it directly.
        self.fresh_until = _NEVER
        self._stale_until = _NEVER
        self._last_attempt = _NEVER
        self._failed = False
        self._in_flight = False
        self._last_error: str | None = None
        #: Fetches started, and how many times the key set really changed.
        self.fetches = 0
        self.generation = 0

    def __repr__(self) -> str:
        kids = [k.kid for k in self.keys.keys] if self.keys is not None else None
        return f"RemoteKeyState(kids={kids}, generation={self.generation})"

    @property
    def in_flight(self) -> bool:
        return self._in_flight

    @property
    def last_error(self) -> str | None:
        """Why the last fetch failed, or ``None`` after a success."""
        return self._last_error

    def fresh_keys(self, now: float) -> KeySet | None:
        """The key set if it is fresh: the fast path, one comparison."""
        return self.keys if now < self.fresh_until else None

    def decide(self, kid: str | None, now: float) -> Decision:
        """What to do about a token naming ``kid`` (``None``: the token names none)."""
        keys = self.keys
        known = keys is not None and keys.get(kid) is not None
        if known and now < self.fresh_until:
            return UseKeys(keys)  # type: ignore[arg-type]  # known implies keys
        if self._in_flight:
            if known and now < self._stale_until:
                return UseKeys(keys, stale=True)  # type: ignore[arg-type]
            return _WAIT
        if now - self._last_attempt >= self._gap(now):
            self._in_flight = True
            self._last_attempt = now
            self.fetches += 1
            return _FETCH
        if keys is None or now >= self._stale_until:
            cause = f": {self._last_error}" if self._last_error else ""
            return Refuse(KeySetUnavailableError(f"no usable keys from the issuer{cause}"))
        if known:
            return UseKeys(keys, stale=True)
        return Refuse(
            UnknownKeyError("no key matches the token's 'kid' (the key set was fetched recently)")
        )

    def _gap(self, now: float) -> float:
        """How long after the last attempt the next fetch may start."""
        retry = self.policy.retry_interval if self._failed else 0.0
        if self.keys is None or now >= self.fresh_until:
            return retry  # none yet, or expired: the max-age floor spaced the fetches
        return max(self.policy.min_interval, retry)  # fresh, and the kid is unknown

    def fetched(
        self,
        document: bytes,
        *,
        now: float,
        cache_control: str | None = None,
        age: str | None = None,
    ) -> KeySet | None:
        """Report a fetched document (status 200). The new keys, or ``None`` if refused."""
        self._in_flight = False
        try:
            keys = parse_jwks(document, self.policy)
        except JWKSError as exc:
            self._fail(exc.message)
            return None
        if self.keys is None or not same_keys(self.keys, keys):
            self.keys = keys
            self.generation += 1
        self.fresh_until = now + self.policy.max_age(cache_control, age)
        self._stale_until = self.fresh_until + self.policy.stale_window
        self._failed = False
        self._last_error = None
        return self.keys

    def failed(self, reason: str, *, now: float) -> None:
        """Report a fetch that got no document (network error, timeout, non-200 status)."""
        del now  # the attempt's time was taken when the fetch was decided
        self._in_flight = False
        self._fail(reason)

    def _fail(self, reason: str) -> None:
        self._failed = True
        self._last_error = reason
        logger.warning("tokenlife JWKS fetch failed: %s", reason)


__all__ = ("Decision", "Fetch", "Refuse", "RemoteKeyState", "UseKeys", "Wait")
