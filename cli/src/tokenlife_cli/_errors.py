"""The two ways a command fails, and the exit codes scripts can rely on.

Every failure the command line expects is one of these; ``main`` turns it into
a single line on stderr. Anything else is a bug and still gets one line (see
``_app``), never a traceback.
"""

from __future__ import annotations

from typing import Final

#: Success.
EXIT_OK: Final = 0
#: Something went wrong at run time: a file, a key, a store.
EXIT_RUNTIME: Final = 1
#: The command line itself is wrong (argparse's convention).
EXIT_USAGE: Final = 2
#: ``inspect`` ran fine and the token is not valid: the report says why.
EXIT_REJECTED: Final = 3


class CliError(Exception):
    """A run-time failure with a message meant for the person at the terminal."""

    exit_code: int = EXIT_RUNTIME

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CliError):
    """The arguments cannot work (unknown store scheme, bad option value, ...)."""

    exit_code = EXIT_USAGE


__all__ = (
    "EXIT_OK",
    "EXIT_REJECTED",
    "EXIT_RUNTIME",
    "EXIT_USAGE",
    "CliError",
    "UsageError",
)
