"""Soak: a festival day's mixed traffic at half the measured peak, minute by minute.

Run from the repository root: `.venv/bin/python -m bench.soak [--minutes N]` (default 20;
the plot needs the `bench` extra: `pip install -e '.[dev,bench]'`). It recreates a
scratch database on the local PostgreSQL server (`--pg-url`), starts `memberhub serve`
with the workers and threads it uses by default, and makes what a day needs through
the API: members registered by counter keys, stocked products and rewards (admin), keys
of the counter, web and distribution channels.

Then it measures the peak: `--peak-clients` threads, each sending the next operation as
soon as the last one was answered, for `--peak-seconds`. The soak sends operations at
`--fraction` of that peak (Poisson arrivals from a pool of `--soak-threads` threads, so
a slow answer does not slow the arrivals) for `--minutes`. Operations (one to three
requests each): single accruals 50 %, batches of 20 accruals 5 %, a member's points or
ledger 20 %, order placed -> paid -> picked up 10 %, redemptions 5 %, bill query and
payment on the sandbox biller 5 %, member lookups 5 %.

Every minute it records the requests started in it, their p50 and p99, errors (any
answer but 2xx and the business refusals 409 and 422, or none at all), 5xx answers,
and the resident memory of the gunicorn master and workers (from /proc). It draws
latency and memory per minute to `bench/out/soak.png`. The last line printed is one
JSON object; the exit status is 1 when any request was answered 5xx.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
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
from pathlib import Path
from statistics import fmean
from typing import Any

import requests
from tqdm import tqdm

from bench.accrual import CORES, Fixture, accrual_body, counter_keys, open_runtime
from bench.common import drop_database, percentile, recreate_database
from bench.order_flow import one_flow
from bench.server import RunningServer, start_server
from common.unit_of_work import transaction
from storefront_api.auth import create_api_key, create_staff_user

API = "/api/v1"
TIMEOUT = 120
OUT = Path(__file__).resolve().parent / "out"
BATCH_SIZE = 20
# Answers a busy day gives by the business rules (a duplicate, too few points): not errors.
REFUSALS = (409, 422)


def note(line: str) -> None:
    """Progress, on stderr: stdout keeps the summary and the JSON line."""
    tqdm.write(line, file=sys.stderr)


def load_pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        sys.exit("bench.soak needs matplotlib for its plot: pip install -e '.[dev,bench]'")
    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    return pyplot


# -- what a request took, by minute -------------------------------------------------------


@dataclass
class Bucket:
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    errors_5xx: int = 0
    refusals: int = 0
    late_ms: list[float] = field(default_factory=list)  # operations started behind schedule
    rss_bytes: list[int] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    def p(self, fraction: float) -> float:
        return percentile(sorted(self.latencies_ms), fraction)

    @property
    def rss_mb(self) -> float:
        return fmean(self.rss_bytes) / 2**20 if self.rss_bytes else 0.0


class Recorder:
    """Every request's latency and answer, in buckets of `bucket_s` by when it was sent."""

    def __init__(self, buckets: int, bucket_s: float) -> None:
        self.buckets = [Bucket() for _ in range(buckets)]
        self.bucket_s = bucket_s
        self.started = time.perf_counter()
        self.statuses: dict[str, Counter[int | None]] = {}
        self.operations: Counter[str] = Counter()
        self._lock = threading.Lock()

    def bucket(self, at: float) -> Bucket:
        index = int((at - self.started) // self.bucket_s)
        return self.buckets[min(max(index, 0), len(self.buckets) - 1)]

    def request(self, kind: str, sent: float, status: int | None) -> None:
        elapsed_ms = (time.perf_counter() - sent) * 1000
        with self._lock:
            bucket = self.bucket(sent)
            bucket.latencies_ms.append(elapsed_ms)
            self.statuses.setdefault(kind, Counter())[status] += 1
            if status is not None and 200 <= status < 300:
                return
            if status in REFUSALS:
                bucket.refusals += 1
                return
            bucket.errors += 1
            if status is not None and status >= 500:
                bucket.errors_5xx += 1

    def operation(self, kind: str, started: float, late_s: float) -> None:
        with self._lock:
            self.operations[kind] += 1
            self.bucket(started).late_ms.append(late_s * 1000)

    def items(self, kind: str, statuses: Counter[int]) -> None:
        """What the items inside a batch got (the batch itself is one request)."""
        with self._lock:
            self.statuses.setdefault(kind, Counter()).update(statuses)

    def memory(self, rss: int) -> None:
        with self._lock:
            self.bucket(time.perf_counter()).rss_bytes.append(rss)

    @property
    def requests(self) -> int:
        return sum(bucket.requests for bucket in self.buckets)


class TimedSession(requests.Session):
    """A keep-alive session that records each of its requests under the current `kind`."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.kind = ""

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TIMEOUT)
        sent = time.perf_counter()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException:
            self.recorder.request(self.kind, sent, None)
            raise
        self.recorder.request(self.kind, sent, response.status_code)
        return response


# -- the day's data ----------------------------------------------------------------------


@dataclass(frozen=True)
class Day:
    """What the traffic acts on: a bench fixture plus what a whole day needs."""

    fixture: Fixture
    base_url: str
    phones: list[str]
    web_key: str
    distribution_key: str
    skus: list[str]
    rewards: list[str]
    billers: list[str]

    def counter(self, rng: random.Random) -> tuple[str, str]:
        return rng.choice(self.fixture.keys)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def answer(response: requests.Response, expected: int) -> Any:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.path_url}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json()


def open_day(
    server: RunningServer, fixture: Fixture, members: int, products: int, seed: str
) -> Day:
    """Members, products, rewards and keys, made through the API the way a day's users would."""
    runtime, base = fixture.runtime, server.base_url
    with transaction(runtime.session_factory) as uow:
        password = create_staff_user(uow, "soak-admin", "admin")
    with transaction(runtime.session_factory) as uow:
        web_key = create_api_key(uow, "web", None, "soak")
    with transaction(runtime.session_factory) as uow:
        distribution_key = create_api_key(uow, "distribution", None, "soak")
    login = requests.post(
        f"{base}{API}/auth/staff-token",
        json={"username": "soak-admin", "password": password},
        timeout=TIMEOUT,
    )
    admin = bearer(answer(login, 200)["access_token"])

    skus = []
    for n in range(products):
        sku = f"SOAK-GIFT-{n + 1:02d}"
        body: dict[str, Any] = {
            "sku": sku,
            "name": f"浸泡测试礼盒{n + 1}",
            "category": "food",
            "price_fen": 1_800 + 700 * n,
            "business_type": "goods",
            "stock": 10_000_000,
        }
        answer(requests.post(f"{base}{API}/products", json=body, headers=admin, timeout=60), 201)
        skus.append(sku)
    rewards = []
    for cost in (10, 20, 50):
        code = f"SOAK-VOUCHER-{cost}"
        body = {
            "code": code,
            "name": f"{cost}积分券",
            "kind": "voucher",
            "points_cost": cost,
            "value_fen": cost,
            "valid_days": 30,
        }
        answer(requests.post(f"{base}{API}/rewards", json=body, headers=admin, timeout=60), 201)
        rewards.append(code)
    billers = [
        item["code"]
        for item in answer(requests.get(f"{base}{API}/billers", timeout=60), 200)["items"]
    ]

    phones = [f"139{n:08d}" for n in range(members)]
    numbers = register(base, fixture.keys, phones)
    fixture = Fixture(runtime, numbers, fixture.keys, fixture.categories)
    seed_points(base, fixture, seed)
    return Day(fixture, base, phones, web_key, distribution_key, skus, rewards, billers)


def register(base_url: str, keys: list[tuple[str, str]], phones: list[str]) -> list[str]:
    """Each member registered by the counter of one of the outlets, eight at a time."""

    def one(index: int) -> str:
        key, _ = keys[index % len(keys)]
        body = {"phone": phones[index], "name": f"浸泡会员{index}"}
        response = requests.post(
            f"{base_url}{API}/members", json=body, headers=bearer(key), timeout=TIMEOUT
        )
        return str(answer(response, 201)["member_no"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(len(phones))))


def seed_points(base_url: str, fixture: Fixture, seed: str) -> None:
    """One purchase for every member, in batches, so redemptions have points to spend."""
    rng = random.Random(seed)

    def batch(start: int) -> None:
        key, outlet = fixture.keys[start // BATCH_SIZE % len(fixture.keys)]
        items = []
        for member_no in fixture.members[start : start + BATCH_SIZE]:
            item = accrual_body(rng, fixture, outlet, f"SOAK-SEED-{seed}-{member_no}")
            items.append({**item, "member": {"member_no": member_no}})
        response = requests.post(
            f"{base_url}{API}/accruals/batch",
            json={"items": items},
            headers=bearer(key),
            timeout=TIMEOUT,
        )
        answer(response, 200)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(batch, range(0, len(fixture.members), BATCH_SIZE)))


# -- the operations ------------------------------------------------------------------------

Operation = Callable[[TimedSession, random.Random, Day, str], None]


def single_accrual(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    key, outlet = day.counter(rng)
    body = accrual_body(rng, day.fixture, outlet, f"SOAK-{run_id}")
    session.post(f"{day.base_url}{API}/accruals", json=body, headers=bearer(key))


def batched_accruals(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    key, outlet = day.counter(rng)
    items = [
        accrual_body(rng, day.fixture, outlet, f"SOAK-{run_id}-{n}") for n in range(BATCH_SIZE)
    ]
    response = session.post(
        f"{day.base_url}{API}/accruals/batch", json={"items": items}, headers=bearer(key)
    )
    if response.status_code == 200:
        statuses = Counter(result["status"] for result in response.json()["results"])
        session.recorder.items("batched_accrual_items", statuses)


def member_reads(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    member_no = rng.choice(day.fixture.members)
    what = rng.choice(("points", "ledger?limit=20"))
    session.get(f"{day.base_url}{API}/members/{member_no}/{what}", headers=bearer(day.web_key))


def order_flow(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    # The app (web key) or a courier's handheld (distribution key) takes the order and its
    # payment; the counter of the pickup outlet hands it over.
    ordering_key = rng.choice((day.web_key, day.distribution_key))
    member_no, sku = rng.choice(day.fixture.members), rng.choice(day.skus)
    one_flow(
        session, day.base_url, ordering_key, day.counter(rng), member_no, sku, f"SOAK-{run_id}"
    )


def redemption(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    key, _ = day.counter(rng)
    body: dict[str, Any] = {
        "external_id": f"SOAK-{run_id}",
        "member_no": rng.choice(day.fixture.members),
        "reward_code": rng.choice(day.rewards),
        "quantity": 1,
    }
    session.post(f"{day.base_url}{API}/redemptions", json=body, headers=bearer(key))


def account_no(rng: random.Random) -> str:
    """8 to 16 digits, never ending 0000 (no bill) or 999x (the sandbox's faults)."""
    while True:
        number = str(rng.randrange(1, 10)) + "".join(
            str(rng.randrange(10)) for _ in range(rng.randint(7, 15))
        )
        if not (number.endswith("0000") or number[-4:-1] == "999"):
            return number


def bill_payment(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    key, _ = day.counter(rng)
    query = {"biller_code": rng.choice(day.billers), "account_no": account_no(rng)}
    found = session.post(f"{day.base_url}{API}/bills/query", json=query, headers=bearer(key))
    if found.status_code != 200:
        return
    bill = found.json()
    body = {
        "external_id": f"SOAK-{run_id}",
        "bill_id": bill["bill_id"],
        "amount_fen": bill["amount_due_fen"],
        "member": {"member_no": rng.choice(day.fixture.members)},
    }
    session.post(f"{day.base_url}{API}/bill-payments", json=body, headers=bearer(key))


def member_lookup(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> None:
    key, _ = day.counter(rng)
    session.get(
        f"{day.base_url}{API}/members/lookup",
        params={"phone": rng.choice(day.phones)},
        headers=bearer(key),
    )


# (operation, share of operations): a festival day at the counters and in the app.
MIX: tuple[tuple[Operation, float], ...] = (
    (single_accrual, 0.50),
    (batched_accruals, 0.05),
    (member_reads, 0.20),
    (order_flow, 0.10),
    (redemption, 0.05),
    (bill_payment, 0.05),
    (member_lookup, 0.05),
)
OPERATIONS = [operation for operation, _ in MIX]
WEIGHTS = [share for _, share in MIX]


def run_one(session: TimedSession, rng: random.Random, day: Day, run_id: str) -> str:
    operation = rng.choices(OPERATIONS, WEIGHTS)[0]
    session.kind = operation.__name__
    # The request that failed is recorded; the operation ends there.
    with contextlib.suppress(requests.RequestException, ValueError, KeyError):
        operation(session, rng, day, run_id)
    return session.kind


# -- closed loop (the peak) and open loop (the soak) ----------------------------------------


def closed_loop(day: Day, clients: int, seconds: float, label: str, seed: str) -> Recorder:
    """`clients` threads, each sending its next operation once the last was answered."""
    recorder = Recorder(1, seconds + TIMEOUT)
    deadline = recorder.started + seconds

    def client(index: int) -> None:
        rng = random.Random(f"{seed}-{label}-{index}")
        session = TimedSession(recorder)
        for seq in range(10**12):
            if time.perf_counter() >= deadline:
                break
            started = time.perf_counter()
            kind = run_one(session, rng, day, f"{label}-{index}-{seq}")
            recorder.operation(kind, started, 0.0)
        session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    with tqdm(total=round(seconds), desc=label, unit="s", disable=not sys.stderr.isatty()) as bar:
        while (left := deadline - time.perf_counter()) > 0:
            time.sleep(min(1.0, left))
            bar.update(1)
    for thread in threads:
        thread.join()
    return recorder


class Arrivals:
    """Poisson arrival times at `rate` per second until `end`, handed out one at a time."""

    def __init__(self, rate: float, start: float, end: float, seed: str) -> None:
        self._rng = random.Random(seed)
        self._rate = rate
        self._next = start
        self._end = end
        self._lock = threading.Lock()

    def take(self) -> float | None:
        with self._lock:
            due = self._next
            self._next += self._rng.expovariate(self._rate)
        return due if due < self._end else None


def open_loop(
    day: Day,
    server: RunningServer,
    rate: float,
    minutes: int,
    threads: int,
    sample_s: float,
    seed: str,
) -> Recorder:
    """Operations at `rate` per second for `minutes`, whatever the answers take."""
    recorder = Recorder(minutes, 60.0)
    end = recorder.started + minutes * 60
    arrivals = Arrivals(rate, recorder.started, end, f"{seed}-arrivals")
    stop = threading.Event()

    def worker(index: int) -> None:
        rng = random.Random(f"{seed}-soak-{index}")
        session = TimedSession(recorder)
        seq = 0
        while (due := arrivals.take()) is not None:
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            started = time.perf_counter()
            kind = run_one(session, rng, day, f"soak-{index}-{seq}")
            recorder.operation(kind, started, max(0.0, -wait))
            seq += 1
        session.close()

    def sampler() -> None:
        while not stop.is_set():
            recorder.memory(server.rss_bytes())
            stop.wait(sample_s)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    memory = threading.Thread(target=sampler, daemon=True)
    memory.start()
    for thread in pool:
        thread.start()
    report_minutes(recorder, minutes, end)
    for thread in pool:
        thread.join()
    stop.set()
    memory.join()
    return recorder


def report_minutes(recorder: Recorder, minutes: int, end: float) -> None:
    """A bar over the soak's seconds and a line per minute once it is over (on stderr)."""
    reported = 0
    with tqdm(total=minutes * 60, desc="soak", unit="s", disable=not sys.stderr.isatty()) as bar:
        while reported < minutes:
            time.sleep(1.0)
            elapsed = time.perf_counter() - recorder.started
            bar.n = min(minutes * 60, int(elapsed))
            bar.refresh()
            # A minute is told one second after it ends: most of its requests are answered.
            if elapsed >= (reported + 1) * 60 + 1 or time.perf_counter() >= end + 1:
                note(minute_line(reported, minutes, recorder.buckets[reported]))
                reported += 1


def minute_line(index: int, minutes: int, bucket: Bucket) -> str:
    return (
        f"minute {index + 1}/{minutes}: {bucket.requests} requests "
        f"({bucket.requests / 60:.1f}/s), p50 {bucket.p(0.5):.0f} ms, "
        f"p99 {bucket.p(0.99):.0f} ms, server RSS {bucket.rss_mb:.0f} MB, "
        f"errors {bucket.errors} (5xx {bucket.errors_5xx}), refusals {bucket.refusals}"
    )


# -- the figures ---------------------------------------------------------------------------


def per_minute(recorder: Recorder) -> list[dict[str, Any]]:
    return [
        {
            "minute": index + 1,
            "requests": bucket.requests,
            "p50_ms": round(bucket.p(0.5), 1),
            "p99_ms": round(bucket.p(0.99), 1),
            "rss_mb": round(bucket.rss_mb, 1),
            "errors": bucket.errors,
            "errors_5xx": bucket.errors_5xx,
            "refusals": bucket.refusals,
            "late_p99_ms": round(percentile(sorted(bucket.late_ms), 0.99), 1),
        }
        for index, bucket in enumerate(recorder.buckets)
    ]


def ends(minutes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The first and last three minutes; the first and last third of a shorter run."""
    span = 3 if len(minutes) >= 6 else max(1, len(minutes) // 3)
    return minutes[:span], minutes[-span:]


def mean_of(rows: list[dict[str, Any]], key: str) -> float:
    return round(fmean(row[key] for row in rows), 1) if rows else 0.0


def within(last: float, first: float, tolerance: float) -> bool:
    return first > 0 and abs(last - first) <= tolerance * first


def draw(
    pyplot: Any,
    minutes: list[dict[str, Any]],
    first: tuple[float, float],
    tolerance: float,
    title: str,
    path: Path,
) -> None:
    """Latency per minute above, memory below; shaded, the band that still counts as flat."""
    path.parent.mkdir(parents=True, exist_ok=True)
    x = [row["minute"] for row in minutes]
    band = f"flat: first ±{tolerance:.0%}"
    figure, (latency, memory) = pyplot.subplots(2, 1, sharex=True, figsize=(9, 6.5))
    for axis, value, colour in ((latency, first[0], "tab:orange"), (memory, first[1], "tab:green")):
        axis.axhspan((1 - tolerance) * value, (1 + tolerance) * value, color=colour, alpha=0.12)
    latency.plot(x, [row["p50_ms"] for row in minutes], marker="o", label="p50")
    latency.plot(x, [row["p99_ms"] for row in minutes], marker="o", label="p99")
    top = max([(1 + tolerance) * first[0], *(row["p99_ms"] for row in minutes)])
    latency.set_ylim(0, 1.25 * top)
    latency.set_ylabel("latency (ms)")
    latency.set_title(title, fontsize=10)
    rss = [row["rss_mb"] for row in minutes]
    memory.plot(x, rss, marker="o", color="tab:green", label="RSS")
    memory.set_ylim(0, 1.25 * max((1 + tolerance) * first[1], *rss))
    memory.set_ylabel("gunicorn RSS, master + workers (MB)")
    for axis in (latency, memory):
        axis.plot([], [], color="grey", alpha=0.3, linewidth=8, label=band)
        axis.legend(loc="upper left", ncols=3, fontsize=8)
        axis.grid(alpha=0.3)
    memory.set_xlabel("minute of the soak")
    memory.set_xticks(x if len(x) <= 30 else x[:: math.ceil(len(x) / 30)])
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    pyplot.close(figure)


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=int, default=20, help="length of the soak")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of the peak to send")
    parser.add_argument("--peak-seconds", type=float, default=45.0, help="closed-loop peak run")
    parser.add_argument("--peak-clients", type=int, default=32, help="closed-loop clients")
    parser.add_argument("--soak-threads", type=int, default=64, help="open-loop sender pool")
    parser.add_argument("--workers", type=int, default=CORES, help="as `memberhub serve`")
    parser.add_argument("--threads", type=int, default=4, help="as `memberhub serve`")
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--outlets", type=int, default=8, help="counter keys, one per outlet")
    parser.add_argument("--products", type=int, default=6, help="stocked gift boxes to order")
    parser.add_argument("--sample-seconds", type=float, default=5.0, help="memory readings")
    parser.add_argument("--tolerance", type=float, default=0.2, help="what still counts as flat")
    parser.add_argument("--plot", type=Path, default=OUT / "soak.png")
    parser.add_argument("--pg-url", default="postgresql:///", help="server to use (libpq URL)")
    parser.add_argument("--db-name", default="memberhub_soak")
    parser.add_argument("--keep-db", action="store_true", help="leave the database behind")
    args = parser.parse_args(argv)
    if args.minutes < 1 or not 0 < args.fraction <= 1:
        parser.error("--minutes must be 1 or more and --fraction in (0, 1]")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pyplot = load_pyplot()
    seed = uuid.uuid4().hex[:8]
    var_dir = Path(tempfile.mkdtemp(prefix="memberhub-soak-"))
    url = recreate_database(args.pg_url, args.db_name)
    server: RunningServer | None = None
    try:
        started = time.perf_counter()
        runtime = open_runtime(url, var_dir)
        keys, categories = counter_keys(runtime, args.outlets)
        server = start_server(
            database_url=url,
            secret_key=runtime.settings.secret_key,
            var_dir=var_dir,
            workers=args.workers,
            threads=args.threads,
        )
        day = open_day(
            server, Fixture(runtime, [], keys, categories), args.members, args.products, seed
        )
        runtime.engine.dispose()  # from here on only the server touches the database
        note(
            f"{args.db_name}: {len(day.fixture.members)} members, {len(keys)} outlets, "
            f"{len(day.skus)} products, {len(day.rewards)} rewards, {len(day.billers)} "
            f"billers; server {server.label}; ready in {time.perf_counter() - started:.0f} s"
        )

        closed_loop(day, 8, 5.0, "warm-up", seed)
        peak = closed_loop(day, args.peak_clients, args.peak_seconds, "peak", seed)
        peak_rps = peak.requests / args.peak_seconds
        peak_ops = sum(peak.operations.values()) / args.peak_seconds
        target_ops = args.fraction * peak_ops
        bucket = peak.buckets[0]
        note(
            f"peak ({args.peak_clients} clients, {args.peak_seconds:.0f} s): "
            f"{peak_rps:.1f} requests/s ({peak_ops:.1f} operations/s), p50 "
            f"{bucket.p(0.5):.0f} ms, p99 {bucket.p(0.99):.0f} ms, errors {bucket.errors} "
            f"(5xx {bucket.errors_5xx}); soak at {target_ops:.1f} operations/s"
        )

        cpu = time.process_time()
        soak = open_loop(
            day, server, target_ops, args.minutes, args.soak_threads, args.sample_seconds, seed
        )
        soak_s = time.perf_counter() - soak.started
        client_cpu = (time.process_time() - cpu) / soak_s
    finally:
        if server is not None:
            server.stop()
        if not args.keep_db:
            drop_database(args.pg_url, args.db_name)
        shutil.rmtree(var_dir, ignore_errors=True)

    minutes = per_minute(soak)
    first, last = ends(minutes)
    p99_first, p99_last = mean_of(first, "p99_ms"), mean_of(last, "p99_ms")
    rss_first, rss_last = mean_of(first, "rss_mb"), mean_of(last, "rss_mb")
    flat = within(p99_last, p99_first, args.tolerance) and within(
        rss_last, rss_first, args.tolerance
    )
    errors_5xx = sum(row["errors_5xx"] for row in minutes)
    target_rps = args.fraction * peak_rps
    achieved_rps = soak.requests / soak_s
    draw(
        pyplot,
        minutes,
        (p99_first, rss_first),
        args.tolerance,
        f"soak at {achieved_rps:.0f} requests/s ({args.fraction:.0%} of the {peak_rps:.0f}/s "
        f"peak), {server.label}, {args.minutes} min",
        args.plot,
    )
    print(
        f"soak {args.minutes} min at {achieved_rps:.1f} requests/s (target {target_rps:.1f}, "
        f"peak {peak_rps:.1f}): p99 {p99_first:.0f} -> {p99_last:.0f} ms, RSS "
        f"{rss_first:.0f} -> {rss_last:.0f} MB, {'flat' if flat else 'NOT flat'}; "
        f"5xx {errors_5xx}; plot {args.plot}",
        flush=True,
    )
    summary = {
        "minutes": args.minutes,
        "peak_rps": round(peak_rps, 1),
        "target_rps": round(target_rps, 1),
        "achieved_rps": round(achieved_rps, 1),
        "requests": soak.requests,
        "errors": sum(row["errors"] for row in minutes),
        "errors_5xx": errors_5xx,
        "refusals": sum(row["refusals"] for row in minutes),
        "p50_ms_first": mean_of(first, "p50_ms"),
        "p99_ms_first": p99_first,
        "p50_ms_last": mean_of(last, "p50_ms"),
        "p99_ms_last": p99_last,
        "rss_mb_first": rss_first,
        "rss_mb_last": rss_last,
        "flat": flat,
        "tolerance": args.tolerance,
        "per_minute": minutes,
        "plot": str(args.plot),
        "peak_seconds": args.peak_seconds,
        "peak_clients": args.peak_clients,
        "peak_p99_ms": round(peak.buckets[0].p(0.99), 1),
        "operations": dict(soak.operations),
        "statuses": {
            kind: {str(status): n for status, n in sorted(counts.items(), key=str)}
            for kind, counts in sorted(soak.statuses.items())
        },
        "client_cpu": round(client_cpu, 3),
        "server": server.label,
        "members": len(day.fixture.members),
        "cores": CORES,
    }
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 1 if errors_5xx else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
