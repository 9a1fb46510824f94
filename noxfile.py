"""Every check a contributor or CI runs. ``nox`` alone runs what CI needs."""

from __future__ import annotations

import glob
import os
import shlex
import shutil
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ADAPTERS = ["memory", "sqlite", "redis", "postgres", "litestar", "fastapi", "jwks"]
#: Adapters a store-parametrized test run can use, by adapter name.
STORE_ADAPTERS = ["memory", "sqlite", "redis", "postgres"]
#: Every distribution's folder; ``nox -s build`` writes their sdists and wheels to DIST.
PACKAGES = ["core", *[f"adapters/{name}" for name in ADAPTERS], "cli"]
DIST = ROOT / "build" / "dist"

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "lint",
    "typecheck",
    "imports",
    "tests_core",
    "tests_adapter",
    "tests_otel",
    "property",
    "security",
    "cli",
    "docs",
    "build",
    "wheels",
]

# Interpreters installed side by side (pyenv) are not all on PATH; find them.
for _bin in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[0-9]*/bin"))):
    if _bin not in os.environ.get("PATH", ""):
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + _bin


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


def _groups_starting(prefix: str) -> list[str]:
    """Every requirement of the dependency groups whose names start with ``prefix``."""
    names = [n for n in PYPROJECT.get("dependency-groups", {}) if n.startswith(prefix)]
    return [req for name in names for req in _group(name)]


def _present_adapters() -> list[str]:
    return [name for name in ADAPTERS if (ROOT / "adapters" / name / "pyproject.toml").exists()]


def _install_workspace(session: nox.Session, *adapters: str, core: str = "core") -> None:
    session.install("-e", core, *[f"-e./adapters/{name}" for name in adapters])


@nox.session(reuse_venv=True)
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the core, every adapter, the CLI, the tests and the examples.

    Installs every dependency group, since the tests, benchmarks and examples
    import what those groups bring (the peers, FastAPI, nox itself).
    """
    adapters = _present_adapters()
    _install_workspace(session, *adapters, core="core[testing,prometheus]")
    groups = [name for name in PYPROJECT.get("dependency-groups", {}) if name != "lint"]
    session.install("nox", *[req for name in groups for req in _group(name)])
    targets = ["core/src", *[f"adapters/{a}/src" for a in adapters], "tests", "noxfile.py"]
    if (ROOT / "cli" / "pyproject.toml").exists():
        session.install("-e", "cli[redis]" if "redis" in adapters else "cli")
        targets.append("cli/src")
    if (ROOT / "docs" / "examples").exists():
        targets.append("docs/examples")
    session.run("mypy", *targets)


@nox.session
def imports(session: nox.Session) -> None:
    """import-linter: the layering rules of docs/design/architecture.md, enforced."""
    _install_workspace(session, *_present_adapters())
    session.install(*_group("imports"))
    session.run("lint-imports")


@nox.session(python=PYTHONS)
def tests_core(session: nox.Session) -> None:
    """The pure core and its hostile-input tests with nothing but its own deps."""
    _install_workspace(session)
    session.install(*_group("test"))
    session.run("pytest", "tests/core", *session.posargs)


@nox.session
def tests_otel(session: nox.Session) -> None:
    """tokenlife.otel against the real OpenTelemetry SDK and Prometheus exporter."""
    present = _present_adapters()
    stores = [a for a in ("memory", "sqlite", "litestar", "fastapi") if a in present]
    _install_workspace(session, *stores, core="core[prometheus]")
    session.install(*_group("test"), *_group("otel"))
    # The public-API checks again, now that tokenlife.otel can be imported.
    session.run("pytest", "tests/otel", "tests/core/test_public_api.py", *session.posargs)


@nox.session
def security(session: nox.Session) -> None:
    """Hostile tokens: known advisories, fuzzing, differential tests against pyjwt."""
    _install_workspace(session)
    session.install(*_group("test"))
    session.run("pytest", "tests/security", *session.posargs)


@nox.session
@nox.parametrize("adapter", ADAPTERS)
def tests_adapter(session: nox.Session, adapter: str) -> None:
    """One adapter's tests, with the store-parametrized suites run against it."""
    if adapter not in _present_adapters():
        session.skip(f"adapters/{adapter} does not exist yet")
    # The plugin's tests and seed app run on real stores, so install those too.
    extra = [
        a
        for a in ("memory", "sqlite")
        if adapter in ("litestar", "fastapi", "jwks") and a in _present_adapters()
    ]
    _install_workspace(session, adapter, *extra)
    if adapter == "litestar" and (ROOT / "cli" / "pyproject.toml").exists():
        session.install("-e", "cli")  # `litestar tokens` runs the tokenlife command's operations
    session.install(*_group("test"), *_groups_starting(f"adapter-{adapter}"))
    paths = [p for p in (f"tests/adapters/{adapter}",) if (ROOT / p).exists()]
    if adapter in STORE_ADAPTERS:
        paths.append("tests/stores")
        session.env["TOKENLIFE_STORES"] = adapter
    if adapter in ("litestar", "fastapi"):
        paths.insert(0, "tests/http")  # the HTTP conformance suite, then the adapter's own
    if adapter == "litestar":
        paths.append("tests/litestar")
    session.run("pytest", *paths, *session.posargs)


