"""``tokenlife sessions`` and ``tokenlife revoke`` against a real SQLite file and Redis server."""

from __future__ import annotations

import re
from pathlib import Path

from tests.cli._cli import NOW, T0, tokenlife
from tests.cli._seed import Rig, stored_session, stored_sessions, with_authority
from tests.cli._targets import Target, sqlite_target


def _seed_alice(target: Target) -> tuple[str, str, str]:
    """Three sessions of alice (fresh, refreshed, revoked), one of bob; their sids."""

    async def work(rig: Rig) -> tuple[str, str, str]:
        phone = await rig.auth.issue("alice", metadata={"user_agent": "phone"})
        rig.clock.advance(60)
        laptop = await rig.auth.issue("alice", scopes=("read",))
        rig.clock.advance(60)
        await rig.auth.refresh(laptop.refresh_token)
        stolen = await rig.auth.issue("alice")
        await rig.auth.revoke_session(stolen.session_id, reason="stolen laptop")
        await rig.auth.issue("bob")
        return phone.session_id, laptop.session_id, stolen.session_id

    return with_authority(target, work)


def test_sessions_table(target: Target) -> None:
    phone, laptop, stolen = _seed_alice(target)
    ran = tokenlife("sessions", "alice", "--store", target.url)
    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    assert lines[0] == f"3 sessions of 'alice' in {target.url}"
    cells = [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]
    assert cells[0] == ["SID", "CREATED", "LAST REFRESH", "EXPIRES", "STATUS", "DEVICE"]
    rows = {row[0]: row[1:] for row in cells[1:]}
    assert rows[phone] == [
        "2027-01-15T08:00:00Z (5 min ago)",
        "never",
        "2027-01-15T09:00:00Z (in 55 min)",
        "active",
        "user_agent=phone",
    ]
    assert rows[laptop] == [
        "2027-01-15T08:01:00Z (4 min ago)",
        "2027-01-15T08:02:00Z (3 min ago)",
        "2027-01-15T09:01:00Z (in 56 min)",  # the absolute expiry: rotation never moves it
        "active",
    ]
    assert rows[stolen][-1] == "revoked 3 min ago: stolen laptop"


def test_sessions_json_and_active_filter(target: Target) -> None:
    phone, laptop, stolen = _seed_alice(target)
    doc = tokenlife("sessions", "alice", "--store", target.url, "--json").json()
    assert list(doc) == ["store", "subject", "now", "count", "sessions"]
    assert (doc["subject"], doc["count"], doc["now"]["epoch"]) == ("alice", 3, NOW)
    by_sid = {s["sid"]: s for s in doc["sessions"]}
    assert [s["sid"] for s in doc["sessions"]] == [phone, laptop, stolen]  # oldest first
    assert list(by_sid[phone]) == [
        "sid", "subject", "state", "created_at", "refreshed_at", "expires_at",
        "revoked_at", "revoked_reason", "current_refresh_jti", "scope", "metadata",
    ]  # fmt: skip
    assert by_sid[phone]["metadata"] == {"user_agent": "phone"}
    assert by_sid[laptop]["scope"] == "read"
    assert by_sid[laptop]["refreshed_at"]["epoch"] == T0 + 120
    assert by_sid[stolen]["state"] == "revoked"
    assert by_sid[stolen]["revoked_reason"] == "stolen laptop"
    assert by_sid[stolen]["revoked_at"]["relative"] == "3 min ago"
    active = tokenlife("sessions", "alice", "--store", target.url, "--active", "--json").json()
    assert [s["sid"] for s in active["sessions"]] == [phone, laptop]


def test_expired_sessions_are_listed_as_expired(target: Target) -> None:
    _seed_alice(target)
    doc = tokenlife("sessions", "alice", "--store", target.url, "--json", now=T0 + 7200).json()
    assert [s["state"] for s in doc["sessions"]] == ["expired", "expired", "revoked"]
    ran = tokenlife("sessions", "alice", "--store", target.url, "--active", now=T0 + 7200)
    assert ran.code == 0 and ran.out.startswith("No active sessions for 'alice'")


