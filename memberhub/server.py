"""Production serving: gunicorn with several worker processes, configured in code."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class MemberHubServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        # Each worker builds its own engine and pool after the fork.
        from memberhub.http_headers import closing_after_refused_bodies
        from memberhub.wiring import create_app

        return closing_after_refused_bodies(create_app())


def serve_forever(host: str, port: int, workers: int, threads: int = 1) -> None:
    MemberHubServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "timeout": 120,
            # Request lines of any length reach the app, which answers a 414 problem
            # (gunicorn's own answer would be a plain-text page).
            "limit_request_line": 0,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
        }
    ).run()
