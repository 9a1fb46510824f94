"""MkDocs hook: tables generated at build time from the code and from a benchmark run.

Markers, each on a line of its own:

- ``<!-- errors -->``: every public tokenlife error class, its ``code`` and meaning;
- ``<!-- settings: policy -->``, ``<!-- settings: cookies -->``, ``<!-- settings: dpop -->``:
  every field of ``tokenlife.Policy``, ``tokenlife_litestar.CookieConfig`` or
  ``tokenlife.web.DPoPConfig``, its default and its ``#:`` comment;
- ``<!-- bench: environment -->``, ``<!-- bench: table MODULE -->``,
  ``<!-- bench: chart MODULE -->``: the run in ``docs/bench/results.json`` (the
  same run the ``docs/bench/speed-MODULE.svg`` charts show).
"""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import tokenlife

MARKER: Final = re.compile(
    r"^<!--\s*(?P<name>errors|settings:\s*[a-z]+|bench:\s*[a-z]+(?:\s+[a-z]+)?)\s*-->[ \t]*$",
    re.MULTILINE,
)
FIELD: Final = re.compile(r"^    (?P<name>[a-z_]+): [^=]+=")
DURATION: Final = re.compile(r"(ttl|grace|leeway|window)$")
PLOT: Final = Path(__file__).resolve().parents[1] / "bench" / "plot.py"


def _plot() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tokenlife_docs_bench_plot", PLOT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {PLOT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def error_classes() -> list[tuple[int, type[tokenlife.TokenLifeError]]]:
    """``(depth, class)`` for every public error, depth-first from ``TokenLifeError``."""
    public = {
        obj
        for name in tokenlife.__all__
        if inspect.isclass(obj := getattr(tokenlife, name))
        and issubclass(obj, tokenlife.TokenLifeError)
    }
    found: list[tuple[int, type[tokenlife.TokenLifeError]]] = []

    def walk(cls: type[tokenlife.TokenLifeError], depth: int) -> None:
        found.append((depth, cls))
        for sub in sorted(cls.__subclasses__(), key=lambda c: c.__name__):
            if sub in public:
                walk(sub, depth + 1)

    walk(tokenlife.TokenLifeError, 0)
    return found


def errors_table() -> str:
    rows = ["| error | `code` | meaning |", "|---|---|---|"]
    for depth, cls in error_classes():
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * depth
        meaning = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")
        rows.append(f"| {indent}`{cls.__name__}` | `{cls.code}` | {meaning} |")
    return "\n".join(rows) + "\n"


def field_comments(cls: type) -> dict[str, str]:
    """The ``#:`` comment above each field of a class body, joined into one line."""
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        stripped = line.strip()
        if stripped.startswith("#:"):
            pending.append(stripped[2:].strip())
            continue
        field = FIELD.match(line)
        if field is not None:
            comments[field["name"]] = " ".join(pending)
        pending = []
    return comments


def _default(name: str, value: Any) -> str:
    if DURATION.search(name) and isinstance(value, (int, float)):
        if not value:
            return "0"
        for unit, seconds in (("days", 86400), ("min", 60)):
            if value >= seconds and value % seconds == 0:
                return f"{value / seconds:g} {unit}"
        return f"{value:g} s"
    return f"`{value!r}`"


def settings_table(cls: type) -> str:
    """Every field of a settings class: name, default, and its comment."""
    defaults = cls()
    rows = ["| setting | default | meaning |", "|---|---|---|"]
    for name, comment in field_comments(cls).items():
        if name.startswith("_"):
            continue
        meaning = comment or "—"
        rows.append(f"| `{name}` | {_default(name, getattr(defaults, name))} | {meaning} |")
    return "\n".join(rows) + "\n"


def _settings_class(name: str) -> type:
    if name == "policy":
        return tokenlife.Policy
    if name == "cookies":
        from tokenlife_litestar import CookieConfig

        return CookieConfig
    if name == "dpop":
        from tokenlife.web import DPoPConfig

        return DPoPConfig
    raise ValueError(f"unknown table marker 'settings: {name}'")


def render(name: str) -> str:
    name = " ".join(name.split())
    if name == "errors":
        return errors_table()
    if name.startswith("settings:"):
        return settings_table(_settings_class(name.removeprefix("settings:").strip()))
    kind, _, module = name.removeprefix("bench:").strip().partition(" ")
    plot = _plot()
    data = plot.load()
    if kind == "environment" and not module:
        return str(plot.environment(data)) + "\n"
    if module not in plot.MODULES:
        raise ValueError(f"unknown table marker {name!r}")
    if kind == "table":
        table = str(plot.markdown_table(data, module))
        goals = str(plot.targets(data, module))
        return f"{table}\n\nTargets:\n\n{goals}\n" if goals else f"{table}\n"
    if kind == "chart":
        if not plot.measured(data, module):
            return "_Not measured in this run._\n"
        return f"![{module}: speed relative to each group's baseline](bench/speed-{module}.svg)\n"
    raise ValueError(f"unknown table marker {name!r}")


def expand(markdown: str) -> str:
    return MARKER.sub(lambda match: render(match["name"]), markdown)


def on_page_markdown(markdown: str, /, **_: Any) -> str:
    return expand(markdown)
