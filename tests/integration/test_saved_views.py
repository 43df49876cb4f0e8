"""Saved views and scheduled reports: a staff user saves a page's filters under a name,
shares it or not, opens it again, deletes only their own; a scheduled view is written to
the outbox by the jobs once a day, as its page shows it to its owner."""

from __future__ import annotations

import email
import email.header
import io
import json
from datetime import date, timedelta
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from bench.dash_client import DashClient
from common.audit import AuditEvent
from common.clock import today
from common.db import read_session
from common.errors import Invalid
from common.unit_of_work import transaction
from memberhub.operations import run_due_jobs
from memberhub.report_jobs import write_due_reports
from memberhub.runtime import Runtime
from storefront_api.auth import create_staff_user, set_staff_active
from storefront_api.auth.orm import StaffUser
from storefront_api.saved_views import (
    ViewDraft,
    delete_view,
    due_reports,
    mark_sent,
    save_view,
    visible_views,
)
from storefront_api.saved_views.orm import SavedView
from storefront_api.saved_views.services import UnknownSavedView
from tests.integration.dashboard_scenario import Scenario
from tests.integration.test_dashboard_callbacks import log_in

PAGES = frozenset({"overview", "campaigns", "channels", "members", "points"})
FINANCE_PAGES = PAGES | {"clearing"}
CHANNELS_QUERY = "from=2026-09-01&to=2026-09-30&channel=counter"


def _users(db: Runtime, *roles: str) -> list[str]:
    names = []
    with transaction(db.session_factory) as uow:
        for role in roles:
            name = f"views-{role}"
            create_staff_user(uow, name, role)
            names.append(name)
    return names


def _save(db: Runtime, username: str, draft: ViewDraft, pages: frozenset[str] = PAGES) -> Any:
    with transaction(db.session_factory) as uow:
        return save_view(uow, username, draft, pages)


def _visible(db: Runtime, username: str, page: str) -> list[str]:
    with read_session(db.session_factory) as session:
        return [view.name for view in visible_views(session, username, page)]


def test_views_are_private_until_shared_replaced_by_name_and_deleted_by_their_owner(
    db: Runtime,
) -> None:
    alice, bob, root = _users(db, "marketer", "finance", "admin")
    mine = _save(db, alice, ViewDraft("channels", "柜台九月", CHANNELS_QUERY))
    shared = _save(db, alice, ViewDraft("channels", "All channels", "", shared=True))
    _save(db, bob, ViewDraft("channels", "Bob's", "channel=web"))
    _save(db, alice, ViewDraft("overview", "Overview", ""))

    assert _visible(db, alice, "channels") == ["All channels", "柜台九月"]
    assert _visible(db, bob, "channels") == ["Bob's", "All channels"]
    assert _visible(db, alice, "points") == []

    again = _save(db, alice, ViewDraft("channels", " 柜台九月 ", "channel=retail", shared=True))
    assert again.view_no == mine.view_no and again.query == "channel=retail" and again.shared
    assert _visible(db, bob, "channels") == ["Bob's", "All channels", "柜台九月"]

    with pytest.raises(UnknownSavedView), transaction(db.session_factory) as uow:
        delete_view(uow, bob, "finance", shared.view_no)
    with transaction(db.session_factory) as uow:
        delete_view(uow, root, "admin", shared.view_no)
    with transaction(db.session_factory) as uow:
        delete_view(uow, alice, "marketer", mine.view_no)
    assert _visible(db, bob, "channels") == ["Bob's"]

    with read_session(db.session_factory) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("saved_view.%"))
        ).all()
    assert sorted(actions) == ["saved_view.delete"] * 2 + ["saved_view.save"] * 5


@pytest.mark.parametrize(
    ("draft", "fields"),
    [
        (ViewDraft("channels", "  ", ""), {"name"}),
        (ViewDraft("channels", "x" * 61, ""), {"name"}),
        (ViewDraft("clearing", "Finance's", ""), {"page"}),
        (ViewDraft("channels", "q", "a=" + "b" * 1000), {"query"}),
        (ViewDraft("channels", "w", "", cadence="weekly"), {"weekday"}),
        (ViewDraft("channels", "w", "", cadence="weekly", weekday=8), {"weekday"}),
        (ViewDraft("channels", "h", "", cadence="hourly"), {"cadence"}),
        (ViewDraft("channels", "f", "", file_format="pdf"), {"file_format"}),
        (ViewDraft("channels", "r", "", recipients="boss@post.cn, not-mail"), {"recipients"}),
        (
            ViewDraft("channels", "r", "", recipients=",".join(f"a{i}@x.cn" for i in range(11))),
            {"recipients"},
        ),
        (ViewDraft("", "\x07", "", file_format=""), {"page", "name", "file_format"}),
    ],
)
def test_a_bad_view_names_its_fields_and_writes_nothing(
    db: Runtime, draft: ViewDraft, fields: set[str]
) -> None:
    (alice,) = _users(db, "marketer")
    with pytest.raises(Invalid) as refused:
        _save(db, alice, draft)
    assert {error.field for error in refused.value.errors} == fields
    with read_session(db.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(SavedView)) == 0


