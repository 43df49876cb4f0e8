"""Saved views: save (a name saved again by its owner replaces that view), list what a
staff user may pick from (their own and colleagues' shared views of a page), delete (the
owner or an admin), and the scheduled reports that are due on a day.

Which pages exist and which roles may open them is the dashboards' business: the caller
passes the page names it accepts, and the report job checks the owner's role against
the page again when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from common import audit
from common.clock import utcnow
from common.errors import Invalid, NotFound, combined
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from storefront_api.auth.orm import StaffUser
from storefront_api.saved_views.orm import SavedView

CADENCES = ("daily", "weekly")
FILE_FORMATS = ("csv", "xlsx")
NAME_LENGTH = 60
QUERY_LENGTH = 1000
MAX_RECIPIENTS = 10
EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnknownSavedView(NotFound):
    code = "unknown-saved-view"
    title = "Unknown saved view"


@dataclass(frozen=True)
class ViewDraft:
    """What a staff user saves: the page, a name, the page's URL query (its filters),
    whether colleagues see it, and optionally a report schedule (`cadence`, `weekday`
    1 = Monday … 7 = Sunday for weekly, `file_format`, `recipients` as typed)."""

    page: str
    name: str
    query: str
    shared: bool = False
    cadence: str | None = None
    weekday: int | None = None
    file_format: str = "csv"
    recipients: str = ""


@dataclass(frozen=True)
class SavedViewRecord:
    view_no: str
    page: str
    name: str
    query: str
    shared: bool
    owner: str
    cadence: str | None
    weekday: int | None
    file_format: str
    recipients: tuple[str, ...]
    last_sent_on: date | None


@dataclass(frozen=True)
class DueReport:
    """A scheduled view that `jobs run-due` writes today, with its owner's current role
    (the report is masked as the owner would see the page)."""

    view: SavedViewRecord
    owner_role: str


def recipients_of(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[,;\s]+", text) if part.strip())


def _checked(draft: ViewDraft, pages: Collection[str]) -> ViewDraft:
    errors: list[Invalid] = []
    name = draft.name.strip()
    if draft.page not in pages:
        errors.append(Invalid.field("page", "is not a dashboard page you may open"))
    if not name:
        errors.append(Invalid.field("name", "is required"))
    elif len(name) > NAME_LENGTH or CONTROL.search(name):
        errors.append(Invalid.field("name", f"must be at most {NAME_LENGTH} printable characters"))
    query = draft.query.lstrip("?")
    if len(query) > QUERY_LENGTH or CONTROL.search(query):
        errors.append(Invalid.field("query", f"must be at most {QUERY_LENGTH} characters"))
    if draft.cadence is not None and draft.cadence not in CADENCES:
        errors.append(Invalid.field("cadence", f"must be one of {', '.join(CADENCES)}"))
    weekday = draft.weekday if draft.cadence == "weekly" else None
    if draft.cadence == "weekly" and (weekday is None or not 1 <= weekday <= 7):
        errors.append(Invalid.field("weekday", "must be 1 (Monday) to 7 (Sunday)"))
    if draft.file_format not in FILE_FORMATS:
        errors.append(Invalid.field("file_format", f"must be one of {', '.join(FILE_FORMATS)}"))
    recipients = recipients_of(draft.recipients)
    if len(recipients) > MAX_RECIPIENTS:
        errors.append(Invalid.field("recipients", f"at most {MAX_RECIPIENTS} addresses"))
    wrong = [address for address in recipients if not EMAIL.match(address)]
    if wrong:
        errors.append(Invalid.field("recipients", f"not an e-mail address: {wrong[0]}"))
    if errors:
        raise combined(errors)
    return ViewDraft(
        page=draft.page,
        name=name,
        query=query,
        shared=draft.shared,
        cadence=draft.cadence,
        weekday=weekday,
        file_format=draft.file_format,
        recipients=", ".join(recipients),
    )


def _record(row: SavedView, owner: str) -> SavedViewRecord:
    return SavedViewRecord(
        view_no=row.view_no,
        page=row.page,
        name=row.name,
        query=row.query,
        shared=row.shared,
        owner=owner,
        cadence=row.report_cadence,
        weekday=row.report_weekday,
        file_format=row.report_format,
        recipients=recipients_of(row.report_recipients),
        last_sent_on=row.report_last_sent_on,
    )


def _staff(session: Session, username: str) -> StaffUser:
    user = session.scalar(
        select(StaffUser).where(StaffUser.username == username, StaffUser.active.is_(True))
    )
    if user is None:
        raise NotFound(f"no active staff user {username!r}")
    return user


def save_view(
    uow: UnitOfWork, username: str, draft: ViewDraft, pages: Collection[str]
) -> SavedViewRecord:
    """Save `draft` as `username`'s view; the same name on the same page replaces it
    (keeping its number, so a colleague's link to it keeps working)."""
    checked = _checked(draft, pages)
    session = uow.session
    owner = _staff(session, username)
    row = session.scalar(
        select(SavedView)
        .where(
            SavedView.owner_id == owner.id,
            SavedView.page == checked.page,
            SavedView.name == checked.name,
        )
        .with_for_update()
    )
    now = utcnow()
    if row is None:
        row = SavedView(
            view_no=public_no("SV"),
            owner_id=owner.id,
            page=checked.page,
            name=checked.name,
            created_at=now,
        )
        session.add(row)
    if (row.report_cadence, row.report_weekday) != (checked.cadence, checked.weekday):
        row.report_last_sent_on = None
    row.query = checked.query
    row.shared = checked.shared
    row.report_cadence = checked.cadence
    row.report_weekday = checked.weekday
    row.report_format = checked.file_format
    row.report_recipients = checked.recipients
    row.updated_at = now
    session.flush()
    _audit(session, username, "saved_view.save", row)
    return _record(row, owner.username)


def _audit(session: Session, username: str, action: str, row: SavedView) -> None:
    detail = {"page": row.page, "name": row.name, "shared": row.shared}
    if row.report_cadence:
        detail["report"] = row.report_cadence
        detail["recipients"] = row.report_recipients
    audit.record(
        session,
        audit.AuditEntry(
            actor=f"staff:{username}", action=action, target=row.view_no, detail=detail
        ),
    )


def visible_views(session: Session, username: str, page: str) -> list[SavedViewRecord]:
    """The views of `page` that `username` may pick: their own first, then colleagues'
    shared ones, each by name."""
    rows = session.execute(
        select(SavedView, StaffUser.username)
        .join(StaffUser, StaffUser.id == SavedView.owner_id)
        .where(
            SavedView.page == page,
            or_(StaffUser.username == username, SavedView.shared.is_(True)),
        )
    ).all()
    records = [_record(row, owner) for row, owner in rows]
    return sorted(records, key=lambda record: (record.owner != username, record.name))


def delete_view(uow: UnitOfWork, username: str, role: str, view_no: str) -> None:
    """Delete a view: its owner may, and an admin; to anyone else it does not exist."""
    session = uow.session
    found = session.execute(
        select(SavedView, StaffUser.username)
        .join(StaffUser, StaffUser.id == SavedView.owner_id)
        .where(SavedView.view_no == view_no)
        .with_for_update(of=SavedView)
    ).first()
    if found is None or (found[1] != username and role != "admin"):
        raise UnknownSavedView(f"no saved view {view_no!r} of yours")
    _audit(session, username, "saved_view.delete", found[0])
    session.delete(found[0])


def due_reports(session: Session, day: date) -> list[DueReport]:
    """The scheduled views to write on `day`: daily ones, and weekly ones on their
    weekday, not yet written for `day`, whose owner is still an active staff user."""
    rows = session.execute(
        select(SavedView, StaffUser.username, StaffUser.role)
        .join(StaffUser, StaffUser.id == SavedView.owner_id)
        .where(
            SavedView.report_cadence.is_not(None),
            StaffUser.active.is_(True),
            or_(SavedView.report_last_sent_on.is_(None), SavedView.report_last_sent_on < day),
            or_(
                SavedView.report_cadence == "daily",
                SavedView.report_weekday == day.isoweekday(),
            ),
        )
        .order_by(SavedView.id)
    ).all()
    return [DueReport(_record(row, owner), role) for row, owner, role in rows]


def mark_sent(uow: UnitOfWork, view_no: str, day: date) -> None:
    row = uow.session.scalar(select(SavedView).where(SavedView.view_no == view_no))
    if row is not None:
        row.report_last_sent_on = day
