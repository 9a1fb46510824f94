"""DPoP at the HTTP boundary (RFC 9449): request facts in, a proven key or a refusal out.

The pure proof checks are :class:`~tokenlife.DPoPVerifier`'s; this module
states what they are checked against — the request's method and URL, the
access token at a resource — asks the store once whether the proof's
``jti`` was seen before (:meth:`~tokenlife.Store.claim_once`, shared by
every server process), and turns each failure into the reply §7.1 (at a
resource: 401 with a ``DPoP`` challenge) or §5 (at the token endpoint:
400) prescribes. A token whose proof fails is never looked up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from tokenlife._dpop import DPoPProof
from tokenlife._errors import DPoPNonceError, DPoPProofError

from ._dpop_config import DPoPConfig
from ._facts import HttpRequest
from ._replies import Refusal, invalid_token

if TYPE_CHECKING:
    from tokenlife._authority import TokenAuthority

_DPOP_HEADER: Final = b"dpop"


def dpop_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: DPoP <token>`` header, else ``None``.

    Called once :func:`~tokenlife.web.bearer_token` found no bearer token,
    so a repeated ``Authorization`` header was refused already.
    """
    found = request.header(b"authorization")
    if found is None:
        return None
    scheme, _, token = found.partition(b" ")
    if scheme.lower() != b"dpop":
        return None
    token = token.strip()
    if not token or b" " in token:
        raise invalid_token("malformed_dpop_token")
    return token.decode("latin-1")


class DPoPGuard:
    """Proves a request's key for :class:`~tokenlife.web.Gate` (resource and token routes)."""

    __slots__ = ("_algs", "_authority", "_nonces", "_now", "config", "verifier")

    def __init__(
        self, config: DPoPConfig, authority: TokenAuthority, now: Callable[[], float]
    ) -> None:
        self.config = config
        self.verifier = config.verifier
        self._nonces = self.verifier.nonces
        self._authority = authority
        self._now = now
        self._algs = (f'algs="{" ".join(config.algorithms)}"',)

    def url(self, request: HttpRequest) -> str:
        """The URL the request was sent to, as its proof must name it."""
        origin = self.config.origin
        if origin is None:
            host = request.header(b"host")
            if not host:
                raise self._refusal(DPoPProofError("no Host", code="dpop_no_host"), resource=True)
            origin = f"{request.scheme or 'https'}://{host.decode('latin-1')}"
        return origin + request.path

    def presented(self, request: HttpRequest) -> bool:
        """Does the request carry a ``DPoP`` header at all?"""
        return request.header(_DPOP_HEADER) is not None

    async def prove(
        self, request: HttpRequest, *, access_token: str | None = None, resource: bool
    ) -> DPoPProof:
        """The request's proof, checked (§4.3) and claimed once; else a :class:`Refusal`."""
        proof = self.check(request, access_token=access_token, resource=resource)
        await self.claim(proof, resource=resource)
        return proof

    def check(
        self, request: HttpRequest, *, access_token: str | None = None, resource: bool
    ) -> DPoPProof:
        """Every stateless check of the request's proof (no store)."""
        values = request.header_values(_DPOP_HEADER)
        try:
            if len(values) != 1:
                raise DPoPProofError(
                    "exactly one DPoP header is needed", code="dpop_missing" if not values else
                    "dpop_repeated"
                )  # fmt: skip
            return self.verifier.verify(
                values[0],
                method=request.method,
                url=self.url(request),
                now=self._now(),
                access_token=access_token,
            )
        except DPoPProofError as exc:
            raise self._refusal(exc, resource=resource) from None

    async def claim(self, proof: DPoPProof, *, resource: bool) -> None:
        """Refuse a proof seen before (by any process sharing the store)."""
        key = f"dpop:{proof.jkt}:{proof.jti}"
        fresh = await self._authority.store.claim_once(
            key, until=proof.replay_until, now=self._now()
        )
        if not fresh:
            replayed = DPoPProofError("the proof was used before", code="dpop_replayed")
            raise self._refusal(replayed, resource=resource)

    def token_refused(self, code: str) -> Refusal:
        """401 ``invalid_token`` with the ``DPoP`` challenge (a refused or wrongly bound token)."""
        return Refusal(
            401, "invalid_token", code, challenge="invalid_token", scheme="DPoP", params=self._algs
        )

    def _refusal(self, exc: DPoPProofError, *, resource: bool) -> Refusal:
        headers: tuple[tuple[str, str], ...] = ()
        if isinstance(exc, DPoPNonceError) and self._nonces is not None:
            headers = (("dpop-nonce", self._nonces.current(self._now())),)
        error = "use_dpop_nonce" if isinstance(exc, DPoPNonceError) else "invalid_dpop_proof"
        reason = exc.code
        if not resource:
            # The token endpoint (RFC 9449 §5): a 400 token error, no challenge.
            return Refusal(400, error, reason, headers=headers)
        return Refusal(
            401,
            error,
            reason,
            challenge=error,
            scheme="DPoP",
            params=self._algs,
            headers=headers,
        )


__all__ = ("DPoPGuard", "dpop_token")
