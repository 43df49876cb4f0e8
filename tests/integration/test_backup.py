"""`memberhub backup` and `restore`: a history round-trips exactly, within and across databases.

The history is the demo's (every flow through the service layer) in an empty database of
its own, beside the conftest's database for the refusals. On PostgreSQL a backup also goes
into SQLite and back, which shows the format belongs to neither.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, Engine, insert, inspect, null, select

import crm
import crm.insights
import points_engine
import warehouse
from common import audit
from common.clock import as_utc
from common.db import make_engine, make_session_factory, read_session
from common.settings import normalise_database_url
from common.sms import SandboxSmsSender
from common.unit_of_work import UnitOfWork, transaction
from crm.adapters.orm import Member
from memberhub.backup import (
    MANIFEST,
    BackupCorrupt,
    BackupRefused,
    create_backup,
    restore_backup,
)
from memberhub.cli import cli, main
from memberhub.models import metadata
from memberhub.runtime import Runtime
from memberhub.schema import current_revision, known_revisions, upgrade
from storefront_api import clearing, orders, partners, rewards, vouchers
from storefront_api.auth import create_staff_user, open_staff_session
from tests.conftest import IS_POSTGRES, empty_database
from tests.integration.test_demo import END, _generate
from tests.integration.test_ledger_services import register

IDEMPOTENCY = metadata.tables["common_idempotency"]
MEMBER = metadata.tables["crm_member"]


@dataclass(frozen=True)
class Source:
    """A database with a history and its synced warehouse."""

    url: str
    engine: Engine
    warehouse: Path


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    var = tmp_path_factory.mktemp("history")
    with empty_database(var, "_history") as url:
        # From 21 December: the year-end expiry, a festival campaign, merges, every flow.
        _generate(var, members=300, days=70, seed=2, database_url=url)
        engine = make_engine(normalise_database_url(url))
        _add_security_records(engine, var)
        _add_member_scores(engine)
        _add_partner_exchanges(engine)
        _add_clearing(engine)
        warehouse.sync_warehouse(engine, var / "warehouse.duckdb")
        yield Source(url, engine, var / "warehouse.duckdb")
        engine.dispose()


def _add_partner_exchanges(engine: Engine) -> None:
    """Bank points bought in for a member, then some of them spent into airline miles."""
    factory = make_session_factory(engine)
    with read_session(factory) as session:
        member_no = crm.queries.member_numbers(session, 1)[0]
    directory = crm.CrmMemberDirectory()
    bought = partners.ExchangeInCommand("PSBC-BK-1", member_no, "PSBC", 20_000, "62170000")
    with transaction(factory) as uow:
        partners.exchange_in(uow, directory, bought)
    spent = partners.ExchangeOutCommand("APP-BK-1", member_no, "MU", 1_000, "MU12345678")
    with transaction(factory) as uow:
        partners.exchange_out(uow, directory, spent, scope="test", channel="app")
    # A mailing voucher from the bought points, taken off postage at a counter.
    context = orders.OrderContext(
        directory, orders.OrderPolicy(), "secret", SandboxSmsSender(Path(os.devnull))
    )
    caller = orders.Caller("counter", "channel:counter", "channel:counter", "SH-HP-0001")
    request = rewards.RedeemRequest(
        points_engine.RedemptionCommand("CTR-RD-BK-1", member_no, "VOUCHER-MAILING-5", 1)
    )
    with transaction(factory) as uow:
        redeemer = rewards.Redeemer(caller.scope, "counter", "SH-HP-0001", caller)
        code = rewards.redeem(uow, context, redeemer, request).body.vouchers[0].code
    use = vouchers.CounterUse(
        "CTR-VU-BK-1",
        code,
        points_engine.MemberRef(member_no=member_no),
        "SH-HP-0001",
        "mailing",
        2_000,
    )
    with transaction(factory) as uow:
        vouchers.use_at_counter(uow, directory, channel="counter", command=use)
    # A limited stamp sheet pre-ordered at the counter: the member's purchase limit counts.
    sheet = orders.PlaceOrder(
        "CTR-OD-BK-1",
        member_no,
        (orders.LineCommand("PH-2027-ZODIAC-SHEET", 1),),
        "pickup",
        "cod",
        outlet_code="SH-HP-0001",
    )
    with transaction(factory) as uow:
        orders.place_order(uow, context, caller, sheet)


def _add_clearing(engine: Engine) -> None:
    """The demo cleared its last two weeks and left the newest day open: a channel's
    control total that does not match, and the day closed over it with a reason."""
    factory = make_session_factory(engine)
    day = END - timedelta(days=1)
    with transaction(factory) as uow:
        command = clearing.ControlTotalCommand(day, "SH", 1, 100, ("WEB-1",))
        clearing.submit_control_total(uow, command, channel="web", actor="channel:web:test")
    with transaction(factory) as uow:
        clearing.run_day(
            uow,
            day,
            actor="staff:finance",
            fen_per_point=1,
            close=True,
            reason="test: the web channel's total is made up",
        )


def _add_member_scores(engine: Engine) -> None:
    """A run of member insights (70 days are too short to train on): its metrics JSON
    and scores, one with the nullable expected value left empty."""
    factory = make_session_factory(engine)
    with read_session(factory) as session:
        member_ids = session.scalars(select(Member.id).order_by(Member.id).limit(3)).all()
    with transaction(factory) as uow:
        crm.insights.store_scores(
            uow,
            as_of=date(2026, 1, 31),
            model_version="backup-test",
            metrics={"roc_auc": 0.8125, "calibration": [{"bin": 1, "observed_rate": 0.3}]},
            scores=[
                {
                    "member_id": member_id,
                    "r": 5,
                    "f": 4,
                    "m": 3,
                    "segment_code": "regular",
                    "churn_risk": 0.123456,
                }
                for member_id in member_ids
            ],
        )


def _add_security_records(engine: Engine, var: Path) -> None:
    """What the demo's service-level history does not write: an audited staff login with
    its session, and a one-time code (the audit log's triggers must survive a restore)."""
    factory = make_session_factory(engine)
    with transaction(factory) as uow:
        create_staff_user(uow, "backup-admin", "admin")
    with transaction(factory) as uow:
        open_staff_session(uow, "backup-admin", "api", timedelta(hours=1))
        audit.record(
            uow.session, audit.AuditEntry(actor="staff:backup-admin", action="login.staff")
        )
        uow.commit()
    crm.verification.send_code(
        lambda: UnitOfWork(factory),
        SandboxSmsSender(var / "sms.jsonl"),
        "secret",
        "13700000001",
        "register",
    )


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Source]:
    """An empty database of the test's backend and a place for its warehouse."""
    with empty_database(tmp_path, "_fresh") as url:
        engine = make_engine(normalise_database_url(url))
        yield Source(url, engine, tmp_path / "var" / "warehouse.duckdb")
        engine.dispose()


