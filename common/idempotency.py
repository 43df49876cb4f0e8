"""Idempotency records for channel writes, stored in the same transaction as their effect."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Integer, String, Table, UniqueConstraint, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.clock import utcnow
from common.db import Base, intpk, json_value, utc_datetime
from common.errors import Conflict


class IdempotencyRecord(Base):
    __tablename__ = "common_idempotency"
    __table_args__ = (UniqueConstraint("scope", "operation", "external_id"),)

    id: Mapped[intpk]
    scope: Mapped[str] = mapped_column(String(80))
    operation: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str] = mapped_column(String(120))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[json_value | None]
    created_at: Mapped[utc_datetime]


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def fingerprint(payload: Any) -> str:
    """A digest of the request: dataclasses (a command, at any depth) count by their
    fields, as `dataclasses.asdict` would give them, without its deep copy."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)


@dataclass(frozen=True)
class Claim:
    """This transaction holds (scope, operation, external_id); complete it with the answer."""

    record_id: int


_RECORDS = cast(Table, IdempotencyRecord.__table__)


@functools.cache
def _claim_statement(dialect: str) -> Any:
    # Built once: claims run on every channel write, and building the statement costs
    # more than executing it. Given many rows, it runs as multi-row INSERTs and
    # returns the ids of those it inserted.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(_RECORDS)
        .on_conflict_do_nothing(index_elements=["scope", "operation", "external_id"])
        .returning(_RECORDS.c.id, _RECORDS.c.external_id)
    )


_COMPLETE = (
    update(_RECORDS)
    .where(_RECORDS.c.id == bindparam("record_id"))
    .values(status=bindparam("answer_status"), body=bindparam("answer_body"))
)


def _insert_if_absent(session: Session, values: dict[str, Any]) -> int | None:
    statement = _claim_statement(session.get_bind().dialect.name)
    record_id = session.execute(statement, values).scalars().one_or_none()
    return None if record_id is None else int(record_id)


def claim(
    session: Session, scope: str, operation: str, external_id: str, payload_fingerprint: str
) -> Replay | Claim:
    """Reserve (scope, operation, external_id) for this transaction or return the earlier answer.

    The row is inserted before the effect, with ON CONFLICT DO NOTHING: a concurrent
    duplicate waits on the unique index until the first transaction ends, then finds
    its committed answer. Raises Conflict when the id was used with a different payload.
    """
    record_id = _insert_if_absent(
        session,
        {
            "scope": scope,
            "operation": operation,
            "external_id": external_id,
            "fingerprint": payload_fingerprint,
            "status": 0,
            "created_at": utcnow(),
        },
    )
    if record_id is not None:
        return Claim(record_id)
    existing = _find(session, scope, operation, external_id)
    if existing is None:
        raise Conflict(f"external_id {external_id!r} is being written right now; retry")
    if existing.fingerprint != payload_fingerprint:
        raise Conflict(f"external_id {external_id!r} was already used with a different payload")
    return Replay(status=existing.status, body=existing.body or {})


def claim_many(
    session: Session, scope: str, operation: str, items: Sequence[tuple[str, str]]
) -> dict[str, Claim | Replay | Conflict]:
    """`claim` for many (external_id, fingerprint) pairs: multi-row inserts, then one read
    of the ids already taken.

    Ids are inserted in sorted order so that concurrent batches wait on each other's
    keys in one order and cannot deadlock on the unique index.
    """
    if not items:
        return {}
    now = utcnow()
    rows = [
        {
            "scope": scope,
            "operation": operation,
            "external_id": external_id,
            "fingerprint": payload,
            "status": 0,
            "created_at": now,
        }
        for external_id, payload in sorted(items)
    ]
    statement = _claim_statement(session.get_bind().dialect.name)
    outcomes: dict[str, Claim | Replay | Conflict] = {
        external_id: Claim(int(record_id))
        for record_id, external_id in session.execute(statement, rows)
    }
    taken = [external_id for external_id, _ in items if external_id not in outcomes]
    if taken:
        fingerprints = dict(items)
        for record in session.scalars(
            select(IdempotencyRecord)
            .where(
                IdempotencyRecord.scope == scope,
                IdempotencyRecord.operation == operation,
                IdempotencyRecord.external_id.in_(taken),
            )
            .execution_options(populate_existing=True)
        ):
            if record.fingerprint != fingerprints[record.external_id]:
                outcomes[record.external_id] = Conflict(
                    f"external_id {record.external_id!r} was already used with a different payload"
                )
            else:
                outcomes[record.external_id] = Replay(record.status, record.body or {})
    return outcomes


def complete_many(session: Session, answers: Sequence[tuple[Claim, int, dict[str, Any]]]) -> None:
    if answers:
        session.execute(
            update(IdempotencyRecord),
            [
                {"id": claim.record_id, "status": status, "body": body}
                for claim, status, body in answers
            ],
        )


def complete(session: Session, claim: Claim, status: int, body: dict[str, Any]) -> None:
    session.execute(
        _COMPLETE, {"record_id": claim.record_id, "answer_status": status, "answer_body": body}
    )


def _find(
    session: Session, scope: str, operation: str, external_id: str
) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord)
        .where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.operation == operation,
            IdempotencyRecord.external_id == external_id,
        )
        .execution_options(populate_existing=True)
    ).one_or_none()
