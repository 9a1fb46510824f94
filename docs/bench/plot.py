"""The benchmark page's charts and tables, from one ``python -m tests.bench --json`` run.

    python -m tests.bench --json run.json      # or: nox -s bench -- --json run.json
    python docs/bench/plot.py run.json         # writes docs/bench/results.json and speed-*.svg

One chart per benchmark module (codec, lifecycle, HTTP, each store), in plain
SVG written by hand: no plotting library to install. The site's tables are
rendered from the same ``results.json`` at build time, so the charts and the
tables always show the same run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

HERE: Final = Path(__file__).resolve().parent
RESULTS: Final = HERE / "results.json"
#: The benchmark modules, in the order the page shows them.
MODULES: Final = (
    "codec",
    "lifecycle",
    "http",
    "oauth",
    "dpop",
    "remote",
    "otel",
    "sqlite",
    "redis",
    "postgres",
    "sessions",
)

TIMES: Final = "\N{MULTIPLICATION SIGN}"
WIDTH: Final = 760
LABEL: Final = 220  # the contender-name column
BARS: Final = 450  # the bar area
ROW: Final = 18
TITLE: Final = 22
GAP: Final = 10
TOP: Final = 46
OURS: Final = "#2e7d6b"
THEIRS: Final = "#9aa5b1"
#: Contenders that are other libraries or reference points (grey); every other
#: row is tokenlife (green).
PEERS: Final = (
    "PyJWT",
    "Litestar",
    "AuthX",
    "FastAPI",
    "raw sqlite3",
    "aiosqlite",
    "redis-py",
    "asyncpg",
    "unauthenticated",
    "floor",
    "oxyjwt",
    "bearer",
    "static KeySet",
    "no seam",
    "stateless",
    "strict verify (protected route)",
    "protected route",
)


def load(path: Path = RESULTS) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def chart_path(module: str) -> Path:
    return HERE / f"speed-{module}.svg"


def groups(data: Mapping[str, Any], module: str | None = None) -> list[Mapping[str, Any]]:
    """The run's groups, or those of one module (``codec`` for ``bench_codec``)."""
    found = data["groups"]
    return [g for g in found if module is None or g["module"] == f"bench_{module}"]


def measured(data: Mapping[str, Any], module: str | None = None) -> list[Mapping[str, Any]]:
    """The groups that ran (not skipped, no error)."""
    return [g for g in groups(data, module) if g.get("skipped") is None and g.get("error") is None]


def _time(us: float) -> str:
    return f"{us:,.2f}" if us < 100 else f"{us:,.1f}" if us < 10_000 else f"{us:,.0f}"


def _rate(ops: float) -> str:
    return f"{ops:,.0f}" if ops >= 10 else f"{ops:.2f}"


