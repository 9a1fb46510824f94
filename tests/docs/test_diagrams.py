"""The lifecycle diagrams are generated from the transition tables and list every entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pytest

from docs.hooks import lifecycle
from tests.docs.conftest import DOCS
from tokenlife.store import (
    REFRESH_TRANSITIONS,
    SESSION_TRANSITIONS,
    Event,
    RefreshRecord,
    RefreshState,
    SessionState,
)
from tokenlife.testing import make_session

TABLES: dict[str, Mapping[tuple[Any, Event], Any]] = {
    "refresh": REFRESH_TRANSITIONS,
    "session": SESSION_TRANSITIONS,
}
EDGE = re.compile(r"^\s+(?P<source>\w+) --> (?P<target>\w+) : (?P<label>.+)$")


def _edges(kind: str) -> list[tuple[str, str, str]]:
    found = []
    for line in lifecycle.mermaid(kind).splitlines():
        match = EDGE.match(line)
        if match and match["source"] != "[*]":
            found.append((match["source"], match["label"], match["target"]))
    return found


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_every_table_entry_is_an_edge_and_nothing_else_is(kind: str) -> None:
    expected = [
        (state.name, event.value, target.name) for (state, event), target in TABLES[kind].items()
    ]
    assert expected, "an empty transition table would draw an empty diagram"
    assert _edges(kind) == expected


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_every_table_entry_is_a_table_row(kind: str) -> None:
    rows = lifecycle.table(kind).splitlines()[2:]
    assert rows == [
        f"| `{state.name}` | `{event.value}` | `{target.name}` |"
        for (state, event), target in TABLES[kind].items()
    ]


def test_diagrams_start_where_records_start() -> None:
    assert "[*] --> ACTIVE :" in lifecycle.mermaid("refresh")
    assert RefreshRecord(jti="j", sid="s", subject="x", issued_at=0, expires_at=1).state is (
        RefreshState.ACTIVE
    )
    assert "[*] --> OPEN :" in lifecycle.mermaid("session")
    assert make_session()[0].revoked_at is None
    assert lifecycle.DIAGRAMS["session"].initial is SessionState.OPEN


@pytest.mark.parametrize("kind", sorted(TABLES))
def test_labels_use_only_characters_mermaid_accepts(kind: str) -> None:
    # Parentheses, colons and quotes inside a label or note break the diagram.
    for line in lifecycle.mermaid(kind).splitlines()[2:]:
        label = line.split(" : ", 1)[1]
        assert re.fullmatch(r"[A-Za-z0-9 ,_.=-]+", label), line


def test_the_concepts_page_renders_both_diagrams() -> None:
    source = (DOCS / "concepts.md").read_text(encoding="utf-8")
    assert "<!-- lifecycle: refresh -->" in source
    assert "<!-- lifecycle: session -->" in source
    rendered = lifecycle.expand(source)
    assert "<!-- lifecycle:" not in rendered
    assert rendered.count("```mermaid\nstateDiagram-v2") == 2
    for kind in TABLES:
        assert lifecycle.render(kind) in rendered


def test_the_hook_is_what_mkdocs_calls() -> None:
    page = "before\n<!-- lifecycle: refresh -->\nafter\n"
    assert lifecycle.on_page_markdown(page, page=None, config=None, files=None) == (
        f"before\n{lifecycle.render('refresh')}\nafter\n"
    )


def test_an_unknown_diagram_fails_the_build() -> None:
    with pytest.raises(ValueError, match="unknown lifecycle diagram"):
        lifecycle.expand("<!-- lifecycle: tokens -->\n")
