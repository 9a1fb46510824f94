"""MkDocs hook: no public name missing from the API reference.

The reference pages list each module's names by hand, grouped by purpose. A
line ``<!-- reference: rest MODULE -->`` adds, at build time, a section for
every name of ``MODULE.__all__`` that the page does not list yet, so a name
added to the API shows up before anyone files it under a heading.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, Final

MARKER: Final = re.compile(r"^<!--\s*reference:\s*rest\s+(?P<module>[\w.]+)\s*-->[ \t]*$", re.M)


def listed(markdown: str, module: str) -> set[str]:
    """The names of ``module`` the page documents with a ``:::`` block."""
    return set(re.findall(rf"^::: {re.escape(module)}\.(\w+)$", markdown, re.MULTILINE))


def unlisted(markdown: str, module: str) -> list[str]:
    """Public names of ``module`` (its ``__all__``) the page does not list, in order."""
    exported = importlib.import_module(module).__all__
    present = listed(markdown, module)
    return [name for name in exported if name != "__version__" and name not in present]


def expand(markdown: str) -> str:
    def rest(match: re.Match[str]) -> str:
        names = unlisted(markdown, match["module"])
        if not names:
            return ""
        blocks = "\n".join(f"::: {match['module']}.{name}\n" for name in names)
        return f"## Also exported\n\n{blocks}"

    return MARKER.sub(rest, markdown)


def on_page_markdown(markdown: str, /, **_: Any) -> str:
    return expand(markdown)
