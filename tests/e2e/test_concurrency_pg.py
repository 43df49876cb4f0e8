"""Real parallel HTTP requests to a gunicorn server on PostgreSQL: points, stock and merge races."""

from __future__ import annotations

import os
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from bench.server import RunningServer, start_server

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("MEMBERHUB_TEST_DB", "").startswith("postgres"),
        reason="concurrency is proven on PostgreSQL: set MEMBERHUB_TEST_DB=postgresql:///test",
    ),
    pytest.mark.postgres,
    pytest.mark.server,
]

API = "/api/v1"
OUTLET = "SH-HP-0001"
SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMEOUT = 120


@pytest.fixture(scope="module")
def server(runtime: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        database_url=runtime.settings.database_url,
        secret_key=runtime.settings.secret_key,
        var_dir=Path(tmp_path_factory.mktemp("e2e-var")),
        workers=4,
    )
    yield running
    running.stop()


class Api:
    """Thin HTTP client for one test: JSON in, (status, body) out."""

    def __init__(self, server: RunningServer, channel: str, admin: str) -> None:
        self.server = server
        self.channel = {"Authorization": f"Bearer {channel}"}
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.phones: dict[str, str] = {}

    def post(self, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
        response = requests.post(
            self.server.url(API + path), json=body, headers=headers, timeout=TIMEOUT
        )
        return response.status_code, response.json()

    def get(self, path: str) -> Any:
        response = requests.get(self.server.url(API + path), headers=self.channel, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    def register(self) -> str:
        phone = f"139{uuid.uuid4().int % 10**8:08d}"
        status, body = self.post("/members", {"phone": phone, "name": "并发测试"}, self.channel)
        assert status == 201, body
        self.phones[body["member_no"]] = phone
        return str(body["member_no"])

    def accrue(self, member: dict[str, str], points: int, external_id: str | None = None) -> Any:
        return self.post("/accruals", accrual(member, points, external_id), self.channel)

    def member_with(self, points: int) -> str:
        member_no = self.register()
        status, body = self.accrue({"member_no": member_no}, points)
        assert status == 201, body
        assert body["points"] == points and body["status"] == "available", body
        return member_no

    def reward(self, points_cost: int, stock: int | None) -> str:
        code = f"E2E-{uuid.uuid4().hex[:10].upper()}"
        status, body = self.post(
            "/rewards",
            {
                "code": code,
                "name": "并发测试券",
                "kind": "voucher",
                "points_cost": points_cost,
                "value_fen": 100,
                "valid_days": 30,
                "cash_fen": 0,
                "stock": stock,
            },
            self.admin,
        )
        assert status == 201, body
        return code

    def redeem(self, member_no: str, reward_code: str) -> tuple[int, Any]:
        return self.post(
            "/redemptions",
            {
                "external_id": f"RD-{uuid.uuid4().hex}",
                "member_no": member_no,
                "reward_code": reward_code,
                "quantity": 1,
            },
            self.channel,
        )

    def merge(self, survivor: str, absorbed: str) -> tuple[int, Any]:
        return self.post("/members/merge", {"survivor": survivor, "absorbed": absorbed}, self.admin)

    def unmerge(self, merge_no: str) -> tuple[int, Any]:
        return self.post(f"/members/merges/{merge_no}/undo", None, self.admin)

    def available(self, member_no: str) -> int:
        return int(self.get(f"/members/{member_no}/points")["available"])

    def ledger(self, member_no: str) -> list[dict[str, Any]]:
        return list(self.get(f"/members/{member_no}/ledger?limit=500")["items"])


def accrual(member: dict[str, str], points: int, external_id: str | None = None) -> dict[str, Any]:
    """A counter purchase that earns exactly `points` at once (1 point per yuan, no window)."""
    amount = points * 100
    return {
        "external_id": external_id or f"POS-{uuid.uuid4().hex}",
        "member": member,
        "institution_code": OUTLET,
        "occurred_at": datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "business_type": "goods",
        "lines": [{"sku": "E2E-SKU", "category": "other", "quantity": 1, "amount_fen": amount}],
        "total_fen": amount,
        "payment_method": "cash",
    }


def race(tasks: list[Callable[[], tuple[int, Any]]]) -> list[tuple[int, Any]]:
    """Run every task on its own thread, all released at once by a barrier; results in order."""
    barrier = threading.Barrier(len(tasks))

    def run(task: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
        barrier.wait(timeout=60)
        return task()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


def problem_code(body: Any) -> str:
    return str(body.get("type", "")).rsplit("/", 1)[-1]


@pytest.fixture
def api(server: RunningServer, db: Any, channel_key: Any, staff_token: Any) -> Api:
    return Api(server, channel_key("counter", OUTLET), staff_token("admin"))


def test_parallel_redemptions_never_spend_more_than_the_balance(api: Api) -> None:
    member_no = api.member_with(1_000)
    reward = api.reward(points_cost=100, stock=None)

    results = race([lambda: api.redeem(member_no, reward) for _ in range(50)])

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 422: 40}, results
    refused = {problem_code(body) for status, body in results if status == 422}
    assert refused == {"insufficient-points"}
    # Each success saw the balance its predecessor left: the ten were serialised.
    balances = sorted(body["balance"]["available"] for status, body in results if status == 201)
    assert balances == list(range(0, 1_000, 100))
    points = api.get(f"/members/{member_no}/points")
    assert points["available"] == 0
    assert points.get("negative_debt", 0) == 0
    ledger = api.ledger(member_no)
    assert Counter(entry["type"] for entry in ledger) == {"accrual": 1, "redemption": 10}
    assert all(entry["balance_after"] >= 0 for entry in ledger), ledger
    assert sorted(entry["balance_after"] for entry in ledger) == list(range(0, 1_001, 100))


def test_parallel_replays_of_one_accrual_post_it_once(api: Api) -> None:
    member_no = api.register()
    body = accrual({"member_no": member_no}, 321, external_id=f"POS-SAME-{uuid.uuid4().hex}")

    results = race([lambda: api.post("/accruals", body, api.channel) for _ in range(32)])

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 200: 31}, results
    first = next(answer for status, answer in results if status == 201)
    assert all(answer == first for _, answer in results)
    assert first["points"] == 321
    ledger = api.ledger(member_no)
    assert [entry["type"] for entry in ledger] == ["accrual"]
    assert api.available(member_no) == 321


@pytest.mark.parametrize("crossed", [True, False], ids=["a-into-b-and-b-into-a", "a-into-b-twice"])
def test_parallel_merges_of_one_pair_let_exactly_one_win(api: Api, crossed: bool) -> None:
    for _round in range(3):
        a, b = api.member_with(300), api.member_with(700)
        first, second = (b, a), ((a, b) if crossed else (b, a))

        results = race([partial(api.merge, *first), partial(api.merge, *second)])

        assert sorted(status for status, _ in results) == [200, 409], results
        (_, body), lost = sorted(results, key=lambda result: result[0])
        assert problem_code(lost[1]) == "already-merged"
        survivor = body["survivor"]["member_no"]
        absorbed = body["absorbed"]["member_no"]
        assert {survivor, absorbed} == {a, b}
        assert body["points_moved"] == (300 if absorbed == a else 700)
        assert api.available(survivor) == 1_000
        # The absorbed number now stands for the survivor, with the same points.
        points = api.get(f"/members/{absorbed}/points")
        assert (points["member_no"], points["available"]) == (survivor, 1_000)


def test_parallel_undos_of_one_merge_let_exactly_one_win(api: Api) -> None:
    a, b = api.member_with(300), api.member_with(700)
    status, merged = api.merge(a, b)
    assert status == 200, merged

    results = race([partial(api.unmerge, merged["merge_no"]) for _ in range(8)])

    assert sorted(status for status, _ in results) == [200] + [409] * 7, results
    assert (api.available(a), api.available(b)) == (300, 700)


def test_accruals_racing_an_undo_land_on_one_member_each_and_none_is_lost(api: Api) -> None:
    a, b = api.member_with(100), api.member_with(200)
    status, merged = api.merge(a, b)
    assert status == 200, merged
    earned = [10 + i for i in range(30)]
    tasks: list[Callable[[], tuple[int, Any]]] = [
        partial(api.accrue, {"phone": api.phones[b]}, points) for points in earned
    ]
    tasks.insert(len(tasks) // 2, partial(api.unmerge, merged["merge_no"]))

    results = race(tasks)

    undo_status, undo_body = results[len(tasks) // 2]
    assert undo_status == 200, undo_body
    accruals = results[: len(tasks) // 2] + results[len(tasks) // 2 + 1 :]
    assert [status for status, _ in accruals] == [201] * len(earned), accruals
    # Before the undo B's phone stood for A; after it, for B again.
    to_b = sum(body["points"] for _, body in accruals if body["member_no"] == b)
    to_a = sum(body["points"] for _, body in accruals if body["member_no"] == a)
    assert to_a + to_b == sum(earned)
    assert api.available(a) == 100 + to_a
    assert api.available(b) == 200 + to_b


def test_accruals_racing_a_merge_all_land_on_the_survivor(api: Api) -> None:
    a, b = api.member_with(100), api.member_with(200)
    a_ref = [{"member_no": a}, {"phone": api.phones[a]}]
    earned = [10 + i for i in range(40)]
    tasks: list[Callable[[], tuple[int, Any]]] = [
        partial(api.accrue, a_ref[i % len(a_ref)], points) for i, points in enumerate(earned)
    ]
    tasks.insert(len(tasks) // 2, lambda: api.merge(b, a))

    results = race(tasks)

    merge_status, merge_body = results[len(tasks) // 2]
    assert merge_status == 200, merge_body
    accruals = results[: len(tasks) // 2] + results[len(tasks) // 2 + 1 :]
    assert [status for status, _ in accruals] == [201] * len(earned), accruals
    assert sorted(body["points"] for _, body in accruals) == earned
    assert {body["member_no"] for _, body in accruals} <= {a, b}
    # Whatever reached A before the merge moved with it; nothing after it stayed behind.
    assert merge_body["points_moved"] == 100 + sum(
        body["points"] for _, body in accruals if body["member_no"] == a
    )
    total = 100 + 200 + sum(earned)
    assert api.available(b) == total
    assert api.available(a) == total
    # The survivor's history includes the absorbed account's postings: every accrual is there.
    ledger = api.ledger(b)
    assert Counter(entry["type"] for entry in ledger)["accrual"] == 2 + len(earned)
    assert all(entry["balance_after"] >= 0 for entry in ledger)


def test_parallel_redemptions_never_sell_more_than_the_stock(api: Api) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        members = list(pool.map(lambda _: api.register(), range(50)))
    status, batch = api.post(
        "/accruals/batch",
        {"items": [accrual({"member_no": m}, 1_000) for m in members]},
        api.channel,
    )
    assert status == 200 and {r["status"] for r in batch["results"]} == {201}, batch
    reward = api.reward(points_cost=100, stock=5)

    results = race([partial(api.redeem, m, reward) for m in members])

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 5, 409: 45}, results
    assert {problem_code(body) for status, body in results if status == 409} == {"out-of-stock"}
    stock = {r["code"]: r["stock"] for r in api.get("/rewards")["items"]}[reward]
    assert stock == 0
    winners = {m for m, (status, _) in zip(members, results, strict=True) if status == 201}
    with ThreadPoolExecutor(max_workers=8) as pool:
        balances = dict(zip(members, pool.map(api.available, members), strict=True))
    assert balances == {m: 900 if m in winners else 1_000 for m in members}


def test_parallel_batches_over_shared_members_neither_deadlock_nor_fail(api: Api) -> None:
    members = [api.register() for _ in range(12)]
    batches = []
    for batch in range(4):
        order = random.Random(batch).sample(members * 4, len(members) * 4)
        batches.append([accrual({"member_no": m}, 10 + batch) for m in order])

    results = race(
        [partial(api.post, "/accruals/batch", {"items": items}, api.channel) for items in batches]
    )

    assert [status for status, _ in results] == [200] * len(batches), results
    for items, (_, body) in zip(batches, results, strict=True):
        answered = [(r["external_id"], r["status"]) for r in body["results"]]
        assert answered == [(item["external_id"], 201) for item in items]
    for member_no in members:
        assert api.available(member_no) == 4 * sum(10 + batch for batch in range(4))


def test_parallel_registrations_of_one_phone_create_one_member(api: Api) -> None:
    phone = f"137{uuid.uuid4().int % 10**8:08d}"

    results = race(
        [lambda: api.post("/members", {"phone": phone, "name": "并发"}, api.channel)] * 16
    )

    assert Counter(status for status, _ in results) == {201: 1, 409: 15}, results
    assert {problem_code(body) for status, body in results if status == 409} == {"identifier-taken"}
    found = api.get(f"/members/lookup?phone={phone}")
    assert (
        found["member_no"] == next(body for status, body in results if status == 201)["member_no"]
    )


def test_parallel_cancels_of_one_redemption_return_the_points_once(api: Api) -> None:
    member_no = api.member_with(500)
    reward = api.reward(points_cost=100, stock=3)
    status, redeemed = api.redeem(member_no, reward)
    assert status == 201, redeemed
    cancel = f"/redemptions/{redeemed['redemption_id']}/cancel"

    results = race([lambda: api.post(cancel, None, api.channel)] * 16)

    assert Counter(status for status, _ in results) == {200: 1, 409: 15}, results
    assert {problem_code(body) for status, body in results if status == 409} == {
        "already-cancelled"
    }
    assert api.available(member_no) == 500
    stock = {r["code"]: r["stock"] for r in api.get("/rewards")["items"]}[reward]
    assert stock == 3


def test_parallel_refunds_never_exceed_the_purchase(api: Api) -> None:
    member_no = api.register()
    purchase = accrual({"member_no": member_no}, 1_000)
    status, body = api.post("/accruals", purchase, api.channel)
    assert status == 201, body

    def refund() -> tuple[int, Any]:
        return api.post(
            "/refunds",
            {
                "external_id": f"RF-{uuid.uuid4().hex}",
                "original_external_id": purchase["external_id"],
                "amount_fen": 30_000,
            },
            api.channel,
        )

    results = race([refund] * 10)

    assert Counter(status for status, _ in results) == {201: 3, 422: 7}, results
    assert {problem_code(body) for status, body in results if status == 422} == {
        "refund-exceeds-original"
    }
    assert sorted(body["points_reversed"] for status, body in results if status == 201) == [300] * 3
    assert api.available(member_no) == 100
