"""The lifecycle driven over HTTP: an app's routes instead of the authority's methods.

An :class:`HttpDriver` is a :class:`~._driver.Driver` whose front door is an
ASGI app, built by the caller's factory over the driver's own authority (its
store, frozen clock and ids) and reached in-process with real HTTP requests
through httpx's ``ASGITransport``. Every other check stays: the reference
model, the records read back from the store, the security events.

The app's contract (the one tokenlife's HTTP conformance suite serves on every
framework), with bearer tokens and the :class:`~tokenlife.web.WebConfig` given:

- ``POST /login``, a JSON body ``{"username", "password"}``: 200 and the OAuth
  token response for a user of the mapping given, 401 for anyone else;
- ``POST`` on ``config.refresh_path`` and ``config.logout_path``: the web
  layer's refresh and logout routes (the framework adapter's);
- ``GET /protected``: 200 and ``{"sub", "sid"}`` of a valid access token.

What a client sees is less than what the authority knows, and the driver
expects exactly that: a refused refresh is 401 ``invalid_grant`` whatever the
reason (expired, revoked, reused), a refused access token 401
``invalid_token``, a logout 204 for any authentic token (its session ends,
even an expired token's) and 401 for a forged one. The precise reason is
checked where an app cannot hide it: the store's records and the authority's
security events (a reuse detection must emit one).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import msgspec

from tokenlife import Claims, TokenAuthority, TokenError, TokenPair
from tokenlife.web import WebConfig

from . import _model as m
from . import _ops as ops
from ._base import Action, LifecycleStoreFactory
from ._driver import Driver
from ._machine import LifecycleMachine

if typing.TYPE_CHECKING:
    import httpx

#: Builds the ASGI app under test over the authority, config and users given.
AppFactory = Callable[[TokenAuthority, WebConfig, Mapping[str, str]], Any]

#: The users the app must accept at ``POST /login``: each subject the machine logs in.
USERS: Mapping[str, str] = {subject: f"password-{i}" for i, subject in enumerate(ops.SUBJECTS)}
PROTECTED = "/protected"
#: The refusal each action shows for any refused token.
REFUSED: Mapping[Action, str] = {
    "verify": "HttpRefusal:401 invalid_token",
    "refresh": "HttpRefusal:401 invalid_grant",
    "revoke": "HttpRefusal:401 invalid_token",
}
_PAIR_KEYS = {"access_token", "refresh_token", "token_type", "expires_in"}


class HttpRefusal(TokenError):
    """A refusal as the client sees it: ``code`` is ``"<status> <RFC error code>"``."""

    code = "http_refusal"


class HttpDriver(Driver):
    """A :class:`Driver` whose logins, verifications, refreshes and logouts are HTTP
    requests to an app; revocation by the operator, purge and listings stay direct
    (an app's admin side is its own)."""

    def __init__(
        self,
        app_factory: AppFactory,
        store_factory: LifecycleStoreFactory,
        config: m.Config,
        *,
        backend: str = "asyncio",
    ) -> None:
        import httpx  # the testing extra brings it; the store kit does not need it

        super().__init__(store_factory, config, backend=backend)
        try:
            # The model knows no client labels: logins over HTTP record none here.
            self.web = WebConfig(client_labels=False)
            app = app_factory(self.auth, self.web, USERS)
            transport = httpx.ASGITransport(app=app)
            self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            self._stack.callback(self.portal.call, self.client.aclose)
        except BaseException:
            self.close()
            raise

    def apply(self, op: ops.Op) -> str:
        # A login over HTTP carries a username and a password, nothing more.
        return super().apply(ops.Issue(op.subject) if isinstance(op, ops.Issue) else op)

    def _describe(self, op: ops.Op) -> str:
        line = super()._describe(op)
        if isinstance(op, ops.Revoke) or (isinstance(op, ops.Forged) and op.action == "revoke"):
            return line.replace("revoke ", "log out with ", 1)  # POST to the logout route
        return line

    # -- what the client sees -----------------------------------------------------------

    def _seen(self, action: Action, outcome: str) -> str:
        return m.OK if outcome == m.OK else REFUSED[action]

    def _forged_outcome(self, action: Action) -> str:
        return REFUSED[action]

    def _model_revoke(self, kind: Literal["access", "refresh"], jti: str) -> bool:
        model = self.model
        return model.logout(model.access[jti].sid if kind == "access" else model.refresh[jti].sid)

    # -- the routes -----------------------------------------------------------------------

    async def _front_issue(self, op: ops.Issue) -> TokenPair:
        body = {"username": op.subject, "password": USERS[op.subject]}
        response = await self.client.post("/login", json=body)
        return self._pair(response, "POST /login")

    async def _front_verify(self, token: str, jkt: str | None = None) -> Claims:
        assert jkt is None, "the HTTP machine drives bearer sessions only"
        response = await self.client.get(PROTECTED, headers=_bearer(token))
        if response.status_code != 200:
            raise self._refusal(response, f"GET {PROTECTED}", challenge=True)
        claims = msgspec.convert(self.auth.codec.peek_claims(token), Claims)
        body = response.json()
        assert body == {"sub": claims.sub, "sid": claims.sid}, (
            f"GET {PROTECTED} answered {body} for the token of {claims.sub}, session {claims.sid}"
        )
        return claims

    async def _front_refresh(self, token: str, jkt: str | None = None) -> TokenPair:
        assert jkt is None, "the HTTP machine drives bearer sessions only"
        path = self.web.refresh_path
        assert path is not None
        response = await self.client.post(path, headers=_bearer(token))
        return self._pair(response, f"POST {path}")

    async def _front_revoke(self, token: str) -> None:
        path = self.web.logout_path
        assert path is not None
        response = await self.client.post(path, headers=_bearer(token))
        if response.status_code != 204:
            raise self._refusal(response, f"POST {path}", challenge=True)

    # -- reading answers --------------------------------------------------------------------

    def _pair(self, response: httpx.Response, route: str) -> TokenPair:
        """The token pair of a 200 token response (RFC 6749 §5.1), or the refusal."""
        if response.status_code != 200:
            raise self._refusal(response, route)
        body = response.json()
        assert isinstance(body, dict) and set(body) >= _PAIR_KEYS, f"{route} answered {body}"
        assert body["token_type"] == "bearer", f"{route}: {body}"  # noqa: S105 - OAuth type
        assert "no-store" in response.headers.get("cache-control", ""), (
            f"{route}: a token response must not be cached (Cache-Control: no-store)"
        )
        access = self.auth.codec.peek_claims(body["access_token"])
        refresh = self.auth.codec.peek_claims(body["refresh_token"])
        return TokenPair(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            session_id=refresh["sid"],
            access_expires_at=access["exp"],
            refresh_expires_at=refresh["exp"],
            expires_in=body["expires_in"],
            csrf_token=body.get("csrf_token"),
        )

    @staticmethod
    def _refusal(response: httpx.Response, route: str, *, challenge: bool = False) -> HttpRefusal:
        """A 401 with its RFC error code; anything else (a 500 above all) is a failure."""
        status = response.status_code
        assert status == 401, f"{route} answered {status}: {response.text[:200]}"
        error = response.json().get("error")
        if challenge:
            found = response.headers.get("www-authenticate", "")
            assert found.startswith("Bearer") and f'error="{error}"' in found, (
                f"{route}: 401 {error} with WWW-Authenticate {found!r}"
            )
        return HttpRefusal(f"{route}: {status} {error}", code=f"{status} {error}")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class HttpLifecycleMachine(LifecycleMachine):
    """The lifecycle machine with an :class:`HttpDriver`: made by
    :func:`tokenlife.testing.lifecycle.http_lifecycle_state_machine`."""

    app_factory: ClassVar[AppFactory]
    dpop = False  # bearer clients only: a DPoP client would sign a proof per request

    def _new_driver(self, config: m.Config) -> Driver:
        cls = type(self)
        return HttpDriver(cls.app_factory, cls.store_factory, config, backend=cls.backend)


__all__ = (
    "PROTECTED",
    "REFUSED",
    "USERS",
    "AppFactory",
    "HttpDriver",
    "HttpLifecycleMachine",
    "HttpRefusal",
)
