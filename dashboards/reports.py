"""Scheduled reports: a saved view's page written to the outbox as files a mailer sends.

Every table, grid and chart callback a page registers is also recorded here (`Exports`),
so a report draws exactly what the page shows, from the same queries and figures: each
table or grid the page's layout holds for the view as CSV or XLSX (masked for the
report owner's role, with the filters and the data's time as notes), each chart as a
PNG drawn by Plotly's kaleido in the machine's Chromium, a `manifest.json` naming them
and, when the view has recipients, `message.eml` with everything attached.

A report covers the view's filters over a period of the view's length ending the day
before the run (the last complete day); the Clearing page's report is of the latest
cleared day.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import kaleido
import plotly.graph_objects as go
import plotly.io as pio
from dash.exceptions import PreventUpdate

from dashboards import components
from dashboards.auth import Viewer
from dashboards.exports import ChartExport, Exports
from dashboards.i18n import Lang, parse_lang, t
from dashboards.urls import View

CHART_SIZE = {"width": 1200, "height": 600}
SENDER = "Member Hub <reports@memberhub.invalid>"


@dataclass(frozen=True)
class ReportRequest:
    """One report to write: the page (its id prefix), the saved view's number, name and
    URL query, who it is for (masking follows the owner's role), the file format of its
    tables and the addresses of its e-mail."""

    page: str
    view_no: str
    name: str
    query: Mapping[str, str]
    owner: Viewer
    file_format: str = "csv"
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class WrittenReport:
    folder: Path
    files: tuple[str, ...]
    charts_missing: str | None = None  # why charts are not drawn, when they are not


@contextmanager
def one_browser() -> Iterator[None]:
    """Within the block, every report's charts are drawn by one Chromium, started once
    (kaleido otherwise starts one for each report), on a page without MathJax, which
    kaleido would otherwise ask a CDN for. Without Chromium it starts nothing, and each
    report says why its charts are missing."""
    try:
        kaleido.start_sync_server(mathjax=False, silence_warnings=True)
    except Exception:  # no browser: write_report records the reason per report
        yield
        return
    try:
        with warnings.catch_warnings():
            # Plotly hands the server the options it would start a browser with (request
            # headers only); the server was started with what it needs.
            warnings.filterwarnings("ignore", "The kopts argument is ignored", UserWarning)
            yield
    finally:
        kaleido.stop_sync_server(silence_warnings=True)


def rolled(query: Mapping[str, str], page: str, run_day: date) -> dict[str, str]:
    """The view's query for a report run on `run_day`: its period, of the same length,
    ending the day before; the Clearing page's latest cleared day instead of a fixed day."""
    rolled_query = dict(query)
    if page == "clearing":
        rolled_query.pop("day", None)
        return rolled_query
    end = run_day - timedelta(days=1)
    start_text, end_text = query.get("from"), query.get("to")
    if start_text and end_text:
        try:
            days = (date.fromisoformat(end_text) - date.fromisoformat(start_text)).days + 1
        except ValueError:
            days = 0
        if days > 0:
            rolled_query["from"] = (end - timedelta(days=days - 1)).isoformat()
            rolled_query["to"] = end.isoformat()
    return rolled_query


def component_ids(tree: Any) -> set[str]:
    """Every string id in a Dash layout tree."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)
            return
        if not hasattr(node, "to_plotly_json"):
            return
        node_id = getattr(node, "id", None)
        if isinstance(node_id, str):
            found.add(node_id)
        walk(getattr(node, "children", None))

    walk(tree)
    return found


def _figures(export: ChartExport, data: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    try:
        drawn = export.draw(data)
    except PreventUpdate:
        return
    results = drawn if isinstance(drawn, tuple) else (drawn,)
    for element, figure in zip(export.elements, results, strict=False):
        if isinstance(figure, go.Figure) and figure.data:
            yield element, figure


def write_report(
    exports: Exports,
    layout: Callable[..., Any],
    request: ReportRequest,
    run_day: date,
    outbox: Path,
    data_as_of: datetime | None,
) -> WrittenReport:
    """Write one report into `outbox/<run_day>/<view_no>/` (replacing an earlier one of
    the same day) and return what it holds."""
    query = rolled(request.query, request.page, run_day)
    present = component_ids(layout(**query))
    folder = outbox / run_day.isoformat() / request.view_no
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    files: list[str] = []
    view: View | None = None
    for export in exports.tables.get(request.page, {}).values():
        if export.element not in present:
            continue
        view = export.stored_view(query)
        columns, frame = export.rows(view, request.owner)
        shown = components.for_viewer(columns, frame, request.owner)
        name = components.download_name(request.page, export.name, view, request.file_format)
        notes = components.export_notes(name, view, data_as_of)
        if request.file_format == "xlsx":
            (folder / name).write_bytes(components.xlsx_bytes(columns, shown, view.lang, notes))
        else:
            (folder / name).write_text(
                components.csv_text(columns, shown, view.lang, notes), encoding="utf-8"
            )
        files.append(name)
    charts = [
        (element, figure)
        for export in exports.charts.get(request.page, {}).values()
        if all(element in present for element in export.elements)
        for element, figure in _figures(export, query)
    ]
    missing = None
    if charts:
        paths = [folder / f"{element}.png" for element, _ in charts]
        try:
            pio.write_images([figure for _, figure in charts], paths, **CHART_SIZE)
        except Exception as error:  # kaleido without a browser raises its own errors
            missing = f"charts not drawn: {type(error).__name__}: {error}".splitlines()[0]
            for path in paths:
                path.unlink(missing_ok=True)
        else:
            files.extend(path.name for path in paths)
    manifest = {
        "view_no": request.view_no,
        "name": request.name,
        "page": request.page,
        "owner": request.owner.username,
        "run_day": run_day.isoformat(),
        "query": query,
        "data_as_of": None if data_as_of is None else data_as_of.isoformat(),
        "files": files,
        "recipients": list(request.recipients),
        "charts_missing": missing,
    }
    (folder / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    written = [*files, "manifest.json"]
    if request.recipients:
        lang: Lang = view.lang if view is not None else parse_lang(query.get("lang"))
        (folder / "message.eml").write_bytes(
            _message(request, folder, files, query, lang, data_as_of, missing)
        )
        written.append("message.eml")
    return WrittenReport(folder, tuple(written), missing)


def _message(
    request: ReportRequest,
    folder: Path,
    files: Sequence[str],
    query: Mapping[str, str],
    lang: Lang,
    data_as_of: datetime | None,
    missing: str | None,
) -> bytes:
    """The report as an e-mail a mail relay can send as it is (RFC 5322, attachments)."""
    message = EmailMessage()
    period = f"{query.get('from', '')} – {query.get('to', '')}".strip(" –")
    message["Subject"] = f"{t('report.subject', lang)}: {request.name} {period}".strip()
    message["From"] = SENDER
    message["To"] = ", ".join(request.recipients)
    if data_as_of is not None:
        message["Date"] = format_datetime(data_as_of)
    lines = [
        f"{t('report.view', lang)}: {request.name} ({request.page})",
        f"{t('report.filters', lang)}: "
        + (", ".join(f"{key}={value}" for key, value in query.items()) or "—"),
        f"{t('data_as_of', lang)}: {data_as_of.isoformat() if data_as_of else '—'}",
    ]
    if missing:
        lines.append(missing)
    message.set_content("\n".join(lines))
    for name in files:
        body = (folder / name).read_bytes()
        if name.endswith(".png"):
            message.add_attachment(body, maintype="image", subtype="png", filename=name)
        elif name.endswith(".xlsx"):
            message.add_attachment(
                body,
                maintype="application",
                subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                filename=name,
            )
        else:
            message.add_attachment(body, maintype="text", subtype="csv", filename=name)
    return bytes(message)
