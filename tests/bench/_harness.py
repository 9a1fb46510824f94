"""A benchmark harness for a noisy shared machine: ratios, measured in one run.

Absolute timings on a shared 2-core box drift by tens of percent from one
minute to the next; ratios between contenders measured side by side do not.
So every group is run in *rounds*: each round times one batch of every
contender (in a rotating order), and the result per contender is the median
over rounds. The ratio to the group's baseline is the median of the
per-round ratios, so a slow round slows every contender alike and cancels out.

A bench module is any ``tests/bench/bench_*.py`` with a function
``groups() -> Sequence[Group]``. A contender is a zero-argument callable,
sync or async (an async one is awaited in a loop inside one event loop). A
module may raise :class:`Skip` at import, from ``groups()`` or from a group's
``setup`` when something it needs is absent (a server, an optional package).
"""

from __future__ import annotations

import gc
import importlib
import inspect
import math
import pkgutil
import statistics
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

#: A contender: called with no arguments; may return an awaitable.
Op = Callable[[], object]
#: A setup or teardown hook, awaited in the run's event loop.
Hook = Callable[[], Awaitable[None]]

PACKAGE = __name__.rpartition(".")[0]
TIMES = "\N{MULTIPLICATION SIGN}"
_MAX_BATCH = 10_000_000


class Skip(Exception):
    """Raise to skip a module or group, with the reason as the message."""


@dataclass(frozen=True)
class Target:
    """A claim a group makes: ``contender`` is at least ``at_least`` times as fast as ``vs``.

    ``vs`` defaults to the group's baseline.
    """

    contender: str
    at_least: float
    vs: str | None = None


@dataclass(frozen=True)
class Check:
    """A claim about behaviour rather than speed, run once: ``run`` returns
    what it measured (as shown in the report) and whether the claim held."""

    claim: str
    run: Callable[[], Awaitable[tuple[str, bool]]]


@dataclass(frozen=True)
class Group:
    """Contenders doing the same work, compared with ``baseline``."""

    title: str
    baseline: str
    contenders: Mapping[str, Op]
    targets: Sequence[Target] = ()
    setup: Hook | None = None
    teardown: Hook | None = None
    #: Distributions whose versions the report should name.
    packages: Sequence[str] = ()
    #: Behaviour the group's setup makes measurable (fetch counts, time to recover, ...).
    checks: Sequence[Check] = ()

    def __post_init__(self) -> None:
        if self.baseline not in self.contenders:
            raise ValueError(f"{self.title}: baseline {self.baseline!r} is not a contender")
        for target in self.targets:
            for name in (target.contender, target.vs or self.baseline):
                if name not in self.contenders:
                    raise ValueError(f"{self.title}: target names unknown contender {name!r}")


@dataclass(frozen=True)
class Settings:
    rounds: int
    #: Each timed batch runs about this long (batch size is calibrated per contender).
    batch_seconds: float


FULL = Settings(rounds=31, batch_seconds=0.03)
QUICK = Settings(rounds=3, batch_seconds=0.002)


@dataclass(frozen=True)
class ContenderResult:
    name: str
    us_per_op: float
    ops_per_s: float
    #: Baseline time / this contender's time (median of per-round ratios): >1 is faster.
    ratio: float
    #: Interquartile range of the per-round times, relative to their median.
    spread: float
    batch: int
    is_async: bool


@dataclass(frozen=True)
class TargetResult:
    contender: str
    vs: str
    at_least: float
    measured: float
    passed: bool
    #: For a :class:`Check`: its claim and what it measured, in words.
    claim: str | None = None
    shown: str = ""

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        if self.claim is not None:
            return f"target: {self.claim} — measured {self.shown} — {verdict}"
        return (
            f"target: {self.contender} ≥ {self.at_least:g}{TIMES} {self.vs} — "
            f"measured {self.measured:.2f}{TIMES} — {verdict}"
        )


@dataclass
class GroupResult:
    module: str
    title: str
    baseline: str
    rounds: int = 0
    contenders: list[ContenderResult] = field(default_factory=list)
    targets: list[TargetResult] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None


# -- measuring ------------------------------------------------------------------


async def _call(op: Op) -> bool:
    """Call ``op`` once (a smoke test); return whether it is async."""
    result = op()
    if inspect.isawaitable(result):
        await result
        return True
    return False


