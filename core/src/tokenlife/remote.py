"""What a remote key-set driver needs: the policy, the state machine and its decisions.

The state machine decides; a driver (``tokenlife_jwks`` on httpx, or your own)
only fetches and reports. Drive it with ``decide(kid, now)`` and apply the
:class:`UseKeys` / :class:`Fetch` / :class:`Wait` / :class:`Refuse` it returns.
"""

from __future__ import annotations

from ._jwks import PRIVATE_JWK_MEMBERS, RemoteKeyPolicy, parse_jwks, same_keys
from ._remote import Decision, Fetch, Refuse, RemoteKeyState, UseKeys, Wait

__all__ = (
    "PRIVATE_JWK_MEMBERS",
    "Decision",
    "Fetch",
    "Refuse",
    "RemoteKeyPolicy",
    "RemoteKeyState",
    "UseKeys",
    "Wait",
    "parse_jwks",
    "same_keys",
)
