"""DPoP settings of the web layer, checked once when an app is built (see ``_dpop``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenlife._dpop import (
    DEFAULT_DPOP_ALGORITHMS,
    DEFAULT_MAX_PROOF_BYTES,
    DEFAULT_PROOF_LEEWAY,
    DEFAULT_PROOF_MAX_AGE,
    DPoPNonces,
    DPoPVerifier,
)
from tokenlife._errors import ConfigurationError


@dataclass(frozen=True)
class DPoPConfig:
    """How DPoP proofs are checked; ``WebConfig(dpop=DPoPConfig(...))`` turns DPoP on.

    Bearer and DPoP clients then coexist, each session bound or not from its
    login; ``Policy(require_dpop=True)`` refuses bearer sessions altogether.
    ``origin`` (``"https://api.example"``) is the scheme and host proofs must
    name; ``None`` takes them from the request (the server's scheme and the
    ``Host`` header) — set it behind a proxy that terminates TLS or rewrites
    ``Host``. ``nonce_secret`` (32 bytes or more, shared by every instance)
    makes the server require its own nonces (§8).
    """

    #: What proofs may be signed with (asymmetric only), in the order the
    #: ``algs`` of a challenge lists them.
    algorithms: Sequence[str] = DEFAULT_DPOP_ALGORITHMS
    #: How old a proof may be (seconds since its ``iat``).
    max_age: float = DEFAULT_PROOF_MAX_AGE
    #: How far in the future a proof's ``iat`` may lie (client clock skew).
    leeway: float = DEFAULT_PROOF_LEEWAY
    #: Longer proofs are refused before any decoding.
    max_proof_bytes: int = DEFAULT_MAX_PROOF_BYTES
    #: The scheme and host proofs must name (``https://api.example``); ``None``:
    #: the request's own scheme and ``Host`` header. Set it behind a proxy
    #: that terminates TLS or rewrites ``Host``.
    origin: str | None = None
    #: 32 bytes or more, shared by every instance: the server then requires
    #: its own stateless nonces (RFC 9449 §8).
    nonce_secret: bytes | None = None
    #: How long a server nonce stays current (the previous one is accepted too).
    nonce_lifetime: float = 300.0

    def __post_init__(self) -> None:
        origin = self.origin
        if origin is not None:
            if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
                raise ConfigurationError(
                    f"the DPoP origin is a scheme and host, like https://api.example: {origin!r}"
                )
            object.__setattr__(self, "origin", origin.rstrip("/"))
        nonces = None
        if self.nonce_secret is not None:
            nonces = DPoPNonces(self.nonce_secret, lifetime=self.nonce_lifetime)
        verifier = DPoPVerifier(
            algorithms=self.algorithms,
            max_age=self.max_age,
            leeway=self.leeway,
            max_proof_bytes=self.max_proof_bytes,
            nonces=nonces,
        )
        object.__setattr__(self, "_verifier", verifier)

    @property
    def verifier(self) -> DPoPVerifier:
        """The proof verifier these settings describe (built once, keys cached)."""
        verifier: DPoPVerifier = self.__dict__["_verifier"]
        return verifier


__all__ = ("DPoPConfig",)
