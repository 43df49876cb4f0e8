"""Order flows over HTTP (create -> pay -> pickup) on gunicorn + PostgreSQL, against pgbench.

Run from the repository root: `.venv/bin/python -m bench.order_flow [--duration S]
[--clients N]`. One flow is three requests from two channels: the app's web key places
a pickup order, confirms its online payment (which issues the pickup code), and the
counter key of the pickup outlet verifies the code. A flow counts when all three
succeed. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select

from bench.accrual import CORES, Fixture, Load, drive, prepare, say
from bench.common import drop_database, recreate_database, run_pgbench
from bench.server import start_server
from common.unit_of_work import UnitOfWork, transaction
from storefront_api.auth import create_api_key
from storefront_api.catalogue.orm import Product


def goods_skus(fixture: Fixture) -> list[str]:
    with UnitOfWork(fixture.runtime.session_factory) as uow:
        return list(
            uow.session.scalars(
                select(Product.sku).where(
                    Product.business_type == "goods", Product.per_member_limit.is_(None)
                )
            )
        )


def one_flow(
    session: requests.Session,
    base_url: str,
    web_key: str,
    counter: tuple[str, str],
    member_no: str,
    sku: str,
    external_id: str,
) -> tuple[int, int]:
    """Place, pay and collect one order; (first failing status or 200, flows completed)."""
    counter_key, outlet = counter
    web = {"Authorization": f"Bearer {web_key}"}
    placed = session.post(
        f"{base_url}/api/v1/orders",
        json={
            "external_id": external_id,
            "member_no": member_no,
            "lines": [{"sku": sku, "quantity": 1}],
            "fulfillment": {"type": "pickup", "outlet_code": outlet},
            "payment": {"method": "online"},
        },
        headers=web,
        timeout=120,
    )
    if placed.status_code != 201:
        return placed.status_code, 0
    order: dict[str, Any] = placed.json()
    paid = session.post(
        f"{base_url}/api/v1/orders/{order['order_no']}/payments",
        json={
            "external_id": f"PAY-{external_id}",
            "amount_fen": order["payable_fen"],
            "method": "online",
            "transaction_ref": f"WX-{external_id}",
        },
        headers=web,
        timeout=120,
    )
    if paid.status_code != 201:
        return paid.status_code, 0
    verified = session.post(
        f"{base_url}/api/v1/pickups/verify",
        json={"outlet_code": outlet, "pickup_code": paid.json()["pickup_code"]},
        headers={"Authorization": f"Bearer {counter_key}"},
        timeout=120,
    )
    return (200, 1) if verified.status_code == 200 else (verified.status_code, 0)


def order_flows(
    base_url: str,
    fixture: Fixture,
    web_key: str,
    skus: list[str],
    run: str,
    clients: int,
    seconds: float,
    load: Load,
) -> Load:
    rngs = [random.Random(f"{run}-{i}") for i in range(clients)]

    def request(session: requests.Session, client: int, seq: int) -> tuple[int, int]:
        rng = rngs[client]
        return one_flow(
            session,
            base_url,
            web_key,
            fixture.keys[client % len(fixture.keys)],
            rng.choice(fixture.members),
            rng.choice(skus),
            f"FLOW-{run}-{client}-{seq}",
        )

    return drive(load, clients, seconds, request)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.order_flow", description=__doc__)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of order flows")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=max(2, CORES), help="gthread workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument(
        "--outlets", type=int, default=8, help="pickup outlets, one counter key each"
    )
    parser.add_argument("--pgbench-seconds", type=int, default=30)
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-clients", type=int, default=8)
    parser.add_argument("--pg-url", default="postgresql:///", help="server to use (libpq URL)")
    parser.add_argument("--db-name", default="memberhub_bench_orders")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    run = uuid.uuid4().hex[:8]
    var_dir = Path(tempfile.mkdtemp(prefix="memberhub-bench-"))
    url = recreate_database(args.pg_url, args.db_name)
    try:
        started = time.perf_counter()
        fixture = prepare(url, var_dir, args.members, args.outlets)
        with transaction(fixture.runtime.session_factory) as uow:
            web_key = create_api_key(uow, "web", None, "bench")
        skus = goods_skus(fixture)
        say(
            f"database {args.db_name}: {len(fixture.members)} members, {len(fixture.keys)} "
            f"outlets, {len(skus)} SKUs, ready in {time.perf_counter() - started:.1f} s"
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
            f"{baseline.seconds} s): {baseline.tps:.0f} tps"
        )
        server = start_server(
            database_url=url,
            secret_key=fixture.runtime.settings.secret_key,
            var_dir=var_dir,
            workers=args.workers,
            threads=args.threads,
        )
        try:
            order_flows(
                server.base_url,
                fixture,
                web_key,
                skus,
                f"{run}-warm",
                4,
                3.0,
                Load("warm", args.workers, args.threads, 4),
            )
            load = order_flows(
                server.base_url,
                fixture,
                web_key,
                skus,
                run,
                args.clients,
                args.duration,
                Load(server.label, args.workers, args.threads, args.clients),
            )
        finally:
            server.stop()
        ratio = load.per_s / baseline.tps if baseline.tps else 0.0
        say(
            f"order flows, {load.label}, {load.clients} clients: {load.per_s:.1f} flows/s "
            f"({3 * load.per_s:.0f} requests/s), flow p50 {load.p(0.5):.0f} ms, "
            f"p99 {load.p(0.99):.0f} ms, outcomes {dict(load.statuses)}, errors {load.errors}"
        )
        say(f"ratio: flows/s / pgbench tps = {load.per_s:.1f} / {baseline.tps:.0f} = {ratio:.4f}")
        fixture.runtime.engine.dispose()
    finally:
        drop_database(args.pg_url, args.db_name)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(
        json.dumps(
            {
                "flows_per_s": round(load.per_s, 1),
                "pgbench_tps": round(baseline.tps, 1),
                "ratio": round(ratio, 4),
                "flow_p50_ms": round(load.p(0.5), 1),
                "flow_p99_ms": round(load.p(0.99), 1),
                "clients": load.clients,
                "server": load.label,
                "failed_flows": sum(n for status, n in load.statuses.items() if status != 200),
            }
        )
    )


if __name__ == "__main__":
    main()
