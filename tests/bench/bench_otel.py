"""What observing the lifecycle costs: the observer seam, and tokenlife.otel on the SDK.

Each contender runs its own authority on its own memory store.

- ``no seam``: the operation as it was before the observer seam — ``refresh``
  is ``TokenAuthority._refresh`` (the body the public method calls after its
  observer check), ``verify`` the lines it was (kept here, in step with it).
- ``seam, no observer``: the authority as shipped, nobody observing.
  Target: ≥ 0.98x ``no seam`` (at most 2% more time).
- ``otel, no SDK``: ``tokenlife.otel.instrument`` with OpenTelemetry's default
  no-op providers (the extra installed, no SDK configured), for information.
- ``otel, SDK + reader``: an SDK ``MeterProvider`` with a Prometheus reader
  (the seed apps' setup; no tracer provider, so spans stay no-ops).
  Target, for refresh: ≥ 0.85x ``no seam``.
- ``otel, SDK + reader, no durations``: the same with ``store_durations=False``
  (no SDK measurement on the request path). Target, for refresh: ≥ 0.85x.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tokenlife import Claims, KeySet, Policy, TokenAuthority
from tokenlife_memory import MemoryStore

from ._harness import Group, Skip, Target

try:
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.trace import NoOpTracerProvider

    from tokenlife.otel import instrument
    from tokenlife.otel.prometheus import PrometheusMetrics
except ImportError as exc:  # pragma: no cover
    raise Skip(f"tokenlife[prometheus] is not installed ({exc})") from None

SECRET = "bench-only-hs256-secret-0123456789abcdef"
POLICY = Policy(issuer="https://api.example", audience="api")
NO_SEAM = "no seam"
SEAM = "seam, no observer"
NO_SDK = "otel, no SDK"
SDK = "otel, SDK + reader"
SDK_COUNTERS = "otel, SDK + reader, no durations"

_refresh_without_seam = TokenAuthority._refresh


class _WithoutSeam(TokenAuthority):
    """``verify`` as it was before the observer seam (keep in step with the authority)."""

    __slots__ = ()

    async def verify(self, token: str | bytes, jkt: str | None = None) -> Claims:
        now = self._clock()
        claims = self._bound(self._decode_access(token, now), jkt)
        if self._strict:
            await self._check_store(claims, now)
        return claims


class Rig:
    """One authority, observed or not, with tokens to work through."""

    def __init__(self, kind: str, *, verify_cache: int = 0) -> None:
        self.kind = kind
        cls = _WithoutSeam if kind == NO_SEAM else TokenAuthority
        self.auth = cls(
            MemoryStore(), keys=KeySet.from_secret(SECRET), policy=POLICY, verify_cache=verify_cache
        )
        self.metrics: PrometheusMetrics | None = None
        if kind == NO_SDK:
            instrument(
                self.auth,
                meter_provider=NoOpMeterProvider(),
                tracer_provider=NoOpTracerProvider(),
            )
        elif kind in (SDK, SDK_COUNTERS):
            self.metrics = PrometheusMetrics()
            self.metrics.instrument(
                self.auth, tracer_provider=NoOpTracerProvider(), store_durations=kind == SDK
            )
        self.access = ""
        self.refreshable: list[str] = []
        self._refresh: Callable[[str], Awaitable[object]] = (
            (lambda token: _refresh_without_seam(self.auth, token))
            if kind == NO_SEAM
            else self.auth.refresh
        )

    async def setup(self) -> None:
        self.access = (await self.auth.issue("alice", scopes=("read",))).access_token
        await self.verify()
        await self.refresh()

    async def verify(self) -> None:
        await self.auth.verify(self.access)

    async def refresh(self) -> None:
        if not self.refreshable:
            self.refreshable.append((await self.auth.issue("bob")).refresh_token)
        pair = await self._refresh(self.refreshable.pop())
        self.refreshable.append(pair.refresh_token)  # type: ignore[attr-defined]

    async def check(self) -> None:
        """The SDK rig really counted: its page shows the refreshes."""
        if self.metrics is not None:
            page = self.metrics.render().body
            assert b"tokenlife_refresh_total{" in page and b'outcome="rotated"' in page


def groups() -> list[Group]:
    kinds = (NO_SEAM, SEAM, NO_SDK, SDK, SDK_COUNTERS)
    refresh = {kind: Rig(kind) for kind in kinds}
    verify = {kind: Rig(kind) for kind in (NO_SEAM, SEAM, NO_SDK, SDK)}
    cached = {kind: Rig(kind, verify_cache=1024) for kind in (NO_SEAM, SEAM, SDK)}

    def setup(rigs: dict[str, Rig]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            for rig in rigs.values():
                await rig.setup()

        return run

    def teardown(rigs: dict[str, Rig]) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            for rig in rigs.values():
                await rig.check()

        return run

    return [
        Group(
            "otel: refresh with rotation",
            baseline=NO_SEAM,
            contenders={kind: rig.refresh for kind, rig in refresh.items()},
            targets=[Target(SEAM, 0.98), Target(SDK, 0.85), Target(SDK_COUNTERS, 0.85)],
            setup=setup(refresh),
            teardown=teardown(refresh),
            packages=("tokenlife", "opentelemetry-sdk", "opentelemetry-exporter-prometheus"),
        ),
        Group(
            "otel: strict verify (full checks every time)",
            baseline=NO_SEAM,
            contenders={kind: rig.verify for kind, rig in verify.items()},
            targets=[Target(SEAM, 0.98)],
            setup=setup(verify),
        ),
        Group(
            "otel: strict verify (verify cache on)",
            baseline=NO_SEAM,
            contenders={kind: rig.verify for kind, rig in cached.items()},
            targets=[Target(SEAM, 0.98)],
            setup=setup(cached),
        ),
    ]
