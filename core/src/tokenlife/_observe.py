"""The observer seam: what each lifecycle operation did, handed over as data.

The core does no I/O and imports no telemetry library; an :class:`Observer`
set on a :class:`~tokenlife.TokenAuthority` is told when an operation starts
and how it ended (its result, or the error it raised), and turns that into
metrics, spans or logs. ``tokenlife.otel`` is the one tokenlife ships. With no
observer the seam costs one attribute read and a ``None`` test per call.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Literal, ParamSpec, Protocol, TypeVar

logger = logging.getLogger("tokenlife")

#: The lifecycle operations an observer hears about.
Operation = Literal[
    "issue",
    "verify",
    "verify_stateless",
    "refresh",
    "revoke",
    "revoke_session",
    "revoke_subject",
]


class Observer(Protocol):
    """Told about every lifecycle operation of the authorities it is set on.

    ``begin`` runs as the operation starts (in the caller's task and context,
    so a span started there encloses the store calls); what it returns is
    passed back to ``end`` with the operation's result, or with the error it
    raised. Exceptions an observer raises are logged, never propagated.
    """

    def begin(self, operation: Operation) -> object:
        """The operation starts; the value returned comes back to :meth:`end`."""
        ...

    def end(self, handle: object, result: object, error: BaseException | None) -> None:
        """The operation ended with ``result`` (``None`` when ``error`` is set)."""
        ...


_R = TypeVar("_R")


def begin(observer: Observer, operation: Operation) -> object:
    try:
        return observer.begin(operation)
    except Exception:
        logger.exception("tokenlife observer failed as %s began", operation)
        return None


def end(observer: Observer, handle: object, result: object, error: BaseException | None) -> None:
    try:
        observer.end(handle, result, error)
    except Exception:
        logger.exception("tokenlife observer failed as an operation ended")


async def observe(observer: Observer, operation: Operation, call: Awaitable[_R]) -> _R:
    """Await ``call`` (an operation's coroutine, not started yet) under ``observer``."""
    handle = begin(observer, operation)
    try:
        result = await call
    except BaseException as exc:
        end(observer, handle, None, exc)
        raise
    end(observer, handle, result, None)
    return result


class _Observable(Protocol):
    observer: Observer | None


_S = TypeVar("_S", bound=_Observable)
_P = ParamSpec("_P")


def observed(
    operation: Operation,
) -> Callable[
    [Callable[Concatenate[_S, _P], Coroutine[Any, Any, _R]]],
    Callable[Concatenate[_S, _P], Coroutine[Any, Any, _R]],
]:
    """Report an async method of an authority to its observer, if it has one.

    For operations off the hot paths: it costs an extra call with the
    arguments forwarded (a few hundred nanoseconds).
    """

    def decorate(
        method: Callable[Concatenate[_S, _P], Coroutine[Any, Any, _R]],
    ) -> Callable[Concatenate[_S, _P], Coroutine[Any, Any, _R]]:
        @functools.wraps(method)
        async def wrapper(self: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            observer = self.observer
            if observer is None:
                return await method(self, *args, **kwargs)
            return await observe(observer, operation, method(self, *args, **kwargs))

        return wrapper

    return decorate


__all__ = ("Observer", "Operation")
