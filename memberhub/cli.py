"""The `memberhub` command line: schema, serving, demo, keys, staff, jobs, ledger checks."""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import duckdb
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

import crm
import points_engine
import warehouse as warehouse_facade
from common import audit
from common.clock import as_utc, today
from common.db import read_session
from common.errors import DomainError
from common.settings import SettingsError, load_settings
from common.unit_of_work import transaction
from memberhub.backup import create_backup, restore_backup
from memberhub.operations import prepare_database, run_due_jobs
from memberhub.runtime import Runtime, build_runtime
from storefront_api import clearing as clearing_facade
from storefront_api import partners as partners_facade
from storefront_api import prepaid
from storefront_api.auth import (
    create_api_key,
    create_staff_user,
    list_api_keys,
    list_staff,
    reset_staff_password,
    revoke_api_key,
    rotate_api_key,
    set_staff_active,
)


def _runtime() -> Runtime:
    return build_runtime(load_settings())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Member Hub: one member and one points ledger for every channel."""


@cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the schema at DATABASE_URL and load reference data."""
    runtime = _runtime()
    prepare_database(runtime)
    click.echo(f"database ready: {runtime.engine.url.render_as_string(hide_password=True)}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="gunicorn worker processes (default: one per core)",
)
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="threads per worker (gthread workers when above 1)",
)
def serve(host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the API (and dashboards) on one port with gunicorn."""
    run_server(host, port, workers, threads)


def run_server(host: str, port: int, workers: int | None, threads: int = 4) -> None:
    # One process per core with a few threads each measured better than 2 x cores + 1
    # sync workers in bench/accrual.py: requests spend much of their time waiting on
    # the database, and fewer processes keep fewer connections and caches.
    from memberhub.server import serve_forever

    serve_forever(host, port, workers or (os.cpu_count() or 1), threads)


@cli.group()
def channels() -> None:
    """Channel API keys."""


def _audited(action: str, target: str) -> Any:
    """Administration from the command line is audited like the admin API's."""
    return audit.pending_entry(
        audit.AuditEntry(actor=f"cli:{getpass.getuser()}", action=action, target=target)
    )


@channels.command("create-key")
@click.option(
    "--channel", required=True, help="web, app, counter, retail, hotline, distribution, partner"
)
@click.option("--institution", default=None, help="outlet or store code (counter and retail keys)")
@click.option("--label", default="", help="what the key is for")
def create_key(channel: str, institution: str | None, label: str) -> None:
    """Print a new API key (shown once; only its hash is stored)."""
    runtime = _runtime()
    with _audited("cli.create_key", channel), transaction(runtime.session_factory) as uow:
        key = create_api_key(uow, channel, institution, label)
    click.echo(key)


@channels.command("rotate-key")
@click.option("--key-id", required=True, help="the part after 'mhk_' and before the next '_'")
@click.option(
    "--overlap-hours",
    default=24,
    show_default=True,
    type=click.IntRange(0, 720),
    help="how long the old key keeps working beside the new one",
)
def rotate_key(key_id: str, overlap_hours: int) -> None:
    """Print a successor key; the old one works for --overlap-hours more, then stops."""
    runtime = _runtime()
    with _audited("cli.rotate_key", key_id), transaction(runtime.session_factory) as uow:
        key = rotate_api_key(uow, key_id, timedelta(hours=overlap_hours))
    click.echo(key)


@channels.command("revoke-key")
@click.option("--key-id", required=True, help="the part after 'mhk_' and before the next '_'")
def revoke_key(key_id: str) -> None:
    """Revoke a channel API key (workers stop accepting it within 30 seconds)."""
    runtime = _runtime()
    with _audited("cli.revoke_key", key_id), transaction(runtime.session_factory) as uow:
        revoke_api_key(uow, key_id)
    click.echo(f"revoked {key_id}")


@channels.command("list-keys")
def list_keys() -> None:
    """List channel keys (ids, channels, institutions, state; never the secrets)."""
    runtime = _runtime()
    with read_session(runtime.session_factory) as session:
        keys = list_api_keys(session)
    for key in keys:
        state = (
            "revoked"
            if key["revoked_at"]
            else (f"expires {key['expires_at']}" if key["expires_at"] else "active")
        )
        click.echo(
            f"{key['key_id']}  {key['channel']:<12} {key['institution_code'] or '-':<12} "
            f"{state}  {key['label']}"
        )


@cli.group()
def staff() -> None:
    """Staff users."""


@staff.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["marketer", "finance", "admin"]))
def create_staff(username: str, role: str) -> None:
    """Create a staff user and print a generated password (shown once)."""
    runtime = _runtime()
    with _audited("cli.create_staff", username), transaction(runtime.session_factory) as uow:
        password = create_staff_user(uow, username, role)
    click.echo(f"username: {username}\nrole: {role}\npassword: {password}")


