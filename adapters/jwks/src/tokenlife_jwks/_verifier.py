"""A resource server's verifier: one remote key set per issuer, the core's checks per token.

The hot path is the core's: while an issuer's keys are fresh, a token costs
one comparison more than with a static :class:`~tokenlife.KeySet`. Only a
token naming a ``kid`` the fresh keys lack, or keys past their ``max-age``,
takes the slow path through :meth:`RemoteKeySet.keys_for`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Literal

import msgspec

from tokenlife import (
    ACCESS_REQUIRED_CLAIMS,
    AccessVerifier,
    ClaimError,
    Claims,
    ConfigurationError,
    KeySet,
    MalformedTokenError,
    Policy,
    Store,
    UnknownKeyError,
    peek_header,
)

from ._source import RemoteKeySet

_DOT: Final = b"."


class _Issuer(msgspec.Struct):
    iss: str | None = None


_issuer_of_payload = msgspec.json.Decoder(_Issuer).decode


class _Entry:
    __slots__ = ("keys", "policy", "source", "state", "verifier")

    def __init__(self, source: RemoteKeySet, policy: Policy) -> None:
        self.source = source
        self.state = source.state
        self.policy = policy
        self.verifier: AccessVerifier | None = None
        #: The key set ``verifier`` was last given (an identity check per token).
        self.keys: KeySet | None = None


class RemoteVerifier:
    """Verifies access tokens from one or several issuers, each with its own remote key set.

    With several issuers the token's (unverified) ``iss`` picks the key set;
    the signature and the ``iss`` claim are then checked against that issuer
    only. ``store`` turns on strict revocation (the issuer's store, shared).
    """

    __slots__ = ("_by_issuer", "_clock", "_require", "_single", "_store", "_verify_cache")

    def __init__(
        self,
        sources: RemoteKeySet | Iterable[RemoteKeySet],
        *,
        audience: str | Sequence[str] | None = None,
        leeway: float = 0.0,
        store: Store | None = None,
        require: Iterable[str] = ACCESS_REQUIRED_CLAIMS,
        clock: Callable[[], float] | None = None,
        verify_cache: int = 16384,
    ) -> None:
        listed = [sources] if isinstance(sources, RemoteKeySet) else list(sources)
        if not listed:
            raise ConfigurationError("a RemoteVerifier needs at least one RemoteKeySet")
        revocation: Literal["strict", "stateless"] = "strict" if store is not None else "stateless"
        if audience is not None and not isinstance(audience, str):
            audience = tuple(audience)
        if len(listed) > 1 and any(source.issuer is None for source in listed):
            raise ConfigurationError("with several key sets, each must name its issuer")
        by_issuer: dict[str | None, _Entry] = {}
        for source in listed:
            if source.issuer in by_issuer:
                raise ConfigurationError(f"two key sets for issuer {source.issuer!r}")
            policy = Policy(
                issuer=source.issuer,
                audience=audience
                if isinstance(audience, str) or audience is None
                else tuple(audience),
                leeway=leeway,
                revocation=revocation,
            )
            by_issuer[source.issuer] = _Entry(source, policy)
        self._by_issuer = by_issuer
        self._single = next(iter(by_issuer.values())) if len(by_issuer) == 1 else None
        self._store = store
        self._require = tuple(require)
        self._clock = clock if clock is not None else listed[0].clock
        self._verify_cache = verify_cache

    @property
    def sources(self) -> tuple[RemoteKeySet, ...]:
        return tuple(entry.source for entry in self._by_issuer.values())

    async def verify(self, token: str | bytes) -> Claims:
        """The claims of a valid access token, else a ``TokenError`` (or a 503-kind
        ``KeySetUnavailableError`` once an issuer's keys are stale past their window)."""
        entry = self._single or self._entry(token)
        now = self._clock()
        verifier = entry.verifier
        state = entry.state
        if verifier is not None and now < state.fresh_until:
            if state.keys is not entry.keys:
                entry.keys = state.keys
                verifier.use_keys(state.keys)  # type: ignore[arg-type]  # fresh implies keys
            try:
                if self._store is None:  # stateless: no second coroutine on the hot path
                    return verifier.verify_stateless(token, now=now)
                return await verifier.verify(token, now=now)
            except UnknownKeyError:
                pass  # perhaps the issuer rotated: ask the key set
        kid = peek_header(token).get("kid")
        keys = await entry.source.keys_for(kid if isinstance(kid, str) else None)
        if verifier is None:
            verifier = entry.verifier = AccessVerifier(
                keys,
                policy=entry.policy,
                store=self._store,
                clock=self._clock,
                require=self._require,
                verify_cache=self._verify_cache,
            )
        else:
            verifier.use_keys(keys)
        entry.keys = keys
        return await verifier.verify(token, now=self._clock())

    def _entry(self, token: str | bytes) -> _Entry:
        raw = token.encode("ascii", "replace") if isinstance(token, str) else bytes(token)
        parts = raw.split(_DOT)
        if len(parts) != 3:
            raise MalformedTokenError("not a compact JWS (three base64url segments)")
        payload = parts[1] + b"=" * (-len(parts[1]) % 4)
        try:
            issuer = _issuer_of_payload(base64.urlsafe_b64decode(payload)).iss
        except (binascii.Error, msgspec.DecodeError, msgspec.ValidationError):
            raise MalformedTokenError("the payload names no readable issuer") from None
        entry = self._by_issuer.get(issuer) if issuer is not None else None
        if entry is None:
            raise ClaimError("the token is from an issuer not trusted here", code="bad_issuer")
        return entry

    async def aclose(self) -> None:
        for entry in self._by_issuer.values():
            await entry.source.aclose()


__all__ = ("RemoteVerifier",)
