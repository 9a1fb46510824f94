"""Values the command did not write never act on the terminal, and never crash it.

A forged token's header and claims, and a store's subjects and metadata, are
chosen by whoever wrote them: each attack below is a value that would draw a
fake report, hide a line or retitle the window if it reached the terminal raw.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.cli import _tokens as tk
from tests.cli._cli import Ran, tokenlife
from tests.cli._seed import Rig, with_authority
from tests.cli._targets import Target
from tests.security import _forge
from tokenlife import KeySet

ENV = {"JWT_SECRET": tk.SECRET}
#: Same kid, another secret: what a forger without the key signs with.
OTHER = KeySet.from_secret("a-forger-secret-of-at-least-32-bytes!", kid="k1")

#: The characters a terminal acts on or hides, each of which must come out escaped.
CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))] + [
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200f",  # right-to-left mark
    "\u2028",  # line separator
]


def _inspect(token: str, *args: str) -> Ran:
    return tokenlife("inspect", token, "--secret-env", "JWT_SECRET", *args, env=ENV)


def _no_control_reaches_the_terminal(ran: Ran) -> None:
    for stream in (ran.out, ran.err):
        body = stream.replace("\n", "")
        assert not [c for c in body if c in CONTROLS], repr(stream)


def test_newlines_in_a_claim_cannot_draw_a_fake_valid_verdict() -> None:
    fake = "x\n\nVerification at 2027-01-15T08:05:00Z:\n  key  ok\n\nVALID access token."
    token = tk.forge(_forge.header_for(tk.HS.active), {**tk.claims(), "sub": fake}, keys=OTHER)
    ran = _inspect(token)
    assert ran.code == 3, ran.out
    assert not [line for line in ran.out.splitlines() if line.startswith("VALID")], ran.out
    assert ran.out.splitlines()[-1].startswith("INVALID: ")
    assert "x\\n\\nVerification" in ran.out
    _no_control_reaches_the_terminal(ran)


def test_sgr_conceal_cannot_hide_the_invalid_line() -> None:
    token = tk.forge(
        _forge.header_for(tk.HS.active), {**tk.claims(), "note": "\x1b[8m"}, keys=OTHER
    )
    ran = _inspect(token)
    assert ran.code == 3
    assert "\x1b" not in ran.out
    assert "\\x1b[8m" in ran.out
    assert ran.out.splitlines()[-1].startswith("INVALID: ")


def test_osc_and_csi_in_kid_do_not_reach_the_terminal() -> None:
    kid = "\x1b]0;owned\x07\x1b[2J\x9b31m"
    token = tk.forge({**_forge.header_for(tk.HS.active), "kid": kid}, tk.claims())
    for ran in (_inspect(token), tokenlife("inspect", token)):
        _no_control_reaches_the_terminal(ran)
        assert "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m" in ran.out


def test_bidi_override_in_a_claim_name_and_value_is_shown_escaped() -> None:
    token = tk.forge(
        _forge.header_for(tk.HS.active), {**tk.claims(), "role\u202e": "nimda\u2066\u200f"}
    )
    ran = tokenlife("inspect", token)
    assert ran.code == 0, ran.err
    assert "role\\u202e" in ran.out and "nimda\\u2066\\u200f" in ran.out
    _no_control_reaches_the_terminal(ran)


def test_every_control_character_is_escaped_in_names_and_values() -> None:
    members = {f"n{ord(c):x}{c}": f"a{c}b" for c in CONTROLS}
    ran = tokenlife(
        "inspect", tk.forge(_forge.header_for(tk.HS.active), {**tk.claims(), **members})
    )
    assert ran.code == 0, ran.err
    _no_control_reaches_the_terminal(ran)
    assert re.search(r"n1b\\x1b +a\\x1bb", ran.out), ran.out


def test_json_output_is_ascii_and_round_trips_the_hostile_value() -> None:
    value = "\x1b[8m\u202e\x9b\n"
    ran = tokenlife("inspect", tk.mint(note=value), "--json")
    assert ran.out.isascii()
    assert ran.json()["claims"]["note"] == value


@pytest.mark.parametrize(
    "literal",
    ["NaN", "Infinity", "-Infinity", "1e400", '"\\ud800"', '{"\\udfff": 1}'],
    ids=["nan", "infinity", "minus-infinity", "1e400", "lone-surrogate", "surrogate-name"],
)
@pytest.mark.parametrize("keyed", [False, True], ids=["unverified", "verified"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_hostile_payload_is_refused_as_malformed(literal: str, keyed: bool, as_json: bool) -> None:
    members = json.dumps(tk.claims())[:-1]
    for claim in ("exp", "x"):
        payload = f'{members}, "{claim}": {literal}}}'.encode()
        args = ["--json"] if as_json else []
        token = tk.forge_raw(payload)
        ran = _inspect(token, *args) if keyed else tokenlife("inspect", token, *args)
        assert ran.code == 3, (ran.out, ran.err)
        assert ran.err == "", ran.err
        assert "bug" not in ran.out
        if as_json:
            verdict = ran.json()["verification"]
            assert (verdict["valid"], verdict["code"]) == (False, "malformed")
            assert ran.json()["claims"] is None
        else:
            assert ran.out.splitlines()[-1].endswith("[malformed]"), ran.out


def test_hostile_header_is_refused_as_malformed() -> None:
    header = json.dumps(_forge.header_for(tk.HS.active))[:-1] + ', "x": NaN}'
    token = _forge.sign_raw(tk.HS.active, header.encode(), json.dumps(tk.claims()).encode())
    ran = tokenlife("inspect", token)
    assert ran.code == 3, (ran.out, ran.err)
    assert ran.out.splitlines()[-1].endswith("[malformed]"), ran.out


def test_session_metadata_cannot_forge_rows_or_reach_the_terminal(target: Target) -> None:
    agent = "phone\nsid-fake  now  never  later  active\x1b]0;owned\x07\u202e"

    async def work(rig: Rig) -> str:
        issued = await rig.auth.issue("alice", metadata={"user_agent": agent})
        await rig.auth.revoke_session(issued.session_id, reason="gone\n\x1b[8m")
        return issued.session_id

    sid = with_authority(target, work)
    ran = tokenlife("sessions", "alice", "--store", target.url)
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert len(lines) == 4, ran.out  # title, blank, header row, one session
    assert lines[3].startswith(sid)
    assert "phone\\nsid-fake" in lines[3] and "\\x1b]0;owned\\x07\\u202e" in lines[3]
    assert "gone\\n\\x1b[8m" in lines[3]
    _no_control_reaches_the_terminal(ran)


def test_hostile_subject_is_shown_escaped(target: Target) -> None:
    subject = "eve\x1b[2J\u202e"

    async def work(rig: Rig) -> None:
        await rig.auth.issue(subject)

    with_authority(target, work)
    for args in (["sessions", subject], ["revoke", "--subject", subject]):
        ran = tokenlife(*args, "--store", target.url)
        assert ran.code == 0, ran.err
        _no_control_reaches_the_terminal(ran)


def test_error_messages_never_carry_controls() -> None:
    ran = tokenlife("sessions", "alice", "--store", "nosuch://\x1b]0;owned\x07")
    ran.one_line_error()
    _no_control_reaches_the_terminal(ran)
