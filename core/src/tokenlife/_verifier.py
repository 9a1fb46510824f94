"""Verify-only: what a resource server runs on every request, with public keys alone.

A :class:`TokenAuthority` needs a key that signs, because it issues. A service
that only checks tokens minted elsewhere needs the issuer's public keys, the
same claim checks, the same verified-token cache and — in ``strict`` mode —
the same single store read; nothing else. Keys can be replaced while running
(a remote key set rotating): :meth:`AccessVerifier.use_keys` swaps the codec
and forgets every token verified under the old keys, so a retired key stops
verifying at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Final

from ._claims import ACCESS_TYP, Claims
from ._clock import system_time
from ._codec import Codec
from ._errors import ConfigurationError, RevokedTokenError, UnknownTokenError
from ._keys import KeySet
from ._machine import decide_access
from ._policy import Policy
from ._store import Store

#: What a tokenlife access token always carries (the same as ACCESS_REQUIRED_CLAIMS).
DEFAULT_REQUIRED: Final = ("sub", "sid", "jti", "iat")
DEFAULT_VERIFY_CACHE: Final = 16384


class AccessVerifier:
    """Checks access tokens of one issuer: signature, type, claims, and (strict) the store.

    ``store`` is needed only for ``revocation="strict"`` (a store the issuer
    writes to); without one the policy must be ``stateless``. ``require``
    names the claims every token must carry.
    """

    __slots__ = (
        "_clock",
        "_require",
        "_store",
        "_strict",
        "_verified",
        "_verify_cache",
        "codec",
        "policy",
    )

    def __init__(
        self,
        keys: KeySet,
        *,
        policy: Policy,
        store: Store | None = None,
        clock: Callable[[], float] = system_time,
        require: Iterable[str] = DEFAULT_REQUIRED,
        verify_cache: int = DEFAULT_VERIFY_CACHE,
    ) -> None:
        if not isinstance(policy, Policy):
            raise ConfigurationError("AccessVerifier needs a Policy")
        if verify_cache < 0:
            raise ConfigurationError("verify_cache must be 0 (off) or a positive size")
        self._strict = policy.revocation == "strict"
        if self._strict and store is None:
            raise ConfigurationError(
                'revocation="strict" needs the issuer\'s store; use "stateless" without one'
            )
        self._require = tuple(require)
        if self._strict and not {"sid", "jti", "iat", "sub"} <= set(self._require):
            raise ConfigurationError("strict revocation needs sub, sid, jti and iat required")
        self.codec = _codec(keys, policy)
        self._store = store
        self._clock = clock
        self._verified: OrderedDict[str | bytes, Claims] = OrderedDict()
        self._verify_cache = verify_cache
        self.policy = policy

    @property
    def keys(self) -> KeySet:
        return self.codec.keys

    def use_keys(self, keys: KeySet) -> None:
        """Verify with ``keys`` from now on; tokens verified under the old ones are forgotten."""
        if keys is self.codec.keys:
            return
        self.codec = _codec(keys, self.policy)
        self._verified.clear()

    async def verify(self, token: str | bytes, *, now: float | None = None) -> Claims:
        """The claims of a valid access token, else a ``TokenError`` (strict: asks the store)."""
        now = self._clock() if now is None else now
        claims = self.verify_stateless(token, now=now)
        if self._strict:
            await self._check_store(claims, now)
        return claims

    def verify_stateless(self, token: str | bytes, *, now: float | None = None) -> Claims:
        """Signature and claims only; no store."""
        now = self._clock() if now is None else now
        cached = self._verified.get(token)
        if cached is not None:
            if cached.exp > now - self.codec.leeway:
                return cached
            del self._verified[token]
        claims = self.codec.decode(token, typ=ACCESS_TYP, now=now, require=self._require)
        if self._verify_cache:
            verified = self._verified
            if len(verified) >= self._verify_cache:
                verified.popitem(last=False)
            verified[token] = claims
        return claims

    async def _check_store(self, claims: Claims, now: float) -> None:
        store = self._store
        assert store is not None  # strict implies a store (checked at construction)
        status = await store.access_status(
            claims.jti,  # type: ignore[arg-type]  # required at construction
            claims.sid,  # type: ignore[arg-type]
            claims.sub,  # type: ignore[arg-type]
        )
        reason = decide_access(
            status,
            iat=claims.iat,  # type: ignore[arg-type]
            now=now,
            grace=self.policy.grace,
        )
        if reason is not None:
            if reason == "unknown_token":
                raise UnknownTokenError("the token's session is unknown")
            raise RevokedTokenError("the token has been revoked", code=reason)


def _codec(keys: KeySet, policy: Policy) -> Codec:
    return Codec(
        keys,
        issuer=policy.issuer,
        audience=policy.audience,
        leeway=policy.leeway,
        max_token_bytes=policy.max_token_bytes,
    )


__all__ = ("AccessVerifier",)
