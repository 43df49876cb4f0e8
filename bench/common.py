"""Shared bench helpers: scratch PostgreSQL databases, a gunicorn server, pgbench, percentiles."""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests
from psycopg import sql

APP = "memberhub.wiring:wsgi_app()"


# -- scratch databases ---------------------------------------------------------------


def database_url(base_url: str, dbname: str) -> str:
    """`postgresql:///` (or a URL naming a server) with its database part set to `dbname`."""
    parts = urlsplit(base_url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}/{dbname}{query}"


def recreate_database(base_url: str, dbname: str) -> str:
    """Drop (forcing out any session) and create an empty database; returns its URL."""
    with psycopg.connect(database_url(base_url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return database_url(base_url, dbname)


def drop_database(base_url: str, dbname: str) -> None:
    with psycopg.connect(database_url(base_url, "postgres"), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )


# -- pgbench -------------------------------------------------------------------------


@dataclass(frozen=True)
class PgbenchResult:
    tps: float
    latency_ms: float | None
    clients: int
    seconds: int
    scale: int


def run_pgbench(
    base_url: str,
    dbname: str,
    *,
    scale: int = 10,
    clients: int = 8,
    jobs: int = 2,
    seconds: int = 30,
) -> PgbenchResult:
    """TPC-B-like pgbench on a fresh scratch database of the same server; the baseline."""
    url = recreate_database(base_url, dbname)
    try:
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", str(scale), url],
            check=True,
            capture_output=True,
            text=True,
        )
        done = subprocess.run(
            ["pgbench", "-c", str(clients), "-j", str(jobs), "-T", str(seconds), url],
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"pgbench failed: {error.stderr.strip() or error.stdout}") from error
    finally:
        drop_database(base_url, dbname)
    return PgbenchResult(
        tps=parse_tps(done.stdout),
        latency_ms=_parse_float(r"latency average = ([\d.]+) ms", done.stdout),
        clients=clients,
        seconds=seconds,
        scale=scale,
    )


def parse_tps(output: str) -> float:
    """TPS from pgbench's report, preferring the figure without connection time."""
    for pattern in (
        r"tps = ([\d.]+) \(without initial connection time\)",
        r"tps = ([\d.]+)",
    ):
        value = _parse_float(pattern, output)
        if value is not None:
            return value
    raise RuntimeError(f"no tps in pgbench output:\n{output}")


def _parse_float(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else None


# -- server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    workers: int
    threads: int

    @property
    def label(self) -> str:
        if self.threads > 1:
            return f"gthread {self.workers}x{self.threads}"
        return f"sync {self.workers}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        if self.process.poll() is not None:
            return
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
    workers: int,
    threads: int = 1,
    startup_timeout: float = 60.0,
) -> Server:
    """`python -m gunicorn` on the memberhub app; sync workers, or gthread when threads > 1."""
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
        "gunicorn",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    if threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(threads)]
    command.append(APP)
    log_path = var_dir / f"gunicorn-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log_path, workers, threads)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            if requests.get(server.base_url + "/healthz", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not answer /healthz in {startup_timeout} s:\n{server.log()}")


# -- statistics ----------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])
