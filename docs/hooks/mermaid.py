"""MkDocs hook: the diagrams' renderer ships with the site instead of coming from a CDN.

Material for MkDocs fetches Mermaid from a CDN when a page has a diagram,
unless a ``mermaid`` global is already loaded; offline, or behind a strict
proxy, the diagrams then stay raw text. This hook puts one pinned Mermaid
into the site as :data:`ASSET`, which ``mkdocs.yml`` lists in
``extra_javascript``, so Material uses it and never reaches out.

The file is ``dist/mermaid.min.js`` of the npm package ``mermaid`` at
:data:`VERSION`, fetched once with ``npm pack`` and checked against the
registry's :data:`INTEGRITY` hash before anything is extracted, then kept in
``build/vendor/`` for later builds.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Final

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

#: Mermaid's major version is the one Material for MkDocs is written against.
VERSION: Final = "11.17.2"
#: The npm registry's ``dist.integrity`` of ``mermaid@VERSION``.
INTEGRITY: Final = (
    "sha512-V6K3C8EBdEsPFZXSKMJe6ppQOENxuHARr9GvHX4hh47lAbhMRD9qf4oEK7"
    "LoaRQxULMa80/qt5gHO73aCleBBg=="
)
#: Where the site serves it (listed in mkdocs.yml's extra_javascript).
ASSET: Final = "javascripts/mermaid.min.js"
MEMBER: Final = "package/dist/mermaid.min.js"
ROOT: Final = Path(__file__).resolve().parents[2]
CACHE: Final = ROOT / "build" / "vendor" / f"mermaid-{VERSION}.min.js"


def integrity(data: bytes) -> str:
    """The npm registry's form of a tarball's hash (Subresource Integrity, sha512)."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def extract(tarball: bytes) -> bytes:
    """``dist/mermaid.min.js`` out of the package tarball, once its hash is the pinned one."""
    found = integrity(tarball)
    if found != INTEGRITY:
        raise PluginError(f"mermaid@{VERSION} from npm has integrity {found}, not {INTEGRITY}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mermaid.tgz"
        path.write_bytes(tarball)
        with tarfile.open(path, "r:gz") as archive:
            member = archive.extractfile(MEMBER)
            if member is None:
                raise PluginError(f"mermaid@{VERSION} has no {MEMBER}")
            return member.read()


def vendored() -> Path:
    """The pinned ``mermaid.min.js``, fetched with npm the first time."""
    if CACHE.is_file():
        return CACHE
    npm = shutil.which("npm")
    if npm is None:
        raise PluginError(
            "the docs' diagrams need Mermaid from npm, and npm is not installed "
            "(apt-get install npm)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603  (a fixed command, no shell)
            [npm, "pack", f"mermaid@{VERSION}", "--pack-destination", tmp, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if len(tarballs) != 1:
            raise PluginError(f"npm pack mermaid@{VERSION} gave {tarballs}")
        script = extract(tarballs[0].read_bytes())
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    partial = CACHE.with_suffix(".partial")
    partial.write_bytes(script)
    partial.replace(CACHE)
    return CACHE


def on_config(config: MkDocsConfig, /, **_: Any) -> MkDocsConfig:
    """Refuse a configuration that would let Material fall back to its CDN."""
    if ASSET not in [str(script) for script in config.extra_javascript]:
        raise PluginError(f"mkdocs.yml must list {ASSET} in extra_javascript")
    return config


def on_files(files: Files, /, *, config: MkDocsConfig, **_: Any) -> Files:
    """Add the vendored script to the site's files, at :data:`ASSET`."""
    files.append(File.generated(config, ASSET, abs_src_path=str(vendored())))
    return files
