"""Real PostgreSQL servers for the tests: a throwaway cluster per server.

``initdb`` makes a cluster in a temporary directory, ``postgres`` serves it on
127.0.0.1 only, on a port found free at start, with trust authentication (no
password exists to leak). PostgreSQL refuses to run as root, so as root the
cluster belongs to the ``postgres`` user (Debian's package creates it). The
server dies with the test process: stopped explicitly, or at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Final

#: Where Debian puts the server binaries (they are not on PATH there).
_DEBIAN_BIN: Final = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
START_TIMEOUT: Final = 30.0

_running: set[PostgresServer] = set()


def _binary(name: str) -> str | None:
    for folder in _DEBIAN_BIN:
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


INITDB: Final = _binary("initdb")
POSTGRES: Final = _binary("postgres")


def _user() -> pwd.struct_passwd | None:
    """The unprivileged user the server runs as when we are root, else ``None``."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return None


def missing() -> str | None:
    """Why real servers cannot be started here, or ``None``."""
    if INITDB is None or POSTGRES is None:
        return "PostgreSQL server not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0 and _user() is None:
        return "running as root and no 'postgres' user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _demote(user: pwd.struct_passwd | None) -> dict[str, object]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


class PostgresServer:
    """One ``postgres`` process over a cluster of its own."""

    def __init__(self) -> None:
        self._user = _user()
        self.dir = Path(tempfile.mkdtemp(prefix="tokenlife-pg-"))
        if self._user is not None:
            os.chown(self.dir, self._user.pw_uid, self._user.pw_gid)
        self.data = self.dir / "data"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._initialised = False

    def _initdb(self) -> None:
        assert INITDB is not None
        subprocess.run(
            [
                INITDB,
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            **_demote(self._user),  # type: ignore[call-overload]
        )
        self._initialised = True

    def start(self) -> PostgresServer:
        assert POSTGRES is not None
        if not self._initialised:
            self._initdb()
        if not self.port:
            self.port = _free_port()
        log = open(self.dir / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
        self._process = subprocess.Popen(
            [
                POSTGRES,
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(self.dir),
                "-c",
                "fsync=on",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=64MB",
            ],
            stdout=log,
            stderr=log,
            **_demote(self._user),  # type: ignore[call-overload]
        )
        log.close()
        _running.add(self)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"postgres exited at start:\n{self.log}")
            if self._ready():
                return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"postgres did not become ready:\n{self.log}")

    def _ready(self) -> bool:
        """Ready once it accepts a connection and the startup has finished (pid file line 8)."""
        pidfile = self.data / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except OSError:
            return False
        if len(lines) < 8 or lines[7].strip() != "ready":
            return False
        with socket.socket() as probe:
            probe.settimeout(0.5)
            try:
                probe.connect(("127.0.0.1", self.port))
            except OSError:
                return False
        return True

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log(self) -> str:
        try:
            return (self.dir / "server.log").read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def _signal(self, sig: int, wait: float) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        self._process = None

    def stop(self) -> None:
        """A fast shutdown (SIGINT): clients are cut off, the cluster is consistent."""
        self._signal(signal.SIGINT, 20)

    def kill(self) -> None:
        """kill -9 of the postmaster: what survives is what was committed."""
        process = self._process
        if process is None:
            return
        self._signal(signal.SIGKILL, 10)
        # The backends outlive a killed postmaster until they notice; a new
        # postmaster refuses to start while they hold the shared memory.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pidfile = self.data / "postmaster.pid"
            if not pidfile.exists() or not self._backends_alive(process.pid):
                break
            time.sleep(0.05)

    @staticmethod
    def _backends_alive(postmaster: int) -> bool:
        for status in Path("/proc").glob("[0-9]*/status"):
            with contextlib.suppress(OSError):
                for line in status.read_text().splitlines():
                    if line.startswith("PPid:") and int(line.split()[1]) == postmaster:
                        return True
        return False

    def restart(self) -> PostgresServer:
        self.stop()
        return self.start()

    def remove(self) -> None:
        self.stop()
        _running.discard(self)
        shutil.rmtree(self.dir, ignore_errors=True)


def _stop_all() -> None:
    for server in list(_running):
        server.remove()


atexit.register(_stop_all)
