"""Structured mutations of valid tokens, for the fuzz and differential suites.

A :class:`World` holds our key, an impostor key (same algorithm, same kid) and
a codec. :func:`mutate` draws one mutation of a valid token: characters and
bits flipped in each segment, segments swapped, dropped, added or truncated,
re-signing with the wrong key, header members and claims set to hostile JSON
values (nested, huge, ``NaN``-ish, duplicated), non-canonical encodings.
Some mutated tokens are re-signed with our key on purpose, so the checks
after the signature are exercised, not only the signature itself.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from hypothesis import strategies as st

from tests.security._forge import (
    AUD,
    ISS,
    NOW,
    Material,
    b64,
    claims,
    header_for,
    non_canonical,
    raw_json,
    sign_segments,
    split,
    unb64,
)
from tokenlife import Codec, Key

ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: Characters that are never part of a compact JWS.
FOREIGN: Final = ".=+/ \t\n\r\x00é\u2028\ufeff"
HEADER_NAMES: Final = (
    "alg", "kid", "typ", "crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256",
    "zip", "b64", "cty", "enc", "ALG", "",
)  # fmt: skip
CLAIM_NAMES: Final = (
    "exp", "nbf", "iat", "iss", "aud", "sub", "jti", "sid", "scope", "fresh", "csrf",
    "role", "EXP", "",
)  # fmt: skip
ALGS: Final = ("none", "None", "NONE", "nOnE", "HS256", "HS384", "HS512", "RS256", "PS256",
               "ES256", "ES384", "EdDSA", "", "hs256")  # fmt: skip
TYPS: Final = ("at+jwt", "refresh+jwt", "JWT", "AT+JWT", "at+JWT", "", "application/at+jwt")
#: JSON text (and not-quite-JSON text) spliced into payloads and headers verbatim.
RAW_FRAGMENTS: Final = (
    "NaN", "Infinity", "-Infinity", "1e309", "-1e309", "1E400", "-0", "0.0", "1.5",
    "123456789012345678901234567890", "18446744073709551616", str(2**63),
    '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', '"\\uFFFF"', "\"'\"",
    "[" * 1500 + "]" * 1500, '{"a":' * 700 + "1" + "}" * 700, '"' + "x" * 4000 + '"',
    "true", "false", "null", "[]", "{}", '""', '" "', "[null]", "[[]]",
    str(NOW), str(NOW + 600), str(NOW - 600), f'"{NOW + 600}"', f"{NOW + 600}.5",
    f"{NOW}.000001", f"{NOW - 1}.999999", f"[{NOW + 600}]", f'{{"$date":{NOW + 600}}}',
    json.dumps(ISS), json.dumps(ISS + ".evil"), json.dumps(ISS[:-1]), json.dumps([ISS]),
    json.dumps(AUD), json.dumps([AUD]), json.dumps(["other", AUD]), json.dumps(["other"]),
    json.dumps([AUD, 1]), json.dumps(AUD.upper()),
)  # fmt: skip


def _json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.integers(min_value=NOW - 1000, max_value=NOW + 1000),
        st.floats(),  # includes NaN and infinities: json.dumps writes NaN/Infinity
        st.text(max_size=24),
        st.sampled_from(["none", "HS256", ISS, AUD, "alice", "at+jwt", "refresh+jwt"]),
    )


JSON_VALUES: Final = st.recursive(
    _json_scalars(),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=12,
)

#: A member value as JSON text: a Python value dumped, or a raw fragment.
VALUE_TEXT: Final = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value)),
    st.sampled_from(RAW_FRAGMENTS),
)
TOKENISH: Final = st.text(alphabet=ALPHABET + ".", max_size=120)
_HEADER_NAME: Final = st.sampled_from(HEADER_NAMES) | st.text(max_size=5)
_CLAIM_NAME: Final = st.sampled_from(CLAIM_NAMES) | st.text(max_size=5)
_SIGNER: Final = st.sampled_from(["ours", "ours", "ours", "impostor", "old"])
_CONTENT: Final = st.one_of(
    st.binary(max_size=200), st.text(max_size=200).map(str.encode), VALUE_TEXT.map(str.encode)
)


@dataclass(frozen=True)
class World:
    material: Material
    impostor: Material
    codec: Codec

    @property
    def key(self) -> Key:
        return self.material.key

    def valid(self) -> str:
        return sign_segments(self.key, b64(raw_json(header_for(self.key))), b64(_payload()))


def _payload() -> bytes:
    return raw_json(claims())


def _splice(document: dict[str, Any], name: str, value_text: str, *, first: bool) -> bytes:
    """``document`` as JSON with ``"name": value_text`` added first or last (may duplicate)."""
    body = raw_json(document)
    member = f"{json.dumps(name)}:{value_text}".encode()
    if len(body) == 2:
        return b"{" + member + b"}"
    if first:
        return b"{" + member + b"," + body[1:]
    return body[:-1] + b"," + member + b"}"


def _sign_as(data: st.DataObject, world: World, header: str, payload: str) -> str:
    """Re-sign with our key (usually), the impostor's, or keep the old signature."""
    how = data.draw(_SIGNER, label="signer")
    if how == "ours":
        return sign_segments(world.key, header, payload)
    if how == "impostor":
        return sign_segments(world.impostor.key, header, payload)
    return f"{header}.{payload}.{split(world.valid())[2]}"


def _char(data: st.DataObject, world: World) -> str:
    token = world.valid()
    index = data.draw(st.integers(0, len(token) - 1), label="index")
    char = data.draw(st.sampled_from(ALPHABET + FOREIGN), label="char")
    return token[:index] + char + token[index + 1 :]