@staff.command("disable")
@click.option("--username", required=True)
def disable_staff(username: str) -> None:
    """Disable a staff account: its API tokens and dashboard sessions stop at once."""
    runtime = _runtime()
    with _audited("cli.disable_staff", username), transaction(runtime.session_factory) as uow:
        set_staff_active(uow, username, False)
    click.echo(f"disabled {username}")


@staff.command("enable")
@click.option("--username", required=True)
def enable_staff(username: str) -> None:
    """Enable a disabled staff account again (it logs in anew)."""
    runtime = _runtime()
    with _audited("cli.enable_staff", username), transaction(runtime.session_factory) as uow:
        set_staff_active(uow, username, True)
    click.echo(f"enabled {username}")


@staff.command("reset-password")
@click.option("--username", required=True)
def reset_password(username: str) -> None:
    """Give a staff account a new generated password (shown once); its sessions end."""
    runtime = _runtime()
    with _audited("cli.reset_password", username), transaction(runtime.session_factory) as uow:
        password = reset_staff_password(uow, username)
    click.echo(f"username: {username}\npassword: {password}")


@staff.command("list")
def list_staff_users() -> None:
    """List staff accounts with their roles and whether they are active."""
    runtime = _runtime()
    with read_session(runtime.session_factory) as session:
        users = list_staff(session)
    for user in users:
        state = "active" if user["active"] else "disabled"
        click.echo(f"{user['username']:<24} {user['role']:<9} {state}")


@cli.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--action", default=None, help="only actions starting with this, e.g. login.")
@click.option("--actor", default=None, help="only this actor, e.g. staff:alice")
def audit_log(limit: int, action: str | None, actor: str | None) -> None:
    """Print the audit log, newest first (it is append-only: nothing edits or deletes it)."""
    runtime = _runtime()
    with read_session(runtime.session_factory) as session:
        rows = audit.list_events(session, limit=limit, action=action, actor=actor)
    for row in rows:
        click.echo(
            f"{as_utc(row.occurred_at).isoformat()}  {row.outcome:<9} {row.action:<28} "
            f"{row.actor:<40} {row.target or ''}"
        )


@cli.group()
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("run-due")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="business date to run for (default: today in Asia/Shanghai)",
)
def run_due(as_of: Any) -> None:
    """Release pending points, expire lots, review tiers, write scheduled reports and,
    weekly, retrain insights."""
    day = as_of.date() if as_of is not None else today()
    report = run_due_jobs(_runtime(), day, progress=True, insights=True, reports=True)
    click.echo(
        f"as of {day}: expired {report['orders_expired']} uncollected orders, "
        f"settled {report['bills_resolved']} unanswered bill payments, "
        f"released {report['released_lots']} lots "
        f"({report['released_points']} points), "
        f"expired {report['expired_lots']} lots ({report['expired_points']} points), "
        f"tiers reviewed {report['tiers_reviewed']} (changed {report['tiers_changed']}), "
        f"birthday bonuses {report['birthday_bonuses']} ({report['birthday_points']} points), "
        f"insights {report['insights']}, scheduled reports: {report['reports']}"
    )


@cli.group()
def insights() -> None:
    """Member analytics: RFM segments and churn risk; lifetime value of any purchase file."""