def test_no_sessions(target: Target) -> None:
    _seed_alice(target)
    ran = tokenlife("sessions", "nobody", "--store", target.url)
    assert ran.code == 0 and ran.out.startswith("No sessions for 'nobody' in ")
    assert tokenlife("sessions", "nobody", "--store", target.url, "--json").json()["count"] == 0


def test_revoke_session(target: Target) -> None:
    phone, laptop, _ = _seed_alice(target)
    ran = tokenlife("revoke", "--session", phone, "--store", target.url, "--reason", "lost phone")
    assert ran.code == 0, ran.err
    assert ran.out == f"Revoked session '{phone}' of 'alice' (lost phone).\n"
    stored = stored_session(target, phone)
    assert stored is not None
    assert (stored.revoked_at, stored.revoked_reason) == (NOW, "lost phone")
    other = stored_session(target, laptop)
    assert other is not None and other.revoked_at is None
    # Idempotent: the first revocation's time and reason stay.
    again = tokenlife("revoke", "--session", phone, "--store", target.url, "--json", now=NOW + 60)
    assert again.code == 0, again.err
    assert again.json() == {
        "store": again.json()["store"],
        "session": phone,
        "subject": "alice",
        "changed": False,
        "revoked_at": {
            "epoch": NOW,
            "iso": "2027-01-15T08:05:00Z",
            "seconds_from_now": -60.0,
            "relative": "1 min ago",
        },
        "revoked_reason": "lost phone",
    }


def test_revoke_session_default_reason_and_json(target: Target) -> None:
    phone, _, _ = _seed_alice(target)
    doc = tokenlife("revoke", "--session", phone, "--store", target.url, "--json").json()
    assert (doc["changed"], doc["revoked_reason"]) == (True, "revoked")


def test_revoke_unknown_session_is_an_error(target: Target) -> None:
    _seed_alice(target)
    ran = tokenlife("revoke", "--session", "no-such-sid", "--store", target.url)
    assert ran.code == 1
    assert "no session 'no-such-sid' in " in ran.one_line_error()


def test_revoke_subject_logs_out_everywhere(target: Target) -> None:
    _seed_alice(target)
    ran = tokenlife("revoke", "--subject", "alice", "--store", target.url)
    assert ran.code == 0, ran.err
    assert ran.out.startswith("Revoked 2 open sessions of 'alice'; every token issued to 'alice'")
    sessions = stored_sessions(target, "alice")
    assert all(s.revoked_at is not None for s in sessions)
    assert sorted(str(s.revoked_reason) for s in sessions) == [
        "revoked_everywhere",
        "revoked_everywhere",
        "stolen laptop",
    ]
    assert all(s.revoked_at is None for s in stored_sessions(target, "bob"))
    doc = tokenlife(
        "revoke", "--subject", "alice", "--store", target.url, "--json", "--reason", "x"
    ).json()
    assert list(doc) == ["store", "subject", "sessions_revoked", "revoked_before"]
    assert doc["sessions_revoked"] == 0


def test_revoked_session_refuses_its_tokens_afterwards(target: Target) -> None:
    """The operator's revocation is the library's: the app's next refresh fails."""

    async def issue(rig: Rig) -> tuple[str, str]:
        pair = await rig.auth.issue("carol")
        return pair.session_id, pair.refresh_token

    sid, refresh_token = with_authority(target, issue)
    assert tokenlife("revoke", "--session", sid, "--store", target.url).code == 0

    async def refresh(rig: Rig) -> str:
        try:
            await rig.auth.refresh(refresh_token)
        except Exception as exc:
            return getattr(exc, "code", type(exc).__name__)
        return "accepted"

    assert with_authority(target, refresh, start=NOW + 1) == "revoked"


def test_relative_sqlite_url(tmp_path: Path) -> None:
    """``sqlite:///name.db`` is relative to the working directory."""
    _seed_alice(sqlite_target(tmp_path / "relative.db"))
    ran = tokenlife("sessions", "bob", "--store", "sqlite:///relative.db", "--json", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert (ran.json()["store"], ran.json()["count"]) == ("sqlite:///relative.db", 1)
