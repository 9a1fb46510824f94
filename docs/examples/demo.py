"""Walk a client through one session's whole life against the seed app: ``nox -s demo``.

Starts ``seed_app`` under uvicorn on 127.0.0.1 (a free port, a SQLite store
in a temporary directory), then: login → protected → refresh via header →
refresh via body → replay of an old refresh token (reuse detected: the
session dies) → login again → logout → 401. Exits 0 when every step
answered as it should.

``--serve`` keeps the server running afterwards and prints curl commands;
``--app fastapi`` walks ``seed_fastapi`` (the same contract on FastAPI).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import secrets
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import uvicorn

HERE = Path(__file__).resolve().parent


class StepFailed(Exception):
    pass


class ServerLog(logging.Handler):
    """Keeps what the server logs under ``tokenlife``: the precise reasons a
    client never sees (expired, reuse_detected, revoked, ...)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    def take(self) -> list[str]:
        lines, self.lines = self.lines, []
        return lines


SERVER_LOG = ServerLog()


#: ``--app`` -> the seed module serving the same contract on that framework.
SEED_MODULES = {"litestar": "seed_app", "fastapi": "seed_fastapi"}


def _load_seed_app(workdir: Path, name: str = "seed_app") -> ModuleType:
    """Import the seed app with a throw-away secret and database."""
    os.environ.setdefault("TOKENLIFE_SECRET", secrets.token_urlsafe(48))
    os.environ["TOKENLIFE_DB"] = str(workdir / "tokenlife-demo.sqlite3")
    os.environ.setdefault("TOKENLIFE_SECURE_COOKIES", "0")  # plain http on loopback
    sys.path.insert(0, str(HERE))
    module = importlib.import_module(name)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the walk prints its own lines
    return module


@contextmanager
def _server_log_under_steps() -> Iterator[None]:
    """Route the ``tokenlife`` loggers to :data:`SERVER_LOG` for the walk."""
    found = logging.getLogger("tokenlife")
    saved = (found.level, found.propagate)
    found.addHandler(SERVER_LOG)
    found.setLevel(logging.INFO)
    found.propagate = False
    try:
        yield
    finally:
        found.removeHandler(SERVER_LOG)
        found.setLevel(saved[0])
        found.propagate = saved[1]


def _start(app: Any, port: int) -> tuple[uvicorn.Server, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.02)
    host, bound = sock.getsockname()[:2]
    return server, f"http://{host}:{bound}"


def _short(token: str) -> str:
    return f"{token[:12]}…{token[-6:]}"


