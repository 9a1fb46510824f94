"""The built site renders its diagrams with nothing but itself: no CDN, no network.

Builds the site (``mkdocs build --strict``) into a temporary folder, serves it
on 127.0.0.1, and opens the concepts page in Debian's Chromium (driven by
Playwright) with every request to any other host refused. Material for
MkDocs replaces each ``pre.mermaid`` block it renders with a ``div.mermaid``
holding the SVG, so a raw-text diagram is one that is still a ``pre``.
"""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.docs.conftest import DOCS, ROOT

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]


def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        return "the playwright package is not installed (dependency group adapter-litestar)"
    return None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("TOKENLIFE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the offline-site test cannot run: {reason}")
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(out)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_the_diagrams_render_with_every_other_host_refused(site: str) -> None:
    from playwright.sync_api import Route, sync_playwright

    expected = (DOCS / "concepts.md").read_text(encoding="utf-8").count("<!-- lifecycle:")
    assert expected >= 2
    refused: list[str] = []

    def only_the_site(route: Route) -> None:
        url = route.request.url
        if url.startswith(site + "/"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", only_the_site)
            page.goto(f"{site}/concepts/")
            page.wait_for_function(
                "n => document.querySelectorAll('div.mermaid').length >= n",
                arg=expected,
                timeout=30_000,
            )
            assert page.locator("pre.mermaid").count() == 0, "a diagram is still raw text"
            heights = page.eval_on_selector_all(
                "div.mermaid", "els => els.map(e => e.getBoundingClientRect().height)"
            )
        finally:
            browser.close()
    assert len(heights) == expected
    assert all(h > 50 for h in heights), f"a diagram has no drawing: heights {heights}"
    assert refused == [], f"the site asked other hosts for {refused}"


def test_a_tarball_other_than_the_pinned_one_is_refused() -> None:
    from mkdocs.exceptions import PluginError

    from docs.hooks import mermaid

    with pytest.raises(PluginError, match="integrity"):
        mermaid.extract(b"not the mermaid package")


def test_the_site_lists_the_vendored_script() -> None:
    from docs.hooks import mermaid

    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert f"extra_javascript:\n  - {mermaid.ASSET}\n" in config
    assert "  - docs/hooks/mermaid.py\n" in config
