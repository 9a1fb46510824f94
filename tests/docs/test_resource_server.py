"""docs/examples/resource_server.py: a verify-only service on a real issuer's JWKS URL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from docs.examples import resource_server
from tests.adapters.jwks._issuer import Issuer, serving
from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife_memory import MemoryStore

pytestmark = pytest.mark.anyio

ISSUER = "https://auth.example"


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with serving() as running:
        yield running


def _app(issuer: Issuer, **env: str) -> resource_server.ASGIApp:
    environ = {"TOKENLIFE_JWKS_URL": issuer.url, "TOKENLIFE_ISSUER": ISSUER, **env}
    return resource_server.create_app(lambda: resource_server.verifier_from_env(environ))


def _client(app: resource_server.ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rs.test")


async def test_valid_tokens_answer_their_subject_and_others_get_401(issuer: Issuer) -> None:
    keys = KeySet.generate("EdDSA")
    issuer.publish(keys)
    async with MemoryStore() as store:
        auth = TokenAuthority(store, keys=keys, policy=Policy(issuer=ISSUER))
        pair = await auth.issue("alice")
        async with _client(_app(issuer)) as client:
            response = await client.get("/protected", headers={"Authorization": "Bearer x"})
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            response = await client.get("/protected")
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            bearer = {"Authorization": f"Bearer {pair.access_token}"}
            response = await client.get("/protected", headers=bearer)
            assert response.status_code == 200
            assert response.json() == {"sub": "alice"}
            refresh = {"Authorization": f"Bearer {pair.refresh_token}"}
            assert (await client.get("/protected", headers=refresh)).status_code == 401
            other = TokenAuthority(store, keys=keys, policy=Policy(issuer="https://evil"))
            foreign = (await other.issue("mallory")).access_token
            response = await client.get(
                "/protected", headers={"Authorization": f"Bearer {foreign}"}
            )
            assert response.status_code == 401


async def test_an_issuer_that_never_answered_is_a_503(issuer: Issuer) -> None:
    keys = KeySet.generate("EdDSA")
    async with MemoryStore() as store:
        auth = TokenAuthority(store, keys=keys, policy=Policy(issuer=ISSUER))
        token = (await auth.issue("alice")).access_token
    issuer.status = 500
    async with _client(_app(issuer)) as client:
        bearer = {"Authorization": f"Bearer {token}"}
        response = await client.get("/protected", headers=bearer)
        assert response.status_code == 503
        assert response.json() == {"error": "temporarily_unavailable"}
        assert "www-authenticate" not in response.headers


async def test_a_missing_jwks_url_fails_at_startup() -> None:
    with pytest.raises(RuntimeError, match="TOKENLIFE_JWKS_URL"):
        resource_server.verifier_from_env({})
