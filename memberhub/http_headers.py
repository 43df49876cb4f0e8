"""Security headers on every answer, long URLs refused, connections closed after 413/414."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, abort, request

# Longer request targets are refused with a 414 problem; gunicorn is told to let them
# through to the app (limit_request_line=0) so that the answer is ours, not its text page.
MAX_URL_CHARS = 8192

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def page_policy(script_hashes: Iterable[str]) -> str:
    """For the dashboards and the API docs: our own scripts and those inline ones only.

    Plotly and Dash set inline style attributes on every chart, which CSP can only allow
    for all styles; scripts stay locked to this origin plus the hashes Dash computes for
    its two inline scripts. Images may be data: or blob: URLs (chart downloads).
    """
    scripts = " ".join(["'self'", *sorted(set(script_hashes))])
    return (
        "default-src 'self'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'self'; "
        "form-action 'self'; "
        "frame-ancestors 'none'"
    )


def install(app: Flask, *, script_hashes: Iterable[str], https: bool) -> None:
    pages = page_policy(script_hashes)

    @app.before_request
    def refuse_long_urls() -> None:
        if len(request.full_path) > MAX_URL_CHARS:
            abort(414)

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        is_api = request.path.startswith("/api/v1/")
        headers["Content-Security-Policy"] = API_POLICY if is_api else pages
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
        if is_api and "Cache-Control" not in headers:
            # Answers carry balances and personal data: no shared cache may keep them.
            headers["Cache-Control"] = "no-store"
        if https:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response


StartResponse = Callable[..., Any]


def closing_after_refused_bodies(app: Any) -> Callable[[dict[str, Any], StartResponse], Any]:
    """WSGI middleware for gunicorn: after a 413 or 414 the connection is closed.

    The refused body was never read, so the connection cannot carry another request.
    Gunicorn drops a `Connection: close` header set by the app, but the start_response
    it passes is a method of its response, whose force_close() it honours (and then
    says `Connection: close` itself).
    """

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if status.startswith(("413", "414")):
                server_response = getattr(start_response, "__self__", None)
                force_close = getattr(server_response, "force_close", None)
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info)

        return app(environ, start)

    return wrapped
