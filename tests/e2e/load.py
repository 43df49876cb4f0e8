"""Channel writes sent by parallel clients, what was acknowledged, and what the database holds."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

import points_engine
from bench.server import RunningServer, children, start_server
from common.db import read_session
from common.unit_of_work import transaction
from memberhub.runtime import Runtime
from storefront_api import prepaid
from storefront_api.auth import create_api_key
from tests.conftest import issue_staff_token
from tests.e2e.test_concurrency_pg import OUTLET, Api, accrual
from tests.e2e.test_orders_race_pg import limited_product

API = "/api/v1"
PRODUCT_STOCK = 1_000_000
KINDS = ("accrual", "redemption", "order")


@dataclass
class Write:
    """One POST with its own external_id; `status` None means no answer came back
    (connection refused or reset, or a timeout)."""

    kind: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    sent_at: float = 0.0
    answered_at: float = 0.0
    status: int | None = None
    answer: Any = None
    content_type: str = ""
    retry_after: str | None = None

    @property
    def external_id(self) -> str:
        return str(self.body["external_id"])

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def again(self) -> Write:
        """The same request, unsent: a client replaying it."""
        return Write(self.kind, self.path, self.body, self.headers)


def send(base_url: str, write: Write, timeout: float) -> Write:
    write.sent_at = time.monotonic()
    try:
        response = requests.post(
            base_url + API + write.path, json=write.body, headers=write.headers, timeout=timeout
        )
    except requests.RequestException as error:
        write.answer = type(error).__name__
    else:
        write.status = response.status_code
        write.content_type = response.headers.get("Content-Type", "")
        write.retry_after = response.headers.get("Retry-After")
        try:
            write.answer = response.json()
        except ValueError:
            write.answer = response.text[:300]
    write.answered_at = time.monotonic()
    return write


def replay(base_url: str, writes: Iterable[Write], timeout: float) -> list[Write]:
    """Send each write again, eight at a time; the answers in the order given."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda w: send(base_url, w.again(), timeout), writes))


def serve(runtime: Runtime, var_dir: Path, workers: int, threads: int) -> RunningServer:
    """`memberhub serve` on the test's database; again on the same `var_dir` after a crash."""
    return start_server(
        database_url=runtime.settings.database_url,
        secret_key=runtime.settings.secret_key,
        var_dir=var_dir,
        workers=workers,
        threads=threads,
    )


@dataclass(frozen=True)
class Shop:
    """What the writes act on: members with points, a reward, a stocked product, two keys."""

    counter: dict[str, str]
    web: dict[str, str]
    members: list[str]
    reward_code: str
    sku: str


def open_shop(runtime: Runtime, server: RunningServer, members: int = 16) -> Shop:
    """Members with points, a reward and a product, made through `server`; keys and an
    admin token made directly, as the conftest's fixtures would."""
    with transaction(runtime.session_factory) as uow:
        counter = create_api_key(uow, "counter", OUTLET)
    with transaction(runtime.session_factory) as uow:
        web = create_api_key(uow, "web", None)
    api = Api(server, counter, issue_staff_token(runtime, "crash-admin", "admin"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        member_nos = list(pool.map(lambda _: api.member_with(50_000), range(members)))
    return Shop(
        counter=api.channel,
        web={"Authorization": f"Bearer {web}"},
        members=member_nos,
        reward_code=api.reward(points_cost=10, stock=None),
        sku=limited_product(api, stock=PRODUCT_STOCK, per_member_limit=None, price_fen=2_500),
    )


def accrual_write(shop: Shop, member_no: str) -> Write:
    body = accrual({"member_no": member_no}, 25, f"POS-CRASH-{uuid.uuid4().hex}")
    return Write("accrual", "/accruals", body, shop.counter)


def redemption_write(shop: Shop, member_no: str) -> Write:
    body = {
        "external_id": f"RD-CRASH-{uuid.uuid4().hex}",
        "member_no": member_no,
        "reward_code": shop.reward_code,
        "quantity": 1,
    }
    return Write("redemption", "/redemptions", body, shop.counter)


def order_write(shop: Shop, member_no: str) -> Write:
    body = {
        "external_id": f"WEB-CRASH-{uuid.uuid4().hex}",
        "member_no": member_no,
        "lines": [{"sku": shop.sku, "quantity": 1}],
        "fulfillment": {"type": "pickup", "outlet_code": OUTLET},
        "payment": {"method": "online"},
    }
    return Write("order", "/orders", body, shop.web)


def payment_write(shop: Shop, placed: Write) -> Write:
    body = {
        "external_id": f"PAY-CRASH-{uuid.uuid4().hex}",
        "amount_fen": placed.answer["payable_fen"],
        "method": "online",
        "transaction_ref": f"WX-{uuid.uuid4().hex[:12]}",
    }
    return Write("payment", f"/orders/{placed.answer['order_no']}/payments", body, shop.web)


class Load:
    """`clients` threads each sending accruals, redemptions and orders (then their payment)
    until stopped; every write is kept with its answer. After a write that was not
    acknowledged a client waits `pause` seconds, as a client honouring Retry-After would."""

    def __init__(
        self,
        shop: Shop,
        base_url: str,
        clients: int = 8,
        timeout: float = 10.0,
        pause: float = 0.1,
    ) -> None:
        self.shop = shop
        self.base_url = base_url
        self.clients = clients
        self.timeout = timeout
        self.pause = pause
        self._writes: list[Write] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(index,), daemon=True)
            for index in range(clients)
        ]

    def start(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Write]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        assert not any(thread.is_alive() for thread in self._threads), "a client hung"
        return self.writes()

    def writes(self) -> list[Write]:
        with self._lock:
            return list(self._writes)

    def acknowledged(self, since: float = 0.0) -> int:
        return sum(w.acknowledged and w.sent_at >= since for w in self.writes())

    def _client(self, index: int) -> None:
        members = self.shop.members[index :: self.clients] or self.shop.members
        for turn in itertools.count():
            if self._stop.is_set():
                return
            member_no = members[turn % len(members)]
            kind = KINDS[(turn + index) % len(KINDS)]
            if kind == "accrual":
                self._send(accrual_write(self.shop, member_no))
            elif kind == "redemption":
                self._send(redemption_write(self.shop, member_no))
            else:
                placed = self._send(order_write(self.shop, member_no))
                if placed.acknowledged and not self._stop.is_set():
                    self._send(payment_write(self.shop, placed))

    def _send(self, write: Write) -> Write:
        send(self.base_url, write, self.timeout)
        with self._lock:
            self._writes.append(write)
        if not write.acknowledged:
            time.sleep(self.pause)
        return write


