"""Certify your app over HTTP with the lifecycle kit (``pip install 'tokenlife[testing]'``).

Copy this into your test suite and build your own app in ``app_under_test``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

# --8<-- [start:run]
from docs.examples.asgi_app import create_app  # your app factory here
from tokenlife import TokenAuthority
from tokenlife.testing.lifecycle import http_lifecycle_state_machine
from tokenlife.web import WebConfig
from tokenlife_memory import MemoryStore


def app_under_test(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Any:
    """Your ASGI app over the kit's authority: POST /login (JSON username and
    password, one of ``users``), the refresh and logout routes of ``config``,
    and GET /protected answering the token's {"sub", "sid"}."""
    return create_app(authority, config, users)


# 50 examples of up to 25 operations, each a real request through the app.
AppLifecycle = http_lifecycle_state_machine(app_under_test, MemoryStore)
TestAppLifecycle = AppLifecycle.TestCase
# --8<-- [end:run]


# --8<-- [start:bug]
def logout_that_ends_nothing(
    authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]
) -> Any:
    """A realistic bug: the logout route answers 204 ("the client forgets its
    tokens") without ending the session on the server."""
    app = create_app(authority, config, users)

    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == config.logout_path:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await app(scope, receive, send)

    return broken


# --8<-- [end:bug]


def find_the_bug() -> AssertionError | None:
    """Run the HTTP machine against the broken app; the failure it finds, if any."""
    machine = http_lifecycle_state_machine(logout_that_ends_nothing, MemoryStore)
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                machine.TestCase.settings,
                database=None,
                derandomize=True,
                report_multiple_bugs=False,
            ),
        )
    except AssertionError as found:
        return found
    return None


if __name__ == "__main__":
    print(find_the_bug())
