"""MkDocs hook: lifecycle state diagrams generated from tokenlife's transition tables.

A page asks for a diagram with a line of its own::

    <!-- lifecycle: refresh -->
    <!-- lifecycle: session -->

and gets, in its place, a Mermaid ``stateDiagram-v2`` with one edge per entry of
``REFRESH_TRANSITIONS`` or ``SESSION_TRANSITIONS``, followed by the same
entries as a table. Both come from the tables the stores enforce, at build
time, so the pictures cannot drift from the code.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec

from tokenlife.store import (
    REFRESH_TRANSITIONS,
    SESSION_TRANSITIONS,
    Event,
    RefreshRecord,
    SessionRecord,
    SessionState,
)
from tokenlife.testing import make_session

MARKER: Final = re.compile(r"^<!--\s*lifecycle:\s*(?P<kind>[a-z]+)\s*-->[ \t]*$", re.MULTILINE)


class Diagram(msgspec.Struct, frozen=True, kw_only=True):
    """One record kind: its transition table and how records of it come to be."""

    title: str
    table: Mapping[tuple[Any, Event], Any]
    initial: enum.Enum
    #: Label of the edge from the start marker: what creates a record.
    created_by: str
    note: str


def _initial_refresh_state() -> enum.Enum:
    """The state a new refresh record is stored in: the default of ``RefreshRecord.state``."""
    field = next(f for f in msgspec.structs.fields(RefreshRecord) if f.name == "state")
    default = field.default
    assert isinstance(default, enum.Enum)
    return default


def _initial_session_state() -> enum.Enum:
    """The state of a session as ``TokenAuthority.issue`` creates it."""
    session: SessionRecord = make_session()[0]
    return SessionState.REVOKED if session.revoked_at is not None else SessionState.OPEN


DIAGRAMS: Final = {
    "refresh": Diagram(
        title="Refresh token",
        table=REFRESH_TRANSITIONS,
        initial=_initial_refresh_state(),
        created_by="login, or rotation of its parent",
        note="EXPIRED once past expires_at - derived from now, never stored",
    ),
    "session": Diagram(
        title="Session",
        table=SESSION_TRANSITIONS,
        initial=_initial_session_state(),
        created_by="login",
        note="EXPIRED once past its absolute expires_at - derived, never stored",
    ),
}


def transitions(kind: str) -> list[tuple[str, str, str]]:
    """``(state, event, next state)`` for every entry of the kind's table, in table order."""
    return [
        (state.name, event.value, target.name)
        for (state, event), target in DIAGRAMS[kind].table.items()
    ]


def mermaid(kind: str) -> str:
    """The Mermaid source of the kind's state diagram."""
    diagram = DIAGRAMS[kind]
    lines = [
        "stateDiagram-v2",
        "    direction LR",
        f"    [*] --> {diagram.initial.name} : {diagram.created_by}",
    ]
    lines += [f"    {state} --> {target} : {event}" for state, event, target in transitions(kind)]
    last = transitions(kind)[-1][2]
    lines.append(f"    note right of {last} : {diagram.note}")
    return "\n".join(lines)


def table(kind: str) -> str:
    """The kind's transitions as a Markdown table; any move not listed is illegal."""
    rows = ["| from | event | to |", "|---|---|---|"]
    rows += [f"| `{s}` | `{e}` | `{t}` |" for s, e, t in transitions(kind)]
    return "\n".join(rows)


def render(kind: str) -> str:
    """What replaces ``<!-- lifecycle: kind -->``: the diagram, then the table."""
    if kind not in DIAGRAMS:
        raise ValueError(f"unknown lifecycle diagram {kind!r}; known: {sorted(DIAGRAMS)}")
    return f"```mermaid\n{mermaid(kind)}\n```\n\n{table(kind)}\n"


def expand(markdown: str) -> str:
    """``markdown`` with every lifecycle marker replaced by its rendering."""
    return MARKER.sub(lambda match: render(match["kind"]), markdown)


def on_page_markdown(markdown: str, /, **_: Any) -> str:
    """The MkDocs event: runs on every page before it is converted to HTML."""
    return expand(markdown)