@insights.command("train")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="score members as of this business date (default: today in Asia/Shanghai)",
)
@click.option(
    "--horizon-days",
    default=90,
    show_default=True,
    type=click.IntRange(7, 365),
    help="churn: no purchase in this many days after the as-of date",
)
@click.option("--no-sync", is_flag=True, help="use the warehouse as it is, without a sync")
def insights_train(as_of: Any, horizon_days: int, no_sync: bool) -> None:
    """Retrain RFM segments and churn risk; last line: the metrics as one JSON object."""
    from memberhub.insights_jobs import describe_metrics, train_insights

    try:
        metrics = train_insights(
            _runtime(),
            as_of.date() if as_of is not None else None,
            horizon_days=horizon_days,
            sync=not no_sync,
            progress=True,
        )
    except duckdb.Error as error:
        raise click.ClickException(f"warehouse error: {_one_line(error)}") from error
    for line in describe_metrics(metrics):
        click.echo(line)
    click.echo(json.dumps(metrics, ensure_ascii=False, separators=(",", ":")))


@cli.group()
def ledger() -> None:
    """The points ledger."""


@ledger.command("verify")
def verify() -> None:
    """Check every ledger invariant; exit 1 naming the first breach."""
    runtime = _runtime()
    with read_session(runtime.session_factory) as session:
        breaches = points_engine.find_breaches(session, first_only=True)
        if breaches:
            raise click.ClickException(f"ledger breach: {breaches[0]}")
        prepaid_breaches = prepaid.find_breaches(session)
        if prepaid_breaches:
            raise click.ClickException(f"ledger breach: {prepaid_breaches[0]}")
        postings = points_engine.queries.posting_count(session)
    click.echo(f"ledger ok: every invariant holds over {postings} postings")


@cli.group()
def clearing() -> None:
    """Daily clearing and settlement for finance."""


@clearing.command("run")
@click.option(
    "--date",
    "day",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="the business day (Asia/Shanghai) to clear",
)
@click.option(
    "--through",
    default=None,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="clear every day from --date up to and including this one",
)
@click.option("--close", is_flag=True, help="lock the day(s) once cleared")
@click.option("--reason", default=None, help="why finance closes despite mismatches")
@click.option(
    "--level",
    default="outlet",
    show_default=True,
    type=click.Choice(clearing_facade.LEVELS),
    help="institution level of the lines report",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="where to write the CSV reports (default: <var dir>/clearing)",
)
def clearing_run(
    day: Any, through: Any, close: bool, reason: str | None, level: str, out_dir: Path | None
) -> None:
    """Clear business days and write their reports (lines, positions, transfers, liability,
    control-total check) as CSV; a closed day is left as it is."""
    runtime = _runtime()
    first = day.date()
    last = through.date() if through is not None else first
    if last < first:
        raise click.BadParameter("must not be before --date", param_hint="'--through'")
    directory = out_dir or runtime.settings.var_dir / "clearing"
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    results = []
    for business_day in tqdm(days, desc="clearing", unit="day", disable=len(days) < 2 or None):
        with transaction(runtime.session_factory) as uow:
            results.append(
                clearing_facade.run_day(
                    uow,
                    business_day,
                    actor="cli",
                    fen_per_point=runtime.settings.fen_per_point,
                    close=close,
                    reason=reason,
                )
            )
        with read_session(runtime.session_factory) as session:
            report = clearing_facade.day_report(session, business_day, level)
        clearing_facade.write_reports(report, directory)
    for result in results:
        click.echo(result.message)
    click.echo(f"reports in {directory}")


@clearing.command("journal")
@click.option(
    "--month",
    required=True,
    type=click.DateTime(formats=["%Y-%m"]),
    help="the month (YYYY-MM) whose closed days to book",
)
@click.option(
    "--out",
    "out_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the CSV file to write (default: <var dir>/clearing/journal-<month>.csv)",
)
def clearing_journal(month: Any, out_file: Path | None) -> None:
    """Write the month's accounting journal (debit and credit per account) as CSV; it
    books the closed days and names the days that are not closed."""
    runtime = _runtime()
    with read_session(runtime.session_factory) as session:
        journal = clearing_facade.monthly_journal(session, month.date(), today())
    path = out_file or runtime.settings.var_dir / "clearing" / f"journal-{journal.month}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(clearing_facade.journal_csv(journal), encoding="utf-8")
    click.echo(
        f"journal {journal.month}: {len(journal.closed_days)} closed days, "
        f"{len(journal.lines)} account lines, debit {journal.debit_fen:,} fen = "
        f"credit {journal.credit_fen:,} fen -> {path}"
    )
    if journal.not_closed:
        missing = ", ".join(str(day) for day in journal.not_closed[:5])
        more = len(journal.not_closed) - 5
        click.echo(
            f"not closed (not booked): {missing}" + (f" and {more} more" if more > 0 else "")
        )


