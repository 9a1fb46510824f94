"""The command line's grammar: every subcommand, option and ``--help`` text.

argparse, so the command has no dependency beyond tokenlife and its stores.
Its errors are re-routed (:meth:`_Parser.error`) into one line on stderr and
exit code 2, like every other failure of the command.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from tokenlife import MAX_LEEWAY, SUPPORTED_ALGORITHMS, __version__

from ._errors import UsageError
from ._stores import EXAMPLES

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
ALGORITHMS = sorted(SUPPORTED_ALGORITHMS)

#: Adds one subcommand: (name, one-line summary, epilog) -> its parser.
_Command = Callable[[str, str, str], argparse.ArgumentParser]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and an exception, not usage + exit."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def duration(text: str) -> float:
    """Seconds from ``900``, ``90s``, ``15m``, ``12h`` or ``30d``."""
    match = _DURATION.match(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 900, 15m, 12h or 30d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def leeway(text: str) -> float:
    seconds = duration(text)
    if seconds > MAX_LEEWAY:
        raise argparse.ArgumentTypeError(f"at most {MAX_LEEWAY:g} s, got {seconds:g}")
    return seconds


def batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError("must be between 1 and 100000")
    return value


def positive_duration(text: str) -> float:
    seconds = duration(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be more than zero")
    return seconds


_EXIT_CODES = """\
exit codes: 0 success; 1 run-time error (file, key, store); 2 bad command line;
3 (inspect) the token is not valid. Errors are one line on stderr."""


def build(*, prog: str = "tokenlife", store_given: bool = False) -> argparse.ArgumentParser:
    """The grammar; ``store_given`` (an app's own store): the store commands, no --store."""
    parser = _Parser(
        prog=prog,
        description="Keys, token inspection and session-store operations for tokenlife.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tokenlife {__version__}")
    common = _Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="print one JSON document (stable keys) for scripts"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, epilog: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"{epilog}\n\n{_EXIT_CODES}",
            parents=[common],
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    if not store_given:
        _keygen(command)
        _inspect(command)
    store_help = (
        f"the store: {EXAMPLES} (three slashes: relative to the working directory; "
        "four: absolute); Redis takes ?prefix=P for a key prefix"
    )
    store_help = "" if store_given else store_help
    _sessions(command, store_help)
    _revoke(command, store_help)
    _purge(command, store_help)
    return parser


def _keygen(command: _Command) -> None:
    sub = command(
        "keygen",
        "Generate an HMAC secret or a key pair, as PEM and as JWK/JWKS.",
        "examples:\n"
        "  tokenlife keygen --alg EdDSA --kid 2025-01\n"
        "  tokenlife keygen --alg HS256 --json | jq -r .secret_base64url\n"
        "  tokenlife keygen --alg ES256 --out ./keys   # private files are mode 0600",
    )
    sub.add_argument(
        "--alg",
        choices=ALGORITHMS,
        default="EdDSA",
        metavar="ALG",
        help=f"one of {', '.join(ALGORITHMS)} (default: EdDSA)",
    )
    sub.add_argument("--kid", help="key id (default: the key's RFC 7638 thumbprint)")
    sub.add_argument("--out", type=Path, metavar="DIR", help="write the files into DIR")
    sub.add_argument("--force", action="store_true", help="let --out overwrite existing files")


def _inspect(command: _Command) -> None:
    sub = command(
        "inspect",
        "Show a token's header and claims; with a key, verify it and explain any failure.",
        "examples:\n"
        "  tokenlife inspect eyJhbGciOi...\n"
        "  pbpaste | tokenlife inspect - --key public.jwks.json --audience api\n"
        "  tokenlife inspect $T --secret-env JWT_SECRET --type refresh\n\n"
        "A PEM key or a secret carries no kid: it takes --kid, else the token's kid.\n"
        "The algorithm comes from --alg, else from the key (JWK 'alg'; PEM: RSA=RS256,\n"
        "P-256=ES256, Ed25519=EdDSA; secrets: HS256) -- never from the token.",
    )
    sub.add_argument("token", metavar="TOKEN", help="the token, or - to read it from stdin")
    source = sub.add_mutually_exclusive_group()
    source.add_argument(
        "--key", type=Path, metavar="FILE", help="PEM (public or private) or JWK/JWKS JSON"
    )
    source.add_argument("--secret-env", metavar="VAR", help="HMAC secret in this env variable")
    sub.add_argument(
        "--secret-encoding",
        choices=("utf8", "base64url"),
        default="utf8",
        help="how --secret-env's value is written (default utf8; keygen prints base64url)",
    )
    sub.add_argument(
        "--alg",
        choices=ALGORITHMS,
        metavar="ALG",
        help="bind the key to this algorithm (keygen --help lists them)",
    )
    sub.add_argument("--kid", help="key id for a PEM key or a secret")
    sub.add_argument("--issuer", help="require this exact 'iss' (default: not checked)")
    sub.add_argument(
        "--audience",
        action="append",
        metavar="AUD",
        help="require 'aud' to contain this (repeatable; default: not checked)",
    )
    sub.add_argument(
        "--type",
        choices=("access", "refresh"),
        dest="kind",
        help="expected token type (default: the token's own typ)",
    )
    sub.add_argument(
        "--leeway", type=leeway, default=0.0, metavar="SECONDS", help="clock skew (default 0)"
    )


def _store(sub: argparse.ArgumentParser, store_help: str) -> None:
    """``--store URL``, unless the store is given (``store_help`` empty)."""
    if store_help:
        sub.add_argument("--store", required=True, metavar="URL", help=store_help)


def _sessions(command: _Command, store_help: str) -> None:
    sub = command(
        "sessions",
        "List a subject's sessions: created, last refresh, expiry, revocation and reason.",
        "examples:\n"
        "  tokenlife sessions alice --store sqlite:////var/lib/app/tokens.db\n"
        "  tokenlife sessions alice --store redis://localhost:6379/0 --active --json",
    )
    sub.add_argument("subject", metavar="SUBJECT", help="the subject ('sub') to list")
    _store(sub, store_help)
    sub.add_argument("--active", action="store_true", help="only sessions still usable")


def _revoke(command: _Command, store_help: str) -> None:
    sub = command(
        "revoke",
        "Revoke one session, or every session of a subject (log out everywhere).",
        "examples:\n"
        "  tokenlife revoke --session Zq3... --store sqlite:///tokens.db\n"
        "  tokenlife revoke --subject alice --store redis://localhost:6379/0 --reason stolen",
    )
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("--session", metavar="SID", help="the session id ('sid') to revoke")
    target.add_argument("--subject", metavar="SUB", help="revoke every session of this subject")
    _store(sub, store_help)
    sub.add_argument("--reason", help="recorded with the revocation (default: the library's)")


def _purge(command: _Command, store_help: str) -> None:
    sub = command(
        "purge",
        "Delete sessions past their absolute expiry, stale denials and watermarks.",
        "examples:\n"
        "  tokenlife purge --store sqlite:///tokens.db --dry-run\n"
        "  tokenlife purge --store redis://localhost:6379/0 --session-ttl 90d\n\n"
        "--session-ttl and --leeway must be at least your Policy's: larger values keep\n"
        "more, never less. A progress bar is drawn on stderr when it is a terminal.",
    )
    _store(sub, store_help)
    sub.add_argument("--dry-run", action="store_true", help="count what would go; change nothing")
    sub.add_argument(
        "--batch", type=batch_size, default=1000, metavar="N", help="sessions per batch (1000)"
    )
    sub.add_argument(
        "--session-ttl",
        type=positive_duration,
        default=30 * 86400.0,
        metavar="DURATION",
        help="your Policy.session_ttl (default 30d)",
    )
    sub.add_argument(
        "--leeway",
        type=leeway,
        default=MAX_LEEWAY,
        metavar="SECONDS",
        help=f"your Policy.leeway (default {MAX_LEEWAY:g}, the most any policy allows)",
    )


__all__ = ("ALGORITHMS", "build", "duration")
