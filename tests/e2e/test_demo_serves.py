"""The README's first command ends by serving: `memberhub demo` without --no-serve must
answer the API and the dashboards from a process that carries nothing of the demo's work.
Workers forked from the demo's own process (scikit-learn's OpenMP pool, DuckDB, the
Chromium that drew the report charts still mapped) died of SIGSEGV on dashboard requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bench.server import free_port

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        os.environ.get("MEMBERHUB_TEST_DB", "sqlite") != "sqlite",
        reason="the demo runs on SQLite; once is enough",
    ),
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """A tiny demo that goes on to serve; (its process id, its base URL)."""
    home = tmp_path_factory.mktemp("demo-serves")
    port = free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{home / 'memberhub.db'}",
        MEMBERHUB_VAR_DIR=str(home / "var"),
    )
    env.pop("MEMBERHUB_WAREHOUSE", None)
    command = [sys.executable, "-m", "memberhub.cli", "demo", "--members", "60", "--days", "3"]
    log = (home / "demo.log").open("wb")
    process = subprocess.Popen(
        [*command, "--port", str(port)], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, base_url, home / "demo.log")
        yield process.pid, base_url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def _wait_until_serving(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo ended with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(base_url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    pytest.fail(f"the demo did not serve within 300 s:\n{log.read_text()[-3000:]}")


def test_the_demo_serves_the_api_and_the_dashboards(demo_server: tuple[int, str]) -> None:
    _, base_url = demo_server
    for _ in range(4):  # more requests than workers: each one answers
        assert requests.get(base_url + "/dashboards/login", timeout=20).status_code == 200
        assert requests.get(base_url + "/api/docs", timeout=20).status_code == 200


def test_the_serving_process_carries_nothing_of_the_demos_work(
    demo_server: tuple[int, str],
) -> None:
    pid, _ = demo_server
    mapped = Path(f"/proc/{pid}/maps").read_text()
    assert "libgomp" not in mapped  # scikit-learn's OpenMP runtime, loaded by the insights