@nox.session
def property(session: nox.Session) -> None:
    """Hypothesis stateful tests of the lifecycle against every store present.

    Runs the CI profile by default; ``nox -s property -- --hypothesis-profile=long``
    runs the long one.
    """
    stores = [a for a in STORE_ADAPTERS if a in _present_adapters()]
    _install_workspace(session, *stores)
    session.install(*_group("test"))
    session.env["TOKENLIFE_STORES"] = ",".join(stores)
    session.run("pytest", "tests/property", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against the peers, as ratios measured in one run (opt-in)."""
    _install_workspace(session, *_present_adapters(), core="core[prometheus]")
    session.install(*_group("test"), *_groups_starting("bench"))
    session.run("python", "-m", "tests.bench", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Start the seed app and walk a client through a session's whole life.

    ``nox -s demo -- --serve`` keeps the server running for you to try;
    ``nox -s demo -- --app fastapi`` walks the FastAPI seed app.
    """
    _install_workspace(session, "sqlite", "litestar", "fastapi")
    session.install(*_group("demo"))
    session.run("python", "docs/examples/demo.py", *session.posargs)


@nox.session
def cli(session: nox.Session) -> None:
    """The ``tokenlife`` command, driven as a subprocess against real stores."""
    if not (ROOT / "cli" / "pyproject.toml").exists():
        session.skip("cli/ does not exist yet")
    stores = [a for a in STORE_ADAPTERS if a in _present_adapters()]
    _install_workspace(session, *stores)
    session.install("-e", "cli", *_group("test"), *_groups_starting("cli"))
    session.run("pytest", "tests/cli", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Run every documentation example, then build the site with strict warnings."""
    if not (ROOT / "mkdocs.yml").exists():
        session.skip("mkdocs.yml does not exist yet")
    _install_workspace(session, *_present_adapters(), core="core[prometheus]")
    session.install(*_group("test"), *_groups_starting("docs"), *_groups_starting("adapter-"))
    session.run("pytest", "tests/docs", *session.posargs)
    session.run("mkdocs", "build", "--strict", "--site-dir", str(ROOT / "build" / "site"))


@nox.session
def build(session: nox.Session) -> None:
    """Every package's sdist and wheel (the wheel built from the sdist), metadata checked."""
    session.install(*_group("build"))
    shutil.rmtree(DIST, ignore_errors=True)
    installer = ["--installer", "uv"] if shutil.which("uv") else []
    for package in [p for p in PACKAGES if (ROOT / p / "pyproject.toml").exists()]:
        session.run("python", "-m", "build", *installer, "--outdir", str(DIST), package)
    session.run("twine", "check", "--strict", *sorted(str(p) for p in DIST.iterdir()))


@nox.session(requires=["build"], reuse_venv=False)
def wheels(session: nox.Session) -> None:
    """The built wheels in a fresh virtualenv (nothing editable), then the seed flow on them.

    Installs with the command docs/installation.md gives, so the page stays exact.
    """
    page = (ROOT / "docs" / "installation.md").read_text(encoding="utf-8")
    command = next(line for line in page.splitlines() if line.startswith("pip install build/"))
    args = [m for arg in shlex.split(command)[2:] for m in sorted(glob.glob(arg)) or [arg]]
    session.install(*args, *_group("demo"))
    # -P: the script's folder is not put on sys.path (tests/http would shadow
    # the standard library's http).
    session.run("python", "-P", "tests/wheels.py", str(DIST))
    session.run("tokenlife", "--help", silent=True)
    session.run("python", "docs/examples/demo.py")
