"""The Gate's synchronous rules, without a server: excludes and the in-line cookies' merge."""

from __future__ import annotations

from tokenlife import KeySet, TokenAuthority, TokenPair
from tokenlife.web import CookieConfig, Gate, WebConfig
from tokenlife_memory import MemoryStore

PAIR = TokenPair(
    access_token="a",
    refresh_token="r",
    session_id="s",
    access_expires_at=1300,
    refresh_expires_at=2000,
    expires_in=300,
    csrf_token="c",
)


def _gate(**config: object) -> Gate:
    authority = TokenAuthority(MemoryStore(), keys=KeySet.from_secret("g" * 40))
    return Gate(authority, WebConfig(**config), also_exclude=["/schema"])  # type: ignore[arg-type]


def test_excluded_paths_are_anchored_and_methods_listed() -> None:
    gate = _gate(exclude=["/public"])
    assert gate.excluded("GET", "/public/x") and gate.excluded("GET", "/schema/swagger")
    assert not gate.excluded("GET", "/publicity")
    assert gate.excluded("OPTIONS", "/anything")  # CORS preflights carry no credentials


def test_a_response_that_logs_out_is_never_followed_by_cookies_that_log_back_in() -> None:
    gate = _gate(cookies=CookieConfig())
    fresh = gate.cookies_for(PAIR)
    plain = [(b"content-type", b"text/plain")]
    merged = gate.with_cookies(plain, fresh)
    assert [k for k, _ in merged].count(b"set-cookie") == 3
    clearing = [(b"set-cookie", c.render().encode()) for c in gate.clearing_cookies()]
    assert gate.with_cookies(clearing, fresh) == clearing  # the logout wins
    other = [(b"set-cookie", b"theme=dark")]
    assert len(gate.with_cookies(other, fresh)) == 4  # someone else's cookie does not count
