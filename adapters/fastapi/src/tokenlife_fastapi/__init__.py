"""tokenlife for FastAPI and Starlette: dependencies, OpenAPI schemes, errors, store lifespan."""

from __future__ import annotations

from ._dependencies import ClaimsDependency, TokenLife, claims_of
from ._errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidToken,
    TokenLifeHTTPError,
    exception_handlers,
)
from ._lifespan import store_lifespan

__version__ = "0.1.0"

__all__ = (
    "AuthenticationRequired",
    "ClaimsDependency",
    "InsufficientScope",
    "InvalidToken",
    "TokenLife",
    "TokenLifeHTTPError",
    "__version__",
    "claims_of",
    "exception_handlers",
    "store_lifespan",
)
