"""Real parallel HTTP on PostgreSQL: one prepaid card spent from two channels at once."""

from __future__ import annotations

import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

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

API = "/api/v1/prepaid-cards"
OUTLET = "SH-HP-0001"
TIMEOUT = 120


@pytest.fixture(scope="module")
def server(runtime: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        database_url=runtime.settings.database_url,
        secret_key=runtime.settings.secret_key,
        var_dir=Path(tmp_path_factory.mktemp("e2e-prepaid-var")),
        workers=4,
    )
    yield running
    running.stop()


def post(server: RunningServer, path: str, body: Any, key: str) -> tuple[int, Any]:
    response = requests.post(
        server.url(path), json=body, headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT
    )
    return response.status_code, response.json()


def get(server: RunningServer, path: str, key: str) -> Any:
    response = requests.get(
        server.url(path), headers={"Authorization": f"Bearer {key}"}, timeout=TIMEOUT
    )
    assert response.status_code == 200, response.text
    return response.json()


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


def test_a_card_spent_from_two_channels_at_once_never_goes_below_zero(
    server: RunningServer, db: Any, channel_key: Any
) -> None:
    counter, web = channel_key("counter", OUTLET), channel_key("web")
    status, issued = post(
        server, API, {"external_id": f"ISSUE-{uuid.uuid4().hex}", "amount_fen": 1_000}, counter
    )
    assert status == 201, issued
    card_no, pin = issued["card_no"], issued["pin"]

    def spend(key: str) -> tuple[int, Any]:
        body = {"external_id": f"POS-{uuid.uuid4().hex}", "amount_fen": 100, "pin": pin}
        return post(server, f"{API}/{card_no}/charges", body, key)

    results = race([partial(spend, counter if i % 2 else web) for i in range(20)])

    assert Counter(status for status, _ in results) == {201: 10, 422: 10}, results
    refused = {problem_code(body) for status, body in results if status == 422}
    assert refused == {"insufficient-balance"}
    # Each success saw the balance its predecessor left: the ten were serialised.
    balances = sorted(body["balance_fen"] for status, body in results if status == 201)
    assert balances == list(range(0, 1_000, 100))
    assert get(server, f"{API}/{card_no}", web)["balance_fen"] == 0
    entries = get(server, f"{API}/{card_no}/transactions?limit=500", counter)["items"]
    assert Counter(entry["kind"] for entry in entries) == {"issue": 1, "charge": 10}
    assert sum(entry["amount_fen"] for entry in entries) == 0
    assert sorted(entry["balance_after"] for entry in entries) == list(range(0, 1_001, 100))
    # Every charge is booked to the channel whose key made it.
    channels = Counter(entry["channel"] for entry in entries if entry["kind"] == "charge")
    assert sum(channels.values()) == 10 and set(channels) <= {"counter", "web"}
