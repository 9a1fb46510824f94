"""Real redis-server processes for the tests: one server, or a 3-master cluster.

Each server listens on 127.0.0.1 only, on a port found free at start (no fixed
port, so parallel runs and a developer's own Redis never clash), keeps its
files in a temporary directory removed at stop, and dies with the test
process: stopped explicitly, at interpreter exit, and (Linux) by a parent-death
signal if the test process is killed outright.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

REDIS_SERVER: Final = shutil.which("redis-server")
REDIS_CLI: Final = shutil.which("redis-cli")
#: Seconds a server (or a cluster) gets to become ready.
START_TIMEOUT: Final = 20.0

_running: set[RedisServer] = set()
_clusters: set[RedisClusterServers] = set()


def missing() -> str | None:
    """Why real servers cannot be started here, or ``None``."""
    if REDIS_SERVER is None or REDIS_CLI is None:
        return "redis-server/redis-cli not installed (Debian: apt-get install redis-server)"
    return None


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A port free on 127.0.0.1 now; with ``cluster_bus``, port + 10000 free too."""
    if not cluster_bus:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
            return port
    for _ in range(1000):
        port = random.randint(20000, 55000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the child when the test process dies.

    Linux sends it when the *thread* that started the child ends, so it is only
    armed from the main thread (a server started by a worker thread — say an
    anyio blocking portal — would otherwise die with that thread); atexit
    still covers the rest.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not (
        threading.main_thread()
    ):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def hook() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return hook


def _ping(port: int, timeout: float = 0.5) -> bytes:
    """Send one inline command; the first reply line (no redis-py needed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(64)


class RedisServer:
    """One redis-server process. ``config`` adds redis.conf directives."""

    def __init__(
        self, *, config: Mapping[str, str] | None = None, workdir: Path | None = None
    ) -> None:
        if missing() is not None:
            raise RuntimeError(missing())
        self.config = dict(config or {})
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="tokenlife-redis-"))
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    # -- life ------------------------------------------------------------------------

    def start(self, *, port: int | None = None, cluster_bus: bool = False) -> RedisServer:
        """Start on ``port`` (else a free one, a few tries in case another process grabs it)."""
        for attempt in range(5):
            self.port = port or free_port(cluster_bus=cluster_bus)
            self.process = subprocess.Popen(
                self._argv(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent(),
            )
            _running.add(self)
            if self._wait_ready():
                return self
            self._reap()
            if port is not None or attempt == 4:
                break
        raise RuntimeError(f"redis-server did not start; log:\n{self.log()[-2000:]}")

    def _argv(self) -> list[str]:
        assert REDIS_SERVER is not None
        settings = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "protected-mode": "no",
            "daemonize": "no",
            "dir": str(self.workdir),
            "logfile": str(self.workdir / "redis.log"),
            "save": "",
            "appendonly": "no",
            **self.config,
        }
        argv = [REDIS_SERVER]
        for name, value in settings.items():
            argv += [f"--{name}", value]
        return argv

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                if _ping(self.port).startswith(b"+PONG"):
                    return True
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        """Stop the process (the data directory stays until :meth:`remove`)."""
        self._reap(graceful=True)

    def kill(self) -> None:
        """SIGKILL: a crash, nothing flushed beyond what the server already wrote."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        self._reap()

    def restart(self) -> RedisServer:
        """Start again on the same port, with the same directory and configuration."""
        self._reap(graceful=True)
        return self.start(port=self.port)

    def remove(self) -> None:
        """Stop, and delete the temporary directory."""
        self._reap(graceful=True)
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _reap(self, *, graceful: bool = False) -> None:
        process, self.process = self.process, None
        _running.discard(self)
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if graceful else signal.SIGKILL)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    # -- facts -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log(self) -> str:
        try:
            return (self.workdir / "redis.log").read_text(errors="replace")
        except OSError:
            return ""

    def cli(self, *args: str) -> str:
        """Run ``redis-cli`` against this server; its output."""
        assert REDIS_CLI is not None
        done = subprocess.run(
            [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout


class RedisClusterServers:
    """A Redis Cluster of ``masters`` primaries and no replicas, on 127.0.0.1."""

    def __init__(self, masters: int = 3) -> None:
        if missing() is not None:
            raise RuntimeError(missing())
        self.root = Path(tempfile.mkdtemp(prefix="tokenlife-redis-cluster-"))
        self.nodes: list[RedisServer] = []
        for n in range(masters):
            workdir = self.root / f"node{n}"
            workdir.mkdir()
            config = {
                "cluster-enabled": "yes",
                "cluster-config-file": str(workdir / "nodes.conf"),
                "cluster-node-timeout": "5000",
            }
            self.nodes.append(RedisServer(config=config, workdir=workdir))

    def start(self) -> RedisClusterServers:
        _clusters.add(self)
        try:
            for node in self.nodes:
                node.start(cluster_bus=True)
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            self.nodes[0].cli(
                "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"
            )
            self.nodes[0].cli("--cluster", "check", addresses[0])
            self._wait_ok()
        except BaseException:
            self.remove()
            raise
        return self

    def _wait_ok(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            states = [node.cli("cluster", "info") for node in self.nodes]
            if all("cluster_state:ok" in state for state in states):
                return
            time.sleep(0.05)
        raise RuntimeError("the cluster did not reach cluster_state:ok")

    @property
    def url(self) -> str:
        return self.nodes[0].url

    @property
    def ports(self) -> Sequence[int]:
        return [node.port for node in self.nodes]

    def remove(self) -> None:
        _clusters.discard(self)
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@atexit.register
def _stop_all() -> None:
    """No redis-server outlives the test process, whatever the tests forgot."""
    for cluster in list(_clusters):
        cluster.remove()
    for server in list(_running):
        server.remove()


__all__ = (
    "REDIS_CLI",
    "REDIS_SERVER",
    "RedisClusterServers",
    "RedisServer",
    "free_port",
    "missing",
)
