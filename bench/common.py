"""Shared bench helpers: scratch PostgreSQL databases, pgbench, percentiles."""

from __future__ import annotations

import math
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

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


# -- statistics ----------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (0.0 when there are none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])
