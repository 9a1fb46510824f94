"""DPoP settings of the web layer, checked once when an app is built (see ``_dpop``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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

    algorithms: Sequence[str] = DEFAULT_DPOP_ALGORITHMS
    #: How old a proof may be (seconds since its ``iat``).
    max_age: float = DEFAULT_PROOF_MAX_AGE
    #: How far in the future a proof's ``iat`` may lie (client clock skew).
    leeway: float = DEFAULT_PROOF_LEEWAY
    max_proof_bytes: int = DEFAULT_MAX_PROOF_BYTES
    origin: str | None = None
    nonce_secret: bytes | None = None
    nonce_lifetime: float = 300.0
    #: The verifier built from the settings above (not a setting).
    verifier: DPoPVerifier = field(init=False, repr=False, compare=False)

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
        object.__setattr__(self, "verifier", verifier)


__all__ = ("DPoPConfig",)