@cli.group("partners")
def partners_group() -> None:
    """Partner exchange files: the daily settlement out, the partner's answer in."""


@partners_group.command("settle")
@click.option("--partner", "partner_code", required=True, help="the partner's code, e.g. MU")
@click.option(
    "--date",
    "day",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="the business day whose exchange lines to send",
)
@click.option(
    "--out",
    "out_file",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the CSV file (default: <var dir>/partners/<partner>-<date>.csv)",
)
def partners_settle(partner_code: str, day: Any, out_file: Path | None) -> None:
    """Write the day's settlement file for a partner; its lines are marked sent."""
    runtime = _runtime()
    business_day = day.date()
    with transaction(runtime.session_factory) as uow:
        text = partners_facade.settlement_file(uow, partner_code, business_day)
    path = out_file or runtime.settings.var_dir / "partners" / f"{partner_code}-{business_day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    click.echo(f"{len(text.splitlines()) - 1} lines for {partner_code} on {business_day} -> {path}")


@partners_group.command("acknowledge")
@click.option("--partner", "partner_code", required=True, help="the partner's code, e.g. MU")
@click.option(
    "--file",
    "answer_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="the partner's CSV: exchange_no,result,reason (result settled or rejected)",
)
def partners_acknowledge(partner_code: str, answer_file: Path) -> None:
    """Apply a partner's answers, all or none; rejected lines give the points back."""
    runtime = _runtime()
    answers = partners_facade.parse_acknowledgement(answer_file.read_text(encoding="utf-8"))
    with transaction(runtime.session_factory) as uow:
        done = partners_facade.acknowledge(uow, crm.CrmMemberDirectory(), partner_code, answers)
    click.echo(
        f"{partner_code}: {done.settled} settled, {done.rejected} rejected "
        f"({done.points_returned} points back to their lots), {done.unchanged} already answered"
    )


@cli.group()
def warehouse() -> None:
    """The DuckDB warehouse the dashboards read."""


@warehouse.command("sync")
@click.option("--rebuild", is_flag=True, help="start from an empty warehouse")
@click.option(
    "--batch-size",
    default=50_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="rows read and written at a time",
)
@click.option("--no-wait", is_flag=True, help="fail at once if another sync is running")
def warehouse_sync(rebuild: bool, batch_size: int, no_wait: bool) -> None:
    """Load what changed since the last sync into the warehouse (settings.warehouse_path)."""
    runtime = _runtime()
    report = sync_to_warehouse(runtime, rebuild=rebuild, batch_size=batch_size, wait=not no_wait)
    how = f"rebuilt ({report.reason})" if report.rebuilt else "incremental"
    click.echo(
        f"warehouse synced, {how}: {report.rows_written} rows written from "
        f"{report.rows_read} read in {report.seconds:.1f} s "
        f"({report.rows_per_second:,.0f} rows/s) -> {report.path}"
    )


def sync_to_warehouse(
    runtime: Runtime, *, rebuild: bool = False, batch_size: int = 50_000, wait: bool = True
) -> warehouse_facade.SyncReport:
    """Sync with one progress bar per table."""
    bars: dict[str, tqdm[Any]] = {}

    def progress(table: str, rows: int) -> None:
        if table not in bars:
            for bar in bars.values():
                bar.close()
            bars[table] = tqdm(desc=table, unit="row", unit_scale=True, disable=None)
        bars[table].update(rows)

    try:
        return warehouse_facade.sync_warehouse(
            runtime.engine,
            runtime.settings.warehouse_path,
            rebuild=rebuild,
            batch_size=batch_size,
            progress=progress,
            wait=wait,
        )
    except duckdb.Error as error:
        raise click.ClickException(f"warehouse error: {_one_line(error)}") from error
    finally:
        for bar in bars.values():
            bar.close()


