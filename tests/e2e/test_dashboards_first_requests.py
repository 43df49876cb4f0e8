"""A freshly started server answers the burst of requests a browser's first visit makes.

Dash finishes its setup on the first request and marks it done before doing it; under
threaded gunicorn workers the requests that arrived meanwhile failed (500 on the renderer's
scripts, so the page never loaded). `dashboards.mount` now finishes the setup up front.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from bench.server import start_server
from memberhub.runtime import Runtime

pytestmark = pytest.mark.server

# What a browser fetches at once on its first visit (fingerprints are optional).
FIRST_VISIT = (
    "/dashboards/login",
    "/dashboards/_dash-layout",
    "/dashboards/_dash-dependencies",
    "/dashboards/_dash-component-suites/dash/deps/react@18.3.1.min.js",
    "/dashboards/_dash-component-suites/dash/deps/react-dom@18.3.1.min.js",
    "/dashboards/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js",
    "/dashboards/_dash-component-suites/dash/dcc/dash_core_components.js",
    "/dashboards/_dash-component-suites/dash/html/dash_html_components.min.js",
)


def test_fresh_threaded_workers_serve_concurrent_first_requests(
    db: Runtime, tmp_path: Path
) -> None:
    # Only the worker that answered the health check has served a request before the
    # burst: the others meet it cold, many threads at once.
    server = start_server(
        database_url=db.settings.database_url,
        secret_key=db.settings.secret_key,
        var_dir=tmp_path / "var",
        workers=3,
        threads=8,
    )
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            answers = list(
                pool.map(
                    lambda path: (path, requests.get(server.url(path), timeout=60).status_code),
                    FIRST_VISIT * 3,
                )
            )
    finally:
        server.stop()
    failed = [(path, status) for path, status in answers if status != 200]
    assert not failed, f"{failed}\n{server.log()[-3000:]}"
