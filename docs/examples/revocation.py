"""Revocation with the core: logout, "your devices", log out everywhere (or everywhere
else), a session limit, stateless mode."""

from __future__ import annotations

import logging
from typing import Any

from tokenlife import KeySet, Policy, SecurityEvent, TokenAuthority
from tokenlife.store import Store

security_log = logging.getLogger("myapp.security")


# --8<-- [start:logout]
async def logout(auth: TokenAuthority, token: str) -> None:
    # Access or refresh token: the whole session is revoked; an access token's
    # jti is also denied until its exp. Idempotent, and an invalid or expired
    # token is silently ignored (RFC 7009): logout never fails for the client.
    await auth.revoke(token)


# --8<-- [end:logout]


# --8<-- [start:devices]
async def login(auth: TokenAuthority, subject: str, user_agent: str, ip: str) -> str:
    pair = await auth.issue(subject, metadata={"user_agent": user_agent, "ip": ip})
    return pair.access_token


async def devices(auth: TokenAuthority, subject: str) -> list[dict[str, Any]]:
    """The live sessions of a user, oldest first, for a "your devices" page."""
    return [
        {"id": s.sid, "since": s.created_at, "last_refresh": s.refreshed_at, **s.metadata}
        for s in await auth.sessions(subject)
    ]


async def sign_out_device(auth: TokenAuthority, subject: str, sid: str) -> bool:
    # Only the user's own sessions: a session id is not a capability.
    if not any(s.sid == sid for s in await auth.sessions(subject)):
        return False
    return await auth.revoke_session(sid, reason="signed_out_by_user")


# --8<-- [end:devices]


# --8<-- [start:everywhere]
async def password_changed(auth: TokenAuthority, subject: str) -> int:
    # Every session of the subject that began before now dies, with all its
    # tokens: a watermark on the subject, not just a loop over its sessions.
    return await auth.revoke_subject(subject, reason="password_changed")


# --8<-- [end:everywhere]


# --8<-- [start:everywhere-else]
async def sign_out_other_devices(auth: TokenAuthority, access_token: str) -> int:
    # Every session of the caller but the one this token belongs to, in one
    # atomic store call. No watermark: the caller's own tokens keep working.
    claims = await auth.verify(access_token)
    subject, sid = str(claims.sub), str(claims.sid)  # verify requires both claims
    return await auth.revoke_subject(subject, reason="signed_out_others", keep_sid=sid)


# --8<-- [end:everywhere-else]


# --8<-- [start:limit]
def limited_authority(store: Store, keys: KeySet) -> TokenAuthority:
    # At most 5 live sessions per user: a sixth login ends the oldest one, in
    # the same atomic step as the login (on_session_limit="refuse" would raise
    # SessionLimitError instead, and store nothing).
    policy = Policy(max_sessions=5, on_session_limit="end_oldest")
    return TokenAuthority(store, keys=keys, policy=policy, on_event=on_event)


# --8<-- [end:limit]


# --8<-- [start:events]
def on_event(event: SecurityEvent) -> None:
    if event.kind == "reuse_detected":
        # A rotated refresh token came back: a stolen token, or a client bug.
        security_log.warning(
            "refresh token reuse: subject=%s session=%s", event.subject, event.session_id
        )


def make_authority(store: Store, keys: KeySet) -> TokenAuthority:
    return TokenAuthority(store, keys=keys, on_event=on_event)


# --8<-- [end:events]


# --8<-- [start:stateless]
def stateless_authority(store: Store, keys: KeySet) -> TokenAuthority:
    # verify() checks signature and claims only: no store read per request.
    # Logout and reuse detection still revoke the session, so its refresh
    # token dies at once -- but an access token already out there stays valid
    # until its exp. Keep access_ttl short in this mode.
    policy = Policy(revocation="stateless", access_ttl=300)
    return TokenAuthority(store, keys=keys, policy=policy)


# --8<-- [end:stateless]
