"""Idempotency records for channel writes, stored in the same transaction as their effect."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
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
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def claim(
    session: Session, scope: str, operation: str, external_id: str, payload_fingerprint: str
) -> Replay | IdempotencyRecord:
    """Reserve (scope, operation, external_id) for this transaction or return the earlier answer.

    The row is inserted before the effect so that a concurrent duplicate blocks on
    the unique index until the first commits, then sees its answer. Raises
    Conflict when the id was used with a different payload.
    """
    existing = _find(session, scope, operation, external_id)
    if existing is None:
        record = IdempotencyRecord(
            scope=scope,
            operation=operation,
            external_id=external_id,
            fingerprint=payload_fingerprint,
            created_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
            return record
        except IntegrityError:
            existing = _find(session, scope, operation, external_id)
            if existing is None:
                raise
    if existing.fingerprint != payload_fingerprint:
        raise Conflict(f"external_id {external_id!r} was already used with a different payload")
    return Replay(status=existing.status, body=existing.body or {})


def complete(record: IdempotencyRecord, status: int, body: dict[str, Any]) -> None:
    record.status = status
    record.body = body


def _find(
    session: Session, scope: str, operation: str, external_id: str
) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.operation == operation,
            IdempotencyRecord.external_id == external_id,
        )
    ).one_or_none()