@warehouse.command("export")
@click.option(
    "--to",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="directory for the Parquet files (created if missing)",
)
def warehouse_export(out_dir: Path) -> None:
    """Write the warehouse as date-partitioned Parquet with personal data masked."""
    settings = load_settings()
    try:
        files = warehouse_facade.export_parquet(settings.warehouse_path, out_dir)
    except duckdb.Error as error:
        raise click.ClickException(f"warehouse error: {_one_line(error)}") from error
    click.echo(f"exported {len(files)} Parquet files to {out_dir}")


@insights.command("fit-clv")
@click.option(
    "--transactions",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="transaction file: one purchase (customer, date, amount) a line",
)
@click.option(
    "--format",
    "file_format",
    required=True,
    type=click.Choice(["cdnow", "csv"]),
    help="cdnow: whitespace columns `customer [sample_id] yyyymmdd quantity dollars`; "
    "csv: a header with customer_id, date (ISO) and amount",
)
@click.option(
    "--calibration-end",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="last day (inclusive) of the period the models are fitted on",
)
@click.option(
    "--holdout-end",
    default=None,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="last day (inclusive) of a holdout period after it: compare predicted purchases",
)
def fit_clv(path: Path, file_format: str, calibration_end: Any, holdout_end: Any) -> None:
    """Fit BG/NBD, Gamma-Gamma and Pareto/NBD to a transaction file; the last line printed
    is one JSON object with the parameters (weekly time units)."""
    from crm import insights as clv  # scipy loads only for this command

    size = path.stat().st_size
    with tqdm(
        total=size, desc="reading", unit="B", unit_scale=True, disable=None, leave=False
    ) as bar:
        transactions = clv.read_transactions(path, clv.FileFormat(file_format), bar.update)
    summary = clv.summarise(
        transactions,
        calibration_end.date(),
        holdout_end.date() if holdout_end is not None else None,
    )
    click.echo(
        f"{len(transactions):,} transactions of {len(transactions.customer_ids):,} customers; "
        f"{summary.customers:,} bought by {calibration_end.date()}"
    )
    started = time.perf_counter()
    report = clv.fit_clv(summary)
    click.echo(f"fitted in {time.perf_counter() - started:.2f} s")
    click.echo(json.dumps(report.as_json()))


@cli.command()
@click.option(
    "--to",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="new or empty directory for the backup",
)
def backup(directory: Path) -> None:
    """Write a consistent, portable snapshot of the database and the warehouse."""
    runtime = _runtime()
    report = create_backup(runtime.engine, runtime.settings.warehouse_path, directory, bars=None)
    click.echo(report)


@cli.command()
@click.option(
    "--from",
    "directory",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="a directory written by `memberhub backup`",
)
@click.option("--force", is_flag=True, help="empty a database that holds data, then restore")
def restore(directory: Path, force: bool) -> None:
    """Restore a backup into DATABASE_URL and the warehouse, then check the ledger."""
    runtime = _runtime()
    report = restore_backup(
        runtime.engine, runtime.settings.warehouse_path, directory, force=force, bars=None
    )
    click.echo(report)


@cli.command()
@click.option("--members", default=20_000, show_default=True, type=click.IntRange(1, 5_000_000))
@click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3660))
@click.option("--seed", default=2026, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="generate the data, print the logins, and stop")
def demo(members: int, days: int, seed: int, host: str, port: int, no_serve: bool) -> None:
    """Create a fresh database with a synthetic history, print logins and serve.

    The defaults (20,000 members, a year ending today) take about two and a half minutes on
    SQLite; the time grows in proportion to members x days.
    """
    from memberhub.demo import run_demo
    from memberhub.demo.reporting import write_demo_reports

    logins = run_demo(members=members, days=days, seed=seed, base_url=f"http://{host}:{port}")
    runtime = _runtime()
    try:
        report = sync_to_warehouse(runtime, rebuild=True)
        scores = _demo_insights(runtime)
        reports = write_demo_reports(runtime, today())
    finally:
        runtime.engine.dispose()
    click.echo("")
    for line in logins:
        click.echo(line)
    click.echo(
        f"warehouse     {report.rows_written:,} rows synced to "
        f"{runtime.settings.warehouse_path} in {report.seconds:.1f} s"
    )
    click.echo(f"insights      {scores}")
    click.echo(f"reports       {reports}")
    click.echo(f"API and docs: http://{host}:{port}/api/docs")
    click.echo(
        f"Dashboards:   http://{host}:{port}/dashboards/  "
        "(log in with a staff login above, e.g. marketer)"
    )
    if not no_serve:
        serve_afresh(host, port)


