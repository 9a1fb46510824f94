"""Sender-constrained tokens (RFC 9449 §6): what a bound token needs from its request.

A session started with a DPoP proof is bound to the key's RFC 7638
thumbprint: every token of it carries ``cnf: {"jkt": …}``, signed, so the
check below needs no store read. The caller states which key the request
proved (``jkt``, from a proof that passed :class:`~tokenlife.DPoPVerifier`);
these pure rules say whether token and request go together.
"""

from __future__ import annotations

import hmac
import re
from typing import Any, Final

from msgspec import UNSET

from ._claims import Claims
from ._errors import ClaimError, DPoPBindingError

#: A SHA-256 thumbprint is 43 base64url characters; other hashes may be longer.
_JKT: Final = re.compile(r"[A-Za-z0-9_-]{43,128}")


def confirmation(jkt: str) -> dict[str, Any]:
    """The ``cnf`` claim binding a session to ``jkt`` (refused unless it is a thumbprint)."""
    if not isinstance(jkt, str) or not _JKT.fullmatch(jkt):
        raise ClaimError("jkt must be a base64url key thumbprint", code="bad_jkt")
    return {"jkt": jkt}


def check_binding(claims: Claims, jkt: str | None, *, required: bool) -> None:
    """Raise :class:`DPoPBindingError` unless ``claims`` fit the request's proven key.

    A bound token needs a proof by its own key; a token bound any other way
    (a ``cnf`` without ``jkt``) is refused, never taken for a bearer token;
    an unbound token with a proof is refused too (the scheme names the
    binding), and without one only when the policy requires DPoP.
    """
    if claims.cnf is UNSET:
        if jkt is not None:
            raise DPoPBindingError("a DPoP proof came with an unbound token", code="dpop_not_bound")
        if required:
            raise DPoPBindingError("the policy requires DPoP-bound tokens")
        return
    bound = claims.jkt
    if bound is None:
        raise DPoPBindingError("the token is bound in a way this server cannot check")
    if jkt is None:
        raise DPoPBindingError("a DPoP-bound token was used without a proof of its key")
    if not hmac.compare_digest(jkt.encode("ascii", "replace"), bound.encode("ascii", "replace")):
        raise DPoPBindingError("the proof is by another key", code="dpop_key_mismatch")


__all__ = ("check_binding", "confirmation")
