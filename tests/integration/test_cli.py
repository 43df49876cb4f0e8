"""The `memberhub` command line as a user runs it: real processes, real database files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("MEMBERHUB_TEST_DB", "sqlite").startswith("postgres"),
    reason="CLI behaviour is database-independent; exercised on SQLite files",
)


def memberhub(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MEMBERHUB_VAR_DIR=str(tmp_path / "var"))
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "memberhub.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def count(db: Path, table: str) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def test_init_db_twice_upgrades_without_duplicating_reference_data(tmp_path: Path) -> None:
    first = memberhub(tmp_path, "init-db")
    assert first.returncode == 0, first.stderr
    db = tmp_path / "var" / "memberhub.db"
    institutions = count(db, "common_institution")
    accounts = count(db, "points_engine_account")
    assert institutions > 700
    second = memberhub(tmp_path, "init-db")
    assert second.returncode == 0, second.stderr
    assert count(db, "common_institution") == institutions
    assert count(db, "points_engine_account") == accounts
    assert count(db, "alembic_version") == 1


def test_keys_staff_jobs_and_verify(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    key = memberhub(
        tmp_path, "channels", "create-key", "--channel", "counter", "--institution", "SH-HP-0001"
    )
    assert key.returncode == 0, key.stderr
    assert key.stdout.strip().startswith("mhk_")
    key_id = key.stdout.strip().split("_")[1]
    revoked = memberhub(tmp_path, "channels", "revoke-key", "--key-id", key_id)
    assert revoked.returncode == 0 and key_id in revoked.stdout
    again_revoked = memberhub(tmp_path, "channels", "revoke-key", "--key-id", key_id)
    assert again_revoked.returncode == 1 and "already revoked" in again_revoked.stderr
    created = memberhub(tmp_path, "staff", "create", "--username", "alice", "--role", "finance")
    assert created.returncode == 0 and "password:" in created.stdout
    jobs = memberhub(tmp_path, "jobs", "run-due", "--as-of", "2026-12-31")
    assert jobs.returncode == 0, jobs.stderr
    again = memberhub(tmp_path, "jobs", "run-due", "--as-of", "2026-12-31")
    assert "released 0 lots" in again.stdout and "expired 0 lots" in again.stdout
    verified = memberhub(tmp_path, "ledger", "verify")
    assert verified.returncode == 0 and "ledger ok" in verified.stdout


def test_staff_accounts_and_key_rotation_are_run_and_audited_from_the_cli(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    created = memberhub(tmp_path, "staff", "create", "--username", "dave", "--role", "marketer")
    first_password = created.stdout.split("password: ")[1].strip()
    assert memberhub(tmp_path, "staff", "disable", "--username", "dave").returncode == 0
    listed = memberhub(tmp_path, "staff", "list")
    assert "dave" in listed.stdout and "disabled" in listed.stdout
    assert memberhub(tmp_path, "staff", "enable", "--username", "dave").returncode == 0
    reset = memberhub(tmp_path, "staff", "reset-password", "--username", "dave")
    assert reset.returncode == 0
    assert reset.stdout.split("password: ")[1].strip() != first_password
    missing = memberhub(tmp_path, "staff", "disable", "--username", "nobody")
    assert missing.returncode == 1 and "no staff user" in missing.stderr
    key = memberhub(tmp_path, "channels", "create-key", "--channel", "web").stdout.strip()
    key_id = key.split("_")[1]
    rotated = memberhub(
        tmp_path, "channels", "rotate-key", "--key-id", key_id, "--overlap-hours", "2"
    )
    assert rotated.returncode == 0 and rotated.stdout.startswith("mhk_")
    keys = memberhub(tmp_path, "channels", "list-keys").stdout
    assert key_id in keys and "expires" in keys and key not in keys
    again = memberhub(tmp_path, "channels", "rotate-key", "--key-id", key_id)
    assert again.returncode == 1 and "already rotated" in again.stderr
    log = memberhub(tmp_path, "audit", "--limit", "20").stdout
    for action in ("cli.create_staff", "cli.disable_staff", "cli.reset_password", "cli.rotate_key"):
        assert action in log, log
    assert count(tmp_path / "var" / "memberhub.db", "common_audit_event") == 6


@pytest.mark.parametrize(
    "args",
    [
        ("channels", "create-key", "--channel", "counter"),
        ("channels", "create-key", "--channel", "telegraph"),
        ("staff", "create", "--username", "bob", "--role", "emperor"),
        ("jobs", "run-due", "--as-of", "2026-13-40"),
        ("no-such-verb",),
    ],
)
def test_failures_exit_nonzero_with_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    result = memberhub(tmp_path, *args)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("memberhub: ")


def test_duplicate_staff_user_is_refused(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    assert (
        memberhub(tmp_path, "staff", "create", "--username", "carol", "--role", "admin").returncode
        == 0
    )
    again = memberhub(tmp_path, "staff", "create", "--username", "carol", "--role", "admin")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_verify_names_the_first_breach(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    db = tmp_path / "var" / "memberhub.db"
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE points_engine_account SET balance = 5 WHERE code = 'expiry'")
        connection.execute("UPDATE points_engine_account SET kind = 'member' WHERE code = 'expiry'")
    result = memberhub(tmp_path, "ledger", "verify")
    assert result.returncode == 1
    assert "ledger breach" in result.stderr and "stored balance" in result.stderr


def verify_with(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    """`memberhub ledger verify` in `tmp_path` with these environment variables set."""
    return subprocess.run(
        [sys.executable, "-m", "memberhub.cli", "ledger", "verify"],
        capture_output=True,
        text=True,
        env=dict(os.environ, **environment),
        cwd=tmp_path,
        timeout=60,
    )


def test_verify_on_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    result = verify_with(tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("memberhub: database error")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MEMBERHUB_DELIVERY_FEE_FEN", "ten"),
        ("MEMBERHUB_FEN_PER_POINT", "-3"),
        ("MEMBERHUB_PROGRAMME_START", "spring"),
    ],
)
def test_a_bad_setting_fails_in_one_line_naming_it(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = verify_with(tmp_path, **{variable: value})
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"memberhub: settings error: {variable}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("staff", "create", "--role", "admin"), "Missing option '--username'."),
        (("jobs", "run-due", "--as-of", "31/12/2026"), "Invalid value for '--as-of': "),
    ],
)
def test_a_usage_error_names_the_option(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    from memberhub.cli import main

    with pytest.raises(SystemExit) as done:
        main(list(args))
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"memberhub: usage error: {message}"), err
    assert len(err.strip().splitlines()) == 1
