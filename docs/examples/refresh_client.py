"""An API client that holds a token pair and refreshes it explicitly (httpx)."""

from __future__ import annotations

import asyncio

import httpx


class LoggedOut(Exception):
    """The session is over (expired, revoked, or reuse detected): log in again."""


# --8<-- [start:refresh]
async def refresh_with_header(http: httpx.AsyncClient, refresh_token: str) -> dict[str, str]:
    response = await http.post(
        "/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"}
    )
    if response.status_code == 401:  # {"error": "invalid_grant"}
        raise LoggedOut(response.json()["error"])
    response.raise_for_status()
    tokens: dict[str, str] = response.json()
    return tokens  # access_token, refresh_token (the successor), token_type, expires_in


async def refresh_with_body(http: httpx.AsyncClient, refresh_token: str) -> dict[str, str]:
    response = await http.post("/auth/refresh", json={"refresh_token": refresh_token})
    if response.status_code == 401:
        raise LoggedOut(response.json()["error"])
    response.raise_for_status()
    tokens: dict[str, str] = response.json()
    return tokens


# --8<-- [end:refresh]


# --8<-- [start:client]
class TokenClient:
    """Sends the access token; on ``invalid_token``, refreshes once and retries.

    One refresh at a time: requests that fail together wait for the same
    refresh instead of each rotating the token (which would work inside the
    grace window, but wastes round trips).
    """

    def __init__(self, http: httpx.AsyncClient, access_token: str, refresh_token: str) -> None:
        self.http = http
        self.access_token = access_token
        self.refresh_token = refresh_token
        self._lock = asyncio.Lock()

    async def get(self, path: str) -> httpx.Response:
        sent_with = self.access_token
        response = await self._get(path)
        if response.status_code == 401 and "invalid_token" in response.headers.get(
            "www-authenticate", ""
        ):
            await self._refresh(sent_with)
            response = await self._get(path)
        return response

    async def _get(self, path: str) -> httpx.Response:
        return await self.http.get(path, headers={"Authorization": f"Bearer {self.access_token}"})

    async def _refresh(self, stale_access_token: str) -> None:
        async with self._lock:
            if self.access_token != stale_access_token:
                return  # another request refreshed while this one waited
            tokens = await refresh_with_header(self.http, self.refresh_token)
            # Keep the successor: the old refresh token is spent.
            self.access_token = tokens["access_token"]
            self.refresh_token = tokens["refresh_token"]


# --8<-- [end:client]