def markdown_table(data: Mapping[str, Any], module: str | None = None) -> str:
    """The run (or one module's groups) as the Markdown table ``nox -s bench`` prints."""
    rows = [
        "| group | contender | µs/op | ops/s | vs baseline | spread |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for group in groups(data, module):
        if group.get("skipped") is not None or group.get("error") is not None:
            status = "skipped" if group.get("skipped") is not None else "error"
            reason = str(group.get("skipped") or group.get("error") or "").splitlines()[0]
            rows.append(f"| {group['title']} | _{status}_: {reason} | | | | |")
            continue
        for i, row in enumerate(group["contenders"]):
            ratio = f"{row['ratio']:.2f}{TIMES}"
            if row["name"] == group["baseline"]:
                ratio += " (baseline)"
            rows.append(
                f"| {group['title'] if i == 0 else ''} | {row['name']} | "
                f"{_time(row['us_per_op'])} | {_rate(row['ops_per_s'])} | {ratio} | "
                f"±{row['spread'] * 50:.0f}% |"
            )
    return "\n".join(rows)


def targets(data: Mapping[str, Any], module: str) -> str:
    """The targets the module's groups declare, each with what this run measured."""
    lines = []
    for group in measured(data, module):
        for target in group.get("targets", ()):
            verdict = "met" if target["passed"] else "**missed**"
            lines.append(
                f"- {group['title']}: {target['contender']} ≥ {target['at_least']:g}{TIMES} "
                f"{target['vs']} — measured {target['measured']:.2f}{TIMES}, {verdict}"
            )
    return "\n".join(lines)


def environment(data: Mapping[str, Any]) -> str:
    """One line saying where and with what the run was measured."""
    env = data["environment"]
    packages = ", ".join(f"{name} {version}" for name, version in env["packages"].items())
    return (
        f"{env['python']} on {env['platform']}, {env['cpus']} CPUs; "
        f"{env['rounds']} interleaved rounds of ~{env['batch_seconds'] * 1000:.0f} ms batches; "
        f"{packages}."
    )


def svg(data: Mapping[str, Any], module: str) -> str:
    """Each group's contenders as bars of their speed relative to the group's baseline."""
    shown = measured(data, module)
    top = max((row["ratio"] for g in shown for row in g["contenders"]), default=1.0)
    scale = BARS / max(top * 1.08, 1.0)
    height = TOP + sum(TITLE + ROW * len(g["contenders"]) + GAP for g in shown) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" font-size="12" '
        'role="img" aria-labelledby="title">',
        '<title id="title">Speed relative to each group\'s baseline (higher is faster)</title>',
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        f'<text x="{LABEL}" y="18" font-size="13" font-weight="600" fill="#222">'
        "Speed relative to each group's baseline (higher is faster)</text>",
    ]
    one = LABEL + scale
    y = TOP
    for group in shown:
        out.append(
            f'<text x="8" y="{y + 14}" font-weight="600" fill="#222">'
            f"{escape(group['title'])}</text>"
        )
        y += TITLE
        for row in group["contenders"]:
            colour = THEIRS if row["name"].startswith(PEERS) else OURS
            width = max(row["ratio"] * scale, 1.0)
            out += [
                f'<text x="{LABEL - 8}" y="{y + 13}" text-anchor="end" fill="#333">'
                f"{escape(row['name'])}</text>",
                f'<rect x="{LABEL}" y="{y + 3}" width="{width:.1f}" height="{ROW - 5}" '
                f'fill="{colour}"/>',
                f'<text x="{LABEL + width + 6:.1f}" y="{y + 13}" fill="#333">'
                f"{row['ratio']:.2f}{TIMES}</text>",
            ]
            y += ROW
        y += GAP
    out.append(
        f'<line x1="{one:.1f}" y1="{TOP - 6}" x2="{one:.1f}" y2="{y}" stroke="#555" '
        'stroke-dasharray="3 3"/>'
    )
    out.append(f'<text x="{one + 4:.1f}" y="{TOP - 10}" fill="#555">1{TIMES} (baseline)</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def trimmed(data: Mapping[str, Any]) -> dict[str, Any]:
    """What the site needs from a run: the environment and every group's rows."""
    keep = ("name", "us_per_op", "ops_per_s", "ratio", "spread")
    return {
        "environment": data["environment"],
        "quick": data.get("quick", False),
        "groups": [
            {
                "module": g["module"],
                "title": g["title"],
                "baseline": g["baseline"],
                "rounds": g.get("rounds"),
                "skipped": g.get("skipped"),
                "error": g.get("error"),
                "contenders": [{k: row[k] for k in keep} for row in g.get("contenders", ())],
                "targets": g.get("targets", []),
            }
            for g in data["groups"]
        ],
    }


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    data = trimmed(load(Path(argv[0])))
    if data["quick"]:
        print("refusing a --quick run: it is a smoke test, not a measurement", file=sys.stderr)
        return 1
    RESULTS.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    written = [RESULTS.name]
    for module in MODULES:
        chart = chart_path(module)
        if measured(data, module):
            chart.write_text(svg(data, module), encoding="utf-8")
            written.append(chart.name)
        elif chart.exists():
            chart.unlink()  # not measured in this run: no stale chart
    print("wrote " + ", ".join(written))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
