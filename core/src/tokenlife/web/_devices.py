"""The devices routes: "where am I logged in", end one session, end the others, end all.

Every route is authenticated by the caller's access token (the adapter
authenticates first, as for any protected route, so CSRF and in-line
refresh apply) and touches **only the caller's own sessions**: an id of
another subject's session, or an unknown one, is ``404`` and revokes
nothing. Each answer says what really happened: ``ended`` counts the
sessions this request ended, never ones that were already gone.
"""

from __future__ import annotations

import re
from typing import Any, Final

from tokenlife._claims import Claims
from tokenlife._errors import StoreError
from tokenlife._store import SessionRecord

from ._base import GateBase
from ._cookies import SetCookie
from ._facts import HttpRequest
from ._replies import NO_STORE, Reply, invalid_token, json_reply

#: A session id is printable ASCII without ``/`` and short; anything else is
#: answered ``404`` without asking the store.
_SESSION_ID: Final = re.compile(r"[!-.0-~]{1,128}")
#: The metadata key a login's client label is filed under.
CLIENT_KEY: Final = "client"
#: Longer ``User-Agent`` values are cut: a label, not a record of hostile input.
MAX_CLIENT_LABEL: Final = 200
_UNPRINTABLE: Final = re.compile(r"[^\x20-\x7e]")


def client_label(request: HttpRequest) -> str | None:
    """The client label a login records: its ``User-Agent``, printable ASCII, capped.

    Control characters and non-ASCII bytes become ``?`` so that a label can be
    shown in a page or a terminal without escaping surprises.
    """
    agent = request.header(b"user-agent")
    if not agent:
        return None
    label = _UNPRINTABLE.sub("?", agent.decode("latin-1").strip())[:MAX_CLIENT_LABEL]
    return label or None


def session_view(session: SessionRecord, current_sid: str | None) -> dict[str, Any]:
    """One session as the devices list shows it (no token, no claim values)."""
    return {
        "id": session.sid,
        "created_at": session.created_at,
        "refreshed_at": session.refreshed_at,
        "expires_at": session.expires_at,
        "client": session.metadata.get(CLIENT_KEY),
        "current": session.sid == current_sid,
    }


def _not_found() -> Reply:
    return json_reply({"error": "not_found"}, status=404)


class Devices(GateBase):
    """:meth:`list_sessions`, :meth:`end_session`, :meth:`end_other_sessions`,
    :meth:`end_all_sessions` of :class:`Gate`."""

    __slots__ = ()

    async def devices_route(self, request: HttpRequest, claims: Claims) -> Reply | None:
        """The answer of the devices route ``request`` is for, or ``None`` if it is for none.

        For adapters that route by hand; the framework adapters mount each route.
        """
        config, method, path = self.config, request.method, request.path
        base = config.sessions_path
        if base is not None:
            if path == base and method == "GET":
                return await self.list_sessions(request, claims)
            prefix = base.rstrip("/") + "/"
            if method == "DELETE" and path.startswith(prefix):
                return await self.end_session(request, claims, path[len(prefix) :])
        if method == "POST":
            if path == config.logout_others_path:
                return await self.end_other_sessions(request, claims)
            if path == config.logout_all_path:
                return await self.end_all_sessions(request, claims)
        return None

    async def list_sessions(self, request: HttpRequest, claims: Claims) -> Reply:
        """``GET /sessions``: the caller's live sessions, oldest first; one store read."""
        try:
            found = await self.authority.sessions(claims.subject)
        except StoreError as exc:
            return self.refused(request, self._outage(request, exc))
        current = claims.session_id
        return json_reply({"sessions": [session_view(s, current) for s in found]})

    async def end_session(self, request: HttpRequest, claims: Claims, session_id: str) -> Reply:
        """``DELETE /sessions/{id}``: end one of the caller's live sessions; 204, else 404.

        Ending the current session clears its cookies, as a logout does.
        """
        if _SESSION_ID.fullmatch(session_id) is None:
            return _not_found()
        try:
            mine = await self.authority.sessions(claims.subject)
            if not any(s.sid == session_id for s in mine):
                return _not_found()
            ended = await self.authority.end_session(session_id, reason="ended_by_user")
        except StoreError as exc:
            return self.refused(request, self._outage(request, exc))
        if not ended:  # ended by someone else between the read and the write
            return _not_found()
        current = session_id == claims.sid
        return Reply(
            status=204,
            headers=NO_STORE,
            set_cookies=self._clearing_for(request, claims) if current else (),
        )

    async def end_other_sessions(self, request: HttpRequest, claims: Claims) -> Reply:
        """``POST /logout/others``: end every session of the caller but this one, in one
        store call; ``{"ended": n}``. The current session and its tokens stay valid."""
        sid = claims.session_id
        if sid is None:
            return self.refused(request, invalid_token("no_session_id"))
        try:
            ended = await self.authority.revoke_subject(
                claims.subject, reason="logout_others", keep_sid=sid
            )
        except StoreError as exc:
            return self.refused(request, self._outage(request, exc))
        return json_reply({"ended": ended})

    async def end_all_sessions(self, request: HttpRequest, claims: Claims) -> Reply:
        """``POST /logout/all``: end every session of the caller, this one included;
        ``{"ended": n}`` and the cookies cleared. Tokens issued before now die too."""
        try:
            ended = await self.authority.revoke_subject(claims.subject, reason="logout_all")
        except StoreError as exc:
            return self.refused(request, self._outage(request, exc))
        return json_reply({"ended": ended}, set_cookies=self._clearing_for(request, claims))

    def _clearing_for(self, request: HttpRequest, claims: Claims) -> tuple[SetCookie, ...]:
        """Clearing cookies when the request's own cookies belong to the ended session."""
        jar = self.jar
        if jar is None:
            return ()
        cookies = request.cookies
        for name in (jar.config.access_cookie, jar.config.refresh_cookie):
            value = cookies.get(name)
            if value:
                theirs = self._any_authentic(value)
                if theirs is not None and theirs.sid == claims.sid:
                    return jar.clearing()
        return ()


__all__ = ("CLIENT_KEY", "MAX_CLIENT_LABEL", "Devices", "client_label", "session_view")