async def _time_batch(op: Op, is_async: bool, n: int) -> float:
    perf_counter = time.perf_counter
    if is_async:
        aop = cast(Callable[[], Awaitable[object]], op)
        start = perf_counter()
        for _ in range(n):
            await aop()
        return perf_counter() - start
    start = perf_counter()
    for _ in range(n):
        op()
    return perf_counter() - start


async def _calibrate(op: Op, is_async: bool, seconds: float) -> int:
    """A batch size that runs about ``seconds``; doubles as the warm-up."""
    n = 1
    while True:
        elapsed = await _time_batch(op, is_async, n)
        if elapsed >= seconds / 4 or n >= _MAX_BATCH:
            return max(1, min(_MAX_BATCH, math.ceil(n * seconds / max(elapsed, 1e-9))))
        n = min(_MAX_BATCH, max(n * 2, int(n * seconds / 8 / max(elapsed, 1e-9))))


def _quartile_spread(values: Sequence[float]) -> float:
    if len(values) < 4:
        return (max(values) - min(values)) / statistics.median(values)
    q1, _, q3 = statistics.quantiles(values, n=4)
    return (q3 - q1) / statistics.median(values)


async def measure(group: Group, settings: Settings, module: str = "") -> GroupResult:
    """Run one group: setup, calibrate, interleaved rounds, teardown."""
    result = GroupResult(module=module, title=group.title, baseline=group.baseline)
    names = list(group.contenders)
    if group.setup is not None:
        await group.setup()
    try:
        kinds = {name: await _call(group.contenders[name]) for name in names}
        batches = {
            name: await _calibrate(group.contenders[name], kinds[name], settings.batch_seconds)
            for name in names
        }
        per_op: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(settings.rounds):
            gc.collect()
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                n = batches[name]
                elapsed = await _time_batch(group.contenders[name], kinds[name], n)
                per_op[name].append(elapsed / n)
        for check in group.checks:
            shown, passed = await check.run()
            result.targets.append(
                TargetResult("", "", 0.0, 0.0, passed, claim=check.claim, shown=shown)
            )
    finally:
        if group.teardown is not None:
            await group.teardown()

    def ratio(fast: str, slow: str) -> float:
        return statistics.median(s / f for f, s in zip(per_op[fast], per_op[slow], strict=True))

    result.rounds = settings.rounds
    for name in names:
        median = statistics.median(per_op[name])
        result.contenders.append(
            ContenderResult(
                name=name,
                us_per_op=median * 1e6,
                ops_per_s=1 / median,
                ratio=ratio(name, group.baseline),
                spread=_quartile_spread(per_op[name]),
                batch=batches[name],
                is_async=kinds[name],
            )
        )
    for target in group.targets:
        vs = target.vs or group.baseline
        measured = ratio(target.contender, vs)
        result.targets.append(
            TargetResult(
                target.contender, vs, target.at_least, measured, measured >= target.at_least
            )
        )
    return result


# -- discovery --------------------------------------------------------------------


@dataclass
class Module:
    name: str
    groups: list[Group] = field(default_factory=list)
    skipped: str | None = None
    error: str | None = None


def discover(package: str = PACKAGE) -> list[Module]:
    """Import every ``bench_*`` module of ``package`` and collect its groups."""
    pkg = importlib.import_module(package)
    names = sorted(
        info.name for info in pkgutil.iter_modules(pkg.__path__) if info.name.startswith("bench_")
    )
    modules = []
    for name in names:
        module = Module(name)
        modules.append(module)
        try:
            factory = getattr(importlib.import_module(f"{package}.{name}"), "groups", None)
            if not callable(factory):
                raise TypeError(f"{package}.{name} has no groups() function")
            module.groups = list(factory())
        except Skip as exc:
            module.skipped = str(exc) or "skipped"
        except Exception:
            module.error = traceback.format_exc()
    return modules


__all__ = (
    "FULL",
    "QUICK",
    "TIMES",
    "Check",
    "ContenderResult",
    "Group",
    "GroupResult",
    "Hook",
    "Module",
    "Op",
    "Settings",
    "Skip",
    "Target",
    "TargetResult",
    "discover",
    "measure",
)
