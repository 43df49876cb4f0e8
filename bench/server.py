"""Start and stop `memberhub serve` on a free local port, and read its processes.

Used by bench/ and by the end-to-end tests (tests/ imports it from here, never the
other way round).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    workers: int
    threads: int

    @property
    def label(self) -> str:
        return (
            f"gthread {self.workers}x{self.threads}" if self.threads > 1 else f"sync {self.workers}"
        )

    def url(self, path: str) -> str:
        return self.base_url + path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def rss_bytes(self) -> int:
        """Resident memory of the gunicorn master and its workers together."""
        return sum(rss_bytes(pid) for pid in {self.process.pid, *children(self.process.pid)})

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        # SIGTERM to the gunicorn master: it stops its workers before it exits.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout)


def start_server(
    *,
    database_url: str,
    secret_key: str,
    var_dir: Path,
    workers: int = 4,
    threads: int = 1,
    startup_timeout: float = 60.0,
) -> RunningServer:
    """Run `memberhub serve` with a scratch environment and wait until /healthz answers.

    `threads > 1` uses gunicorn's gthread worker, otherwise sync workers. Raises
    RuntimeError (with the server's log) when it exits or never becomes healthy.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        MEMBERHUB_SECRET_KEY=secret_key,
        MEMBERHUB_VAR_DIR=str(var_dir),
        MEMBERHUB_WAREHOUSE=str(var_dir / "warehouse.duckdb"),
    )
    command = [
        sys.executable,
        "-m",
        "memberhub.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    log_path = var_dir / f"gunicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = RunningServer(process, f"http://127.0.0.1:{port}", log_path, workers, threads)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.url("/healthz"), timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz in {startup_timeout} s:\n{server.log()}")


# -- processes, read from /proc ---------------------------------------------------------------


def children(pid: int) -> set[int]:
    """Live child processes of `pid`, read from /proc (gunicorn's workers of its master)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces; the fields after its ')' are fixed.
            state, ppid = stat.read_text().rpartition(")")[2].split()[:2]
        except OSError:
            continue
        if int(ppid) == pid and state != "Z":
            found.add(int(stat.parent.name))
    return found


def rss_bytes(pid: int) -> int:
    """VmRSS of one process from /proc/<pid>/status; 0 when it is gone or a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024  # reported in kB
    return 0