def serve_afresh(host: str, port: int) -> None:
    """Become `memberhub serve` in a new process image. The demo's work leaves native
    threads and state behind (DuckDB, scikit-learn's OpenMP pool, the Chromium that drew
    the report charts), and gunicorn forks its workers from the serving process: workers
    forked from the demo's process died of SIGSEGV on their first dashboard request."""
    sys.stdout.flush()
    sys.stderr.flush()
    command = ["-m", "memberhub.cli", "serve", "--host", host, "--port", str(port)]
    os.execv(sys.executable, [sys.executable, *command])


DEMO_EARLIER_RUNS_WEEKS = (12, 8, 4)  # earlier runs, so segments can be followed over time


def _demo_insights(runtime: Runtime) -> str:
    """Train insights on the demo's warehouse as of 12, 8 and 4 weeks ago and today, so
    the Members page has segments over time; a history too short for a run is no failure."""
    from crm.insights import NotEnoughData
    from memberhub.insights_jobs import describe_metrics, train_insights

    latest = today()
    skipped: list[str] = []
    for weeks in DEMO_EARLIER_RUNS_WEEKS:
        try:
            train_insights(runtime, latest - timedelta(weeks=weeks), sync=False, progress=True)
        except NotEnoughData:
            skipped.append(f"{weeks} weeks ago")
    try:
        metrics = train_insights(runtime, latest, sync=False, progress=True)
    except NotEnoughData as error:
        return f"not trained: {error.detail}"
    sync_to_warehouse(runtime)  # the runs, for the Members page
    for line in describe_metrics(metrics):
        click.echo(line)
    click.echo(json.dumps(metrics, ensure_ascii=False, separators=(",", ":")))
    runs = len(DEMO_EARLIER_RUNS_WEEKS) + 1 - len(skipped)
    earlier = f" (too little history {', '.join(skipped)})" if skipped else ""
    return (
        f"churn ROC AUC {metrics['roc_auc']:.3f} vs {metrics['baseline_roc_auc']:.3f} "
        f"for recency alone; {metrics['members']:,} members in "
        f"{len(metrics['segments'])} segments; {runs} run{'' if runs == 1 else 's'} up to "
        f"{latest}{earlier}"
    )


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else error.__class__.__name__


def _usage_message(error: BaseException) -> str:
    text = error.format_message() if isinstance(error, click.UsageError) else str(error)
    lines = text.strip().splitlines()
    return lines[0] if lines else error.__class__.__name__


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; every failure ends in one line on stderr and a non-zero exit."""
    handlers: list[tuple[type[BaseException], Callable[[BaseException], str]]] = [
        # format_message() names the option ("Missing option '--username'", "Invalid value
        # for '--as-of': ..."); str() names the Python parameter, or nothing at all.
        (click.UsageError, lambda e: f"usage error: {_usage_message(e)} (see --help)"),
        (click.ClickException, lambda e: _one_line(e)),
        (DomainError, lambda e: f"{e.__class__.__name__}: {_one_line(e)}"),
        (SQLAlchemyError, lambda e: f"database error: {_one_line(getattr(e, 'orig', e) or e)}"),
        (OSError, lambda e: f"system error: {_one_line(e)}"),
        (SettingsError, lambda e: f"settings error: {_one_line(e)}"),
    ]
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except Exception as error:
        for kind, describe in handlers:
            if isinstance(error, kind):
                click.echo(f"memberhub: {describe(error)}", err=True)
                sys.exit(2 if isinstance(error, click.UsageError) else 1)
        raise


if __name__ == "__main__":
    main()
