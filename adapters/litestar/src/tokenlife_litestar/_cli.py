"""``litestar tokens ...``: the ``tokenlife`` command's store operations, on the app's own store.

``sessions``, ``revoke`` and ``purge`` are the ``tokenlife`` command's own
(its grammar, output, ``--json`` and exit codes; the optional
``tokenlife-cli`` package), run on the store the app was configured with
instead of a ``--store`` URL, so they always act on what the service uses.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from litestar import Litestar

from tokenlife import Store


def register(cli: click.Group, store_of: Callable[[Litestar], Store]) -> None:
    """Add the ``tokens`` command to Litestar's root CLI group; ``store_of(app)`` is its store."""

    @cli.command(
        name="tokens",
        add_help_option=False,
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def tokens(app: Litestar, args: tuple[str, ...]) -> None:
        """Sessions, revocation and purge on the app's token store (see ``tokens --help``)."""
        try:
            from tokenlife_cli import main
        except ImportError:
            raise click.ClickException(
                "litestar tokens needs the tokenlife-cli package: "
                "pip install 'tokenlife-litestar[cli]'"
            ) from None
        code = main(list(args), store=store_of(app), prog="litestar tokens")
        click.get_current_context().exit(code)


__all__ = ("register",)
