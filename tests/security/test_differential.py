"""Differential tests: tokenlife's verdict against PyJWT's ``jwt.decode``.

Both get the same token and equivalent options: ``algorithms=[the key's alg]``,
``issuer``, ``audience``, ``leeway`` and ``require`` (plus ``exp``, which
tokenlife always requires). PyJWT's clock is frozen at the same ``NOW``.

:data:`CASES` is the table: mutation -> expected tokenlife verdict -> expected
PyJWT verdict. Where the two differ, the row names the deliberate difference,
and each one is explained in ``docs/security-differences.md`` (a test keeps the
page and the table in step). Hypothesis then checks that they agree on every
combination of claim values, and that tokenlife never accepts a mutated token
PyJWT refuses.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security import _forge
from tests.security._forge import AUD, DROP, ISS, NOW, b64, claims, non_canonical, raw_json
from tests.security._mutations import World, mutate
from tokenlife import Codec, Key, TokenError

ACCEPT: Final = "accept"
REJECT: Final = "reject"
DOC: Final = Path(__file__).resolve().parents[2] / "docs" / "security-differences.md"

# The deliberate differences; each is a "### " heading of docs/security-differences.md.
TYP = "Explicit `typ`"
KID = "`kid` names a configured key"
HEADERS = "Refused header members"
DUPLICATES = "No duplicate header members"
PADDING = "No base64 padding"
UTF8 = "UTF-8 JSON only"
STRICT_JSON = "Strict JSON values"
NUMBERS = "NumericDates are JSON numbers"
YEAR_9999 = "NumericDates up to year 9999"
FRACTIONS = "Fractional NumericDates compared exactly"
TYPED = "Registered claims are typed"
EMPTY_AUD = "An empty `aud` is still an audience"
SIZE = "Size cap"


class _FrozenDatetime(datetime.datetime):
    """What PyJWT reads as "now" (it calls ``datetime.now(tz=timezone.utc)``)."""

    @classmethod
    def now(cls, tz: datetime.tzinfo | None = None) -> _FrozenDatetime:
        return cls.fromtimestamp(NOW, tz)


@pytest.fixture(scope="module", autouse=True)
def _pyjwt_clock() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime)
        yield


@dataclass(frozen=True)
class Forge:
    material: _forge.Material
    impostor: _forge.Material

    @property
    def key(self) -> Key:
        return self.material.key

    def header(self, **changes: Any) -> dict[str, Any]:
        header = {**_forge.header_for(self.key), **changes}
        return {name: value for name, value in header.items() if value is not DROP}

    def token(
        self,
        header: dict[str, Any] | bytes | None = None,
        payload: dict[str, Any] | bytes | None = None,
        *,
        signer: Key | None = None,
    ) -> str:
        return _forge.sign_raw(
            signer or self.key,
            self.header() if header is None else header,
            claims() if payload is None else payload,
        )

    def claim_text(self, name: str, text: str) -> str:
        """A valid token whose claim ``name`` is the raw JSON ``text``."""
        payload = claims()
        payload.pop(name, None)
        return self.token(payload=raw_json(payload)[:-1] + f',"{name}":{text}}}'.encode())

    def parts(self) -> list[str]:
        return self.token().split(".")


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Forge], str]
    tokenlife: str
    pyjwt: str
    difference: str = ""
    material: str = "hs"
    issuer: str | None = ISS
    audience: str | None = AUD
    leeway: float = 0
    require: tuple[str, ...] = ()


def _agree(name: str, build: Callable[[Forge], str], verdict: str, **options: Any) -> Case:
    return Case(name, build, verdict, verdict, **options)


def _stricter(name: str, build: Callable[[Forge], str], difference: str, **options: Any) -> Case:
    return Case(name, build, REJECT, ACCEPT, difference, **options)


def _public_pem(forge: Forge) -> bytes:
    pem: bytes = forge.material.pyjwt_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def _swap_char(segment: str, index: int) -> str:
    return segment[:index] + ("A" if segment[index] != "A" else "B") + segment[index + 1 :]


CASES: Final = (
    # -- controls --------------------------------------------------------------------------
    _agree("valid HS256", lambda f: f.token(), ACCEPT),
    _agree("valid ES256", lambda f: f.token(), ACCEPT, material="es"),
    _agree("valid EdDSA", lambda f: f.token(), ACCEPT, material="ed"),
    _agree("header: no kid, one-key set", lambda f: f.token(f.header(kid=DROP)), ACCEPT),
    _agree("header: extra member cty", lambda f: f.token(f.header(cty="JWT")), ACCEPT),
    _agree("aud: list containing ours", lambda f: f.token(payload=claims(aud=["x", AUD])), ACCEPT),
    _agree(
        "exp: past, within leeway",
        lambda f: f.token(payload=claims(exp=NOW - 20)),
        ACCEPT,
        leeway=30,
    ),
    _agree(
        "nbf: future, within leeway",
        lambda f: f.token(payload=claims(nbf=NOW + 20)),
        ACCEPT,
        leeway=30,
    ),
    _agree("exp: one second left", lambda f: f.token(payload=claims(exp=NOW + 1)), ACCEPT),
    _agree(
        "iss: any, none configured", lambda f: f.token(payload=claims(iss="x")), ACCEPT, issuer=None
    ),
    _agree(
        "require: custom claim present",
        lambda f: f.token(payload=claims(role="a")),
        ACCEPT,
        require=("role", "sub", "jti"),
    ),
    _agree(
        "payload: duplicate exp, valid last",
        lambda f: f.token(payload=raw_json(claims(exp=NOW - 9))[:-1] + b',"exp":%d}' % (NOW + 9)),
        ACCEPT,
    ),
    # -- signature -------------------------------------------------------------------------
    _agree(
        "signature: one character changed",
        lambda f: ".".join([*f.parts()[:2], _swap_char(f.parts()[2], 5)]),
        REJECT,
    ),
    _agree("signature: empty", lambda f: ".".join([*f.parts()[:2], ""]), REJECT),
    _agree("signature: truncated", lambda f: ".".join([*f.parts()[:2], f.parts()[2][:-4]]), REJECT),
    _agree("signature: another key, same kid", lambda f: f.token(signer=f.impostor.key), REJECT),
    _agree(
        "signature: non-canonical base64 (ES256)",
        lambda f: ".".join([*f.parts()[:2], non_canonical(f.parts()[2]) or "!"]),
        REJECT,
        material="es",
    ),
    _agree(
        "signature: non-canonical base64 (HS256)",
        lambda f: ".".join([*f.parts()[:2], non_canonical(f.parts()[2]) or "!"]),
        REJECT,
    ),
    _agree(
        "payload: one character changed",
        lambda f: ".".join([f.parts()[0], _swap_char(f.parts()[1], 7), f.parts()[2]]),
        REJECT,
    ),
    _agree(
        "header: non-canonical base64, re-signed",
        lambda f: _forge.sign_segments(f.key, non_canonical(f.parts()[0]) or "!", f.parts()[1]),
        REJECT,
    ),
    # -- header ----------------------------------------------------------------------------
    _agree(
        "alg: none, no signature",
        lambda f: f"{b64(raw_json(f.header(alg='none')))}.{f.parts()[1]}.",
        REJECT,
    ),
    _agree("alg: nOnE, with a signature", lambda f: f.token(f.header(alg="nOnE")), REJECT),
    _agree(
        "alg: HS256 keyed with the ES256 public key",
        lambda f: _forge.hs_sign_raw(_public_pem(f), f.header(alg="HS256"), claims()),
        REJECT,
        material="es",
    ),
    _agree("alg: HS512 on an HS256 key", lambda f: f.token(f.header(alg="HS512")), REJECT),
    _agree("kid: null", lambda f: f.token(f.header(kid=None)), REJECT),
    _agree("kid: a number", lambda f: f.token(f.header(kid=7)), REJECT),
    _agree("crit: unknown extension", lambda f: f.token(f.header(crit=["exp"])), REJECT),
    _agree("header: a JSON array", lambda f: f.token(b"[]"), REJECT),
    _agree("header: not JSON", lambda f: f.token(b"{alg:HS256}"), REJECT),
    # -- payload and claims ----------------------------------------------------------------
    _agree("payload: a JSON array", lambda f: f.token(payload=b"[]"), REJECT),
    _agree("payload: not JSON", lambda f: f.token(payload=b"{exp:1}"), REJECT),
    _agree(
        "payload: duplicate exp, expired last",
        lambda f: f.token(payload=raw_json(claims())[:-1] + b',"exp":%d}' % (NOW - 9)),
        REJECT,
    ),
    _agree("exp: past", lambda f: f.token(payload=claims(exp=NOW - 1)), REJECT),
    _agree("exp: exactly now", lambda f: f.token(payload=claims(exp=NOW)), REJECT),
    _agree(
        "exp: past, beyond leeway",
        lambda f: f.token(payload=claims(exp=NOW - 31)),
        REJECT,
        leeway=30,
    ),
    _agree("exp: missing", lambda f: f.token(payload=claims(exp=DROP)), REJECT),
    _agree("exp: true", lambda f: f.token(payload=claims(exp=True)), REJECT),
    _agree("exp: null", lambda f: f.token(payload=claims(exp=None)), REJECT),
    _agree("exp: 1e309", lambda f: f.claim_text("exp", "1e309"), REJECT),
    _agree("nbf: future", lambda f: f.token(payload=claims(nbf=NOW + 1)), REJECT),
    _agree("iat: future", lambda f: f.token(payload=claims(iat=NOW + 1)), REJECT),
    _agree("iss: another", lambda f: f.token(payload=claims(iss="https://evil")), REJECT),
    _agree("iss: a prefix", lambda f: f.token(payload=claims(iss=ISS[:-1])), REJECT),
    _agree("iss: a suffix", lambda f: f.token(payload=claims(iss=ISS + ".evil")), REJECT),
    _agree("iss: an array", lambda f: f.token(payload=claims(iss=[ISS])), REJECT),
    _agree("iss: missing", lambda f: f.token(payload=claims(iss=DROP)), REJECT),
    _agree("aud: another", lambda f: f.token(payload=claims(aud="other")), REJECT),
    _agree("aud: list without ours", lambda f: f.token(payload=claims(aud=["other"])), REJECT),
    _agree("aud: empty list", lambda f: f.token(payload=claims(aud=[])), REJECT),
    _agree("aud: a non-string member", lambda f: f.token(payload=claims(aud=[AUD, 1])), REJECT),
    _agree("aud: missing", lambda f: f.token(payload=claims(aud=DROP)), REJECT),
    _agree("aud: present, none configured", lambda f: f.token(), REJECT, audience=None),
    _agree("sub: a number", lambda f: f.token(payload=claims(sub=1)), REJECT),
    _agree("jti: a number", lambda f: f.token(payload=claims(jti=1)), REJECT),
    _agree("require: custom claim missing", lambda f: f.token(), REJECT, require=("role",)),
    _agree(
        "require: custom claim null",
        lambda f: f.token(payload=claims(role=None)),
        REJECT,
        require=("role",),
    ),
    # -- encoding --------------------------------------------------------------------------
    _agree("two segments", lambda f: ".".join(f.parts()[:2]), REJECT),
    _agree("four segments", lambda f: ".".join([*f.parts(), f.parts()[2]]), REJECT),
    _agree("non-ASCII character", lambda f: f.token() + "é", REJECT),
    _agree("newline appended", lambda f: f.token() + "\n", REJECT),
    _agree(
        "standard base64 alphabet",
        lambda f: ".".join([*f.parts()[:2], f.parts()[2] + "+/"]),
        REJECT,
    ),
    # -- deliberate differences: tokenlife is stricter -------------------------------------
    _stricter("typ: missing", lambda f: f.token(f.header(typ=DROP)), TYP),
    _stricter("typ: JWT", lambda f: f.token(f.header(typ="JWT")), TYP),
    _stricter(
        "typ: refresh token where access expected",
        lambda f: f.token(f.header(typ="refresh+jwt")),
        TYP,
    ),
    _stricter("kid: unknown", lambda f: f.token(f.header(kid="someone-else")), KID),
    _stricter(
        "crit: b64 understood by pyjwt",
        lambda f: f.token(f.header(crit=["b64"], b64=True)),
        HEADERS,
    ),
    _stricter("header: jku", lambda f: f.token(f.header(jku="https://evil/jwks")), HEADERS),
    _stricter(
        "header: jwk", lambda f: f.token(f.header(jwk=f.key.public_jwk)), HEADERS, material="ed"
    ),
    _stricter("header: x5u", lambda f: f.token(f.header(x5u="https://evil/x5")), HEADERS),
    _stricter("header: x5c", lambda f: f.token(f.header(x5c=["MIIB"])), HEADERS),
    _stricter("header: zip", lambda f: f.token(f.header(zip="DEF")), HEADERS),
    _stricter(
        "header: duplicate member",
        lambda f: f.token(raw_json(f.header())[:-1] + b',"alg":"HS256"}'),
        DUPLICATES,
    ),
    _stricter("signature: = padding", lambda f: f.token() + "=", PADDING),
    _stricter(
        "header: UTF-16 JSON", lambda f: f.token(json.dumps(f.header()).encode("utf-16")), UTF8
    ),
    _stricter(
        "payload: UTF-8 byte order mark",
        lambda f: f.token(payload=b"\xef\xbb\xbf" + raw_json(claims())),
        UTF8,
    ),
    _stricter("custom claim: NaN", lambda f: f.claim_text("x", "NaN"), STRICT_JSON),
    _stricter("custom claim: Infinity", lambda f: f.claim_text("x", "-Infinity"), STRICT_JSON),
    _stricter(
        "custom claim: lone surrogate", lambda f: f.claim_text("x", '"\\ud800"'), STRICT_JSON
    ),
    _stricter("exp: numeric string", lambda f: f.claim_text("exp", f'"{NOW + 600}"'), NUMBERS),
    _stricter("nbf: numeric string", lambda f: f.claim_text("nbf", f'"{NOW}"'), NUMBERS),
    _stricter("iat: true", lambda f: f.token(payload=claims(iat=True)), NUMBERS),
    _stricter("exp: 10**30", lambda f: f.token(payload=claims(exp=10**30)), YEAR_9999),
    _stricter("nbf: half a second ahead", lambda f: f.claim_text("nbf", f"{NOW}.5"), FRACTIONS),
    Case(
        "exp: half a second left",
        lambda f: f.claim_text("exp", f"{NOW}.5"),
        ACCEPT,
        REJECT,
        FRACTIONS,
    ),
    _stricter(
        "iss: a number, none configured",
        lambda f: f.token(payload=claims(iss=5)),
        TYPED,
        issuer=None,
    ),
    _stricter("scope: a list", lambda f: f.token(payload=claims(scope=["read"])), TYPED),
    _stricter("fresh: a string", lambda f: f.token(payload=claims(fresh="yes")), TYPED),
    _stricter("sid: a number", lambda f: f.token(payload=claims(sid=1)), TYPED),
    _stricter(
        "aud: empty string, none configured",
        lambda f: f.token(payload=claims(aud="")),
        EMPTY_AUD,
        audience=None,
    ),
    _stricter(
        "aud: empty list, none configured",
        lambda f: f.token(payload=claims(aud=[])),
        EMPTY_AUD,
        audience=None,
    ),
    _stricter(
        "oversized, properly signed", lambda f: f.token(payload=claims(pad="x" * 9000)), SIZE
    ),
)


@pytest.fixture(scope="module")
def forges(hs: _forge.Material, es: _forge.Material, ed: _forge.Material) -> dict[str, Forge]:
    return {
        "hs": Forge(hs, _forge.hs256(kid=hs.key.kid)),
        "es": Forge(es, _forge.es256(kid=es.key.kid)),
        "ed": Forge(ed, _forge.eddsa(kid=ed.key.kid)),
    }


def tokenlife_verdict(
    material: _forge.Material,
    token: str,
    *,
    issuer: str | None = ISS,
    audience: str | None = AUD,
    leeway: float = 0,
    require: tuple[str, ...] = (),
) -> str:
    codec = Codec(material.keys, issuer=issuer, audience=audience, leeway=leeway)
    try:
        codec.decode(token, now=NOW, require=require)
    except TokenError:
        return REJECT
    return ACCEPT


def pyjwt_verdict(
    material: _forge.Material,
    token: str,
    *,
    issuer: str | None = ISS,
    audience: str | None = AUD,
    leeway: float = 0,
    require: tuple[str, ...] = (),
) -> str:
    try:
        jwt.decode(
            token,
            material.pyjwt_key,
            algorithms=[material.algorithm],
            issuer=issuer,
            audience=audience,
            leeway=leeway,
            options={"require": ["exp", *require]},
        )
    except jwt.PyJWTError:
        return REJECT
    return ACCEPT


def _verdicts(case: Case, forge: Forge, token: str) -> tuple[str, str]:
    options: dict[str, Any] = {
        "issuer": case.issuer,
        "audience": case.audience,
        "leeway": case.leeway,
        "require": case.require,
    }
    return (
        tokenlife_verdict(forge.material, token, **options),
        pyjwt_verdict(forge.material, token, **options),
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_table(case: Case, forges: dict[str, Forge]) -> None:
    forge = forges[case.material]
    token = case.build(forge)
    assert (case.tokenlife, case.pyjwt) == _verdicts(case, forge, token)
    assert (case.tokenlife != case.pyjwt) == bool(case.difference)


def test_table_is_broad() -> None:
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names)
    kinds = {name.split(":")[0] for name in names}
    assert len(kinds) >= 20, sorted(kinds)
    assert len(CASES) >= 60
    # Only fractional exp lets tokenlife accept what PyJWT refuses (by under a second).
    lax = [case.name for case in CASES if case.tokenlife == ACCEPT and case.pyjwt == REJECT]
    assert lax == ["exp: half a second left"]


def test_documented_differences_match_the_table() -> None:
    headings = set(re.findall(r"^### (.+?)\s*$", DOC.read_text(encoding="utf-8"), re.MULTILINE))
    used = {case.difference for case in CASES if case.difference}
    assert used == headings


def test_pyjwt_clock_is_frozen(forges: dict[str, Forge]) -> None:
    """Without the frozen clock every NOW-based token would be long expired for PyJWT."""
    token = forges["hs"].token()
    assert pyjwt_verdict(forges["hs"].material, token) == ACCEPT
    expired = forges["hs"].token(payload=claims(exp=NOW - 1))
    assert pyjwt_verdict(forges["hs"].material, expired) == REJECT


# -- hypothesis: the claim checks agree exactly -------------------------------------------------

DIFFERENTIAL = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
OFFSETS = st.integers(min_value=-400, max_value=400)
CLAIM_VALUES: Final[dict[str, st.SearchStrategy[Any]]] = {
    "exp": st.just(DROP) | OFFSETS.map(lambda offset: NOW + offset),
    "nbf": st.just(DROP) | OFFSETS.map(lambda offset: NOW + offset),
    "iat": st.just(DROP) | OFFSETS.map(lambda offset: NOW + offset),
    "iss": st.sampled_from([ISS, ISS + ".evil", ISS[:-1], "other", DROP]),
    "sub": st.sampled_from(["alice", DROP]),
    "jti": st.sampled_from(["j", DROP]),
    "role": st.sampled_from(["admin", None, DROP]),
}
AUDIENCES = [AUD, [AUD], ["other", AUD], "other", ["other"], [], DROP]


@DIFFERENTIAL
@given(
    data=st.data(),
    issuer=st.sampled_from([ISS, None]),
    audience=st.sampled_from([AUD, None]),
    leeway=st.sampled_from([0, 1, 30, 300]),
    require=st.lists(
        st.sampled_from(["sub", "jti", "iat", "nbf", "role", "iss", "aud"]), unique=True, max_size=3
    ).map(tuple),
)
def test_claim_checks_agree(
    forges: dict[str, Forge],
    data: st.DataObject,
    issuer: str | None,
    audience: str | None,
    leeway: int,
    require: tuple[str, ...],
) -> None:
    values = {name: data.draw(strategy, label=name) for name, strategy in CLAIM_VALUES.items()}
    # An empty aud with no audience configured is a deliberate difference, tested above.
    audiences = AUDIENCES if audience is not None else [a for a in AUDIENCES if a != []]
    values["aud"] = data.draw(st.sampled_from(audiences), label="aud")
    forge = forges["hs"]
    token = forge.token(payload=claims(**values))
    options: dict[str, Any] = {
        "issuer": issuer,
        "audience": audience,
        "leeway": leeway,
        "require": require,
    }
    ours = tokenlife_verdict(forge.material, token, **options)
    theirs = pyjwt_verdict(forge.material, token, **options)
    assert ours == theirs


# -- hypothesis: tokenlife never accepts a mutated token PyJWT refuses ---------------------------


def _fraction_explains(token: str) -> bool:
    """A fractional exp near the boundary: PyJWT truncates it, tokenlife does not."""
    payload = json.loads(_forge.unb64(token.split(".")[1]))
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return isinstance(exp, float) and not exp.is_integer()


def _check_never_laxer(forge: Forge, data: st.DataObject) -> None:
    codec = Codec(forge.material.keys, issuer=ISS, audience=AUD)
    kind, token = mutate(data, World(forge.material, forge.impostor, codec))
    if tokenlife_verdict(forge.material, token) == ACCEPT:
        pyjwt = pyjwt_verdict(forge.material, token)
        assert pyjwt == ACCEPT or _fraction_explains(token), kind


@settings(DIFFERENTIAL, max_examples=50)
@given(data=st.data())
@pytest.mark.parametrize("material", ["hs", "ed"])
def test_never_laxer_than_pyjwt(
    forges: dict[str, Forge], material: str, data: st.DataObject
) -> None:
    _check_never_laxer(forges[material], data)


@pytest.mark.slow
@settings(DIFFERENTIAL, max_examples=3_000)
@given(data=st.data())
@pytest.mark.parametrize("material", ["hs", "ed", "es"])
def test_never_laxer_than_pyjwt_long(
    forges: dict[str, Forge], material: str, data: st.DataObject
) -> None:
    _check_never_laxer(forges[material], data)