def _bitflip(data: st.DataObject, world: World) -> str:
    parts = list(split(world.valid()))
    which = data.draw(st.integers(0, 2), label="segment")
    raw = bytearray(unb64(parts[which]))
    bit = data.draw(st.integers(0, len(raw) * 8 - 1), label="bit")
    raw[bit // 8] ^= 1 << (bit % 8)
    parts[which] = b64(bytes(raw))
    return ".".join(parts)


def _swap(data: st.DataObject, world: World) -> str:
    parts = split(world.valid())
    orders = [p for p in itertools.product(range(3), repeat=3) if p != (0, 1, 2)]
    order = data.draw(st.sampled_from(orders), label="order")
    return ".".join(parts[i] for i in order)


def _truncate(data: st.DataObject, world: World) -> str:
    token = world.valid()
    return token[: data.draw(st.integers(0, len(token) - 1), label="length")]


def _extend(data: st.DataObject, world: World) -> str:
    token = world.valid()
    extra = data.draw(TOKENISH, label="extra")
    where = data.draw(st.sampled_from(["segment", "suffix", "prefix", "dots"]), label="where")
    if where == "segment":
        return f"{token}.{extra}"
    if where == "suffix":
        return token + extra
    if where == "prefix":
        return f"{extra}.{token}"
    return token.replace(".", "..", data.draw(st.integers(1, 2), label="count"))


def _wrong_key(data: st.DataObject, world: World) -> str:
    header, payload, _ = split(world.valid())
    return sign_segments(world.impostor.key, header, payload)


def _header_member(data: st.DataObject, world: World) -> str:
    header = header_for(world.key)
    name = data.draw(_HEADER_NAME, label="name")
    action = data.draw(st.sampled_from(["set", "set", "drop", "splice"]), label="action")
    if action == "drop":
        header.pop(name, None)
        raw = raw_json(header)
    elif action == "set" and name == "alg":
        raw = raw_json({**header, "alg": data.draw(st.sampled_from(ALGS), label="alg")})
    elif action == "set" and name == "typ":
        raw = raw_json({**header, "typ": data.draw(st.sampled_from(TYPS), label="typ")})
    elif action == "set":
        raw = raw_json({**header, name: data.draw(JSON_VALUES, label="value")})
    else:
        text = data.draw(VALUE_TEXT, label="value")
        raw = _splice(header, name, text, first=data.draw(st.booleans(), label="first"))
    return _sign_as(data, world, b64(raw), split(world.valid())[1])


def _claim(data: st.DataObject, world: World) -> str:
    payload = claims()
    name = data.draw(_CLAIM_NAME, label="name")
    action = data.draw(st.sampled_from(["set", "drop", "replace", "splice"]), label="action")
    if action == "drop":
        payload.pop(name, None)
        raw = raw_json(payload)
    elif action == "set":
        raw = raw_json({**payload, name: data.draw(JSON_VALUES, label="value")})
    else:
        if action == "replace":
            payload.pop(name, None)
        text = data.draw(VALUE_TEXT, label="value")
        raw = _splice(payload, name, text, first=data.draw(st.booleans(), label="first"))
    return _sign_as(data, world, split(world.valid())[0], b64(raw))


def _raw_segment(data: st.DataObject, world: World) -> str:
    header, payload, _ = split(world.valid())
    content = data.draw(_CONTENT, label="content")
    if data.draw(st.booleans(), label="header"):
        return _sign_as(data, world, b64(content), payload)
    return _sign_as(data, world, header, b64(content))


def _encoding(data: st.DataObject, world: World) -> str:
    parts = list(split(world.valid()))
    which = data.draw(st.integers(0, 2), label="segment")
    how = data.draw(st.sampled_from(["padding", "standard", "spare-bits", "space"]), label="how")
    segment = parts[which]
    if how == "padding":
        segment += "=" * data.draw(st.integers(1, 3), label="pads")
    elif how == "standard":
        segment = segment.replace("-", "+").replace("_", "/") + "+/"
    elif how == "spare-bits":
        segment = non_canonical(segment) or segment + "A"
    else:
        at = data.draw(st.integers(0, len(segment)), label="at")
        segment = segment[:at] + data.draw(st.sampled_from(FOREIGN), label="char") + segment[at:]
    parts[which] = segment
    if which < 2 and data.draw(st.booleans(), label="resign"):
        return sign_segments(world.key, parts[0], parts[1])
    return ".".join(parts)


def _valid(data: st.DataObject, world: World) -> str:
    return world.valid()


MUTATIONS: Final[dict[str, Callable[[st.DataObject, World], str]]] = {
    "valid": _valid,
    "char": _char,
    "bitflip": _bitflip,
    "swap": _swap,
    "truncate": _truncate,
    "extend": _extend,
    "wrong-key": _wrong_key,
    "header-member": _header_member,
    "claim": _claim,
    "raw-segment": _raw_segment,
    "encoding": _encoding,
}


def mutate(data: st.DataObject, world: World) -> tuple[str, str]:
    """One mutation of a valid token: (its kind, the token)."""
    kind = data.draw(st.sampled_from(sorted(MUTATIONS)), label="mutation")
    return kind, MUTATIONS[kind](data, world)


__all__ = ("ALPHABET", "JSON_VALUES", "MUTATIONS", "RAW_FRAGMENTS", "VALUE_TEXT", "World", "mutate")
