"""The ledger book: locked account access, postings with running balances, lot movements."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from common.clock import end_of_next_year, utcnow
from common.errors import Conflict, NotFound
from points_engine.adapters.orm import Account, Accrual, Lot, Posting
from points_engine.domain.accounts import (
    ADJUSTMENT_ACCOUNT_CODE,
    BALANCE_TRACKED,
    EXPIRY_ACCOUNT_CODE,
    AccountKind,
    LotStatus,
    member_account_code,
    pending_account_code,
)
from points_engine.domain.lots import LotBalance, Take, plan_consumption

# The tables hot paths insert into with Core, many rows per statement.
_ACCRUALS = cast(Table, Accrual.__table__)
_POSTINGS = cast(Table, Posting.__table__)
_LOTS = cast(Table, Lot.__table__)
# Rows per bulk statement: well under SQLite's limit on bound parameters.
_BULK_ROWS = 1000


def new_txn_id() -> str:
    return uuid.uuid4().hex


class AccountRef(Protocol):
    """What a posting needs of an account: system accounts need not be loaded whole."""

    id: int
    kind: str
    balance: int


@dataclass
class SystemAccountRef:
    id: int
    kind: str
    balance: int = 0


@dataclass
class MemberAccounts:
    available: Account
    pending: Account

    @property
    def member_id(self) -> int:
        assert self.available.member_id is not None
        return self.available.member_id


class LedgerBook:
    """Every write to the ledger goes through here, inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- accounts -------------------------------------------------------------

    def system_account(
        self, code: str, kind: AccountKind, institution_code: str | None = None
    ) -> Account:
        """Get or create a system account; concurrent creators end up with the same row."""
        account = self.session.scalars(select(Account).where(Account.code == code)).one_or_none()
        if account is not None:
            return account
        account = Account(
            code=code,
            kind=kind.value,
            institution_code=institution_code,
            balance=0,
            created_at=utcnow(),
        )
        try:
            with self.session.begin_nested():
                self.session.add(account)
                self.session.flush()
        except IntegrityError:
            account = self.session.scalars(select(Account).where(Account.code == code)).one()
        return account

    def expiry_account(self) -> Account:
        return self.system_account(EXPIRY_ACCOUNT_CODE, AccountKind.EXPIRY)

    def adjustment_account(self) -> Account:
        return self.system_account(ADJUSTMENT_ACCOUNT_CODE, AccountKind.ADJUSTMENT)

    def open_member_accounts(self, member_id: int) -> MemberAccounts:
        now = utcnow()
        available = Account(
            code=member_account_code(member_id),
            kind=AccountKind.MEMBER.value,
            member_id=member_id,
            balance=0,
            created_at=now,
        )
        pending = Account(
            code=pending_account_code(member_id),
            kind=AccountKind.MEMBER_PENDING.value,
            member_id=member_id,
            balance=0,
            created_at=now,
        )
        self.session.add_all([available, pending])
        self.session.flush()
        return MemberAccounts(available, pending)

    def open_accounts_for_members(self, member_ids: Sequence[int]) -> None:
        now = utcnow()
        rows = [
            {
                "code": code(member_id),
                "kind": kind.value,
                "member_id": member_id,
                "balance": 0,
                "status": "open",
                "created_at": now,
            }
            for member_id in member_ids
            for code, kind in (
                (member_account_code, AccountKind.MEMBER),
                (pending_account_code, AccountKind.MEMBER_PENDING),
            )
        ]
        for start in range(0, len(rows), _BULK_ROWS):
            self.session.execute(insert(Account), rows[start : start + _BULK_ROWS])

    def lock(self, account_id: int) -> Account:
        # populate_existing re-reads the row: unflushed changes must reach it first.
        self.session.flush()
        account = self.session.scalars(
            select(Account)
            .where(Account.id == account_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        return account

    def lock_member(self, member_id: int) -> MemberAccounts:
        """Lock a member's two accounts, following merges to the surviving member.

        The lock is taken before the merged status is read, so a merge that commits
        while we wait is seen and followed; points never land on a closed account.
        """
        return self._member_accounts(member_id, lock=True)

    def member_accounts(self, member_id: int) -> MemberAccounts:
        """`lock_member` without the lock, for reads (a read-only transaction may not lock)."""
        return self._member_accounts(member_id, lock=False)

    def _member_accounts(self, member_id: int, *, lock: bool) -> MemberAccounts:
        for _hop in range(64):
            statement = (
                select(Account)
                .where(
                    Account.code.in_(
                        [member_account_code(member_id), pending_account_code(member_id)]
                    )
                )
                .order_by(Account.id)
                .execution_options(populate_existing=True)
            )
            rows = self.session.scalars(statement.with_for_update() if lock else statement).all()
            by_kind = {AccountKind(row.kind): row for row in rows}
            available = by_kind.get(AccountKind.MEMBER)
            pending = by_kind.get(AccountKind.MEMBER_PENDING)
            if available is None or pending is None:
                raise NotFound(f"member {member_id} has no points account")
            if available.status == "open":
                return MemberAccounts(available, pending)
            survivor = self.session.get(Account, available.merged_into_id)
            assert survivor is not None and survivor.member_id is not None
            member_id = survivor.member_id
        raise Conflict("merge chain too long")

    def lock_members(self, member_ids: Iterable[int]) -> dict[int, MemberAccounts]:
        """Lock several members' accounts in one statement, in account-id order.

        Every caller locks in that one order, so two transactions can never hold each
        other's members. A member merged meanwhile is followed to the survivor.
        """
        return {
            member_id: accounts
            if accounts.available.status == "open"
            else self.lock_member(member_id)
            for member_id, accounts in self.lock_own_accounts(member_ids).items()
        }

    def lock_own_accounts(self, member_ids: Iterable[int]) -> dict[int, MemberAccounts]:
        """`lock_members` without following merges: each member's own two accounts."""
        ids = sorted(set(member_ids))
        if not ids:
            return {}
        rows = self.session.scalars(
            select(Account)
            .where(
                Account.member_id.in_(ids),
                Account.kind.in_([AccountKind.MEMBER.value, AccountKind.MEMBER_PENDING.value]),
            )
            .order_by(Account.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        by_member: dict[int, dict[AccountKind, Account]] = {}
        for row in rows:
            assert row.member_id is not None
            by_member.setdefault(row.member_id, {})[AccountKind(row.kind)] = row
        locked: dict[int, MemberAccounts] = {}
        for member_id in ids:
            pair = by_member.get(member_id, {})
            available = pair.get(AccountKind.MEMBER)
            pending = pair.get(AccountKind.MEMBER_PENDING)
            if available is None or pending is None:
                raise NotFound(f"member {member_id} has no points account")
            locked[member_id] = MemberAccounts(available, pending)
        return locked

    # -- postings -------------------------------------------------------------

    def post(
        self,
        *,
        txn_id: str,
        type: str,
        source: AccountRef,
        target: AccountRef,
        points: int,
        reference: str,
        occurred_at: datetime,
        breakdown: Any = None,
    ) -> Posting | None:
        """Move `points` from `source` to `target`; tracked balances are updated in place."""
        row = self.posting_row(
            txn_id=txn_id,
            type=type,
            source=source,
            target=target,
            points=points,
            reference=reference,
            occurred_at=occurred_at,
            breakdown=breakdown,
        )
        if row is None:
            return None
        posting = Posting(**row)
        self.session.add(posting)
        return posting

    def posting_row(
        self,
        *,
        txn_id: str,
        type: str,
        source: AccountRef,
        target: AccountRef,
        points: int,
        reference: str,
        occurred_at: datetime,
        breakdown: Any = None,
    ) -> dict[str, Any] | None:
        """`post` without the ORM object: the balances move now, the row is inserted later
        by `insert_postings` (hot paths write many rows in one statement)."""
        if points < 0:
            raise ValueError("a posting moves a positive number of points")
        if points == 0:
            return None
        source_after = target_after = None
        if AccountKind(source.kind) in BALANCE_TRACKED:
            source.balance -= points
            source_after = source.balance
        if AccountKind(target.kind) in BALANCE_TRACKED:
            target.balance += points
            target_after = target.balance
        return {
            "txn_id": txn_id,
            "type": type,
            "from_account_id": source.id,
            "to_account_id": target.id,
            "points": points,
            "from_balance_after": source_after,
            "to_balance_after": target_after,
            "reference": reference,
            "occurred_at": occurred_at,
            "recorded_at": utcnow(),
            "breakdown": breakdown,
        }

    def insert_postings(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(_POSTINGS), rows)

    # -- lots -----------------------------------------------------------------

    @staticmethod
    def lot_row(
        account: Account,
        *,
        points: int,
        status: LotStatus,
        accrual_no: str,
        earned_on: date,
        available_on: date,
        expires_on: date,
        institution_code: str,
    ) -> dict[str, Any]:
        """A new lot for `insert_lots`, naming its accrual by number (inserted before it)."""
        return {
            "account_id": account.id,
            "accrual_no": accrual_no,
            "initial": points,
            "remaining": points,
            "expired": 0,
            "status": status.value,
            "earned_on": earned_on,
            "available_on": available_on,
            "expires_on": expires_on,
            "institution_code": institution_code,
        }

    def add_unearned_lot(
        self, account: Account, points: int, day: date, institution_code: str
    ) -> None:
        """A lot no purchase earned (an adjustment's credit, points bought in from a
        partner, a debt given back): available at once, expiring like points earned that
        day."""
        self.session.add(
            Lot(
                account_id=account.id,
                accrual_id=None,
                initial=points,
                remaining=points,
                expired=0,
                status=LotStatus.AVAILABLE.value,
                earned_on=day,
                available_on=day,
                expires_on=end_of_next_year(day),
                institution_code=institution_code,
            )
        )

    def insert_lots(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert lots whose accruals are already written; one statement for all of them."""
        if rows:
            accrual_id = (
                select(Accrual.id)
                .where(Accrual.accrual_no == bindparam("accrual_no"))
                .scalar_subquery()
            )
            self.session.execute(insert(_LOTS).values(accrual_id=accrual_id), rows)

    def insert_accruals(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(_ACCRUALS), rows)

    def spendable_lots(self, account: Account, as_of: date) -> list[Lot]:
        return list(
            self.session.scalars(
                select(Lot)
                .where(
                    Lot.account_id == account.id,
                    Lot.status == LotStatus.AVAILABLE.value,
                    Lot.remaining > 0,
                    Lot.expires_on >= as_of,
                )
                .order_by(Lot.expires_on, Lot.id)
            )
        )

    def available_lot_total(self, account: Account) -> int:
        total = self.session.scalar(
            select(func.coalesce(func.sum(Lot.remaining), 0)).where(
                Lot.account_id == account.id, Lot.status == LotStatus.AVAILABLE.value
            )
        )
        return int(total or 0)

    def take_from_lots(self, lots: Sequence[Lot], points: int) -> tuple[list[Take], int]:
        """Reduce lots FIFO by expiry; returns the takes and what the lots could not cover."""
        by_id = {lot.id: lot for lot in lots}
        takes, short = plan_consumption(
            [LotBalance(lot.id, lot.remaining, lot.expires_on) for lot in lots], points
        )
        for take in takes:
            by_id[take.lot_id].remaining -= take.points
        return takes, short

    def settle_debt(self, account: Account) -> None:
        """Keep `available lots == max(balance, 0)` after a credit to an account in debt.

        A negative balance is points the member owes; points credited while in debt pay
        that debt first, so the lots that received them are trimmed FIFO by expiry.
        """
        self.session.flush()
        excess = self.available_lot_total(account) - max(account.balance, 0)
        if excess <= 0:
            return
        lots = list(
            self.session.scalars(
                select(Lot)
                .where(
                    Lot.account_id == account.id,
                    Lot.status == LotStatus.AVAILABLE.value,
                    Lot.remaining > 0,
                )
                .order_by(Lot.expires_on, Lot.id)
            )
        )
        self.take_from_lots(lots, excess)
