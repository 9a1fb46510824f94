"""One error hierarchy. Every error carries a stable ``code`` for logs and metrics.

Callers branch on the class (``except ExpiredTokenError``) or on ``.code``;
the human message is for people and may change between releases.  HTTP adapters
map the classes to RFC 6750 / RFC 6749 error codes and never show the message
to a client.
"""

from __future__ import annotations

from typing import ClassVar


class TokenLifeError(Exception):
    """Base of every error tokenlife raises on purpose."""

    code: ClassVar[str] = "tokenlife_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code is not None:
            # A finer reason inside one class, e.g. ``bad_issuer`` is a ClaimError.
            self.code = code  # type: ignore[misc]

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigurationError(TokenLifeError, ValueError):
    """A key, policy or codec setting is unusable; raised at construction."""

    code = "configuration"


class KeyConfigError(ConfigurationError):
    """A key cannot be used as given (too short, wrong type for its algorithm, ...)."""

    code = "bad_key"


class PolicyError(ConfigurationError):
    """A Policy setting is out of range."""

    code = "bad_policy"


class TokenError(TokenLifeError):
    """A token was rejected. The store was not changed by the rejection itself."""

    code = "invalid_token"


class MalformedTokenError(TokenError):
    """The token is not a compact JWS of the expected shape."""

    code = "malformed"


class TokenTooLargeError(MalformedTokenError):
    """The token is larger than the configured cap; nothing was decoded."""

    code = "too_large"


class UnsupportedHeaderError(TokenError):
    """The JOSE header asks for something tokenlife refuses (``crit``, ``jku``, ...)."""

    code = "bad_header"


class AlgorithmError(TokenError):
    """The ``alg`` is not the one bound to the key named by ``kid``."""

    code = "bad_algorithm"


class UnknownKeyError(TokenError):
    """No key with this ``kid`` is configured."""

    code = "unknown_key"


class SignatureError(TokenError):
    """The signature does not verify."""

    code = "bad_signature"


class TokenTypeError(TokenError):
    """The ``typ`` header is not the kind expected here (access vs refresh)."""

    code = "wrong_type"


class ClaimError(TokenError):
    """A claim is missing, has the wrong JSON type, or has the wrong value."""

    code = "bad_claim"


class ExpiredTokenError(TokenError):
    """The token, or its session, has expired."""

    code = "expired"


class NotYetValidError(TokenError):
    """``nbf`` or ``iat`` lies in the future beyond the leeway."""

    code = "not_yet_valid"


class RevokedTokenError(TokenError):
    """The token's session, subject or ``jti`` has been revoked."""

    code = "revoked"


class UnknownTokenError(TokenError):
    """A well-signed token the store does not know (purged, or never issued here)."""

    code = "unknown_token"


class ReuseDetectedError(RevokedTokenError):
    """A rotated refresh token was presented again; its whole session is now revoked."""

    code = "reuse_detected"


class DPoPProofError(TokenError):
    """A DPoP proof (RFC 9449) is missing, malformed, or does not fit its request or key."""

    code = "invalid_dpop_proof"


class DPoPNonceError(DPoPProofError):
    """The server requires a DPoP nonce and the proof lacks its current one (§8)."""

    code = "use_dpop_nonce"


class DPoPBindingError(TokenError):
    """A token and the request's DPoP key do not go together (RFC 9449 §6-7).

    ``dpop_required``: a bound token without a proof (used as a bearer token),
    or an unbound one where the policy requires DPoP; ``dpop_key_mismatch``: a
    proof by another key; ``dpop_not_bound``: a proof with a token bound to no key.
    """

    code = "dpop_required"


class StoreError(TokenLifeError):
    """The store could not answer. Fail closed: never treat this as a valid token."""

    code = "store_unavailable"


class KeySetUnavailableError(StoreError):
    """No usable keys from a remote key set: never fetched, or stale for too long.

    A kind of store outage (the issuer's JWKS is where the keys are kept), so
    adapters answer 503 and nothing verifies: fail closed.
    """

    code = "keys_unavailable"


class JWKSError(TokenLifeError):
    """A fetched JWKS document was refused (not JSON, wrong types, private keys, ...)."""

    code = "bad_jwks"


class SessionLimitError(TokenLifeError):
    """A login was refused: the subject already holds ``Policy.max_sessions`` live sessions.

    Not a :class:`TokenError` (no token was presented) nor a :class:`StoreError`
    (the store answered): the policy said no, and nothing was written. Raised only
    with ``on_session_limit="refuse"``; an app answers it as a refused login.
    """

    code = "session_limit"


class IllegalTransitionError(TokenLifeError):
    """A lifecycle state was asked to move in a way the transition table forbids.

    Raised only by a bug in a store or the driver, never by bad client input.
    """

    code = "illegal_transition"


__all__ = (
    "AlgorithmError",
    "ClaimError",
    "ConfigurationError",
    "DPoPBindingError",
    "DPoPNonceError",
    "DPoPProofError",
    "ExpiredTokenError",
    "IllegalTransitionError",
    "JWKSError",
    "KeyConfigError",
    "KeySetUnavailableError",
    "MalformedTokenError",
    "NotYetValidError",
    "PolicyError",
    "ReuseDetectedError",
    "RevokedTokenError",
    "SessionLimitError",
    "SignatureError",
    "StoreError",
    "TokenError",
    "TokenLifeError",
    "TokenTooLargeError",
    "TokenTypeError",
    "UnknownKeyError",
    "UnknownTokenError",
    "UnsupportedHeaderError",
)
