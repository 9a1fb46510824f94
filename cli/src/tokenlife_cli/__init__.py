"""The ``tokenlife`` command: keys, token inspection and session-store operations.

Run ``tokenlife --help``. The library's core stays free of I/O; everything that
reads files, the environment, the clock or a store for a person at a terminal
lives here.
"""

from __future__ import annotations

from ._app import main

__version__ = "0.1.0"

__all__ = ("__version__", "main")
