"""What commands print: a result for people or, with ``--json``, for scripts.

Every command returns a :class:`Result` holding both forms, so ``--json`` is
one switch in one place and the two outputs cannot drift apart. JSON goes out
with a fixed key order (the order the command built it in) and is the stable
interface; the text is for people and may change.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, TextIO

from ._errors import EXIT_OK


@dataclass(frozen=True)
class Result:
    """A command's outcome: the JSON document, the text rendering, the exit code."""

    data: dict[str, Any]
    text: str
    exit_code: int = EXIT_OK

    def write(self, stream: TextIO, *, as_json: bool) -> None:
        if as_json:
            # ASCII-only: a value's control or bidi characters reach the
            # terminal as \u escapes, and a lone surrogate cannot break the write.
            stream.write(json.dumps(self.data, indent=2, ensure_ascii=True) + "\n")
        elif self.text:
            text = self.text if self.text.endswith("\n") else self.text + "\n"
            stream.write(escape(text, keep_newlines=True, backslash=False))


#: Categories a terminal acts on or hides: controls (C0, DEL, C1, so ESC/CSI/
#: OSC), format characters (bidi overrides, zero-width marks), surrogates and
#: line or paragraph separators.
_UNSAFE: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(value: str, *, keep_newlines: bool = False, backslash: bool = True) -> str:
    """``value`` with everything a terminal would act on shown as ``\\xNN``/``\\uNNNN``.

    Used on every value the command did not write itself (a token's header and
    claims, a store's subjects and metadata), so a forged claim cannot draw a
    fake report, hide a line, retitle the window or reorder text. With
    ``backslash`` a literal backslash is doubled, so an escape in the output is
    never ambiguous with one the value spelled out.
    """
    out: list[str] = []
    for char in value:
        if char == "\\" and backslash:
            out.append("\\\\")
        elif char == "\n" and keep_newlines:
            out.append(char)
        elif unicodedata.category(char) in _UNSAFE:
            out.append(_escaped(char))
        else:
            out.append(char)
    return "".join(out)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain left-aligned table: no box drawing, so it survives ``grep`` and ``cut``.

    Cells are escaped (see :func:`escape`): a cell can never break its row.
    """
    rows = [[escape(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (headers, *rows)
    ]
    return "\n".join(lines)


def plural(count: int, noun: str) -> str:
    """``1 session``, ``2 sessions``, ``3 batches``."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"


class Progress:
    """A progress bar drawn on one terminal line of stderr, or nothing at all.

    Hand-rolled to keep the command dependency-free. It draws only when
    ``stream`` is a terminal, so logs and pipes never get carriage returns.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO, *, label: str, unit: str, total: int | None) -> None:
        self._stream = stream
        self._label = label
        self._unit = unit
        self._total = total
        self._drawn = False
        self._last: int | None = None
        self.enabled = _is_terminal(stream)

    def update(self, done: int) -> None:
        if not self.enabled or done == self._last:
            return
        self._last = done
        total = self._total
        if total:
            fraction = min(1.0, done / total)
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            percent = int(fraction * 100)  # floor: 100% only when it is done
            line = f"{self._label} [{bar}] {percent:3d}% {done}/{total} {self._unit}"
        else:
            line = f"{self._label} {done} {self._unit}..."
        self._stream.write("\r\x1b[2K" + line)
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


__all__ = ("Progress", "Result", "escape", "plural", "table")
