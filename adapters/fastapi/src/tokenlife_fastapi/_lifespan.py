"""Open the store at start-up, close it at shutdown, around the app's own lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar

from tokenlife import TokenAuthority

App = TypeVar("App")
Lifespan = Callable[[App], AbstractAsyncContextManager[Any]]


def store_lifespan(
    authority: TokenAuthority, inner: Lifespan[App] | None = None
) -> Callable[[App], AbstractAsyncContextManager[Any]]:
    """A lifespan for ``FastAPI(lifespan=...)`` or ``Starlette(lifespan=...)``.

    ``async with authority.store`` wraps ``inner`` (the app's own lifespan,
    if any), so the store is open before the app's start-up code runs and
    closed after its shutdown code: nothing ever sees a closed store. What
    ``inner`` yields (a state mapping) is passed through.
    """

    @asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[Any]:
        async with authority.store:
            if inner is None:
                yield None
            else:
                async with inner(app) as state:
                    yield state

    return lifespan


__all__ = ("Lifespan", "store_lifespan")
