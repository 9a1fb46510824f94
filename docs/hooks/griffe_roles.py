"""Griffe extension: read tokenlife's reST-flavoured docstrings as Markdown.

The docstrings use Sphinx roles (``:class:`~tokenlife.StoreError```),
``::`` before literal blocks and ``>>>`` examples. Rendered as Markdown these
would show their punctuation (``>>>`` even becomes nested quotes), so roles
become code spans (``~`` keeps the last name only), a paragraph-ending ``::``
becomes ``:`` (the indented block after it is already a Markdown code block),
and ``>>>`` examples become ``pycon`` code blocks.
"""

from __future__ import annotations

import re
from typing import Any, Final

from griffe import Extension, Object

ROLE: Final = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
LITERAL_BLOCK: Final = re.compile(r"(\S)::$", re.MULTILINE)
DOCTEST: Final = re.compile(r"^(?:>>> |\.\.\. ).*(?:\n(?:>>> |\.\.\. ).*)*$", re.MULTILINE)


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"


def markdown(text: str) -> str:
    """``text`` with reST constructs turned into their Markdown equivalents."""
    text = LITERAL_BLOCK.sub(r"\1:", ROLE.sub(_role, text))
    return DOCTEST.sub(lambda match: f"```pycon\n{match[0]}\n```", text)


class SphinxRolesToMarkdown(Extension):
    """Rewrites every docstring as it is loaded."""

    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
