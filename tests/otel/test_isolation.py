"""The extra is opt-in: installed, it is still imported only by whoever asks for it."""

from __future__ import annotations

import subprocess
import sys


def test_the_core_does_not_import_opentelemetry_even_when_installed() -> None:
    program = (
        "import sys, tokenlife, tokenlife.store, tokenlife.testing, tokenlife.keygen\n"
        "import tokenlife_memory, tokenlife_sqlite\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('opentelemetry', 'prometheus_client') or m.startswith('tokenlife.otel'))\n"
        "print(loaded)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_the_extra_is_importable_on_its_own() -> None:
    program = "import tokenlife.otel.prometheus, sys; print('opentelemetry' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True"
