"""One issuer's JWKS over HTTP: the core's :class:`RemoteKeyState` decides, httpx fetches.

Nothing here decides when to fetch, what to accept or when to fail closed;
this module only carries out a :class:`~tokenlife.remote.Fetch` (one request,
bounded in time and size) and makes concurrent callers share it.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

import anyio
import httpx

from tokenlife import ConfigurationError, KeySet, KeySetUnavailableError
from tokenlife.remote import Fetch, Refuse, RemoteKeyPolicy, RemoteKeyState, UseKeys

#: Decisions one lookup may take before giving up (fetch, wait, decide again).
_MAX_STEPS: Final = 8
_ACCEPT: Final = "application/jwk-set+json, application/json;q=0.9"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RemoteKeySet:
    """The public keys of ``issuer``, from its JWKS at ``url``.

    With ``issuer=None`` tokens are not checked for an ``iss`` (one source only).

    ``algorithms`` (or a full ``policy``) is the allow-list: a key for any
    other algorithm is never used. Pass ``client`` to share one
    ``httpx.AsyncClient`` (and its connection pool) among issuers; otherwise
    one is made and closed with :meth:`aclose`. Plain ``http`` is refused
    except to a loopback address.
    """

    __slots__ = ("_client", "_clock", "_done", "_owns_client", "issuer", "state", "timeout", "url")

    def __init__(
        self,
        url: str,
        *,
        issuer: str | None = None,
        algorithms: tuple[str, ...] | None = None,
        policy: RemoteKeyPolicy | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 5.0,
    ) -> None:
        if (policy is None) == (algorithms is None):
            raise ConfigurationError("give either algorithms or a RemoteKeyPolicy")
        if policy is None:
            policy = RemoteKeyPolicy(algorithms=tuple(algorithms or ()))
        if issuer is not None and (not isinstance(issuer, str) or not issuer):
            raise ConfigurationError("issuer must be a non-empty string (or None: any issuer)")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise ConfigurationError(f"not a usable JWKS URL: {exc}") from None
        if parsed.scheme != "https" and not (parsed.scheme == "http" and _loopback(parsed.host)):
            raise ConfigurationError("a JWKS URL must be https (plain http only to loopback)")
        if not 0 < timeout <= 60:
            raise ConfigurationError("timeout must be between 0 and 60 seconds")
        self.url = str(parsed)
        self.issuer = issuer
        self.timeout = float(timeout)
        self.state = RemoteKeyState(policy)
        self._clock = clock
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient()
        self._done = anyio.Event()
        self._done.set()

    def __repr__(self) -> str:
        return f"RemoteKeySet({self.url!r}, issuer={self.issuer!r}, {self.state!r})"

    @property
    def policy(self) -> RemoteKeyPolicy:
        return self.state.policy

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock

    async def keys_for(self, kid: str | None) -> KeySet:
        """Keys holding ``kid`` (fetching if the rules allow), else the refusal's error."""
        for _ in range(_MAX_STEPS):
            decision = self.state.decide(kid, self._clock())
            if isinstance(decision, UseKeys):
                return decision.keys
            if isinstance(decision, Refuse):
                raise decision.error
            if isinstance(decision, Fetch):
                done = self._done = anyio.Event()
                try:
                    # Shielded: a caller cancelled mid-fetch must not fail everyone waiting.
                    with anyio.CancelScope(shield=True):
                        await self._fetch()
                finally:
                    done.set()
            else:
                await self._done.wait()
        raise KeySetUnavailableError("the key set kept changing while being looked up")

    async def refresh(self) -> KeySet:
        """Fetch now if the rules allow (e.g. at startup); the keys held afterwards."""
        return await self.keys_for(None) if self.state.keys is None else self.state.keys

    async def _fetch(self) -> None:
        state, limit = self.state, self.state.policy.max_document_bytes
        reported = False
        try:
            async with self._client.stream(
                "GET",
                self.url,
                headers={"Accept": _ACCEPT},
                timeout=self.timeout,
                follow_redirects=False,
            ) as response:
                if response.status_code != 200:
                    reason = f"the issuer answered HTTP {response.status_code}"
                else:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > limit:
                            break
                    if len(body) > limit:
                        reason = f"the JWKS is larger than {limit} bytes"
                    else:
                        state.fetched(
                            bytes(body),
                            now=self._clock(),
                            cache_control=response.headers.get("cache-control"),
                            age=response.headers.get("age"),
                        )
                        reported = True
                        return
            state.failed(reason, now=self._clock())
            reported = True
        except httpx.HTTPError as exc:
            state.failed(f"{type(exc).__name__}: {exc}", now=self._clock())
            reported = True
        finally:
            if not reported:
                state.failed("the fetch was interrupted", now=self._clock())

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> RemoteKeySet:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


__all__ = ("RemoteKeySet",)
