"""tokenlife for FastAPI and Starlette: a thin translation of ``tokenlife.web``.

A pure-ASGI authentication middleware (bearer, cookies, CSRF, implicit
refresh), ``Depends()`` dependencies, refresh and logout routes, a login
helper, exception handlers, OpenAPI security schemes and a store lifespan.
"""

from __future__ import annotations

from ._errors import (
    AuthenticationRequired,
    CSRFFailed,
    InsufficientScope,
    InvalidGrant,
    InvalidToken,
    TokenLifeHTTPError,
    exception_handlers,
    to_response,
)
from ._lifespan import store_lifespan
from ._middleware import SCOPE_KEY, TokenLifeMiddleware
from ._tokenlife import DOCS_PATHS, ClaimsDependency, TokenLife, claims_of

__version__ = "0.1.0"

__all__ = (
    "DOCS_PATHS",
    "SCOPE_KEY",
    "AuthenticationRequired",
    "CSRFFailed",
    "ClaimsDependency",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "TokenLife",
    "TokenLifeHTTPError",
    "TokenLifeMiddleware",
    "__version__",
    "claims_of",
    "exception_handlers",
    "store_lifespan",
    "to_response",
)
