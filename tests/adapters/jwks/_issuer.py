"""A real HTTP server on 127.0.0.1 serving an issuer's JWKS, under the test's control.

Stdlib ``http.server`` on its own thread: the fetcher under test speaks real
HTTP over a real socket. The test sets what it answers (body, status,
headers), can hold answers back (to line up concurrent callers behind one
fetch) and counts the requests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec

from tokenlife import KeySet


class Issuer:
    def __init__(self) -> None:
        self.body = b'{"keys": []}'
        self.status = 200
        self.headers: dict[str, str] = {"Cache-Control": "max-age=300"}
        self.requests = 0
        self.down = False
        #: Cleared: answers wait (up to 10 s) until it is set again.
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self.url = ""

    def publish(self, *sets: KeySet) -> None:
        keys = [jwk for s in sets for jwk in s.public_jwks()["keys"]]
        self.body = msgspec.json.encode({"keys": keys})
        self.status = 200

    def count(self) -> None:
        with self._lock:
            self.requests += 1
        self.arrived.set()


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.count()
            if issuer.down:
                self.close_connection = True
                self.connection.close()  # the connection drops: a network error
                return
            issuer.gate.wait(10)
            self.send_response(issuer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(issuer.body)))
            for name, value in issuer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(issuer.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serving() -> Iterator[Issuer]:
    issuer = Issuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    server.daemon_threads = True
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        issuer.gate.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
