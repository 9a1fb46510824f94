"""tokenlife for Litestar: authentication middleware, refresh and logout routes, cookies, CSRF."""

from __future__ import annotations

from ._config import CookieConfig, RetrieveUser, SameSite, TokenLifeConfig, TokenLocation
from ._errors import (
    AuthenticationRequired,
    CSRFFailed,
    InsufficientScope,
    InvalidGrant,
    InvalidToken,
    TokenLifeHTTPError,
)
from ._guards import (
    AuthClaims,
    AuthSubject,
    provide_claims,
    provide_subject,
    require_fresh,
    require_scopes,
)
from ._middleware import TokenLifeMiddleware, compile_exclude
from ._plugin import TokenLifePlugin

__version__ = "0.1.0"

__all__ = (
    "AuthClaims",
    "AuthSubject",
    "AuthenticationRequired",
    "CSRFFailed",
    "CookieConfig",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "RetrieveUser",
    "SameSite",
    "TokenLifeConfig",
    "TokenLifeHTTPError",
    "TokenLifeMiddleware",
    "TokenLifePlugin",
    "TokenLocation",
    "__version__",
    "compile_exclude",
    "provide_claims",
    "provide_subject",
    "require_fresh",
    "require_scopes",
)
