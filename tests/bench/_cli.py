"""The command line of ``python -m tests.bench``: select, run, report (one markdown table)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from ._harness import (
    FULL,
    QUICK,
    TIMES,
    Group,
    GroupResult,
    Module,
    Settings,
    Skip,
    discover,
    measure,
)

# -- reporting -------------------------------------------------------------------


def _fmt_time(us: float) -> str:
    return f"{us:,.2f}" if us < 100 else f"{us:,.1f}" if us < 10_000 else f"{us:,.0f}"


def _fmt_rate(ops: float) -> str:
    return f"{ops:,.0f}" if ops >= 10 else f"{ops:.2f}"


def table(results: Sequence[GroupResult]) -> str:
    """One markdown table for the whole run."""
    rows = [
        "| group | contender | µs/op | ops/s | vs baseline | spread |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for group in results:
        if group.skipped is not None or group.error is not None:
            status = "skipped" if group.skipped is not None else "ERROR"
            rows.append(f"| {group.title} | _{status}_ | | | | |")
            continue
        for i, row in enumerate(group.contenders):
            title = group.title if i == 0 else ""
            ratio = f"{row.ratio:.2f}{TIMES}"
            if row.name == group.baseline:
                ratio += " (baseline)"
            rows.append(
                f"| {title} | {row.name} | {_fmt_time(row.us_per_op)} | "
                f"{_fmt_rate(row.ops_per_s)} | {ratio} | ±{row.spread * 50:.0f}% |"
            )
    return "\n".join(rows)


def _versions(packages: Sequence[str]) -> dict[str, str]:
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def _environment(settings: Settings, packages: Sequence[str]) -> dict[str, Any]:
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "rounds": settings.rounds,
        "batch_seconds": settings.batch_seconds,
        "packages": _versions(sorted(set(packages))),
    }


# -- entry point -------------------------------------------------------------------


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Run the bench_*.py groups; report ratios measured in one run.",
    )
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SUBSTRING",
        help="run the groups whose title or module contains SUBSTRING (repeatable)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--list", action="store_true", help="list the groups and exit")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a declared target fails")
    return parser.parse_args(argv)


def _selected(module: str, group: Group, only: Sequence[str]) -> bool:
    haystack = f"{module} {group.title}".lower()
    return not only or any(s.lower() in haystack for s in only)


async def _run(
    modules: Sequence[Module], settings: Settings, only: Sequence[str]
) -> list[GroupResult]:
    results = []
    for module in modules:
        if module.skipped is not None or module.error is not None:
            result = GroupResult(module=module.name, title=module.name, baseline="")
            result.skipped, result.error = module.skipped, module.error
            if not only or any(s.lower() in module.name.lower() for s in only):
                results.append(result)
            continue
        for group in module.groups:
            if not _selected(module.name, group, only):
                continue
            print(f"… {group.title}", file=sys.stderr, flush=True)
            try:
                results.append(await measure(group, settings, module.name))
            except Skip as exc:
                result = GroupResult(module.name, group.title, group.baseline)
                result.skipped = str(exc) or "skipped"
                results.append(result)
            except Exception:
                result = GroupResult(module.name, group.title, group.baseline)
                result.error = traceback.format_exc()
                results.append(result)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    settings = QUICK if args.quick else FULL
    if args.rounds is not None:
        if args.rounds < 1:
            print("--rounds must be at least 1", file=sys.stderr)
            return 2
        settings = Settings(rounds=args.rounds, batch_seconds=settings.batch_seconds)

    modules = discover()
    if args.list:
        for module in modules:
            status = module.skipped or ("ERROR" if module.error else "")
            print(f"{module.name} {status}".rstrip())
            for group in module.groups:
                if _selected(module.name, group, args.only):
                    print(f"  {group.title}  (baseline: {group.baseline})")
        return 1 if any(m.error for m in modules) else 0

    results = asyncio.run(_run(modules, settings, args.only))
    if not results:
        print(f"no group matches {args.only}", file=sys.stderr)
        return 2

    packages = [p for m in modules for g in m.groups for p in g.packages]
    env = _environment(settings, packages)
    versions = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    print(
        f"{env['python']} on {env['platform']}, {env['cpus']} CPUs; "
        f"{settings.rounds} interleaved rounds of ~{settings.batch_seconds * 1e3:g} ms batches"
        + (f"; {versions}" if versions else "")
    )
    print()
    print(table(results))
    print()
    print(
        "vs baseline: the baseline's time ÷ the contender's, median of per-round ratios "
        "(>1 is faster); spread: half the interquartile range of per-round times."
    )
    for result in results:
        for target in result.targets:
            print(f"{result.title}: {target.line()}")
        if result.skipped is not None:
            print(f"{result.title}: skipped — {result.skipped}")
        if result.error is not None:
            print(f"{result.title}: ERROR\n{result.error}", file=sys.stderr)

    if args.json is not None:
        document = {"environment": env, "quick": args.quick, "groups": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")

    failed = any(r.error is not None for r in results)
    missed = any(not t.passed for r in results for t in r.targets)
    return 1 if failed or (args.strict and missed) else 0


__all__ = ("main", "table")
