"""Operating tokenlife: its lifecycle as OpenTelemetry metrics, scraped by Prometheus.

``python docs/examples/operating.py`` runs a short, scripted life of a few
sessions (logins, refreshes, a stolen token replayed, a store outage) on a
frozen clock and prints the ``tokenlife_*`` lines of the scrape it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tokenlife import KeySet, Policy, StoreError, TokenAuthority, TokenError
from tokenlife.otel import instrument
from tokenlife.otel.prometheus import PrometheusMetrics, install
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def with_your_own_sdk(authority: TokenAuthority) -> TokenAuthority:
    # --8<-- [start:instrument]
    # The application has installed an OpenTelemetry SDK (any exporter:
    # OTLP, Prometheus, ...) as the global meter and tracer providers.
    instrument(authority)
    # --8<-- [end:instrument]
    return authority


# --8<-- [start:prometheus]
def metrics_endpoint(
    metrics: PrometheusMetrics,
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app answering every GET with the scrape: mount it at /metrics."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", ()))
        page = metrics.render(headers.get(b"accept", b"").decode("latin-1"))
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", page.content_type.encode("latin-1"))],
            }
        )
        await send({"type": "http.response.body", "body": page.body})

    return app


# At startup: the SDK, its Prometheus exporter, and the authority instrumented.
# metrics = install(authority)
# --8<-- [end:prometheus]

_SCOPE_LABELS = re.compile(r'otel_scope_[a-z_]+="[^"]*",?')
_EMPTY_LABELS = re.compile(r'[a-z_]+="",?')


def tidy(page: bytes) -> list[str]:
    """The ``tokenlife_*`` samples of a scrape, without the scope and empty labels."""
    lines = []
    for line in page.decode("utf-8").splitlines():
        if not line.startswith("tokenlife_") or "_bucket{" in line or "_sum{" in line:
            continue
        line = _EMPTY_LABELS.sub("", _SCOPE_LABELS.sub("", line))
        lines.append(line.replace(",}", "}").replace("{}", ""))
    return lines


async def scripted_run() -> list[str]:
    """Logins, verifications, refreshes, a reuse detection, a logout, an outage."""
    clock = FrozenClock()
    policy = Policy(issuer="https://api.example", audience="api", grace=10)
    store = MemoryStore()
    auth = TokenAuthority(
        store,
        keys=KeySet.from_secret(b"operating-example-secret-0123456789"),
        policy=policy,
        clock=clock,
    )
    metrics = install(auth, set_global=False)
    pairs = [await auth.issue(user) for user in ("alice", "bob", "carol")]
    for pair in pairs:
        await auth.verify(pair.access_token)
    clock.advance(60)
    stolen = pairs[0].refresh_token
    fresh = [await auth.refresh(pair.refresh_token) for pair in pairs]
    await auth.refresh(pairs[1].refresh_token)  # a retry inside the grace window
    clock.advance(30)
    for token in (stolen, "not-a-token"):  # the thief replays; someone sends garbage
        with contextlib.suppress(TokenError):
            await auth.refresh(token)
    with contextlib.suppress(TokenError):
        await auth.verify(fresh[0].access_token)  # its session died with the reuse
    await auth.revoke(fresh[2].access_token)  # carol logs out
    await store.close()  # the store goes away: tokenlife fails closed
    with contextlib.suppress(StoreError):
        await auth.verify(fresh[1].access_token)
    lines = tidy(metrics.render().body)
    metrics.shutdown()
    return lines


if __name__ == "__main__":
    print("\n".join(asyncio.run(scripted_run())))
