"""The demo at scale: wall time, CPU time and peak memory of `memberhub demo`, then
`memberhub ledger verify` over what it wrote.

Run from the repository root: `.venv/bin/python -m bench.demo_scale [--members N]
[--days D] [--seed S] [--work DIR]`. Each run generates into a fresh directory (a
temporary one unless `--work` names one) on SQLite, exactly as the README's first
command does, but without serving. The baseline measured in the same run is the time
SQLite takes to insert and commit, one transaction each, as many rows as the demo
made postings: what the demo's write volume costs the database alone. The last line
printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def say(line: str) -> None:
    print(line, flush=True)


def run_measured(command: Sequence[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Run `command`; its wall seconds, CPU seconds, peak RSS in bytes and its output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=None, text=True, check=False
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {done.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest child so far (kilobytes on Linux).
    return wall, cpu, after.ru_maxrss * 1024, done.stdout


def sqlite_commits_per_second(directory: Path, count: int) -> float:
    """Single-row INSERT + COMMIT on a WAL database with the demo's settings."""
    path = directory / "baseline.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)")
    started = time.perf_counter()
    for number in range(count):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO t (a, b) VALUES (?, ?)", (number, "x" * 40))
        connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return count / seconds


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.demo_scale", description=__doc__)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--work", type=Path, default=None, help="keep the files here")
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="memberhub-demo-scale-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    env = {
        **os.environ,
        "MEMBERHUB_VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'memberhub.db'}",
    }
    memberhub = [sys.executable, "-m", "memberhub.cli"]
    say(f"demo: {args.members:,} members, {args.days} days, seed {args.seed}, in {work}")
    wall, cpu, peak, _logins = run_measured(
        [
            *memberhub,
            "demo",
            "--no-serve",
            "--members",
            str(args.members),
            "--days",
            str(args.days),
            "--seed",
            str(args.seed),
        ],
        env,
    )
    say(f"demo: {wall:.1f} s wall, {cpu:.1f} s CPU, peak memory {peak / 2**20:.0f} MiB")
    verify_wall, _, _, verified = run_measured([*memberhub, "ledger", "verify"], env)
    say(verified.strip())
    found = re.search(r"over ([\d,]+) postings", verified)
    postings = int(found.group(1).replace(",", "")) if found else 0
    per_second = sqlite_commits_per_second(work, args.baseline_rows)
    say(
        f"baseline: SQLite alone commits {per_second:,.0f} one-row transactions/s here; "
        f"the demo made {postings:,} postings in {wall:.1f} s"
    )
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    figures = {
        "members": args.members,
        "days": args.days,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_rss_mib": round(peak / 2**20),
        "postings": postings,
        "postings_per_s": round(postings / wall, 1),
        "ledger_verify_s": round(verify_wall, 1),
        "ledger_ok": verified.startswith("ledger ok"),
        "sqlite_commits_per_s": round(per_second),
        "ratio": round((postings / wall) / per_second, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