@contextmanager
def loaded_server(
    runtime: Runtime, var_dir: Path, workers: int, threads: int, **load_options: Any
) -> Iterator[tuple[RunningServer, Shop, Load]]:
    """A server on the test's database, a shop opened through it and a started load;
    the load and the server (if still running) are stopped when the block ends."""
    server = serve(runtime, var_dir, workers, threads)
    try:
        shop = open_shop(runtime, server)
        load = Load(shop, server.base_url, **load_options).start()
        try:
            yield server, shop, load
        finally:
            load.stop()
    finally:
        server.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `condition` holds; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.05)


# -- processes --------------------------------------------------------------------------------


def kill_a_worker(server: RunningServer) -> int:
    workers = children(server.process.pid)
    assert workers, "gunicorn has no workers"
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    return victim


def kill_server(server: RunningServer) -> None:
    """SIGKILL the gunicorn master and its workers at once: no shutdown code runs."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


# -- the database -----------------------------------------------------------------------------

# Where each kind of write leaves one row per external_id (a redemption through the
# idempotency record its transaction completed).
ROWS_OF = {
    "accrual": "SELECT external_id FROM points_engine_accrual "
    "WHERE channel = 'counter' AND external_id IN :ids",
    "redemption": "SELECT i.external_id FROM common_idempotency i "
    "JOIN points_engine_redemption r ON r.redemption_no = i.body ->> 'redemption_id' "
    "WHERE i.operation = 'redemption' AND i.external_id IN :ids",
    "order": "SELECT external_id FROM storefront_order WHERE external_id IN :ids",
    "payment": "SELECT external_id FROM storefront_order_payment WHERE external_id IN :ids",
}


def copies(engine: Engine, writes: Iterable[Write]) -> Counter[str]:
    """How many rows each write's external_id has in the database."""
    by_kind: dict[str, list[str]] = {}
    for write in writes:
        by_kind.setdefault(write.kind, []).append(write.external_id)
    found: Counter[str] = Counter()
    with engine.connect() as connection:
        for kind, ids in by_kind.items():
            query = text(ROWS_OF[kind]).bindparams(bindparam("ids", expanding=True))
            found.update(connection.execute(query, {"ids": ids}).scalars())
    return found


# Rows a write left half done: each query returns the rows breaking one rule.
HALF_WRITTEN = {
    "an accrual without its lot or its postings": """
        SELECT a.accrual_no FROM points_engine_accrual a
        WHERE a.points > 0 AND (
            NOT EXISTS (SELECT 1 FROM points_engine_lot l WHERE l.accrual_id = a.id)
            OR a.points <> (SELECT COALESCE(SUM(p.points), 0) FROM points_engine_posting p
                            WHERE p.reference = 'accrual:' || a.accrual_no))
    """,
    "a redemption without its posting": """
        SELECT r.redemption_no FROM points_engine_redemption r
        WHERE r.points_spent <> (SELECT COALESCE(SUM(p.points), 0) FROM points_engine_posting p
                                 WHERE p.reference = 'redemption:' || r.redemption_no)
    """,
    "an idempotency claim committed without its answer": """
        SELECT external_id FROM common_idempotency WHERE body IS NULL
    """,
    "an order without lines or history, or paid other than by its payments": """
        SELECT o.order_no FROM storefront_order o
        WHERE NOT EXISTS (SELECT 1 FROM storefront_order_line l WHERE l.order_id = o.id)
           OR NOT EXISTS (SELECT 1 FROM storefront_order_status_change c WHERE c.order_id = o.id)
           OR o.paid_fen <> (SELECT COALESCE(SUM(p.amount_fen), 0)
                             FROM storefront_order_payment p WHERE p.order_id = o.id)
    """,
    "a product whose stock does not match its orders": """
        SELECT p.sku FROM storefront_product p
        WHERE p.sku = :sku AND p.stock <> :stock - (
            SELECT COALESCE(SUM(l.quantity), 0) FROM storefront_order_line l WHERE l.sku = p.sku)
    """,
}


def half_written(runtime: Runtime, shop: Shop) -> list[str]:
    """Everything a write left half done: the ledger's and prepaid cards' invariants (what
    `memberhub ledger verify` checks) and the rows each kind of write must have together."""
    with read_session(runtime.session_factory) as session:
        found = [str(b) for b in points_engine.find_breaches(session)]
        found += [str(b) for b in prepaid.find_breaches(session)]
        for rule, query in HALF_WRITTEN.items():
            parameters = {"sku": shop.sku, "stock": PRODUCT_STOCK}
            rows = session.execute(text(query), parameters).all()
            found += [f"{rule}: {row[0]}" for row in rows[:5]]
    return found


def tally(writes: Iterable[Write]) -> str:
    kinds = Counter(write.kind for write in writes)
    return ", ".join(f"{kinds[kind]} {kind}s" for kind in (*KINDS, "payment") if kinds[kind])
