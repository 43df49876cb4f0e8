"""Scheduled reports for `jobs run-due`: every saved view due on the day is written from
the warehouse as its page shows it, into the outbox (settings.report_outbox), and marked
sent for that day, so running the jobs again the same day writes nothing twice.

The dashboards are mounted on a Flask app of their own with the run day as "today":
a report covers the last complete days before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl

from flask import Flask
from tqdm import tqdm

from common.db import read_session
from common.unit_of_work import transaction
from dashboards import ReportRequest, report_page
from dashboards.auth import Viewer
from dashboards.context import current
from dashboards.reports import one_browser
from memberhub.runtime import Runtime
from memberhub.wiring import mount_dashboards
from storefront_api.saved_views import DueReport, due_reports, mark_sent


@dataclass
class ReportRun:
    """What one run did: reports written (with their folders), skipped (the owner may no
    longer open the page, or the warehouse was never synced), and charts not drawn."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    charts_missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.written)} reports written"
        if self.skipped:
            text += f", {len(self.skipped)} skipped ({'; '.join(self.skipped)})"
        if self.charts_missing:
            text += f", charts missing in {len(self.charts_missing)}"
        return text


def write_due_reports(runtime: Runtime, day: date, progress: bool = False) -> ReportRun:
    run = ReportRun()
    factory = runtime.session_factory
    with read_session(factory) as session:
        due = due_reports(session, day)
    if not due:
        return run
    mount_dashboards(Flask("memberhub-reports"), runtime, today=lambda: day)
    if not current().ready():
        run.skipped = [f"{report.view.view_no}: the warehouse was never synced" for report in due]
        return run
    outbox = runtime.settings.report_outbox
    with one_browser():
        for report in tqdm(due, desc="scheduled reports", unit="report", disable=not progress):
            _write(runtime, run, report, day, outbox)
    return run


def _write(runtime: Runtime, run: ReportRun, report: DueReport, day: date, outbox: Path) -> None:
    """Write one due report and mark it sent, or note why it was skipped."""
    view = report.view
    request = ReportRequest(
        page=view.page,
        view_no=view.view_no,
        name=view.name,
        query=dict(parse_qsl(view.query)),
        owner=Viewer(view.owner, report.owner_role),
        file_format=view.file_format,
        recipients=view.recipients,
    )
    written = report_page(request, day, outbox)
    if written is None:
        run.skipped.append(f"{view.view_no}: {view.owner} may not open {view.page}")
        return
    with transaction(runtime.session_factory) as uow:
        mark_sent(uow, view.view_no, day)
    run.written.append(str(written.folder))
    if written.charts_missing:
        run.charts_missing.append(f"{view.view_no}: {written.charts_missing}")
