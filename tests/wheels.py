"""Check an environment holds the built wheels, installed, not the clone's sources.

Run by ``nox -s wheels`` with the fresh virtualenv's interpreter and the folder
``nox -s build`` wrote (``python tests/wheels.py build/dist``). For every wheel
there: its distribution is installed at that version, as a regular install
(no editable ``direct_url.json``), and each top-level module it ships is
imported from the environment's ``site-packages`` with its ``py.typed``.
"""

from __future__ import annotations

import importlib
import json
import sys
import sysconfig
from importlib import metadata
from pathlib import Path


def problems(dist_dir: Path) -> list[str]:
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    wheels = sorted(dist_dir.glob("*.whl"))
    if not wheels:
        return [f"no wheel in {dist_dir}: run `nox -s build` first"]
    found: list[str] = []
    for wheel in wheels:
        name, version = wheel.name.split("-")[:2]
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            found.append(f"{name} is not installed")
            continue
        if dist.version != version:
            found.append(f"{name} {dist.version} is installed, not the built {version}")
        direct = dist.read_text("direct_url.json")
        if direct and json.loads(direct).get("dir_info", {}).get("editable"):
            found.append(f"{name} is an editable install")
        modules = {
            Path(str(f)).parts[0]
            for f in dist.files or ()
            if Path(str(f)).parts[0].isidentifier() and not str(f).endswith(".pth")
        }
        if not modules:
            found.append(f"{name} ships no module")
        for module_name in sorted(modules):
            module = importlib.import_module(module_name)
            where = Path(module.__file__ or "").resolve().parent
            if site not in where.parents:
                found.append(f"{module_name} is imported from {where}, not {site}")
            elif not (where / "py.typed").is_file():
                found.append(f"{module_name} has no py.typed")
    return found


def main() -> int:
    dist_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/dist")
    found = problems(dist_dir)
    for problem in found:
        print(f"wheels: {problem}", file=sys.stderr)
    if not found:
        names = ", ".join(sorted(w.name.split("-")[0] for w in dist_dir.glob("*.whl")))
        print(f"wheels: installed from {dist_dir}, imported from site-packages: {names}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
