"""Accruals over HTTP (single and batched) on gunicorn + PostgreSQL, against pgbench TPC-B.

Run from the repository root: `.venv/bin/python -m bench.accrual [--duration S] [--clients N]
[--workers N] [--profile]`. Every run recreates its scratch databases on the local
PostgreSQL server (`--pg-url`), so the figures of one run are comparable with each other.
The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

import crm
from bench.common import (
    drop_database,
    percentile,
    recreate_database,
    run_pgbench,
)
from bench.server import start_server
from common.organisation import Category, Institution
from common.settings import Settings, normalise_database_url
from common.unit_of_work import UnitOfWork, transaction
from memberhub.operations import prepare_database
from memberhub.runtime import Runtime, build_runtime
from memberhub.wiring import create_app
from storefront_api.auth import create_api_key

SHANGHAI = ZoneInfo("Asia/Shanghai")
CORES = os.cpu_count() or 1


def say(line: str) -> None:
    print(line, flush=True)


# -- setup ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    runtime: Runtime
    members: list[str]
    keys: list[tuple[str, str]]  # (api key, outlet code): a counter key acts for its outlet
    categories: list[str]


def open_runtime(url: str, var_dir: Path) -> Runtime:
    """A runtime on the scratch database `url`, its schema and reference data in place."""
    settings = Settings(
        database_url=normalise_database_url(url),
        secret_key=secrets.token_urlsafe(32),
        warehouse_path=var_dir / "warehouse.duckdb",
    )
    runtime = build_runtime(settings)
    prepare_database(runtime)
    return runtime


def counter_keys(runtime: Runtime, outlets: int) -> tuple[list[tuple[str, str]], list[str]]:
    """One counter key for each of the first `outlets` outlets, and the category codes
    an accrual line may name (all but jewellery, which earns at half rate)."""
    with UnitOfWork(runtime.session_factory) as uow:
        codes = list(
            uow.session.scalars(
                select(Institution.code)
                .where(Institution.kind == "outlet")
                .order_by(Institution.code)
                .limit(outlets)
            )
        )
        categories = [c for c in uow.session.scalars(select(Category.code)) if c != "jewelry"]
    keys = []
    for code in codes:
        with transaction(runtime.session_factory) as uow:
            keys.append((create_api_key(uow, "counter", code, "bench"), code))
    return keys, categories


def prepare(url: str, var_dir: Path, members: int, outlets: int) -> Fixture:
    runtime = open_runtime(url, var_dir)
    keys, categories = counter_keys(runtime, outlets)

    def register(index: int) -> str:
        command = crm.RegisterCommand(
            phone=f"138{index:08d}", name=f"压测会员{index}", channel="counter"
        )
        with transaction(runtime.session_factory) as uow:
            return str(crm.register_member(uow, command)["member_no"])

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = list(pool.map(register, range(members)))
    return Fixture(runtime, numbers, keys, categories)


def accrual_body(
    rng: random.Random, fixture: Fixture, outlet: str, external_id: str
) -> dict[str, Any]:
    lines = [
        {
            "sku": f"SKU-{rng.randrange(500):04d}",
            "category": rng.choice(fixture.categories),
            "quantity": rng.randint(1, 3),
            "amount_fen": rng.randrange(100, 50_000),
        }
        for _ in range(rng.randint(1, 3))
    ]
    return {
        "external_id": external_id,
        "member": {"member_no": rng.choice(fixture.members)},
        "institution_code": outlet,
        "occurred_at": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "business_type": "goods",
        "lines": lines,
        "total_fen": sum(line["amount_fen"] for line in lines),
        "payment_method": "cash",
    }


# -- load ----------------------------------------------------------------------------


@dataclass
class Load:
    label: str
    workers: int
    threads: int
    clients: int
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    client_cpu_s: float = 0.0
    items: int = 0  # batched: accruals answered 201 inside the batches

    @property
    def ok(self) -> int:
        return self.items or self.statuses[201]

    @property
    def per_s(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(sorted(self.latencies_ms), fraction)


def drive(
    load: Load, clients: int, seconds: float, request: Callable[[requests.Session, int, int], Any]
) -> Load:
    """Run `clients` threads, each with a keep-alive session, for `seconds`; fill `load`.

    `request(session, client, seq)` sends one request and returns (status, items_ok).
    """
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    deadline: list[float] = []

    def client(index: int) -> None:
        session = requests.Session()
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        errors = items = seq = 0
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            started = time.perf_counter()
            try:
                status, ok_items = request(session, index, seq)
            except requests.RequestException:
                errors += 1
                continue
            finally:
                seq += 1
            latencies.append((time.perf_counter() - started) * 1000)
            statuses[status] += 1
            items += ok_items
        session.close()
        with lock:
            load.latencies_ms.extend(latencies)
            load.statuses.update(statuses)
            load.errors += errors
            load.items += items

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    started = time.perf_counter()
    deadline.append(started + seconds)
    barrier.wait()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    load.client_cpu_s = time.process_time() - cpu
    return load


def single_accruals(
    base_url: str, fixture: Fixture, run: str, clients: int, seconds: float, load: Load
) -> Load:
    url = base_url + "/api/v1/accruals"
    rngs = [random.Random(f"{run}-{i}") for i in range(clients)]

    def request(session: requests.Session, client: int, seq: int) -> tuple[int, int]:
        key, outlet = fixture.keys[client % len(fixture.keys)]
        body = accrual_body(rngs[client], fixture, outlet, f"BENCH-{run}-{client}-{seq}")
        response = session.post(
            url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=120
        )
        return response.status_code, 0

    return drive(load, clients, seconds, request)


def batched_accruals(
    base_url: str,
    fixture: Fixture,
    run: str,
    clients: int,
    seconds: float,
    size: int,
    load: Load,
) -> Load:
    url = base_url + "/api/v1/accruals/batch"
    rngs = [random.Random(f"{run}-batch-{i}") for i in range(clients)]

    def request(session: requests.Session, client: int, seq: int) -> tuple[int, int]:
        key, outlet = fixture.keys[client % len(fixture.keys)]
        items = [
            accrual_body(rngs[client], fixture, outlet, f"BATCH-{run}-{client}-{seq}-{n}")
            for n in range(size)
        ]
        response = session.post(
            url, json={"items": items}, headers={"Authorization": f"Bearer {key}"}, timeout=600
        )
        if response.status_code != 200:
            return response.status_code, 0
        results = response.json()["results"]
        return 200, sum(1 for result in results if result["status"] == 201)

    return drive(load, clients, seconds, request)


def warm_up(base_url: str, fixture: Fixture, run: str, workers: int) -> None:
    # Each worker process pays for imports, its pool and its caches on its first requests.
    single_accruals(
        base_url, fixture, f"{run}-warm", max(4, workers), 3.0, Load("warm", workers, 1, 0)
    )


# -- profile -------------------------------------------------------------------------


def profile_accruals(fixture: Fixture, requests_count: int, batch_size: int) -> dict[str, float]:
    """Accruals through the Flask test client in this process: timed, SQL counted, profiled."""
    app = create_app(fixture.runtime)
    client = app.test_client()
    key, outlet = fixture.keys[0]
    headers = {"Authorization": f"Bearer {key}"}
    rng = random.Random("profile")
    run = uuid.uuid4().hex[:8]
    sequence = iter(range(10**9))

    def post() -> None:
        body = accrual_body(rng, fixture, outlet, f"PROFILE-{run}-{next(sequence)}")
        response = client.post("/api/v1/accruals", json=body, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)

    for _ in range(20):
        post()
    with SqlTimer(fixture.runtime.engine) as sql:
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(requests_count):
            post()
        wall_ms = (time.perf_counter() - started) * 1000 / requests_count
        cpu_ms = (time.process_time() - cpu) * 1000 / requests_count
    say(
        f"in-process (Flask test client, 1 thread): {wall_ms:.2f} ms per accrual wall, "
        f"{cpu_ms:.2f} ms CPU in this process ({1000 / wall_ms:.0f} accruals/s on one core)"
    )
    say(sql.report(requests_count, "accrual"))

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests_count):
        post()
    profiler.disable()
    title = f"{requests_count} single accruals"
    say(_pstats(profiler, "cumulative", 25, f"{title}, top 25 by cumulative time"))
    say(_pstats(profiler, "cumulative", 25, f"{title}, project code by cumulative", PROJECT))
    say(_pstats(profiler, "tottime", 15, f"{title}, top 15 by own time"))

    items = [
        accrual_body(rng, fixture, outlet, f"PROFILE-{run}-batch-{n}") for n in range(batch_size)
    ]
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    response = client.post("/api/v1/accruals/batch", json={"items": items}, headers=headers)
    profiler.disable()
    batch_ms = (time.perf_counter() - started) * 1000 / batch_size
    assert response.status_code == 200, response.get_data(as_text=True)
    say(f"in-process batch of {batch_size} (profiled): {batch_ms:.2f} ms per item")
    title = f"one batch of {batch_size}"
    say(_pstats(profiler, "cumulative", 20, f"{title}, project code by cumulative", PROJECT))
    return {"inprocess_ms_per_accrual": round(wall_ms, 3), "inprocess_cpu_ms": round(cpu_ms, 3)}


ROOT = str(Path(__file__).resolve().parent.parent) + "/"
PROJECT = "^" + re.escape(ROOT) + "(common|crm|points_engine|storefront_api|memberhub)/"


class SqlTimer:
    """Counts and times every statement the engine runs while active."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.times: dict[str, list[float]] = {}
        self.commits = 0
        self._started: dict[int, float] = {}

    def __enter__(self) -> SqlTimer:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "commit", self._commit)

    def _before(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        elapsed = (time.perf_counter() - self._started.pop(id(cursor))) * 1000
        words = " ".join(statement.split())
        self.times.setdefault(words[:100], []).append(elapsed)

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def report(self, count: int, what: str) -> str:
        statements = sum(len(t) for t in self.times.values())
        total = sum(sum(t) for t in self.times.values())
        lines = [
            f"SQL per {what}: {statements / count:.1f} statements, {total / count:.2f} ms "
            f"(+ {self.commits / count:.1f} commits); by total time:"
        ]
        ranked = sorted(self.times.items(), key=lambda kv: -sum(kv[1]))
        for text, times in ranked[:20]:
            lines.append(f"  {len(times) / count:4.1f} x {sum(times) / count:5.2f} ms  {text}")
        return "\n".join(lines)


def _pstats(
    profiler: cProfile.Profile, sort: str, count: int, title: str, only: str | None = None
) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    if only is None:
        stats.strip_dirs()  # before sorting: stripping loses the order
        stats.sort_stats(sort).print_stats(count)
    else:
        stats.sort_stats(sort).print_stats(only, count)
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip().startswith("ncalls")), 0)
    body = [line.rstrip().replace(ROOT, "") for line in lines[start:] if line.strip()]
    return "\n".join([f"--- profile: {title} ---", *body])


