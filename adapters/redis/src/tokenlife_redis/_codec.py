"""How records are written into Redis values, and read back exactly.

Sessions are hashes, one field per attribute: the Lua scripts read and update
single fields (``cj``, ``af``, ``rv``…) without parsing or re-serialising the
rest, and HSET leaves the key's expiry alone. The two free-form dicts
(``access_claims``, ``metadata``) are opaque msgspec-JSON blobs Lua never looks at.

A refresh record is one field of its session's family hash, holding a compact
msgspec-JSON *array* (about half the size of an object with key names, and
decoded in one C call). Lua reads it with ``cjson.decode`` only to compare;
it never re-encodes one: it builds records by concatenating strings this
module encoded, and an ACTIVE record always ends in :data:`ACTIVE_TAIL`, so
rotating one is "cut that tail, append the rotated tail".

Times travel as the shortest text that round-trips the float (msgspec's
encoder), are stored as that text, and are only ever *compared* as numbers in
Lua (``tonumber``/``cjson`` parse with strtod, exact), never formatted there —
so no float changes on its way through Redis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec

from tokenlife import ConfigurationError, StoreError
from tokenlife.store import (
    AccessStatus,
    RefreshDecision,
    RefreshRecord,
    RefreshState,
    Replay,
    RevokeForReuse,
    Rotate,
    SessionRecord,
)

#: The session hash's fields, in the order every script and read returns them.
#: ``gn`` (the generation) came last, after the layout without it: a session
#: written before has no such field, which reads as generation 0.
SESSION_FIELDS: Final = (
    "sid", "sub", "ca", "ea", "cj", "ra", "af", "rv", "rr", "ac", "md", "wm", "gn",
)  # fmt: skip
#: What the strict access check reads of a session.
ACCESS_FIELDS: Final = ("sub", "rv", "ca", "af", "wm", "gn", "ra")
#: The end of every stored ACTIVE refresh record (state, rotated_at, successor_jti).
ACTIVE_TAIL: Final = b',"active",null,null]'

_encode: Final = msgspec.json.encode
Value = bytes | str | None


class Row(msgspec.Struct, array_like=True, frozen=True):
    """A refresh record as stored: its jti is the hash field it lives under."""

    sid: str
    subject: str
    issued_at: float
    expires_at: float
    parent_jti: str | None
    state: RefreshState
    rotated_at: float | None
    successor_jti: str | None


_row_decoder: Final = msgspec.json.Decoder(Row)
_dict_decoder: Final = msgspec.json.Decoder(dict[str, Any])
_meta_decoder: Final = msgspec.json.Decoder(dict[str, str])
_reply_decoder: Final = msgspec.json.Decoder(list[str | None])


def unpack(reply: bytes | str) -> list[str | None]:
    """A script's reply packed as one JSON array of strings (see ``pack`` in _lua)."""
    return _reply_decoder.decode(reply)


def num(value: float) -> bytes:
    """A time as the shortest text that parses back to the same float."""
    text = _encode(float(value))
    if text == b"null":
        raise StoreError(f"cannot store a non-finite time ({value!r})")
    return text


def text(value: bytes | str) -> str:
    """A reply value as ``str`` (clients may or may not decode responses)."""
    return value.decode() if isinstance(value, bytes) else value


def texts(values: Iterable[Any]) -> list[str]:
    """Reply members (sids, subjects, jtis) as ``str``."""
    return [text(value) for value in values]


def opt_float(value: Value) -> float | None:
    return None if value is None else float(value)


def decision_tag(decision: RefreshDecision) -> str:
    """The name the refresh script gives the same decision."""
    if isinstance(decision, Rotate):
        return "rotate"
    if isinstance(decision, Replay):
        return "replay"
    if isinstance(decision, RevokeForReuse):
        return "reuse"
    return decision.reason


def check_prefix(prefix: str) -> None:
    if "{" in prefix or "}" in prefix:
        # A hash tag in the prefix would put every key in one slot.
        raise ConfigurationError(f"a key prefix may not contain braces: {prefix!r}")


# -- refresh records -------------------------------------------------------------


