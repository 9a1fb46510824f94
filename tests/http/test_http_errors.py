"""The HTTP error classes application code raises: each adapter answers the web layer's table."""

from __future__ import annotations

import pytest

from tests.http.conftest import ServeFactory
from tokenlife.web import (
    AuthenticationRequiredKind,
    CSRFFailedKind,
    HTTPErrorKind,
    InsufficientScopeKind,
    InvalidGrantKind,
    InvalidTokenKind,
)

KINDS: dict[str, type[HTTPErrorKind]] = {
    "AuthenticationRequired": AuthenticationRequiredKind,
    "InvalidToken": InvalidTokenKind,
    "InvalidGrant": InvalidGrantKind,
    "InsufficientScope": InsufficientScopeKind,
    "CSRFFailed": CSRFFailedKind,
}


@pytest.mark.parametrize("name", KINDS)
def test_a_raised_http_error_answers_as_the_web_layer_defines_it(
    serve: ServeFactory, name: str
) -> None:
    """RFC 6750 §3 / RFC 6749 §5.2: status, error code and challenge come from one table,
    and the reason given by the app stays in the logs."""
    app = serve()
    if app.adapter == "asgi":
        pytest.skip("the embedding example has no error classes of its own")
    kind = KINDS[name]
    response = app.client.get(f"/raise/{name}")
    assert response.status_code == kind.status_code
    assert response.json() == {"error": kind.error}
    challenge = response.headers.get("www-authenticate")
    if kind.challenge is None:
        assert challenge is None
    elif kind.challenge == "":
        assert challenge is not None and "error=" not in challenge
    else:
        assert challenge is not None and f'error="{kind.challenge}"' in challenge
    assert "raised by the app" not in response.text
