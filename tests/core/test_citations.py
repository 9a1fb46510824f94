"""Every documentation page the code cites exists, and so does every section it names.

Docstrings and comments say which rule they follow by citing a page of the
docs site (``docs/design/lifecycle.md#refresh``); a page renamed or a heading
reworded would leave them pointing nowhere. So this reads the sources, the
tests and the packaging files, and resolves every ``docs/<page>.md`` path and
its ``#anchor`` the way the site's table of contents makes them. A bare
``<NAME>.md`` must be a file beside the citing one or in a folder above it.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Where citations live: code, tests, packaging; the docs' own pages are checked
#: by the site build (``mkdocs build --strict`` validates their links and anchors).
SOURCES = ("core", "adapters", "cli", "tests", "docs/hooks", "docs/examples")
TOP_LEVEL = ("noxfile.py", "pyproject.toml", "mkdocs.yml")
SUFFIXES = frozenset({".py", ".toml", ".lua", ".md", ".cfg", ".yml", ".yaml"})
SKIP_PARTS = frozenset({".nox", ".venv", "build", "dist", "__pycache__", "node_modules"})

DOCS_CITATION = re.compile(r"(?<![\w/.-])docs/(?P<page>[\w./-]+?\.md)(?:#(?P<anchor>[\w-]+))?")
BARE_CITATION = re.compile(r"(?<![\w/.-])(?P<name>[A-Z][A-Z0-9_-]*\.md)\b")
HEADING = re.compile(r"^#{1,6}[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
EXPLICIT_ID = re.compile(r"\{[^}]*#(?P<id>[\w-]+)[^}]*\}\s*$")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def slugify(text: str) -> str:
    """A heading's anchor as Python-Markdown's ``toc`` extension makes it."""
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    """The anchors a page's headings get (explicit ``{#id}`` ones included)."""
    markdown = FENCE.sub("", page.read_text(encoding="utf-8"))
    found: set[str] = set()
    for match in HEADING.finditer(markdown):
        text = match["text"]
        explicit = EXPLICIT_ID.search(text)
        found.add(explicit["id"] if explicit else slugify(text))
    return found


def cited_files() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL if (ROOT / name).exists()]
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*")):
            parts = path.relative_to(ROOT).parts
            if path.suffix in SUFFIXES and path.is_file() and not SKIP_PARTS.intersection(parts):
                files.append(path)
    return files


def dangling(path: Path, root: Path = ROOT) -> list[str]:
    """What ``path`` cites that does not exist under ``root``, as readable problems."""
    text = path.read_text(encoding="utf-8", errors="replace")
    where = path.relative_to(root)
    problems = []
    for match in DOCS_CITATION.finditer(text):
        page = root / "docs" / match["page"]
        line = text.count("\n", 0, match.start()) + 1
        if not page.is_file():
            problems.append(f"{where}:{line}: docs/{match['page']} does not exist")
        elif match["anchor"] and match["anchor"] not in anchors(page):
            problems.append(
                f"{where}:{line}: docs/{match['page']} has no section #{match['anchor']}"
            )
    for match in BARE_CITATION.finditer(text):
        folders = [f for f in (path.parent, *path.parent.parents) if f == root or root in f.parents]
        if not any((folder / match["name"]).is_file() for folder in folders):
            line = text.count("\n", 0, match.start()) + 1
            problems.append(f"{where}:{line}: {match['name']} is not in the repository")
    return problems


def test_no_citation_dangles() -> None:
    files = cited_files()
    assert len(files) > 50, "the sources were not found: is ROOT right?"
    problems = [problem for path in files for problem in dangling(path)]
    assert not problems, "\n".join(problems)


def test_the_design_pages_are_cited() -> None:
    # Guards the test above against matching nothing at all.
    cited = {
        match.group(0)
        for path in cited_files()
        for match in DOCS_CITATION.finditer(path.read_text(encoding="utf-8", errors="replace"))
    }
    assert any(c.startswith("docs/design/lifecycle.md#") for c in cited)
    assert any(c.startswith("docs/design/architecture.md") for c in cited)


# Spelled in two halves, so that this file itself cites nothing that dangles.
_PAGE = "docs" + "/design/lifecycle.md"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"see {_PAGE}#no-such-section", "has no section #no-such-section"),
        ("see docs" + "/design/missing.md", "missing.md does not exist"),
        ("the rules of GONE" + ".md, enforced", "GONE" + ".md is not in the repository"),
        (f"see {_PAGE}#refresh and {_PAGE}#invariants, and README" + ".md", None),
    ],
)
def test_a_dangling_citation_is_caught(tmp_path: Path, text: str, expected: str | None) -> None:
    (tmp_path / "docs" / "design").mkdir(parents=True)
    page = ROOT / _PAGE
    (tmp_path / _PAGE).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "README.md").write_text("# a project\n", encoding="utf-8")
    source = tmp_path / "src" / "pkg" / "module.py"
    source.parent.mkdir(parents=True)
    source.write_text(f'"""Docstring."""\n\n# {text}\n', encoding="utf-8")
    problems = dangling(source, tmp_path)
    if expected is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert problems[0].startswith("src/pkg/module.py:3: ")
        assert expected in problems[0]


def test_the_sections_the_code_cites_most_are_there() -> None:
    found = anchors(ROOT / _PAGE)
    assert {"tokens", "refresh", "verify", "purge", "cookies", "invariants"} <= found
    assert "errors-and-http-mapping" in found


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("Errors and HTTP mapping", "errors-and-http-mapping"),
        ("The codec, and why not `jwt.decode()`", "the-codec-and-why-not-jwtdecode"),
        ('Sessions and "your devices"', "sessions-and-your-devices"),
    ],
)
def test_slugs_match_the_site(heading: str, slug: str) -> None:
    assert slugify(heading) == slug
