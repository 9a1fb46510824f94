"""tokenlife_fastapi's public surface: ``__all__`` is exactly what it exports."""

from __future__ import annotations

import tokenlife_fastapi


def test_public_names_match_all() -> None:
    public = {n for n in dir(tokenlife_fastapi) if not n.startswith("_")} - {"annotations"}
    assert set(tokenlife_fastapi.__all__) - {"__version__"} == public
    assert isinstance(tokenlife_fastapi.__all__, tuple)
    assert tokenlife_fastapi.__version__ == "0.1.0"
