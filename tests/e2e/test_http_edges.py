"""Protocol edges on the real server (gunicorn): 413 and 414 as problems that close the
connection, and the security headers every answer carries."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

from bench.server import RunningServer, start_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(runtime: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        database_url=runtime.settings.database_url,
        secret_key=runtime.settings.secret_key,
        var_dir=Path(tmp_path_factory.mktemp("edges-var")),
        workers=1,
        threads=2,
    )
    yield running
    running.stop()


def _exchange(server: RunningServer, request: bytes, body: bytes = b"") -> tuple[bytes, bool]:
    """Send one raw request on a fresh connection; (what came back, whether the server
    closed the connection after answering)."""
    address = urlparse(server.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=20) as sock:
        sock.sendall(request)
        with contextlib.suppress(OSError):  # the server may stop reading a body it refused
            sock.sendall(body)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                return received, False
            if not chunk:
                return received, True
            received += chunk


def _answer(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])
    }
    return status, headers, json.loads(body) if body.strip().startswith(b"{") else body


def test_a_body_over_the_limit_is_a_413_problem_and_the_connection_closes(server):
    body = b'{"padding": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    request = (
        f"POST /api/v1/members HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    raw, closed = _exchange(server, request, body)
    status, headers, problem = _answer(raw)
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == 413 and "1 MiB" in problem["detail"]
    assert headers["connection"] == "close"
    assert closed


def test_an_over_long_url_is_a_414_problem_and_the_connection_closes(server):
    path = "/api/v1/members/lookup?phone=" + "1" * 20_000
    raw, closed = _exchange(server, f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    status, headers, problem = _answer(raw)
    assert status == 414
    assert headers["content-type"] == "application/problem+json"
    assert problem["status"] == 414
    assert headers["connection"] == "close"
    assert closed


def test_a_normal_answer_keeps_the_connection_for_the_next_request(server):
    with requests.Session() as session:
        first = session.get(server.url("/api/v1/channels"))
        second = session.get(server.url("/api/v1/categories"))
    assert first.status_code == second.status_code == 200


def test_every_answer_carries_the_security_headers(server):
    for path, json_api in (
        ("/api/v1/channels", True),
        ("/api/v1/nope", True),
        ("/api/docs", False),
        ("/dashboards/login", False),
        ("/healthz", False),
    ):
        response = requests.get(server.url(path), timeout=20)
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy, path
        if json_api:
            assert policy.startswith("default-src 'none'"), path
            assert headers["Cache-Control"] == "no-store", path
        else:
            assert "script-src 'self'" in policy and "'unsafe-eval'" not in policy, path
    login = requests.get(server.url("/dashboards/login"), timeout=20).headers
    # Dash's two inline scripts are allowed by their hashes, nothing else inline.
    assert login["Content-Security-Policy"].count("'sha256-") >= 1
    assert "Strict-Transport-Security" not in login  # only behind HTTPS (MEMBERHUB_HTTPS)
