"""GET /protected over real HTTP: the Litestar plugin against the peers, loaded by wrk.

Every server runs the same way — ``uvicorn`` with uvloop and httptools, one
worker, a subprocess on 127.0.0.1 — and answers the same plain-text body:

- **tokenlife**: the plugin, strict revocation (a memory-store read per request),
  bearer header.
- **unauthenticated**: the very same route in the very same app and process,
  marked ``exclude_from_auth`` (the middleware is there, and steps aside).
- **Litestar JWTAuth**: ``litestar.security.jwt.JWTAuth``, its documented use.
- **FastAPI + AuthX**: ``Depends(auth.access_token_required)``, its documented use.
- **tokenlife-fastapi**: ``Depends(tl.access_token_required)`` (strict, memory
  store, bearer header), against the **FastAPI unauthenticated** route of the
  same app and process; both FastAPI groups also compare it with AuthX.

Two traffic shapes: one token repeated, and 10,000 distinct valid tokens in
rotation (``wrk_tokens.lua``); every server mints its own tokens at start-up
with its own library. One contender run is ``REQUESTS`` requests (wrk's
thread stops after that many responses; ``-d`` only bounds the run in time),
so the harness's time per op compares across servers in interleaved rounds.
A run with any non-2xx answer fails the group: no row times an error path.

Besides the harness's ratios, each group prints requests/s (wrk's count over
the run's wall time) and the server's CPU µs per request, read from
``/proc/<pid>/stat`` before and after each run.

A third shape is the seed's own subject, ``POST /refresh`` over HTTP: the
Litestar plugin's and tokenlife-fastapi's refresh routes rotating on the
SQLite store (``synchronous=FULL``: every rotation durable), against AuthX's
documented refresh route, which mints an access token and stores nothing.
``wrk_refresh.lua`` sends each answer's successor next, so no rotated token
is ever presented twice.

``python -m tests.bench.bench_http [--quick]`` runs only these groups.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._harness import TIMES, Group, Op, Skip, Target

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LUA = HERE / "wrk_tokens.lua"
SECRET = "bench-http-hs256-secret-0123456789abcdefghijkl"
BODY = "You have access to this protected resource"
DISTINCT_TOKENS = 10_000
#: Requests per contender run; every run is bounded by ``RUN_SECONDS`` too.
REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "3000"))
RUN_SECONDS = 20
CONNECTIONS = 16
PACKAGES = ("tokenlife", "litestar", "uvicorn", "uvloop", "httptools", "fastapi", "authx")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

# -- the servers (imported by uvicorn in a subprocess) -----------------------------------


def _write_tokens(tokens: list[str]) -> None:
    path = Path(os.environ["BENCH_HTTP_TOKENS"])
    partial = path.with_suffix(".partial")
    partial.write_text("\n".join(tokens) + "\n")
    partial.rename(path)  # readers never see half a file


def _tokenlife_app() -> Any:
    from litestar import Litestar, MediaType, get

    from tokenlife import KeySet, Policy, TokenAuthority
    from tokenlife_litestar import TokenLifeConfig, TokenLifePlugin

    memory = ROOT / "adapters" / "memory" / "src"
    if str(memory) not in sys.path:  # pragma: no cover - when not installed
        sys.path.append(str(memory))
    from tokenlife_memory import MemoryStore

    authority = TokenAuthority(
        MemoryStore(), keys=KeySet.from_secret(SECRET), policy=Policy(revocation="strict")
    )
    plugin = TokenLifePlugin(TokenLifeConfig(authority=authority, refresh_path=None))

    @get("/protected", media_type=MediaType.TEXT)
    async def protected() -> str:
        return BODY

    @get("/open", media_type=MediaType.TEXT, exclude_from_auth=True)
    async def open_route() -> str:
        return BODY

    async def mint() -> None:
        tokens = [
            (await authority.issue(f"user{i}", scopes=("read",))).access_token
            for i in range(DISTINCT_TOKENS)
        ]
        _write_tokens(tokens)

    return Litestar(
        [protected, open_route], plugins=[plugin], on_startup=[mint], logging_config=None
    )


def _jwtauth_app() -> Any:
    from datetime import timedelta

    from litestar import Litestar, MediaType, get
    from litestar.connection import ASGIConnection
    from litestar.security.jwt import JWTAuth, Token

    async def user(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> str:
        return token.sub

    jwt_auth = JWTAuth[str, Token](retrieve_user_handler=user, token_secret=SECRET)

    @get("/protected", media_type=MediaType.TEXT)
    async def protected() -> str:
        return BODY

    async def mint() -> None:
        expiry = timedelta(hours=2)
        _write_tokens(
            [
                jwt_auth.create_token(identifier=f"user{i}", token_expiration=expiry)
                for i in range(DISTINCT_TOKENS)
            ]
        )

    return Litestar(
        [protected], on_app_init=[jwt_auth.on_app_init], on_startup=[mint], logging_config=None
    )


def _authx_app() -> Any:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager
    from datetime import timedelta

    from authx import AuthX, AuthXConfig
    from fastapi import Depends, FastAPI  # type: ignore[import-not-found,unused-ignore]
    from fastapi.responses import (  # type: ignore[import-not-found,unused-ignore]
        PlainTextResponse,
    )

    auth: AuthX[Any] = AuthX(
        config=AuthXConfig(
            JWT_SECRET_KEY=SECRET,
            JWT_ALGORITHM="HS256",
            JWT_TOKEN_LOCATION=["headers"],
            JWT_ACCESS_TOKEN_EXPIRES=timedelta(hours=2),
        )
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _write_tokens([auth.create_access_token(uid=f"user{i}") for i in range(DISTINCT_TOKENS)])
        yield

    async def protected() -> str:
        return BODY

    app = FastAPI(lifespan=lifespan)
    # Same as ``@app.get(...)``; spelled out so type checkers without FastAPI
    # installed see no untyped decorator.
    app.add_api_route(
        "/protected",
        protected,
        methods=["GET"],
        response_class=PlainTextResponse,
        dependencies=[Depends(auth.access_token_required)],
    )
    return app


def _fastapi_app() -> Any:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import Depends, FastAPI  # type: ignore[import-not-found,unused-ignore]
    from fastapi.responses import (  # type: ignore[import-not-found,unused-ignore]
        PlainTextResponse,
    )

    from tokenlife import KeySet, Policy, TokenAuthority
    from tokenlife_fastapi import TokenLife
    from tokenlife_memory import MemoryStore

    authority = TokenAuthority(
        MemoryStore(), keys=KeySet.from_secret(SECRET), policy=Policy(revocation="strict")
    )
    # As documented: the middleware (which steps aside for /open), the handlers.
    tl = TokenLife(authority, refresh_path=None, logout_path=None, exclude="/open$")

    @asynccontextmanager
    async def mint(_: FastAPI) -> AsyncIterator[None]:
        tokens = [
            (await authority.issue(f"user{i}", scopes=("read",))).access_token
            for i in range(DISTINCT_TOKENS)
        ]
        _write_tokens(tokens)
        yield

    async def protected() -> str:
        return BODY

    app = FastAPI(lifespan=tl.lifespan(mint))
    tl.install(app)
    app.add_api_route(
        "/protected",
        protected,
        methods=["GET"],
        response_class=PlainTextResponse,
        dependencies=[Depends(tl.access_token_required)],
    )
    app.add_api_route("/open", protected, methods=["GET"], response_class=PlainTextResponse)
    return app


# -- POST /refresh: rotation on SQLite (synchronous=FULL) vs AuthX's stateless route ----

#: Refresh tokens (sessions) each refresh server mints. wrk_refresh.lua keeps
#: the successors from run to run but loses up to one per connection a run.
REFRESH_TOKENS = 64 * CONNECTIONS


def _sqlite_authority() -> Any:
    from tokenlife import KeySet, Policy, TokenAuthority
    from tokenlife_sqlite import SQLiteStore

    path = Path(os.environ["BENCH_HTTP_TOKENS"]).with_suffix(".sqlite3")
    return TokenAuthority(
        SQLiteStore(path, synchronous="full"), keys=KeySet.from_secret(SECRET), policy=Policy()
    )


async def _mint_refresh(authority: Any) -> None:
    import asyncio

    # Concurrent: the SQLite store commits a batch of logins with one sync.
    pairs = await asyncio.gather(*(authority.issue(f"user{i}") for i in range(REFRESH_TOKENS)))
    _write_tokens([pair.refresh_token for pair in pairs])


def _litestar_refresh_app() -> Any:
    from litestar import Litestar

    from tokenlife_litestar import TokenLifeConfig, TokenLifePlugin

    authority = _sqlite_authority()
    plugin = TokenLifePlugin(TokenLifeConfig(authority=authority, refresh_path="/refresh"))

    async def mint() -> None:
        await _mint_refresh(authority)

    return Litestar([], plugins=[plugin], on_startup=[mint], logging_config=None)


def _fastapi_refresh_app() -> Any:
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from fastapi import FastAPI  # type: ignore[import-not-found,unused-ignore]

    from tokenlife_fastapi import TokenLife

    authority = _sqlite_authority()
    tl = TokenLife(authority, refresh_path="/refresh")

    @asynccontextmanager
    async def mint(_: FastAPI) -> AsyncIterator[None]:
        await _mint_refresh(authority)
        yield

    app = FastAPI(lifespan=tl.lifespan(mint))
    tl.install(app)
    return app


def _authx_refresh_app() -> Any:
    """AuthX's "Refreshing Tokens" route: a new access token, nothing stored or rotated."""
    from collections.abc import AsyncIterator
    from contextlib import asynccontextmanager

    from authx import AuthX, AuthXConfig, TokenPayload
    from fastapi import Depends, FastAPI  # type: ignore[import-not-found,unused-ignore]

    auth: AuthX[Any] = AuthX(
        config=AuthXConfig(
            JWT_SECRET_KEY=SECRET, JWT_ALGORITHM="HS256", JWT_TOKEN_LOCATION=["headers"]
        )
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        _write_tokens([auth.create_refresh_token(uid=f"user{i}") for i in range(REFRESH_TOKENS)])
        yield

    async def refresh(
        payload: TokenPayload = Depends(auth.refresh_token_required),  # noqa: B008
    ) -> dict[str, str]:
        return {"access_token": auth.create_access_token(uid=payload.sub)}

    app = FastAPI(lifespan=lifespan)
    app.add_api_route("/refresh", refresh, methods=["POST"])
    return app


APPS: dict[str, Callable[[], Any]] = {
    "tokenlife": _tokenlife_app,
    "fastapi": _fastapi_app,
    "jwtauth": _jwtauth_app,
    "authx": _authx_app,
    "litestar-refresh": _litestar_refresh_app,
    "fastapi-refresh": _fastapi_refresh_app,
    "authx-refresh": _authx_refresh_app,
    # A bearer and a DPoP-bound token on one server (bench_dpop.py's HTTP group).
    "dpop": lambda: __import__("tests.bench.bench_dpop", fromlist=["http_app"]).http_app(),
    # The protected route and the introspection route of one app (bench_oauth.py).
    "oauth": lambda: __import__("tests.bench.bench_oauth", fromlist=["http_app"]).http_app(),
}


def make_app() -> Any:
    """The app named by ``BENCH_HTTP_APP`` (``uvicorn --factory``)."""
    return APPS[os.environ["BENCH_HTTP_APP"]]()


# -- running them ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One uvicorn subprocess and the tokens it minted."""

    def __init__(self, name: str, workdir: Path) -> None:
        self.name = name
        self.port = _free_port()
        self.tokens = workdir / f"{name}.tokens"
        self.one_token = workdir / f"{name}.one-token"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "BENCH_HTTP_APP": self.name,
            "BENCH_HTTP_TOKENS": str(self.tokens),
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "tests.bench.bench_http:make_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
                "--lifespan",
                "on",
                "--ws",
                "none",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 120
        while not (self.tokens.exists() and self._accepts()):
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"the {self.name} server exited:\n{err}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start in time")
            time.sleep(0.1)
        first = self.tokens.read_text().splitlines()[0]
        self.one_token.write_text(first + "\n")

    def _accepts(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return True

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_DONE_RE = re.compile(r"tokens-done requests=(\d+) non2xx=(\d+)")


@dataclass
class Tally:
    """What the runs of one contender added up to (for the detail table)."""

    requests: int = 0
    cpu: float = 0.0
    rates: list[float] = field(default_factory=list)


def run_wrk(server: Server, path: str, tokens: Path, tally: Tally, script: Path = LUA) -> None:
    """One contender run: ``REQUESTS`` requests, the server's CPU time around it.

    ``wrk_tokens.lua`` ends wrk after the last response, so the wall time of
    the run is the time those requests took (plus wrk's start, a few ms).
    """
    before = server.cpu_seconds()
    start = time.perf_counter()
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{RUN_SECONDS}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{server.port}{path}",
            "--",
            str(tokens),
            str(REQUESTS),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS + 30,
        check=False,
    )
    elapsed = time.perf_counter() - start
    cpu = server.cpu_seconds() - before
    finished = _DONE_RE.search(done.stdout)
    if finished is None:
        raise RuntimeError(
            f"{server.name}{path}: wrk did not get {REQUESTS} answers within {RUN_SECONDS} s "
            f"(exit {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    if done.returncode != 0 or int(finished.group(2)):
        raise RuntimeError(f"{server.name}{path}: {finished.group(2)} non-2xx answers")
    requests = int(finished.group(1))
    tally.requests += requests
    tally.cpu += cpu
    tally.rates.append(requests / elapsed)


# -- the groups --------------------------------------------------------------------------

BASELINE = "unauthenticated"
#: (contender, server, path), per framework: each framework's own unauthenticated
#: route is its baseline.
CONTENDERS = (
    ("tokenlife", "tokenlife", "/protected"),
    ("unauthenticated", "tokenlife", "/open"),
    ("Litestar JWTAuth", "jwtauth", "/protected"),
    ("FastAPI + AuthX", "authx", "/protected"),
)
FASTAPI_BASELINE = "FastAPI unauthenticated"
FASTAPI_CONTENDERS = (
    ("tokenlife-fastapi", "fastapi", "/protected"),
    (FASTAPI_BASELINE, "fastapi", "/open"),
    ("FastAPI + AuthX", "authx", "/protected"),
)


def _requirements() -> None:
    if shutil.which("wrk") is None:
        raise Skip("wrk is not installed (Debian package wrk)")
    if not Path("/proc/self/stat").exists():
        raise Skip("no /proc: cannot read the servers' CPU time")
    for module in (
        "tokenlife_sqlite",
        "uvicorn",
        "uvloop",
        "httptools",
        "fastapi",
        "authx",
        "tokenlife_litestar",
        "tokenlife_fastapi",
    ):
        try:
            __import__(module)
        except ImportError:
            raise Skip(f"{module} is missing: install the 'bench-http' dependency group") from None


def _group(
    title: str,
    many: bool,
    targets: Sequence[Target],
    contenders: Sequence[tuple[str, str, str]] = CONTENDERS,
    baseline: str = BASELINE,
    script: Path = LUA,
) -> Group:
    servers: dict[str, Server] = {}
    tallies = {name: Tally() for name, _, _ in contenders}
    workdirs: list[Path] = []

    def op(name: str, server: str, path: str) -> Op:
        def run() -> None:
            chosen = servers[server]
            tokens = chosen.tokens if many else chosen.one_token
            run_wrk(chosen, path, tokens, tallies[name], script)

        return run

    async def setup() -> None:
        workdirs.append(Path(tempfile.mkdtemp(prefix="tokenlife-bench-http-")))
        for name in sorted({server for _, server, _ in contenders}):
            servers[name] = Server(name, workdirs[0])
            servers[name].start()

    async def teardown() -> None:
        for server in servers.values():
            server.stop()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
        _print_detail(title, tallies, targets, baseline)

    return Group(
        title,
        baseline=baseline,
        contenders={name: op(name, server, path) for name, server, path in contenders},
        targets=targets,
        setup=setup,
        teardown=teardown,
        packages=(*PACKAGES, "tokenlife-fastapi"),
    )


def _print_detail(
    title: str, tallies: dict[str, Tally], targets: Sequence[Target], baseline: str
) -> None:
    """Requests/s and server CPU per request, and the targets judged on CPU too.

    On a shared machine, wall-clock throughput moves with the neighbours;
    the server's own CPU time per request moves much less, so the targets are
    also checked on it (baseline CPU µs ÷ contender CPU µs).
    """
    cpu = {n: t.cpu / t.requests * 1e6 for n, t in tallies.items() if t.requests}
    lines = [
        f"\n{title}: wrk -t1 -c{CONNECTIONS}, {REQUESTS} requests a run",
        "| contender | requests/s (median run) | server CPU µs/request | vs baseline (CPU) |",
        "|---|--:|--:|--:|",
    ]
    for name, tally in tallies.items():
        if name in cpu:
            rate = statistics.median(tally.rates)
            ratio = cpu[baseline] / cpu[name] if baseline in cpu else float("nan")
            lines.append(f"| {name} | {rate:,.0f} | {cpu[name]:,.1f} | {ratio:.2f}{TIMES} |")
    for target in targets:
        vs = target.vs or baseline
        if target.contender in cpu and vs in cpu:
            measured = cpu[vs] / cpu[target.contender]
            verdict = "PASS" if measured >= target.at_least else "FAIL"
            lines.append(
                f"{title}: CPU target: {target.contender} ≥ {target.at_least:g}{TIMES} {vs} "
                f"— measured {measured:.2f}{TIMES} — {verdict}"
            )
    print("\n".join(lines), file=sys.stderr, flush=True)


def _litestar_targets(one_target: float) -> tuple[Target, ...]:
    return (
        Target("tokenlife", one_target),
        Target("tokenlife", 2.0, vs="Litestar JWTAuth"),
        Target("tokenlife", 5.0, vs="FastAPI + AuthX"),
    )


def _fastapi_targets(one_target: float) -> tuple[Target, ...]:
    return (
        Target("tokenlife-fastapi", one_target),
        Target("tokenlife-fastapi", 5.0, vs="FastAPI + AuthX"),
    )


REFRESH_BASELINE = "AuthX refresh (stores nothing)"
REFRESH_CONTENDERS = (
    ("tokenlife-litestar", "litestar-refresh", "/refresh"),
    ("tokenlife-fastapi", "fastapi-refresh", "/refresh"),
    (REFRESH_BASELINE, "authx-refresh", "/refresh"),
)
#: Rotation with durable storage against a route that stores nothing.
REFRESH_TARGETS = (Target("tokenlife-litestar", 1.5), Target("tokenlife-fastapi", 1.5))


def groups() -> list[Group]:
    _requirements()
    many = f"{DISTINCT_TOKENS:,} tokens"
    fastapi, base = FASTAPI_CONTENDERS, FASTAPI_BASELINE
    return [
        _group("HTTP GET /protected, one token", False, _litestar_targets(0.8)),
        _group(f"HTTP GET /protected, {many}", True, _litestar_targets(0.7)),
        _group(
            "HTTP GET /protected (FastAPI), one token", False, _fastapi_targets(0.8), fastapi, base
        ),
        _group(
            f"HTTP GET /protected (FastAPI), {many}", True, _fastapi_targets(0.7), fastapi, base
        ),
        _group(
            "HTTP POST /refresh, rotation on SQLite (synchronous=FULL)",
            True,
            REFRESH_TARGETS,
            REFRESH_CONTENDERS,
            REFRESH_BASELINE,
            HERE / "wrk_refresh.lua",
        ),
    ]


if __name__ == "__main__":
    from ._cli import main

    raise SystemExit(main(["--only", "HTTP", *sys.argv[1:]]))