class Walk:
    """Numbered steps, each printed with what was sent and what came back."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.number = 0

    def step(
        self,
        title: str,
        method: str,
        path: str,
        *,
        expect: int,
        token: str | None = None,
        body: dict[str, str] | None = None,
    ) -> httpx.Response:
        self.number += 1
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # Bearer only in this walk: a browser would use the cookies login sets.
        self.client.cookies.clear()
        response = self.client.request(method, path, headers=headers, json=body)
        sent = f"{method} {path}" + (f"  (Bearer {_short(token)})" if token else "")
        if body is not None:
            shown = {k: _short(v) if len(v) > 40 else v for k, v in body.items()}
            sent += f"  {json.dumps(shown, ensure_ascii=False)}"
        verdict = "ok" if response.status_code == expect else f"UNEXPECTED (wanted {expect})"
        print(f"\n{self.number}. {title}\n   → {sent}\n   ← {response.status_code}  {verdict}")
        detail = _describe(response)
        if detail:
            print(f"     {detail}")
        for line in SERVER_LOG.take():
            print(f"     server log: {line}")
        if response.status_code != expect:
            raise StepFailed(f"step {self.number}: {title}")
        return response


def _describe(response: httpx.Response) -> str:
    challenge = response.headers.get("www-authenticate")
    prefix = f"WWW-Authenticate: {challenge}; " if challenge else ""
    if not response.content:
        return prefix.rstrip("; ")
    if response.headers.get("content-type", "").startswith("application/json"):
        data = response.json()
        if isinstance(data, dict) and "access_token" in data:
            return prefix + (
                f"access {_short(data['access_token'])} (expires in {data['expires_in']} s), "
                f"refresh {_short(data['refresh_token'])}"
            )
        return prefix + json.dumps(data)
    return prefix + repr(response.text)


def walk(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        w = Walk(client)
        credentials = {"username": "test", "password": "test"}
        first = w.step("Log in as test/test", "POST", "/login", expect=200, body=credentials)
        pair1 = first.json()
        w.step("Use the access token", "GET", "/protected", expect=200, token=pair1["access_token"])
        second = w.step(
            "Refresh, refresh token in the Authorization header (rotation)",
            "POST",
            "/refresh",
            expect=200,
            token=pair1["refresh_token"],
        )
        pair2 = second.json()
        third = w.step(
            'Refresh again, refresh token in the JSON body {"refresh_token": ...}',
            "POST",
            "/refresh",
            expect=200,
            body={"refresh_token": pair2["refresh_token"]},
        )
        pair3 = third.json()
        w.step(
            "Replay the FIRST refresh token (as a thief would): reuse detected",
            "POST",
            "/refresh",
            expect=401,
            token=pair1["refresh_token"],
        )
        print("     the whole session is now revoked, its newest tokens included:")
        w.step(
            "The newest access token is dead",
            "GET",
            "/protected",
            expect=401,
            token=pair3["access_token"],
        )
        w.step(
            "The newest refresh token is dead",
            "POST",
            "/refresh",
            expect=401,
            token=pair3["refresh_token"],
        )
        again = w.step(
            "Log in again: a new session", "POST", "/login", expect=200, body=credentials
        )
        access = again.json()["access_token"]
        w.step("Who am I?", "GET", "/whoami", expect=200, token=access)
        w.step("Log out", "POST", "/logout", expect=204, token=access)
        w.step("The access token no longer works", "GET", "/protected", expect=401, token=access)


def _curl_help(base_url: str, docs: str = "/schema") -> str:
    return f"""
The server keeps running at {base_url} — try it (Ctrl-C to stop):

  curl -s -X POST {base_url}/login -H 'content-type: application/json' \\
       -d '{{"username": "test", "password": "test"}}'
  ACCESS=<access_token>  REFRESH=<refresh_token>
  curl -s {base_url}/protected -H "Authorization: Bearer $ACCESS"
  curl -s {base_url}/whoami -H "Authorization: Bearer $ACCESS"
  curl -s {base_url}/admin -H "Authorization: Bearer $ACCESS"      # 403 unless admin/admin
  curl -s -X POST {base_url}/refresh -H "Authorization: Bearer $REFRESH"
  curl -s -X POST {base_url}/refresh -H 'content-type: application/json' \\
       -d "{{\\"refresh_token\\": \\"$REFRESH\\"}}"
  curl -s -i -X POST {base_url}/logout -H "Authorization: Bearer $ACCESS"
  OpenAPI: {base_url}{docs}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", action="store_true", help="keep the server running")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument(
        "--app", choices=sorted(SEED_MODULES), default="litestar", help="the seed app's framework"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tokenlife-demo-") as tmp:
        seed = _load_seed_app(Path(tmp), SEED_MODULES[args.app])
        server, base_url = _start(seed.app, args.port)
        print(f"tokenlife demo: the {args.app} seed app at {base_url}, its SQLite store in {tmp}")
        try:
            with _server_log_under_steps():
                walk(base_url)
        except StepFailed as exc:
            print(f"\nFAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            if not args.serve:
                server.should_exit = True
        print("\nEvery step answered as it should.")
        if args.serve:
            print(_curl_help(base_url, "/docs" if args.app == "fastapi" else "/schema"))
            try:
                while not server.should_exit:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                server.should_exit = True
        time.sleep(0.3)  # let the server close the store before the directory goes
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
