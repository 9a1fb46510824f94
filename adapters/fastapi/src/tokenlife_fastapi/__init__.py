"""tokenlife for FastAPI and Starlette: dependencies, OpenAPI schemes, errors, store lifespan."""

from __future__ import annotations

from ._dependencies import ClaimsDependency, TokenLife, claims_of
from ._errors import (
    NO_STORE,
    AuthenticationRequired,
    InsufficientScope,
    InvalidGrant,
    InvalidToken,
    TokenLifeHTTPError,
    exception_handlers,
)
from ._lifespan import store_lifespan

__version__ = "0.1.0"

__all__ = (
    "NO_STORE",
    "AuthenticationRequired",
    "ClaimsDependency",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "TokenLife",
    "TokenLifeHTTPError",
    "__version__",
    "claims_of",
    "exception_handlers",
    "store_lifespan",
)
