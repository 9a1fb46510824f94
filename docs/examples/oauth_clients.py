"""Standard clients against tokenlife's OAuth 2.0 endpoints: a resource server, an app."""

from __future__ import annotations

from typing import Any

import jwt
from authlib.integrations.httpx_client import AsyncOAuth2Client  # type: ignore[import-untyped]


# --8<-- [start:jwks]
def verify_elsewhere(
    token: str, issuer: str = "https://api.example", audience: str | None = None
) -> dict[str, Any]:
    """A resource server verifying by ``kid`` with PyJWT's JWKS client."""
    client = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json")
    key = client.get_signing_key_from_jwt(token)
    claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=["ES256"], audience=audience)
    return claims


# --8<-- [end:jwks]


# --8<-- [start:authlib]
async def refresh_then_revoke(refresh: str, base: str = "https://api.example") -> dict[str, Any]:
    """An app refreshing (RFC 6749 §6), then logging out (RFC 7009), with Authlib."""
    async with AsyncOAuth2Client(client_id="app", token_endpoint_auth_method="none") as client:
        token: dict[str, Any] = await client.refresh_token(f"{base}/refresh", refresh_token=refresh)
        await client.revoke_token(f"{base}/oauth/revoke", token=token["refresh_token"])
    return token


# --8<-- [end:authlib]