def test_reports_are_due_daily_or_on_their_weekday_once_and_only_for_active_owners(
    db: Runtime,
) -> None:
    alice, bob = _users(db, "marketer", "finance")
    monday = date(2026, 12, 7)
    daily = _save(db, alice, ViewDraft("overview", "Daily", "", cadence="daily"))
    _save(db, alice, ViewDraft("points", "Mondays", "", cadence="weekly", weekday=1))
    _save(db, alice, ViewDraft("points", "Not a report", ""))
    _save(db, bob, ViewDraft("channels", "Bob's daily", "", cadence="daily"))

    def due(day: date) -> list[str]:
        with read_session(db.session_factory) as session:
            return sorted(report.view.name for report in due_reports(session, day))

    assert due(monday) == ["Bob's daily", "Daily", "Mondays"]
    assert due(monday + timedelta(days=1)) == ["Bob's daily", "Daily"]
    with transaction(db.session_factory) as uow:
        set_staff_active(uow, bob, False)
    assert due(monday) == ["Daily", "Mondays"]
    with transaction(db.session_factory) as uow:
        mark_sent(uow, daily.view_no, monday)
    assert due(monday) == ["Mondays"]
    assert due(monday + timedelta(days=1)) == ["Daily"]
    # A changed schedule is a new one: it is due again.
    _save(db, alice, ViewDraft("overview", "Daily", "", cadence="weekly", weekday=1))
    assert due(monday) == ["Daily", "Mondays"]


# -- through the dashboards ------------------------------------------------------------------


def _options(dash: DashClient, prefix: str, data: dict[str, str]) -> Any:
    answer = dash.response(f"{prefix}-views", {f"{prefix}-query.data": data})[f"{prefix}-views"]
    return answer["options"], answer["value"]


def _save_form(dash: DashClient, prefix: str, data: dict[str, str], **fields: Any) -> Any:
    values = {
        "name": "",
        "shared": [],
        "cadence": "none",
        "weekday": 1,
        "format": "csv",
        "recipients": "",
    }
    values.update(fields)
    return dash.call(
        f"{prefix}-views-status",
        {f"{prefix}-views-save.n_clicks": 1},
        {f"{prefix}-views-{key}.value": value for key, value in values.items()}
        | {f"{prefix}-query.data": data},
    )


def test_a_view_saved_on_a_page_opens_again_and_colleagues_see_it_only_when_shared(
    dash: DashClient, staff: Any, world: Scenario, client: FlaskClient
) -> None:
    september = {"from": "2026-09-01", "to": "2026-09-30", "channel": "counter"}
    log_in(dash, *staff("marketer"))
    assert _options(dash, "channels", september) == ([], None)

    refused = _save_form(dash, "channels", september, name=" ")
    assert refused.status_code == 200
    assert refused.json["response"]["channels-views-error"]["children"].startswith("请填写名称")
    assert refused.json["response"]["channels-views-details"]["open"] is True
    assert _options(dash, "channels", september) == ([], None)

    saved = _save_form(dash, "channels", september, name="柜台九月", shared=["shared"])
    answer = saved.json["response"]
    assert answer["channels-views-status"]["children"] == "已保存视图“柜台九月”"
    assert answer["channels-views-details"]["open"] is False
    view_no = answer["channels-views"]["value"]
    private = _save_form(dash, "channels", {"channel": "web"}, name="我的网店", cadence="daily")
    assert private.status_code == 200

    # The list marks the view the page shows; picking one opens its filters, in the
    # language the page is in now.
    options, current = _options(dash, "channels", september | {"lang": "en"})
    assert current == view_no
    assert [option["label"] for option in options] == ["我的网店（Daily）", "柜台九月（shared）"]
    picked = dash.response(
        "channels-views-status",
        {"channels-views.value": view_no},
        {"channels-query.data": {"from": "2026-10-01", "to": "2026-10-31", "lang": "en"}},
    )
    search = picked["view-url"]["search"]
    assert dict(parse_qsl(search.lstrip("?"))) == september | {"lang": "en"}

    client.get("/dashboards/logout")
    log_in(dash, *staff("finance"))
    options, _ = _options(dash, "channels", {})
    assert [option["label"] for option in options] == ["柜台九月（dash-marketer）"]
    deleted = dash.response(
        "channels-views-status",
        {"channels-views-delete.n_clicks": 1},
        {"channels-views.value": view_no, "channels-query.data": {}},
    )
    assert deleted["channels-views-status"]["children"] == "只能删除自己保存的视图"
    assert len(_options(dash, "channels", {})[0]) == 1


