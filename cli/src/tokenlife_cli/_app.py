"""``main``: parse, run one command, print its result; every failure is one line.

The contract with scripts and people: stdout carries the result (text, or
JSON with ``--json``); stderr carries at most one line per failure, prefixed
``tokenlife:``; the exit code says which kind (see ``_errors``). A traceback
would be a bug report, so even an unexpected exception is reported in one
line — ``TOKENLIFE_DEBUG=1`` shows the traceback when one is wanted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from tokenlife import Store

from . import _admin, _inspect, _keyfile, _keygen, _parser, _stores
from ._errors import EXIT_RUNTIME, CliError
from ._output import Result, escape

DEBUG_ENV = "TOKENLIFE_DEBUG"


def _run(args: argparse.Namespace, store: Store | None = None) -> Result:
    command: str = args.command
    if command == "keygen":
        return _keygen.run(args.alg, args.kid, args.out, args.force)
    if command == "inspect":
        keys = _keyfile.KeyOptions(
            key_file=args.key,
            secret_env=args.secret_env,
            encoding=args.secret_encoding,
            algorithm=args.alg,
            kid=args.kid,
        )
        audience = tuple(args.audience) if args.audience else None
        options = _inspect.InspectOptions(
            token=args.token,
            keys=keys,
            issuer=args.issuer,
            audience=audience,
            kind=args.kind,
            leeway=args.leeway,
        )
        return _inspect.run(options)
    spec = _stores.parse(args.store) if store is None else _stores.given(store)
    if command == "sessions":
        return asyncio.run(_admin.sessions(spec, args.subject, active_only=args.active))
    if command == "revoke":
        if args.session is not None:
            return asyncio.run(_admin.revoke_session(spec, args.session, args.reason))
        return asyncio.run(_admin.revoke_subject(spec, args.subject, args.reason))
    purge = _admin.PurgeOptions(
        dry_run=args.dry_run, batch=args.batch, session_ttl=args.session_ttl, leeway=args.leeway
    )
    return asyncio.run(_admin.purge(spec, purge))


def _fail(message: str) -> None:
    # One line, whatever the message held, and nothing a terminal would act on.
    line = escape(" ".join(message.split()), backslash=False)
    sys.stderr.write(f"tokenlife: error: {line}\n")
    sys.stderr.flush()


def main(
    argv: Sequence[str] | None = None, *, store: Store | None = None, prog: str = "tokenlife"
) -> int:
    """Run the command line; returns the exit code (the console script exits with it).

    An application embedding the store commands passes its own ``store``
    (opened and closed here, like a ``--store`` one) and its command's ``prog``.
    """
    try:
        args = _parser.build(prog=prog, store_given=store is not None).parse_args(argv)
        result = _run(args, store)
        result.write(sys.stdout, as_json=args.json)
        sys.stdout.flush()
        return result.exit_code
    except CliError as exc:
        _fail(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (``| head``); say nothing more on a closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_RUNTIME
    except Exception as exc:
        if os.environ.get(DEBUG_ENV) == "1":
            raise
        _fail(
            f"unexpected {type(exc).__name__}: {exc} "
            f"(this is a bug; {DEBUG_ENV}=1 shows the traceback)"
        )
        return EXIT_RUNTIME


__all__ = ("main",)
