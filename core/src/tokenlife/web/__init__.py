"""The sans-IO web layer: request facts in, decisions out, for any framework.

An adapter states a request as :class:`HttpRequest` (method, path, raw
header pairs, query, body), asks a :class:`Gate` to authenticate it or to
answer a refresh, login or logout route, and sends back the :class:`Reply`
(status, headers, JSON body, :class:`SetCookie` values) or the
:class:`Refusal` it was given. Every rule of docs/design/lifecycle.md#errors-and-http-mapping
and #cookies lives here once: token locations, anchored excludes,
session-bound CSRF, implicit refresh, RFC 6750 / RFC 6749 errors, 503 on a
store outage. Nothing here reads a socket or imports a framework.
"""

from __future__ import annotations

from ._body import TokenBody, is_json, json_body, token_body
from ._config import (
    DEFAULT_MAX_BODY_BYTES,
    CookieConfig,
    SameSite,
    TokenLocation,
    WebConfig,
    compile_exclude,
    covers,
)
from ._cookies import CookieJar, SetCookie
from ._devices import client_label, session_view
from ._dpop import DPoPGuard, dpop_token
from ._dpop_config import DPoPConfig
from ._facts import HttpRequest, parse_cookies
from ._gate import Authenticated, Gate, Source
from ._http_errors import (
    AuthenticationRequiredKind,
    CSRFFailedKind,
    HTTPErrorKind,
    InsufficientScopeKind,
    InvalidGrantKind,
    InvalidTokenKind,
)
from ._replies import (
    NO_STORE,
    Refusal,
    Reply,
    challenge,
    csrf_failed,
    insufficient_scope,
    invalid_grant,
    invalid_request,
    invalid_token,
    json_reply,
    no_content,
    refusal_reply,
    unauthorized,
    unavailable,
)
from ._rules import (
    SAFE_METHODS,
    bearer_token,
    check_fresh,
    check_scopes,
    csrf_holds,
    query_token,
    same_origin,
)

__all__ = (
    "DEFAULT_MAX_BODY_BYTES",
    "NO_STORE",
    "SAFE_METHODS",
    "Authenticated",
    "AuthenticationRequiredKind",
    "CSRFFailedKind",
    "CookieConfig",
    "CookieJar",
    "DPoPConfig",
    "DPoPGuard",
    "Gate",
    "HTTPErrorKind",
    "HttpRequest",
    "InsufficientScopeKind",
    "InvalidGrantKind",
    "InvalidTokenKind",
    "Refusal",
    "Reply",
    "SameSite",
    "SetCookie",
    "Source",
    "TokenBody",
    "TokenLocation",
    "WebConfig",
    "bearer_token",
    "challenge",
    "check_fresh",
    "check_scopes",
    "client_label",
    "compile_exclude",
    "covers",
    "csrf_failed",
    "csrf_holds",
    "dpop_token",
    "insufficient_scope",
    "invalid_grant",
    "invalid_request",
    "invalid_token",
    "is_json",
    "json_body",
    "json_reply",
    "no_content",
    "parse_cookies",
    "query_token",
    "refusal_reply",
    "same_origin",
    "session_view",
    "token_body",
    "unauthorized",
    "unavailable",
)
