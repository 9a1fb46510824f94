"""The pages themselves: their code comes from tested files, their tables from the code."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import re
import textwrap
from pathlib import Path

import msgspec
import pytest

import tokenlife
from docs.bench import plot
from docs.hooks import reference, tables
from tests.docs.conftest import DOCS, EXAMPLES, ROOT, pages
from tokenlife.web import DPoPConfig
from tokenlife_litestar import CookieConfig, TokenLifeConfig

#: A snippet include in block form (the one-line form is valid Python that
#: ``ruff format`` would rewrite inside a Markdown fence).
SNIPPET = re.compile(
    r"^(?P<indent>[ \t]*)--8<--\n(?P=indent)(?P<file>[^\s:]+)(?::(?P<section>[\w-]+))?\n"
    r"(?P=indent)--8<--$",
    re.MULTILINE,
)
FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S
)
TESTS = Path(__file__).resolve().parent
#: Imported by name: it needs griffe, which only the "docs" group installs.
griffe_roles = importlib.import_module("docs.hooks.griffe_roles")


def _snippets() -> list[tuple[Path, str, str | None]]:
    return [
        (page, match["file"], match["section"])
        for page in pages()
        for match in SNIPPET.finditer(page.read_text(encoding="utf-8"))
    ]


def test_every_snippet_names_an_example_file_and_section() -> None:
    assert _snippets()
    for page, name, section in _snippets():
        path = EXAMPLES / name
        assert path.is_file(), f"{page.name}: no docs/examples/{name}"
        if section is not None:
            text = path.read_text(encoding="utf-8")
            assert f"# --8<-- [start:{section}]" in text, f"{page.name}: {name}:{section}"
            assert f"# --8<-- [end:{section}]" in text, f"{page.name}: {name}:{section}"


def test_python_on_the_pages_is_included_never_written_inline() -> None:
    for page in pages():
        text = page.read_text(encoding="utf-8")
        assert '--8<-- "' not in text, f"{page.name}: use the block form of --8<--"
        for fence in FENCE.finditer(text):
            if fence["lang"] == "python":
                body = textwrap.dedent(fence["body"]).strip()
                assert SNIPPET.fullmatch(body), f"{page.name}: inline Python:\n{body}"


def test_every_example_is_on_a_page_and_run_by_a_test() -> None:
    included = {name for _, name, _ in _snippets()}
    tests = "\n".join(path.read_text(encoding="utf-8") for path in TESTS.glob("test_*.py"))
    for example in sorted(EXAMPLES.glob("*.py")):
        if example.name == "demo.py":
            continue  # the demo walk-through is run by `nox -s demo`
        assert example.name in included, f"docs/examples/{example.name} is on no page"
        assert re.search(rf"\b{example.stem}\b", tests), f"no test runs {example.name}"


def test_examples_are_valid_python_with_balanced_sections() -> None:
    for example in EXAMPLES.glob("*.py"):
        text = example.read_text(encoding="utf-8")
        ast.parse(text)
        starts = re.findall(r"# --8<-- \[start:([\w-]+)\]", text)
        ends = re.findall(r"# --8<-- \[end:([\w-]+)\]", text)
        assert sorted(starts) == sorted(ends), example.name


# -- security.md and the advisory tests -------------------------------------------------


def test_the_security_page_names_every_advisory_test() -> None:
    source = (ROOT / "tests" / "security" / "test_advisories.py").read_text(encoding="utf-8")
    page = (DOCS / "security.md").read_text(encoding="utf-8")
    tests = set(re.findall(r"^(?:async )?def (test_\w+)", source, re.MULTILINE))
    named = set(re.findall(r"`(test_\w+)`", page))
    assert tests, "no advisory tests found"
    assert tests == named, f"missing: {tests - named}; not a test: {named - tests}"
    for cve in set(re.findall(r"CVE-\d{4}-\d+", source)):
        assert cve in page, cve


# -- generated tables -------------------------------------------------------------------


def test_the_error_table_lists_every_public_error() -> None:
    table = tables.errors_table()
    errors = [
        obj
        for name in tokenlife.__all__
        if isinstance(obj := getattr(tokenlife, name), type)
        and issubclass(obj, tokenlife.TokenLifeError)
    ]
    assert len(errors) == len(tables.error_classes())
    for error in errors:
        assert f"`{error.__name__}` | `{error.code}` |" in table


def test_the_benchmark_tables_and_charts_show_the_committed_run() -> None:
    data = plot.load()
    assert not data["quick"]
    page = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    for module in plot.MODULES:
        assert f"<!-- bench: table {module} -->" in page
        assert f"<!-- bench: chart {module} -->" in page
        table = plot.markdown_table(data, module)
        assert tables.render(f"bench: table {module}").startswith(table + "\n")
        for group in plot.groups(data, module):
            assert f"| {group['title']} |" in table
            for row in group.get("contenders", ()):
                assert f"| {row['name']} |" in table
        chart = plot.chart_path(module)
        if plot.measured(data, module):
            # The committed chart is exactly what plot.py draws from the committed data.
            assert chart.read_text(encoding="utf-8") == plot.svg(data, module)
            assert chart.name in tables.render(f"bench: chart {module}")
        else:
            assert not chart.exists()
    for group in plot.measured(data):
        for target in group.get("targets", ()):
            rendered = tables.render(f"bench: table {group['module'].removeprefix('bench_')}")
            assert f"{group['title']}: {target['contender']} ≥" in rendered
    modules = {group["module"].removeprefix("bench_") for group in data["groups"]}
    assert modules <= set(plot.MODULES), "a benchmark module the page does not show"


def test_plot_refuses_a_quick_run(tmp_path: Path) -> None:
    run = tmp_path / "quick.json"
    run.write_text(json.dumps({**plot.load(), "quick": True}), encoding="utf-8")
    assert plot.main([str(run)]) == 1
    assert plot.main([]) == 2


@pytest.mark.parametrize(
    ("marker", "cls", "page"),
    [
        ("policy", tokenlife.Policy, "concepts.md"),
        ("cookies", CookieConfig, "refreshing.md"),
        ("dpop", DPoPConfig, "dpop.md"),
    ],
)
def test_settings_tables_list_every_field_with_its_default(
    marker: str, cls: type, page: str
) -> None:
    assert f"<!-- settings: {marker} -->" in (DOCS / page).read_text(encoding="utf-8")
    table = tables.render(f"settings: {marker}")
    if dataclasses.is_dataclass(cls):
        fields = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    else:
        fields = [f.name for f in msgspec.structs.fields(cls)]
    assert fields
    assert fields == re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    assert "| `grace` | 10 s |" in tables.render("settings: policy")


def test_table_markers_are_expanded_and_unknown_ones_fail() -> None:
    page = (DOCS / "benchmarks.md").read_text(encoding="utf-8")
    assert "<!--" not in tables.expand(page)
    assert "<!--" not in tables.expand((DOCS / "concepts.md").read_text(encoding="utf-8")).replace(
        "<!-- lifecycle", ""
    )
    for marker in ("bench: nothing", "bench: table nothing", "bench: plot codec", "settings: x"):
        with pytest.raises(ValueError, match="unknown table marker"):
            tables.render(marker)


# -- docstrings in the API reference ------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        (":class:`~tokenlife.StoreError`", "`StoreError`"),
        (":func:`tokenlife.store.decide_refresh`", "`tokenlife.store.decide_refresh`"),
        (":meth:`rotated` keeps", "`rotated` keeps"),
        ("with pytest and anyio::\n\n    code", "with pytest and anyio:\n\n    code"),
        ("a ``literal`` stays", "a ``literal`` stays"),
        (
            "Use:\n\n>>> a = 1\n>>> b = a\n\nDone.",
            "Use:\n\n```pycon\n>>> a = 1\n>>> b = a\n```\n\nDone.",
        ),
    ],
)
def test_sphinx_roles_become_markdown(source: str, rendered: str) -> None:
    assert griffe_roles.markdown(source) == rendered


@pytest.mark.parametrize(
    ("module", "page"),
    [
        ("tokenlife", "tokenlife.md"),
        ("tokenlife.store", "store.md"),
        ("tokenlife.testing", "testing.md"),
        ("tokenlife.keygen", "keygen.md"),
    ],
)
def test_the_api_reference_lists_every_public_name(module: str, page: str) -> None:
    exported = set(importlib.import_module(module).__all__) - {"__version__"}
    source = (DOCS / "reference" / page).read_text(encoding="utf-8")
    # Every name filed by hand is still exported...
    stale = reference.listed(source, module) - exported
    assert not stale, f"{page} lists names {module} no longer exports: {stale}"
    # ...and the page as built lists every exported name, filed or not.
    assert f"<!-- reference: rest {module} -->" in source
    assert reference.listed(reference.expand(source), module) == exported


def test_unfiled_names_get_a_section_of_their_own() -> None:
    page = (
        "# t\n\n::: tokenlife.testing.FrozenClock\n\n<!-- reference: rest tokenlife.testing -->\n"
    )
    built = reference.expand(page)
    assert "## Also exported" in built
    assert "::: tokenlife.testing.SequentialIds" in built
    assert built.count("::: tokenlife.testing.FrozenClock") == 1


def test_the_defaults_the_pages_state_are_the_code_defaults() -> None:
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages())
    policy = tokenlife.Policy()
    stated = {
        "15 minutes": policy.access_ttl == 15 * 60,
        "14 days": policy.refresh_ttl == 14 * 86400,
        "30 days": policy.session_ttl == 30 * 86400,
        "10 s": policy.grace == 10,
        "at most 60 s": tokenlife.MAX_GRACE == 60,
        "at most 300 s": tokenlife.MAX_LEEWAY == 300,
        "`leeway` is 0": policy.leeway == 0,
        "8 KiB": tokenlife.DEFAULT_MAX_TOKEN_BYTES == 8192,
        "`strict` (default)": policy.revocation == "strict",
    }
    for phrase, holds in stated.items():
        assert phrase in text, f"no page says {phrase!r} any more"
        assert holds, f"the pages say {phrase!r}; the code says otherwise"
    cookies = CookieConfig()
    assert (cookies.access_cookie, cookies.refresh_cookie, cookies.csrf_cookie) == (
        "__Host-tl_access",
        "__Host-tl_refresh",
        "__Host-tl_csrf",
    )
    assert "`__Host-tl_access`" in text and "`__Secure-`" in text
    assert cookies.csrf_header == "X-CSRF-Token"
    assert cookies.samesite == "lax"
    assert cookies.secure
    assert cookies.path == "/"
    assert cookies.implicit_refresh
    assert cookies.implicit_refresh_window == 60
    fields = TokenLifeConfig.__dataclass_fields__
    assert fields["refresh_path"].default == "/auth/refresh"
    assert fields["logout_path"].default == "/auth/logout"
