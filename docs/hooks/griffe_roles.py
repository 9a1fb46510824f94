"""Griffe extension: read tokenlife's reST-flavoured docstrings as Markdown.

The docstrings use Sphinx roles (``:class:`~tokenlife.StoreError```) and
``::`` before literal blocks. Rendered as Markdown these would show their
punctuation, so roles become code spans (``~`` keeps the last name only) and
a paragraph-ending ``::`` becomes ``:``; the indented block after it is
already a Markdown code block.
"""

from __future__ import annotations

import re
from typing import Any, Final

from griffe import Extension, Object

ROLE: Final = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
LITERAL_BLOCK: Final = re.compile(r"(\S)::$", re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def markdown(text: str) -> str:
    """``text`` with Sphinx roles and ``::`` turned into their Markdown equivalents."""
    return LITERAL_BLOCK.sub(r"\1:", ROLE.sub(_role, text))


class SphinxRolesToMarkdown(Extension):
    """Rewrites every docstring as it is loaded."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
