"""Idempotency for channel writes: one guard (`once`) claims the channel's id for the event,
runs the effect and stores its result, all in the transaction of the effect.

A replay of the same id with the same payload gets the first result back and changes
nothing; with another payload it is a Conflict. What is stored is the result in a plain
JSON form (`as_record`); a replay rebuilds the typed result from it (`from_record`), so
a use case answers a replay exactly as it answered the first time.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from pydantic import TypeAdapter
from sqlalchemy import String, Table, UniqueConstraint, bindparam, select, update
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
    body: Mapped[json_value | None]
    created_at: Mapped[utc_datetime]


@dataclass(frozen=True)
class Replay:
    body: dict[str, Any]


@dataclass(frozen=True)
class Key:
    """Whose id for the event (`channel:<code>`, `member:<no>`, `staff:<user>`), for which
    operation, and the id itself."""

    scope: str
    operation: str
    external_id: str


R = TypeVar("R")


@dataclass(frozen=True)
class Written(Generic[R]):
    """A write's result, and whether it is the first one's, replayed."""

    body: R
    replayed: bool = False


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    # Built once per result type: building one costs far more than using it.
    adapter = _adapters.get(kind)
    if adapter is None:
        adapter = _adapters[kind] = TypeAdapter(kind)
    return adapter


def as_record(result: Any, kind: Any = None) -> Any:
    """The JSON form of a result (dataclasses as objects, dates as ISO text)."""
    adapter = _adapter(kind) if kind is not None else _adapter(type(result))
    return adapter.dump_python(result, mode="json")


def as_answer(result: Any) -> Any:
    """The JSON form a caller is shown: as `as_record`, but an optional field of the
    result's dataclasses (one that defaults to None) is left out while it is None (an
    absent `available_on`, no debt); a required field is shown even when None."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return result
    return _without_absent(result, as_record(result))


def _without_absent(result: Any, record: Any) -> Any:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        answer = {}
        for field in dataclasses.fields(result):
            value = getattr(result, field.name)
            if value is None and field.default is None:
                continue
            answer[field.name] = _without_absent(value, record[field.name])
        return answer
    if isinstance(result, list | tuple):
        return [_without_absent(item, shown) for item, shown in zip(result, record, strict=True)]
    return record


def from_record(kind: Any, record: Any) -> Any:
    """The typed result back from its JSON form."""
    return _adapter(kind).validate_python(record)


def once(
    session: Session,
    key: Key | None,
    payload: Any,
    effect: Callable[[], R],
    *,
    kind: Any = None,
    replay: Callable[[dict[str, Any]], R] | None = None,
    digest: str | None = None,
    stored: Callable[[R], Any] | None = None,
) -> Written[R]:
    """Apply `effect` once for `key`; the same key and payload again answers its result.

    `kind` is the result's type (default: the type of what `effect` returns; give it
    when the effect returns a plain dict, or a union). `replay` rebuilds an answer from
    the stored record where the current state is the better answer (a payment that was
    still pending when first answered). `digest` is the payload's fingerprint when the
    caller has it already. `stored` picks what of the result is kept (a secret shown
    once is not). Without a key (a write the caller sent no id for) the effect simply
    runs. Raises Conflict for another payload.
    """
    if key is None:
        return Written(effect())
    digest = digest if digest is not None else fingerprint(payload)
    claimed = claim(session, key.scope, key.operation, key.external_id, digest)
    if isinstance(claimed, Replay):
        if replay is not None:
            return Written(replay(claimed.body), replayed=True)
        if kind is None:
            raise TypeError("a replay needs the result's kind to rebuild it")
        return Written(from_record(kind, claimed.body), replayed=True)
    result = effect()
    complete(session, claimed, as_record(stored(result) if stored else result, kind))
    return Written(result)


def earlier(session: Session, key: Key, payload: Any, kind: Any) -> Written[Any] | None:
    """The answer of an earlier write with `key`, replayed, or None when there is none yet.

    For a write that must look before it acts outside the transaction (a biller asked
    between two of ours); the write itself still goes through `once`. Raises Conflict
    when the key was used with another payload.
    """
    existing = _find(session, key.scope, key.operation, key.external_id)
    if existing is None or existing.body is None:
        return None
    if existing.fingerprint != fingerprint(payload):
        raise Conflict(f"external_id {key.external_id!r} was already used with a different payload")
    return Written(from_record(kind, existing.body), replayed=True)


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


@functools.cache
def _insert_rows(dialect: str) -> Any:
    # Without RETURNING, many rows run as one executemany, which psycopg pipelines.
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(_RECORDS).on_conflict_do_nothing(
        index_elements=["scope", "operation", "external_id"]
    )


_COMPLETE = (
    update(_RECORDS)
    .where(_RECORDS.c.id == bindparam("record_id"))
    .values(body=bindparam("answer_body"))
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
    return Replay(existing.body or {})


def claim_many(
    session: Session, scope: str, operation: str, items: Sequence[tuple[str, str]]
) -> dict[str, Claim | Replay | Conflict]:
    """`claim` for many (external_id, fingerprint) pairs: one pipelined INSERT ... ON
    CONFLICT DO NOTHING for all of them, then one read of the records.

    A record without a body is one this transaction has just inserted: every other
    transaction's claim commits together with its answer, and our INSERT waited for any
    that was still open. Ids are inserted in sorted order so that concurrent batches wait
    on each other's keys in one order and cannot deadlock on the unique index.
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
            "created_at": now,
        }
        for external_id, payload in sorted(items)
    ]
    session.execute(_insert_rows(session.get_bind().dialect.name), rows)
    fingerprints = dict(items)
    outcomes: dict[str, Claim | Replay | Conflict] = {}
    found = session.execute(
        select(
            _RECORDS.c.id, _RECORDS.c.external_id, _RECORDS.c.fingerprint, _RECORDS.c.body
        ).where(
            _RECORDS.c.scope == scope,
            _RECORDS.c.operation == operation,
            _RECORDS.c.external_id.in_(list(fingerprints)),
        )
    )
    for record_id, external_id, recorded_fingerprint, body in found:
        if body is None:
            outcomes[external_id] = Claim(int(record_id))
        elif recorded_fingerprint != fingerprints[external_id]:
            outcomes[external_id] = Conflict(
                f"external_id {external_id!r} was already used with a different payload"
            )
        else:
            outcomes[external_id] = Replay(body)
    return outcomes


def complete_many(session: Session, answers: Sequence[tuple[Claim, Any]]) -> None:
    """Store the JSON records of many claimed writes' results (one executemany)."""
    if answers:
        session.execute(
            update(IdempotencyRecord),
            [{"id": claim.record_id, "body": body} for claim, body in answers],
        )


def complete(session: Session, claim: Claim, record: Any) -> None:
    """Store the JSON record of a claimed write's result (see `as_record`)."""
    session.execute(_COMPLETE, {"record_id": claim.record_id, "answer_body": record})


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