def test_a_role_cannot_reach_the_views_of_a_page_it_may_not_open(
    dash: DashClient, staff: Any, world: Scenario
) -> None:
    log_in(dash, *staff("marketer"))
    listing = dash.call("clearing-views", {"clearing-query.data": {}})
    assert listing.status_code == 403
    saving = _save_form(dash, "clearing", {}, name="Sneaky")
    assert saving.status_code == 403


def test_a_scheduled_report_lands_in_the_outbox_once_a_day_as_its_owner_sees_the_page(
    db: Runtime, world: Scenario
) -> None:
    alice, bob = _users(db, "marketer", "finance")
    run_day = today()
    period = "from=2026-01-01&to=2026-01-30"  # 30 days, rolled to end the day before the run
    overview = _save(
        db,
        alice,
        ViewDraft(
            "overview",
            "每日总览",
            period,
            cadence="daily",
            file_format="xlsx",
            recipients="boss@post.cn; team@post.cn",
        ),
    )
    members = _save(db, alice, ViewDraft("members", "Members", "", cadence="daily"))
    clearing = _save(db, bob, ViewDraft("clearing", "Clearing", "", cadence="daily"), FINANCE_PAGES)

    run = write_due_reports(db, run_day)
    assert len(run.written) == 3 and not run.skipped and not run.charts_missing, run

    folder = db.settings.report_outbox / run_day.isoformat() / overview.view_no
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    end = run_day - timedelta(days=1)
    assert manifest["query"] == {
        "from": (end - timedelta(days=29)).isoformat(),
        "to": end.isoformat(),
    }
    files = manifest["files"]
    assert sorted(name.rsplit(".", 1)[1] for name in files) == ["png"] * 5 + ["xlsx"]
    for name in files:
        assert (folder / name).stat().st_size > 0
        if name.endswith(".png"):
            assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (table,) = [name for name in files if name.endswith(".xlsx")]
    assert table.startswith(f"memberhub-overview-channels-{end - timedelta(days=29):%Y%m%d}")
    sheet = load_workbook(io.BytesIO((folder / table).read_bytes())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) > 1 and all(isinstance(value, int | float) for value in rows[1][1:4])

    message: Message = email.message_from_bytes((folder / "message.eml").read_bytes())
    assert message["To"] == "boss@post.cn, team@post.cn"
    assert "每日总览" in str(
        email.header.make_header(email.header.decode_header(message["Subject"]))
    )
    attached = sorted(part.get_filename() for part in message.walk() if part.get_filename())
    assert attached == sorted(files)

    # The owner is a marketer: members' phone numbers are masked in their files.
    members_folder = db.settings.report_outbox / run_day.isoformat() / members.view_no
    member_csvs = [path.read_text(encoding="utf-8") for path in members_folder.glob("*.csv")]
    assert member_csvs and any("****" in text for text in member_csvs)
    assert not (members_folder / "message.eml").exists()
    assert (db.settings.report_outbox / run_day.isoformat() / clearing.view_no).is_dir()

    again = write_due_reports(db, run_day)
    assert again.written == [] and again.skipped == []


def test_a_report_whose_owner_lost_the_page_is_skipped_and_named(
    db: Runtime, world: Scenario
) -> None:
    (bob,) = _users(db, "finance")
    saved = _save(db, bob, ViewDraft("clearing", "Clearing", "", cadence="daily"), FINANCE_PAGES)
    with transaction(db.session_factory) as uow:
        uow.session.execute(
            update(StaffUser).where(StaffUser.username == bob).values(role="marketer")
        )
    totals = run_due_jobs(db, today(), reports=True, tiers=False)
    assert totals["reports"] == (
        f"0 reports written, 1 skipped ({saved.view_no}: {bob} may not open clearing)"
    )
