"""tokenlife: the whole life of JSON Web Tokens — issue, verify, refresh, rotate, revoke."""

from __future__ import annotations

from ._authority import ACCESS_REQUIRED_CLAIMS, SecurityEvent, TokenAuthority
from ._claims import ACCESS_TYP, REFRESH_TYP, RESERVED_CLAIMS, Claims, TokenPair
from ._codec import DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY, Codec, peek_claims, peek_header
from ._dpop import (
    DEFAULT_DPOP_ALGORITHMS,
    DPOP_TYP,
    DPoPNonces,
    DPoPProof,
    DPoPVerifier,
    access_token_hash,
    jwk_thumbprint,
    normalize_htu,
)
from ._errors import (
    AlgorithmError,
    ClaimError,
    ConfigurationError,
    DPoPBindingError,
    DPoPNonceError,
    DPoPProofError,
    ExpiredTokenError,
    IllegalTransitionError,
    JWKSError,
    KeyConfigError,
    KeySetUnavailableError,
    MalformedTokenError,
    NotYetValidError,
    PolicyError,
    ReuseDetectedError,
    RevokedTokenError,
    SignatureError,
    StoreError,
    TokenError,
    TokenLifeError,
    TokenTooLargeError,
    TokenTypeError,
    UnknownKeyError,
    UnknownTokenError,
    UnsupportedHeaderError,
)
from ._jwks import RemoteKeyPolicy
from ._keys import HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS, Key, KeySet
from ._observe import Observer, Operation
from ._policy import MAX_GRACE, Policy
from ._remote import RemoteKeyState
from ._store import RefreshRecord, RefreshState, SessionRecord, Store
from ._verifier import AccessVerifier

__version__ = "0.1.0"

__all__ = (
    "ACCESS_REQUIRED_CLAIMS",
    "ACCESS_TYP",
    "DEFAULT_DPOP_ALGORITHMS",
    "DEFAULT_MAX_TOKEN_BYTES",
    "DPOP_TYP",
    "HMAC_ALGORITHMS",
    "MAX_GRACE",
    "MAX_LEEWAY",
    "REFRESH_TYP",
    "RESERVED_CLAIMS",
    "SUPPORTED_ALGORITHMS",
    "AccessVerifier",
    "AlgorithmError",
    "ClaimError",
    "Claims",
    "Codec",
    "ConfigurationError",
    "DPoPBindingError",
    "DPoPNonceError",
    "DPoPNonces",
    "DPoPProof",
    "DPoPProofError",
    "DPoPVerifier",
    "ExpiredTokenError",
    "IllegalTransitionError",
    "JWKSError",
    "Key",
    "KeyConfigError",
    "KeySet",
    "KeySetUnavailableError",
    "MalformedTokenError",
    "NotYetValidError",
    "Observer",
    "Operation",
    "Policy",
    "PolicyError",
    "RefreshRecord",
    "RefreshState",
    "RemoteKeyPolicy",
    "RemoteKeyState",
    "ReuseDetectedError",
    "RevokedTokenError",
    "SecurityEvent",
    "SessionRecord",
    "SignatureError",
    "Store",
    "StoreError",
    "TokenAuthority",
    "TokenError",
    "TokenLifeError",
    "TokenPair",
    "TokenTooLargeError",
    "TokenTypeError",
    "UnknownKeyError",
    "UnknownTokenError",
    "UnsupportedHeaderError",
    "__version__",
    "access_token_hash",
    "jwk_thumbprint",
    "normalize_htu",
    "peek_claims",
    "peek_header",
)