def rows_of(engine: Engine, *, in_utc: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in primary-key order; `in_utc` for comparing across databases
    (SQLite hands timestamps back naive, PostgreSQL in its session's time zone)."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(as_utc(v) if in_utc and isinstance(v, datetime) else v for v in row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def ledger_verify(url: str, var: Path) -> str:
    """`memberhub ledger verify` on the database at `url`; returns what it printed."""
    result = CliRunner().invoke(
        cli, ["ledger", "verify"], env={"DATABASE_URL": url, "MEMBERHUB_VAR_DIR": str(var)}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_history_round_trips_into_a_fresh_database(
    history: Source, fresh: Source, tmp_path: Path
) -> None:
    report = create_backup(history.engine, history.warehouse, tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert manifest["alembic_revision"] == report.manifest.revision
    assert manifest["source_dialect"] == history.engine.dialect.name
    assert [t["name"] for t in manifest["tables"]] == [t.name for t in metadata.sorted_tables]
    source_rows = rows_of(history.engine)
    for entry in manifest["tables"]:
        assert entry["rows"] == len(source_rows[entry["name"]])
    # Every kind of row is in it: a test of a round trip is only as good as its data.
    empty = {name for name, rows in source_rows.items() if not rows}
    assert not empty

    restored = restore_backup(fresh.engine, fresh.warehouse, tmp_path / "backup")
    assert restored.manifest.rows == sum(len(rows) for rows in source_rows.values())
    assert rows_of(fresh.engine) == source_rows
    assert "ledger ok" in ledger_verify(fresh.url, tmp_path / "var")
    assert fresh.warehouse.read_bytes() == history.warehouse.read_bytes()
    assert not list(fresh.warehouse.parent.glob("*.restore"))
    # Ids go on from the restored ones (on PostgreSQL: the sequences were moved on).
    member = register(lambda: transaction(make_session_factory(fresh.engine)))
    assert member.id == max(row[0] for row in source_rows["crm_member"]) + 1


@pytest.mark.skipif(not IS_POSTGRES, reason="needs PostgreSQL beside SQLite")
def test_postgresql_to_sqlite_and_back_keeps_every_row(
    history: Source, fresh: Source, tmp_path: Path
) -> None:
    create_backup(history.engine, history.warehouse, tmp_path / "from-pg")
    lite = make_engine(f"sqlite:///{tmp_path / 'lite.db'}")
    try:
        restore_backup(lite, tmp_path / "lite-var" / "warehouse.duckdb", tmp_path / "from-pg")
        assert rows_of(lite, in_utc=True) == rows_of(history.engine, in_utc=True)
        create_backup(lite, tmp_path / "none.duckdb", tmp_path / "from-sqlite")
    finally:
        lite.dispose()
    report = restore_backup(fresh.engine, fresh.warehouse, tmp_path / "from-sqlite")
    assert report.manifest.dialect == "sqlite"
    assert report.manifest.warehouse_sha256 is None
    assert rows_of(fresh.engine) == rows_of(history.engine)


def test_sql_null_and_json_null_and_rows_referring_forward_survive(
    db: Runtime, uow: Callable[[], UnitOfWork], fresh: Source, tmp_path: Path
) -> None:
    older, newer = register(uow), register(uow)
    with uow() as unit:
        # The older member merged into the newer one refers to a row restored after it.
        crm.merge_members(unit, newer.no, older.no)
    stored = {"sql-null": null(), "json-null": JSON.NULL, "document": {"a": [1, None]}}
    with db.engine.begin() as connection:
        for external_id, body in stored.items():
            connection.execute(
                insert(IDEMPOTENCY).values(
                    scope="test", operation="backup", external_id=external_id,
                    fingerprint="-", body=body, created_at=datetime(2026, 1, 1),
                )
            )  # fmt: skip

    create_backup(db.engine, tmp_path / "no-warehouse.duckdb", tmp_path / "backup")
    # One row a statement: a row that refers forward is never in the statement of its target.
    restore_backup(fresh.engine, fresh.warehouse, tmp_path / "backup", batch_rows=1)

    assert rows_of(fresh.engine) == rows_of(db.engine)
    with fresh.engine.connect() as connection:
        merged = connection.execute(
            select(MEMBER.c.merged_into_id).where(MEMBER.c.id == older.id)
        ).scalar()
        assert merged == newer.id
        sql_nulls = connection.execute(
            select(IDEMPOTENCY.c.external_id).where(
                IDEMPOTENCY.c.scope == "test", IDEMPOTENCY.c.body.is_(None)
            )
        ).scalars()
        assert list(sql_nulls) == ["sql-null"]


def test_a_backup_of_an_older_revision_is_restored_there_then_migrated(
    db: Runtime, uow: Callable[[], UnitOfWork], fresh: Source, tmp_path: Path
) -> None:
    member = register(uow)
    backup = tmp_path / "backup"
    create_backup(db.engine, tmp_path / "no-warehouse.duckdb", backup)
    # Made into a backup of revision 0008: only the tables and columns a database at
    # 0008 has (read off a scratch database migrated that far), so later additions
    # (updated_at in 0009, the audit log in 0010, ...) are what the restore must add.
    scratch = make_engine(f"sqlite:///{tmp_path / 'at-0008.db'}")
    upgrade(scratch, revision="0008")
    shape = inspect(scratch)
    then = {name: [c["name"] for c in shape.get_columns(name)] for name in shape.get_table_names()}
    scratch.dispose()
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["alembic_revision"] = "0008"
    manifest["tables"] = [entry for entry in manifest["tables"] if entry["name"] in then]
    for entry in manifest["tables"]:
        keep = [i for i, c in enumerate(entry["columns"]) if c["name"] in then[entry["name"]]]
        if len(keep) == len(entry["columns"]):
            continue
        entry["columns"] = [entry["columns"][i] for i in keep]
        path = backup / entry["file"]
        rows = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
        path.write_bytes(
            gzip.compress(b"".join(json.dumps([r[i] for i in keep]).encode() + b"\n" for r in rows))
        )
        entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (backup / MANIFEST).write_text(json.dumps(manifest))

    restore_backup(fresh.engine, fresh.warehouse, backup)
    with fresh.engine.connect() as connection:
        assert current_revision(connection) == known_revisions()[-1]
        created, updated = connection.execute(
            select(MEMBER.c.created_at, MEMBER.c.updated_at).where(MEMBER.c.id == member.id)
        ).one()
    assert as_utc(updated) == as_utc(created)  # 0009's backfill ran over the restored rows


def test_a_tampered_file_is_refused_and_nothing_changes(
    history: Source, db: Runtime, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    create_backup(history.engine, history.warehouse, backup)
    table_file = backup / "tables" / "points_engine_posting.jsonl.gz"
    lines = gzip.decompress(table_file.read_bytes()).splitlines(keepends=True)
    lines[1] = lines[1].replace(b",", b", ", 1)  # the same row, other bytes
    table_file.write_bytes(gzip.compress(b"".join(lines)))
    published = tmp_path / "warehouse.duckdb"
    published.write_bytes(b"the warehouse as it was")
    before = rows_of(db.engine)

    with pytest.raises(BackupCorrupt, match=r"points_engine_posting\.jsonl\.gz: its sha256"):
        restore_backup(db.engine, published, backup, force=True)
    assert rows_of(db.engine) == before
    assert published.read_bytes() == b"the warehouse as it was"


def test_a_failure_while_loading_rolls_every_table_back(
    history: Source, db: Runtime, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    create_backup(history.engine, history.warehouse, backup)
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["tables"][-1]["rows"] += 1  # found wrong only once the last table is loaded
    (backup / MANIFEST).write_text(json.dumps(manifest))
    before = rows_of(db.engine)

    with pytest.raises(BackupCorrupt, match="the manifest says"):
        restore_backup(db.engine, tmp_path / "warehouse.duckdb", backup, force=True)
    assert rows_of(db.engine) == before


def test_a_database_holding_data_is_replaced_only_when_forced(
    history: Source, db: Runtime, uow: Callable[[], UnitOfWork], tmp_path: Path
) -> None:
    register(uow)
    create_backup(history.engine, history.warehouse, tmp_path / "backup")
    before = rows_of(db.engine)

    with pytest.raises(BackupRefused, match="already holds data"):
        restore_backup(db.engine, tmp_path / "warehouse.duckdb", tmp_path / "backup")
    assert rows_of(db.engine) == before

    restore_backup(db.engine, tmp_path / "warehouse.duckdb", tmp_path / "backup", force=True)
    assert rows_of(db.engine) == rows_of(history.engine)


def test_refusals_before_anything_is_written(
    history: Source, fresh: Source, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    (backup / "old").mkdir(parents=True)
    with pytest.raises(BackupRefused, match="not empty"):
        create_backup(history.engine, history.warehouse, backup)
    assert [p.name for p in backup.iterdir()] == ["old"]

    (backup / "old").rmdir()
    create_backup(history.engine, history.warehouse, backup)
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["alembic_revision"] = "9999"
    (backup / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(BackupRefused, match="revision 9999, which this code does not know"):
        restore_backup(fresh.engine, fresh.warehouse, backup)
    with fresh.engine.connect() as connection:
        assert not inspect(connection).has_table("crm_member")

    (backup / MANIFEST).unlink()
    with pytest.raises(BackupCorrupt, match=r"holds no manifest\.json"):
        restore_backup(fresh.engine, fresh.warehouse, backup)


@pytest.mark.skipif(IS_POSTGRES, reason="the command line is exercised on SQLite files")
def test_the_commands_answer_in_one_line(
    history: Source, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    def memberhub(url: str, var: Path, *args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("MEMBERHUB_VAR_DIR", str(var))
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        out, err = capsys.readouterr()
        return code, out.strip(), err.strip()

    backup = str(tmp_path / "backup")
    url, var = f"sqlite:///{tmp_path / 'restored.db'}", tmp_path / "var"
    code, out, _ = memberhub(history.url, history.warehouse.parent, "backup", "--to", backup)
    assert code == 0 and out.startswith("backed up ") and "and the warehouse" in out
    assert memberhub(history.url, history.warehouse.parent, "backup", "--to", backup) == (
        1,
        "",
        f"memberhub: BackupRefused: {backup} is not empty: back up into a new or empty directory",
    )

    code, out, _ = memberhub(url, var, "restore", "--from", backup)
    assert code == 0 and out.startswith("restored ") and out.endswith("postings")
    assert (var / "warehouse.duckdb").read_bytes() == history.warehouse.read_bytes()
    code, _, err = memberhub(url, var, "restore", "--from", backup)
    assert code == 1 and err.startswith("memberhub: BackupRefused: the database already holds")
    (tmp_path / "backup" / "warehouse.duckdb").write_bytes(b"changed")
    assert memberhub(url, var, "restore", "--from", backup, "--force") == (
        1,
        "",
        "memberhub: BackupCorrupt: warehouse.duckdb: its sha256 does not match the manifest; "
        "nothing restored",
    )
