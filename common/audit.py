"""The append-only audit log: staff actions, logins and money movements by channel keys.

Rows are only ever inserted; nothing in the API or the CLI updates or deletes them,
and the migration adds database triggers that refuse UPDATE and DELETE.

An action is audited in the same transaction as its effect: the route layer names the
pending entry (`pending_entry`) before the view runs, and `UnitOfWork.commit` writes
it just before its commit. So an acknowledged action always has its audit row, and a
rolled-back one never does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Index, String, Table, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.clock import utcnow
from common.db import Base, intpk, json_value, utc_datetime


class AuditEvent(Base):
    __tablename__ = "common_audit_event"
    __table_args__ = (
        Index("ix_common_audit_event_action_target", "action", "target", "occurred_at"),
    )

    id: Mapped[intpk]
    occurred_at: Mapped[utc_datetime] = mapped_column(index=True)
    # "staff:alice", "channel:counter:<key id>", "member:<member_no>", "cli:<os user>"
    actor: Mapped[str] = mapped_column(String(120), index=True)
    # "orders.return_order", "login.staff", "staff.disable", ...
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str | None] = mapped_column(String(160))
    # "ok", "failed" (a wrong password), "throttled"
    outcome: Mapped[str] = mapped_column(String(16))
    client_address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[json_value | None]


_EVENTS = cast(Table, AuditEvent.__table__)
_INSERT = insert(_EVENTS)


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    target: str | None = None
    outcome: str = "ok"
    client_address: str | None = None
    detail: dict[str, Any] | None = field(default=None)


def record(session: Session, entry: AuditEntry, *, now: datetime | None = None) -> None:
    """Add one audit row to the session's transaction."""
    session.execute(
        _INSERT,
        {
            "occurred_at": now or utcnow(),
            "actor": entry.actor,
            "action": entry.action,
            "target": entry.target,
            "outcome": entry.outcome,
            "client_address": entry.client_address,
            "detail": entry.detail,
        },
    )


class _Pending:
    """The entry a request will write with its first commit, once."""

    def __init__(self, entry: AuditEntry) -> None:
        self.entry = entry
        self.written = False


_pending: ContextVar[_Pending | None] = ContextVar("audit_pending", default=None)


@contextmanager
def pending_entry(entry: AuditEntry | None) -> Iterator[None]:
    """Within the block, the first unit of work to commit writes `entry` with its effect."""
    token = _pending.set(_Pending(entry) if entry is not None else None)
    try:
        yield
    finally:
        _pending.reset(token)


def write_pending(session: Session) -> None:
    """Called by the unit of work right before it commits."""
    pending = _pending.get()
    if pending is not None and not pending.written:
        record(session, pending.entry)


def mark_committed() -> None:
    """Called by the unit of work after a successful commit: the entry is written."""
    pending = _pending.get()
    if pending is not None:
        pending.written = True


@dataclass(frozen=True)
class AuditRow:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    target: str | None
    outcome: str
    client_address: str | None
    detail: dict[str, Any] | None


def list_events(
    session: Session,
    *,
    before_id: int | None = None,
    limit: int = 50,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
) -> list[AuditRow]:
    """Newest first, filtered by exact actor, action prefix or target."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if actor is not None:
        query = query.where(AuditEvent.actor == actor)
    if action is not None:
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if target is not None:
        query = query.where(AuditEvent.target == target)
    return [
        AuditRow(
            row.id,
            row.occurred_at,
            row.actor,
            row.action,
            row.target,
            row.outcome,
            row.client_address,
            row.detail,
        )
        for row in session.scalars(query)
    ]
