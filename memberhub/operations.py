"""Operations the CLI and the demo share: preparing a database, running what is due."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, TypeVar

from tqdm import tqdm

import crm
import points_engine
from common.db import read_session
from common.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork, transaction
from memberhub.reference_loader import load_reference_data
from memberhub.runtime import Runtime
from memberhub.schema import upgrade
from storefront_api import bills, orders

T = TypeVar("T")
CHUNK = 500


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def prepare_database(runtime: Runtime) -> None:
    url = runtime.settings.database_url
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    upgrade(runtime.engine)
    load_reference_data(runtime.session_factory)


# Not a possible staff username (no colons there): a staff adjustment can never take the
# birthday bonus's idempotency key.
BIRTHDAY_ACTOR = "job:birthday"


def _birthday_bonuses(runtime: Runtime, day: date) -> tuple[int, int]:
    """Credit each member due their tier's birthday bonus (crm.birthday_bonuses_due), one
    transaction each; the ledger's idempotency makes a member found again a replay.
    Returns the bonuses and points credited now."""
    factory = runtime.session_factory
    directory = crm.CrmMemberDirectory()
    with read_session(factory) as session:
        due = crm.birthday_bonuses_due(session, day)
    credited = points = 0
    for bonus in due:
        command = points_engine.AdjustmentCommand(
            external_id=bonus.external_id,
            member_no=bonus.member_no,
            points=bonus.points,
            reason=f"生日礼遇 birthday bonus {bonus.birthday_on.year} ({bonus.tier})",
        )
        with transaction(factory) as uow:
            written = points_engine.adjust_points(
                uow, directory, command, actor=BIRTHDAY_ACTOR, as_of=day
            )
        if not written.replayed:
            credited += 1
            points += bonus.points
    return credited, points


def run_due_jobs(
    runtime: Runtime,
    day: date,
    progress: bool = False,
    *,
    tiers: bool = True,
    insights: bool = False,
    reports: bool = False,
) -> dict[str, Any]:
    """Every scheduled job as of `day`; `tiers=False` leaves the tier review out (it reads
    a year of postings and writes every member, so a simulated history runs it monthly).
    `insights=True` (the `jobs run-due` command) retrains member insights when the last
    run is a week old; the simulated history leaves it to the end of the demo. `reports=True`
    (the command too) writes the saved views' scheduled reports due on `day`."""
    factory = runtime.session_factory
    totals: dict[str, Any] = {
        "released_lots": 0,
        "released_points": 0,
        "expired_lots": 0,
        "expired_points": 0,
    }
    # Uncollected orders go first: their pending points are reversed, not released.
    context = orders.OrderContext.from_settings(crm.CrmMemberDirectory(), runtime.settings)
    with tqdm(desc="uncollected orders", unit="order", disable=not progress) as bar:
        totals["orders_expired"] = orders.expire_due_orders(
            lambda: UnitOfWork(factory), context, day, bar.update
        )
    # Bill payments whose biller never answered: ask again, so nobody waits or pays twice.
    totals["bills_resolved"] = bills.resolve_unknown_payments(
        lambda: UnitOfWork(factory), bills.sandbox_billers(factory), context.directory
    )
    with ReadOnlyUnitOfWork(factory) as uow:
        due = points_engine.due_pending_lots(uow, day)
    with tqdm(total=len(due), desc="pending -> available", unit="lot", disable=not progress) as bar:
        for chunk in _chunks(due):
            with transaction(factory) as uow:
                report = points_engine.release_due_pending(uow, chunk, day)
            totals["released_lots"] += report.released_lots
            totals["released_points"] += report.released_points
            bar.update(len(chunk))
    with ReadOnlyUnitOfWork(factory) as uow:
        accounts = points_engine.accounts_with_expiring_lots(uow, day)
    for account_id in tqdm(accounts, desc="lot expiry", unit="account", disable=not progress):
        with transaction(factory) as uow:
            report = points_engine.expire_due_lots(uow, account_id, day)
        totals["expired_lots"] += report.expired_lots
        totals["expired_points"] += report.expired_points
    totals["tiers_reviewed"] = totals["tiers_changed"] = 0
    if tiers:
        with transaction(factory) as uow:
            review = crm.review_tiers(uow, day)
        totals["tiers_reviewed"] = review["reviewed"]
        totals["tiers_changed"] = review["changed"]
    totals["birthday_bonuses"], totals["birthday_points"] = _birthday_bonuses(runtime, day)
    totals["insights"] = "not run"
    if insights:
        from memberhub.insights_jobs import train_if_due

        totals["insights"] = train_if_due(runtime, day)
    totals["reports"] = "not run"
    if reports:
        from memberhub.report_jobs import write_due_reports

        totals["reports"] = write_due_reports(runtime, day, progress).summary()
    return totals
