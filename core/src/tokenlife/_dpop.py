"""DPoP proofs (RFC 9449): the pure checks, request facts and ``now`` in, a verdict out.

A DPoP proof is a JWT the client signs with a key it never hands over; a
token bound to that key's thumbprint is useless to whoever copies it. The
checks here are §4.3's list, in its order, with the codec's hostile-input
discipline: a size cap before any decoding, strict JSON (no duplicate
members), the algorithm taken from an allow-list of asymmetric ones and bound
to the embedded key, never a private key, never a key too large to be cheap.
Whether a proof's ``jti`` was seen before is a store question; the caller
asks it after these checks pass (:attr:`DPoPProof.replay_until` says for how
long the answer matters).
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from ._b64 import b64url_decode, b64url_encode
from ._codec import _split, _strict_json_object
from ._errors import (
    ConfigurationError,
    DPoPNonceError,
    DPoPProofError,
    KeyConfigError,
    MalformedTokenError,
)
from ._keys import ASYMMETRIC_ALGORITHMS, Key, _thumbprint

DPOP_TYP: Final = "dpop+jwt"
#: The algorithms a proof may use unless configured otherwise (RFC 9449 §4.2: asymmetric only).
DEFAULT_DPOP_ALGORITHMS: Final = ("ES256", "EdDSA", "PS256", "RS256")
#: Proofs longer than this are refused before decoding (a 4096-bit RSA proof is ~1.6 KB).
DEFAULT_MAX_PROOF_BYTES: Final = 4096
#: How old a proof may be (seconds since its ``iat``), RFC 9449 §11.1.
DEFAULT_PROOF_MAX_AGE: Final = 60.0
#: How far in the future a proof's ``iat`` may lie (client clock skew).
DEFAULT_PROOF_LEEWAY: Final = 5.0
MAX_RSA_BITS: Final = 4096

_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KEY_MEMBERS: Final = ("n", "e", "x", "y", "crv", "kty")
_KTY_FOR: Final = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_UNRESERVED: Final = frozenset(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
_KEY_CACHE_SIZE: Final = 1024


class DPoPProof(msgspec.Struct, frozen=True, kw_only=True):
    """A proof that passed every stateless check."""

    #: RFC 7638 thumbprint of the proof's key: what a bound token's ``cnf.jkt`` holds.
    jkt: str
    jti: str
    htm: str
    htu: str
    iat: float
    #: Until when a replay of this ``jti`` could still pass the ``iat`` window.
    replay_until: float
    nonce: str | None = None


class _ProofClaims(msgspec.Struct, frozen=True):
    jti: str
    htm: str
    htu: str
    iat: float
    ath: str | None = None
    nonce: str | None = None


_claims_decode = msgspec.json.Decoder(_ProofClaims).decode


def access_token_hash(access_token: str | bytes) -> str:
    """The ``ath`` of RFC 9449 §4.2: base64url(SHA-256(ASCII of the token))."""
    raw = access_token.encode("ascii") if isinstance(access_token, str) else access_token
    return b64url_encode(hashlib.sha256(raw).digest()).decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK (the ``jkt`` of RFC 9449 §6)."""
    try:
        return _thumbprint(jwk)
    except (KeyError, TypeError) as exc:
        raise DPoPProofError(f"not a usable public JWK: {exc}", code="dpop_bad_key") from None


def _normalize_percent(text: str) -> str:
    """RFC 3986 §6.2.2.1-2: upper-case escapes, decode escaped unreserved bytes."""
    if "%" not in text:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "%" and _is_hex(text[i + 1 : i + 3]):
            byte = int(text[i + 1 : i + 3], 16)
            out.append(chr(byte) if byte in _UNRESERVED else f"%{byte:02X}")
            i += 3
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _is_hex(pair: str) -> bool:
    return len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair)


