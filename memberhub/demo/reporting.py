"""The demo's saved views: the marketer's shared counter view and daily overview report,
finance's daily clearing report; the reports are written once the warehouse is synced."""

from __future__ import annotations

from datetime import date

from common.unit_of_work import transaction
from memberhub.runtime import Runtime
from storefront_api.saved_views import ViewDraft, save_view

VIEWS = (
    ("marketer", ViewDraft("channels", "柜台近30天", "channel=counter", shared=True)),
    (
        "marketer",
        ViewDraft(
            "overview",
            "每日总览",
            "",
            shared=True,
            cadence="daily",
            file_format="xlsx",
            recipients="marketing@post.example.cn",
        ),
    ),
    (
        "finance",
        ViewDraft(
            "clearing", "清分日报", "", cadence="daily", recipients="finance@post.example.cn"
        ),
    ),
)
PAGES = frozenset({"overview", "channels", "clearing"})


def save_demo_views(runtime: Runtime) -> None:
    for username, draft in VIEWS:
        with transaction(runtime.session_factory) as uow:
            save_view(uow, username, draft, PAGES)


def write_demo_reports(runtime: Runtime, day: date) -> str:
    """The scheduled reports due on `day`, as `jobs run-due` writes them."""
    from memberhub.report_jobs import write_due_reports

    run = write_due_reports(runtime, day, progress=True)
    scheduled = sum(1 for _, draft in VIEWS if draft.cadence)
    return (
        f"{len(VIEWS)} saved views ({scheduled} with a daily report); {run.summary()} "
        f"to {runtime.settings.report_outbox / day.isoformat()}"
    )
