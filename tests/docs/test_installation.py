"""The installation page names what the repository builds, and its commands resolve.

``nox -s wheels`` runs the page's wheel command for real (in a fresh virtual
environment, then the seed flow); these checks keep the rest exact: every
published name is a distribution the repository builds, with the extras it
declares; every editable path is a package; every ``nox -s`` session exists.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.docs.conftest import DOCS, ROOT

PAGE = DOCS / "installation.md"
CONSOLE = re.compile(r"^```console\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
PROJECT = re.compile(r"^\[project\]\n(?P<body>.*?)(?=^\[)", re.MULTILINE | re.DOTALL)
EXTRAS = re.compile(
    r"^\[project\.optional-dependencies\]\n(?P<body>.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL
)


def _packages() -> dict[str, Path]:
    """Distribution name → its folder, for every package of the workspace."""
    folders = [ROOT / "core", *sorted((ROOT / "adapters").iterdir()), ROOT / "cli"]
    found = {}
    for folder in folders:
        if not (folder / "pyproject.toml").is_file():
            continue
        project = PROJECT.search((folder / "pyproject.toml").read_text(encoding="utf-8"))
        assert project, folder
        name = re.search(r'^name = "(?P<name>[^"]+)"', project["body"], re.MULTILINE)
        assert name, folder
        found[name["name"]] = folder
    assert len(found) >= 6, found
    return found


def _extras(folder: Path) -> set[str]:
    block = EXTRAS.search((folder / "pyproject.toml").read_text(encoding="utf-8"))
    if block is None:
        return set()
    return set(re.findall(r"^([\w-]+)\s*=", block["body"], re.MULTILINE))


def _commands() -> list[list[str]]:
    """Every command of the page's console blocks, split as a shell would, comments gone."""
    text = PAGE.read_text(encoding="utf-8")
    return [
        shlex.split(line, comments=True)
        for block in CONSOLE.finditer(text)
        for line in block["body"].splitlines()
        if line.strip()
    ]


def _pip_installs() -> list[list[str]]:
    return [c[2:] for c in _commands() if c[:2] == ["pip", "install"]]


def test_the_table_lists_every_distribution_once() -> None:
    text = PAGE.read_text(encoding="utf-8")
    listed = re.findall(r"^\| `(?P<name>[\w-]+)` \|", text, re.MULTILINE)
    assert sorted(listed) == sorted(_packages())


def test_the_table_gives_each_library_its_import_name() -> None:
    row = re.compile(r"^\| `(?P<name>[\w-]+)` \| `(?P<module>\w+)` \|", re.MULTILINE)
    rows = row.findall(PAGE.read_text("utf-8"))
    assert rows, "no row names an import"
    packages = _packages()
    for name, module in rows:
        assert (packages[name] / "src" / module / "__init__.py").is_file(), (name, module)


def test_every_published_name_is_built_here_with_its_extras() -> None:
    packages = _packages()
    named = [a for args in _pip_installs() for a in args if not a.startswith(("-", ".", "build/"))]
    named = [a for a in named if a not in {"nox", "uv"}]  # the tools, not ours
    assert len(named) >= len(packages), named
    for requirement in named:
        match = re.fullmatch(r"(?P<name>[\w-]+)(?:\[(?P<extras>[\w,-]+)\])?", requirement)
        assert match, requirement
        assert match["name"] in packages, f"{requirement}: not a distribution of this repository"
        for extra in (match["extras"] or "").split(","):
            if extra:
                assert extra in _extras(packages[match["name"]]), requirement
    assert set(packages) <= {re.sub(r"\[.*", "", n) for n in named}, "a package is never named"


def test_the_editable_install_covers_every_package() -> None:
    editable = [
        args[i + 1] for args in _pip_installs() for i, a in enumerate(args[:-1]) if a == "-e"
    ]
    assert editable, "no editable install on the page"
    for path in editable:
        assert path.startswith("./"), f"{path}: pip reads a bare name as a PyPI name"
        assert (ROOT / path / "pyproject.toml").is_file(), path
    assert sorted((ROOT / p).resolve() for p in editable) == sorted(_packages().values())


def test_the_wheel_install_is_what_nox_builds_and_installs() -> None:
    wheels = [args for args in _pip_installs() if any(a.startswith("build/") for a in args)]
    assert wheels == [["build/dist/*.whl"]]
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert 'DIST = ROOT / "build" / "dist"' in noxfile
    # The wheels session runs the page's line itself: find it as the session does.
    line = next(
        x for x in PAGE.read_text("utf-8").splitlines() if x.startswith("pip install build/")
    )
    assert shlex.split(line) == ["pip", "install", "build/dist/*.whl"]


@pytest.mark.parametrize(
    "session", sorted({c[2] for c in _commands() if c[:2] == ["nox", "-s"]}) or ["(none)"]
)
def test_every_nox_session_the_page_names_exists(session: str) -> None:
    noxfile = (ROOT / "noxfile.py").read_text(encoding="utf-8")
    assert re.search(rf"^@nox\.session.*\n(?:@.*\n)*def {session}\(", noxfile, re.MULTILINE), (
        f"nox -s {session}: no such session"
    )