# -- main ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.accrual", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per HTTP load run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument(
        "--workers", type=int, default=2 * CORES + 1, help="sync workers (default 2 x cores + 1)"
    )
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread", "both"),
        default="both",
        help="which gunicorn worker type(s) to measure; the better one is reported",
    )
    parser.add_argument("--gthread-workers", type=int, default=max(2, CORES))
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--outlets", type=int, default=4, help="counter keys, one per outlet")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--batch-clients", type=int, default=2)
    parser.add_argument("--batch-duration", type=float, default=None, help="default: --duration")
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-clients", type=int, default=8)
    parser.add_argument("--pg-url", default="postgresql:///", help="server to use (libpq URL)")
    parser.add_argument("--db-name", default="memberhub_bench")
    parser.add_argument("--keep-db", action="store_true", help="leave memberhub_bench behind")
    parser.add_argument("--profile", action="store_true", help="profile accruals in-process")
    parser.add_argument("--profile-requests", type=int, default=300)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    run = uuid.uuid4().hex[:8]
    var_dir = Path(tempfile.mkdtemp(prefix="memberhub-bench-"))
    url = recreate_database(args.pg_url, args.db_name)
    try:
        started = time.perf_counter()
        fixture = prepare(url, var_dir, args.members, args.outlets)
        say(
            f"database {args.db_name}: {len(fixture.members)} members, "
            f"{len(fixture.keys)} counter keys, ready in {time.perf_counter() - started:.1f} s"
        )

        baseline = run_pgbench(
            args.pg_url,
            f"{args.db_name}_pgbench",
            scale=args.pgbench_scale,
            clients=args.pgbench_clients,
            jobs=2,
            seconds=args.pgbench_seconds,
        )
        say(
            f"pgbench TPC-B (scale {baseline.scale}, {baseline.clients} clients, "
            f"{baseline.seconds} s): {baseline.tps:.0f} tps, "
            f"latency {baseline.latency_ms or 0:.1f} ms"
        )

        configs = []
        if args.worker_class in ("sync", "both"):
            configs.append((args.workers, 1))
        if args.worker_class in ("gthread", "both"):
            configs.append((args.gthread_workers, args.threads))
        loads: list[Load] = []
        for workers, threads in configs:
            server = start_server(
                database_url=url,
                secret_key=fixture.runtime.settings.secret_key,
                var_dir=var_dir,
                workers=workers,
                threads=threads,
            )
            try:
                warm_up(server.base_url, fixture, run, workers)
                load = single_accruals(
                    server.base_url,
                    fixture,
                    f"{run}-{workers}x{threads}",
                    args.clients,
                    args.duration,
                    Load(server.label, workers, threads, args.clients),
                )
            finally:
                server.stop()
            loads.append(load)
            say(
                f"single accruals, {load.label}, {load.clients} clients: "
                f"{load.per_s:.0f} accruals/s, p50 {load.p(0.5):.1f} ms, "
                f"p99 {load.p(0.99):.1f} ms, statuses {dict(load.statuses)}, "
                f"errors {load.errors}, client CPU {load.client_cpu_s / load.seconds:.0%}"
            )
        best = max(loads, key=lambda load: load.per_s)
        if len(loads) > 1:
            say(f"better worker type: {best.label}")

        server = start_server(
            database_url=url,
            secret_key=fixture.runtime.settings.secret_key,
            var_dir=var_dir,
            workers=best.workers,
            threads=best.threads,
        )
        try:
            warm_up(server.base_url, fixture, run, best.workers)
            batch = batched_accruals(
                server.base_url,
                fixture,
                run,
                args.batch_clients,
                args.batch_duration or args.duration,
                args.batch_size,
                Load(server.label, best.workers, best.threads, args.batch_clients),
            )
        finally:
            server.stop()
        say(
            f"batched accruals, {batch.label}, {batch.clients} clients x {args.batch_size} items: "
            f"{batch.per_s:.0f} accruals/s, {len(batch.latencies_ms)} batches, "
            f"p50 {batch.p(0.5) / 1000:.2f} s per batch, statuses {dict(batch.statuses)}, "
            f"errors {batch.errors}"
        )

        ratio = best.per_s / baseline.tps if baseline.tps else 0.0
        say(
            f"ratio: single accruals/s / pgbench tps = {best.per_s:.0f} / {baseline.tps:.0f} "
            f"= {ratio:.3f}"
        )

        profiled: dict[str, float] = {}
        if args.profile:
            profiled = profile_accruals(fixture, args.profile_requests, 200)
        fixture.runtime.engine.dispose()
    finally:
        if not args.keep_db:
            drop_database(args.pg_url, args.db_name)
        shutil.rmtree(var_dir, ignore_errors=True)

    summary = {
        "accruals_per_s": round(best.per_s, 1),
        "p50_ms": round(best.p(0.5), 2),
        "p99_ms": round(best.p(0.99), 2),
        "batch_accruals_per_s": round(batch.per_s, 1),
        "batch_p50_s": round(batch.p(0.5) / 1000, 3),
        "pgbench_tps": round(baseline.tps, 1),
        "ratio": round(ratio, 4),
        "workers": best.workers,
        "threads": best.threads,
        "worker_class": "gthread" if best.threads > 1 else "sync",
        "clients": best.clients,
        "batch_clients": batch.clients,
        "batch_size": args.batch_size,
        "duration_s": args.duration,
        "pgbench_seconds": baseline.seconds,
        "cores": CORES,
        "configs": [
            {
                "label": load.label,
                "accruals_per_s": round(load.per_s, 1),
                "p50_ms": round(load.p(0.5), 2),
                "p99_ms": round(load.p(0.99), 2),
                "non_201": sum(n for status, n in load.statuses.items() if status != 201),
                "errors": load.errors,
            }
            for load in loads
        ],
        **profiled,
    }
    print(json.dumps(summary, sort_keys=False), flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