def normalize_htu(url: str) -> str:
    """The form §4.3 compares ``htu`` in: RFC 3986 §6.2.2-6.2.3, query and fragment dropped."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DPoPProofError("the URI is not valid", code="dpop_bad_htu") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise DPoPProofError("the URI must be absolute http(s)", code="dpop_bad_htu")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    return f"{scheme}://{netloc}{_normalize_percent(parts.path) or '/'}"


class DPoPNonces:
    """Server-provided nonces (RFC 9449 §8) that need no storage.

    A nonce is the current time step and an HMAC of it, so every server
    instance sharing the secret issues and accepts the same values; one from
    the previous step stays valid, so a nonce handed out just before a step
    boundary still works for its request.
    """

    def __init__(self, secret: bytes, *, lifetime: float = 300.0) -> None:
        if not isinstance(secret, bytes) or len(secret) < 32:
            raise ConfigurationError("a DPoP nonce secret must be at least 32 bytes")
        if not 1 <= lifetime <= 86400:
            raise ConfigurationError("a DPoP nonce lifetime must be between 1 s and a day")
        self._secret = secret
        self.lifetime = float(lifetime)

    def _for_step(self, step: int) -> str:
        counter = step.to_bytes(8, "big", signed=True)
        mac = hmac.new(self._secret, b"dpop-nonce" + counter, hashlib.sha256).digest()[:16]
        return b64url_encode(counter + mac).decode("ascii")

    def current(self, now: float) -> str:
        """The nonce to send in ``DPoP-Nonce`` now."""
        return self._for_step(int(now // self.lifetime))

    def accepts(self, nonce: str | None, now: float) -> bool:
        """Whether ``nonce`` is this step's or the previous step's."""
        if not isinstance(nonce, str) or len(nonce) > 64:
            return False
        step = int(now // self.lifetime)
        return any(hmac.compare_digest(nonce, self._for_step(s)) for s in (step, step - 1))


class DPoPVerifier:
    """Checks proofs against the request they came with. Pure: ``now`` is an argument.

    Parsed keys are cached by the proof's header segment, which a client repeats
    on every request, so a warm proof costs one signature check and a small JSON
    decode.
    """

    def __init__(
        self,
        *,
        algorithms: Iterable[str] = DEFAULT_DPOP_ALGORITHMS,
        max_age: float = DEFAULT_PROOF_MAX_AGE,
        leeway: float = DEFAULT_PROOF_LEEWAY,
        max_proof_bytes: int = DEFAULT_MAX_PROOF_BYTES,
        nonces: DPoPNonces | None = None,
    ) -> None:
        allowed = tuple(algorithms)
        refused = [alg for alg in allowed if alg not in ASYMMETRIC_ALGORITHMS]
        if refused or not allowed:
            raise ConfigurationError(
                f"DPoP proofs need asymmetric algorithms among {sorted(ASYMMETRIC_ALGORITHMS)}; "
                f"refused: {refused or 'an empty list'}"
            )
        if not 0 < max_age <= 3600 or not 0 <= leeway <= 300:
            raise ConfigurationError("DPoP max_age must be in (0, 3600] and leeway in [0, 300]")
        if not 512 <= max_proof_bytes <= 65536:
            raise ConfigurationError("max_proof_bytes must be between 512 and 65536")
        self.algorithms = frozenset(allowed)
        self.max_age = float(max_age)
        self.leeway = float(leeway)
        self.max_proof_bytes = max_proof_bytes
        #: When set, every proof must carry a nonce these accept (§8).
        self.nonces = nonces
        self._keys: OrderedDict[bytes, tuple[Key, str]] = OrderedDict()
        # Normalised URIs, by the text they came as: a client names the same few.
        self._htus: dict[str, str] = {}

    def verify(
        self,
        proof: str | bytes,
        *,
        method: str,
        url: str,
        now: float,
        access_token: str | bytes | None = None,
    ) -> DPoPProof:
        """Every stateless check of RFC 9449 §4.3; raises ``DPoPProofError`` with a reason code.

        ``access_token`` is given at resource requests (the proof must carry its
        ``ath``). With ``nonces`` configured, a missing or stale nonce raises
        ``DPoPNonceError``, so the caller answers ``use_dpop_nonce`` with a fresh one.
        """
        raw = _proof_bytes(proof, self.max_proof_bytes)
        try:
            header_segment, payload_segment, signature = _split(raw)
        except MalformedTokenError:
            raise DPoPProofError("not a compact JWS", code="dpop_malformed") from None
        key, jkt = self._key(header_segment)
        try:
            valid = key.verify_segment(header_segment + b"." + payload_segment, signature)
        except Exception:
            valid = False
        if not valid:
            raise DPoPProofError("the proof's signature does not verify", code="dpop_bad_signature")
        claims = _decode_claims(payload_segment)
        if claims.htm != method.upper() or not claims.htm:
            raise DPoPProofError("the proof is for another HTTP method", code="dpop_bad_htm")
        if self._normal(claims.htu) != self._normal(url):
            raise DPoPProofError("the proof is for another URI", code="dpop_bad_htu")
        self._check_time(claims.iat, now)
        if access_token is not None:
            expected = access_token_hash(access_token)
            if claims.ath is None or not hmac.compare_digest(claims.ath, expected):
                raise DPoPProofError("the proof's ath is not this token's", code="dpop_bad_ath")
        if self.nonces is not None and not self.nonces.accepts(claims.nonce, now):
            raise DPoPNonceError("the server requires its current DPoP nonce")
        return DPoPProof(
            jkt=jkt,
            jti=claims.jti,
            htm=claims.htm,
            htu=claims.htu,
            iat=claims.iat,
            replay_until=claims.iat + self.max_age,
            nonce=claims.nonce,
        )

    def _normal(self, url: str) -> str:
        normal = self._htus.get(url)
        if normal is None:
            normal = normalize_htu(url)  # raises for a URI that is not http(s): never cached
            if len(self._htus) >= _KEY_CACHE_SIZE:
                self._htus.clear()
            self._htus[url] = normal
        return normal

    def _check_time(self, iat: float, now: float) -> None:
        # Both bounds are checked as written: a proof from the future is never
        # "young", whatever a clock that stepped back makes of it.
        if iat > now + self.leeway:
            raise DPoPProofError("the proof's iat lies in the future", code="dpop_iat_future")
        if now - iat > self.max_age:
            raise DPoPProofError("the proof is too old", code="dpop_iat_stale")

    def _key(self, header_segment: bytes) -> tuple[Key, str]:
        cached = self._keys.get(header_segment)
        if cached is not None:
            self._keys.move_to_end(header_segment)
            return cached
        entry = self._parse_header(header_segment)
        self._keys[header_segment] = entry
        if len(self._keys) > _KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return entry

    def _parse_header(self, header_segment: bytes) -> tuple[Key, str]:
        try:
            header = _strict_json_object(b64url_decode(header_segment), "proof header")
        except MalformedTokenError:
            raise DPoPProofError(
                "the proof header is not a JSON object", code="dpop_malformed"
            ) from None
        if header.get("typ") != DPOP_TYP:
            raise DPoPProofError("the proof's typ is not dpop+jwt", code="dpop_bad_typ")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise DPoPProofError(f"alg {alg!r} is not allowed for proofs", code="dpop_bad_alg")
        if "crit" in header:
            raise DPoPProofError("critical header extensions are refused", code="dpop_bad_header")
        jwk = header.get("jwk")
        if type(jwk) is not dict:
            raise DPoPProofError("the proof header carries no jwk", code="dpop_bad_key")
        return _public_key(jwk, alg), jwk_thumbprint(jwk)


def _proof_bytes(proof: str | bytes, max_bytes: int) -> bytes:
    if isinstance(proof, str):
        if len(proof) > max_bytes:
            raise DPoPProofError(f"proof longer than {max_bytes} bytes", code="dpop_too_large")
        try:
            return proof.encode("ascii")
        except UnicodeEncodeError:
            raise DPoPProofError("the proof is not ASCII", code="dpop_malformed") from None
    if isinstance(proof, (bytes, bytearray)):
        if len(proof) > max_bytes:
            raise DPoPProofError(f"proof longer than {max_bytes} bytes", code="dpop_too_large")
        return bytes(proof)
    raise DPoPProofError("a proof must be str or bytes", code="dpop_malformed")


def _decode_claims(payload_segment: bytes) -> _ProofClaims:
    try:
        payload = b64url_decode(payload_segment)
        if not _surely_unique(payload):
            _strict_json_object(payload, "proof payload")  # duplicate members are refused
        claims = _claims_decode(payload)
    except (MalformedTokenError, msgspec.DecodeError, msgspec.ValidationError):
        raise DPoPProofError(
            "the proof payload needs string jti/htm/htu and a numeric iat", code="dpop_bad_claims"
        ) from None
    if not claims.jti or len(claims.jti) > 256 or not claims.htu:
        raise DPoPProofError("the proof's jti or htu is empty or too long", code="dpop_bad_claims")
    if claims.iat != claims.iat or abs(claims.iat) == float("inf"):
        raise DPoPProofError("the proof's iat is not a number", code="dpop_bad_claims")
    return claims


def _surely_unique(payload: bytes) -> bool:
    """No member name repeats anywhere (so none repeats in one object).

    Exact for JSON without escapes: every quote then opens or closes a
    string, so the pieces between quotes alternate outside / inside, and a
    string is a member name exactly when a colon follows it. Anything else (an
    escape, a name seen twice even at different depths) goes to the full
    duplicate check, which costs a second parse.
    """
    if b"\\" in payload:
        return False
    pieces = payload.split(b'"')
    names = [
        pieces[i] for i in range(1, len(pieces) - 1, 2) if pieces[i + 1].lstrip().startswith(b":")
    ]
    return len(names) == len(set(names))


def _public_key(jwk: dict[str, Any], alg: str) -> Key:
    """The embedded key, public only, of the kind ``alg`` needs, of a bounded size."""
    if _PRIVATE_MEMBERS.intersection(jwk):
        raise DPoPProofError("the proof's jwk carries private key material", code="dpop_bad_key")
    if jwk.get("kty") != _KTY_FOR[alg[:2]]:
        raise DPoPProofError(f"the jwk's kty does not fit {alg}", code="dpop_bad_key")
    if any(not isinstance(jwk.get(m, ""), str) or len(jwk.get(m, "")) > 1024 for m in _KEY_MEMBERS):
        raise DPoPProofError(
            "the jwk's members are not strings of a sane size", code="dpop_bad_key"
        )
    n = jwk.get("n")
    if isinstance(n, str) and len(n) * 6 > MAX_RSA_BITS + 8:
        raise DPoPProofError(f"RSA keys above {MAX_RSA_BITS} bits are refused", code="dpop_bad_key")
    e = jwk.get("e")
    if isinstance(e, str) and len(e) > 8:
        raise DPoPProofError("the RSA exponent is too large", code="dpop_bad_key")
    public = {k: v for k, v in jwk.items() if k not in ("alg", "kid", "use", "key_ops")}
    try:
        return Key.from_jwk(public, algorithm=alg)
    except KeyConfigError as exc:
        raise DPoPProofError(f"unusable jwk: {exc.message}", code="dpop_bad_key") from None


__all__ = (
    "DEFAULT_DPOP_ALGORITHMS",
    "DEFAULT_MAX_PROOF_BYTES",
    "DEFAULT_PROOF_LEEWAY",
    "DEFAULT_PROOF_MAX_AGE",
    "DPOP_TYP",
    "DPoPNonces",
    "DPoPProof",
    "DPoPVerifier",
    "access_token_hash",
    "jwk_thumbprint",
    "normalize_htu",
)
