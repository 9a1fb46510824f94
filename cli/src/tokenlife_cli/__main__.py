"""``python -m tokenlife_cli``: the same as the ``tokenlife`` console script."""

from __future__ import annotations

import sys

from ._app import main

if __name__ == "__main__":
    sys.exit(main())