def encode_record(record: RefreshRecord) -> bytes:
    return _encode(
        (
            record.sid,
            record.subject,
            float(record.issued_at),
            float(record.expires_at),
            record.parent_jti,
            record.state.value,
            None if record.rotated_at is None else float(record.rotated_at),
            record.successor_jti,
        )
    )


def decode_record(jti: str, raw: bytes | str) -> RefreshRecord:
    row = _row_decoder.decode(raw)
    return RefreshRecord(
        jti=jti,
        sid=row.sid,
        subject=row.subject,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        parent_jti=row.parent_jti,
        state=row.state,
        rotated_at=row.rotated_at,
        successor_jti=row.successor_jti,
    )


def successor_parts(
    jti: str, sid: str, subject: str, now: bytes, successor: str
) -> tuple[bytes, bytes, bytes]:
    """What the refresh script splices: successor = head + exp + tail; parent = cut + rotated."""
    head = _encode((sid, subject))[:-1] + b"," + now + b","
    tail = b"," + _encode(jti) + ACTIVE_TAIL
    rotated = b',"rotated",' + now + b"," + _encode(successor) + b"]"
    return head, tail, rotated


# -- sessions --------------------------------------------------------------------


def encode_session(session: SessionRecord) -> list[bytes | str]:
    """HSET field/value pairs (absent optional fields are simply not written)."""
    pairs: list[bytes | str] = [
        "sid",
        session.sid,
        "sub",
        session.subject,
        "ca",
        num(session.created_at),
        "ea",
        num(session.expires_at),
        "cj",
        session.current_jti,
        "ra",
        num(session.refreshed_at),
        "af",
        num(session.access_floor),
        "ac",
        _encode(session.access_claims),
        "md",
        _encode(session.metadata),
        "gn",
        b"%d" % session.generation,
    ]
    if session.revoked_at is not None:
        pairs += ("rv", num(session.revoked_at))
    if session.revoked_reason is not None:
        pairs += ("rr", session.revoked_reason)
    return pairs


def decode_session(values: Sequence[Value]) -> SessionRecord | None:
    """A session from its :data:`SESSION_FIELDS` values; ``None`` if it does not exist."""
    sid, sub, ca, ea, cj, ra, af, rv, rr, ac, md = values[:11]
    if sid is None or sub is None or cj is None:
        return None
    return SessionRecord(
        sid=text(sid),
        subject=text(sub),
        created_at=float(ca),  # type: ignore[arg-type]
        expires_at=float(ea),  # type: ignore[arg-type]
        current_jti=text(cj),
        refreshed_at=float(ra),  # type: ignore[arg-type]
        access_floor=float(af),  # type: ignore[arg-type]
        revoked_at=opt_float(rv),
        revoked_reason=None if rr is None else text(rr),
        access_claims=_dict_decoder.decode(ac) if ac is not None else {},
        metadata=_meta_decoder.decode(md) if md is not None else {},
        generation=_generation(values[12]),
    )


def _generation(value: Value) -> int:
    return 0 if value is None else int(value)


def decode_access(denied: bool, values: Sequence[Value], subject: str) -> AccessStatus:
    """The strict-mode answer from a session's :data:`ACCESS_FIELDS`."""
    sub, rv, ca, af, wm, gn, ra = values
    if sub is None or ca is None or af is None or text(sub) != subject:
        return AccessStatus(denied=denied, session_found=False)
    return AccessStatus(
        denied=denied,
        session_found=True,
        session_revoked=rv is not None,
        session_created_at=float(ca),
        access_floor=float(af),
        revoked_before=opt_float(wm),
        generation=_generation(gn),
        refreshed_at=0.0 if ra is None else float(ra),
    )


def watermark_of(values: Sequence[Value]) -> float | None:
    """The subject watermark mirrored into a session (the last of SESSION_FIELDS)."""
    return opt_float(values[11])


__all__ = (
    "ACCESS_FIELDS",
    "ACTIVE_TAIL",
    "SESSION_FIELDS",
    "Row",
    "Value",
    "check_prefix",
    "decision_tag",
    "decode_access",
    "decode_record",
    "decode_session",
    "encode_record",
    "encode_session",
    "num",
    "opt_float",
    "successor_parts",
    "text",
    "texts",
    "unpack",
    "watermark_of",
)
