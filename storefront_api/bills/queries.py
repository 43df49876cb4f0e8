"""Read side of bill payment: billers, bills and receipts as bodies, a member's bill activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import as_utc
from common.ownership import Owner
from storefront_api.activity import ActivityEntry
from storefront_api.bills import orm
from storefront_api.bills.domain import BILLER_KINDS, PaymentStatus, UnknownPayment


def list_billers(session: Session) -> list[dict[str, Any]]:
    """Active billers, by kind in the order water, electricity, gas, broadband, landline."""
    rows = session.scalars(select(orm.Biller).where(orm.Biller.active.is_(True)))
    order = {kind: index for index, kind in enumerate(BILLER_KINDS)}
    return [
        {"code": row.code, "name": row.name, "name_en": row.name_en, "kind": row.kind}
        for row in sorted(rows, key=lambda row: (order.get(row.kind, len(order)), row.code))
    ]


@dataclass(frozen=True)
class BillView:
    """A bill as a biller stated it, kept so that it can be paid."""

    bill_id: str
    biller_code: str
    biller_name: str
    kind: str
    account_no: str
    period: str
    amount_due_fen: int
    customer_name: str


@dataclass(frozen=True)
class Receipt:
    """A bill payment as it stands: `points` are those earned, `points_reversed` those
    taken back by a reversal."""

    payment_no: str
    status: str
    bill_id: str
    biller_code: str
    biller_name: str
    account_no: str
    period: str
    amount_fen: int
    member_no: str | None
    points: int
    points_reversed: int
    channel: str
    institution_code: str
    external_id: str
    biller_ref: str | None
    decline_reason: str | None
    created_at: str
    paid_at: str | None
    reversed_at: str | None
    credit_fen: int = 0  # what a bill credit paid of amount_fen
    collected_fen: int | None = None  # what the member paid: amount_fen - credit_fen


def bill_view(bill: orm.Bill, biller: orm.Biller) -> BillView:
    return BillView(
        bill_id=bill.bill_no,
        biller_code=biller.code,
        biller_name=biller.name,
        kind=biller.kind,
        account_no=bill.account_no,
        period=bill.period,
        amount_due_fen=bill.amount_due_fen,
        customer_name=bill.customer_name,
    )


def _moment(value: datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat()


def _receipt(payment: orm.BillPayment, bill_no: str, biller_name: str) -> Receipt:
    return Receipt(
        payment_no=payment.payment_no,
        status=payment.status,
        bill_id=bill_no,
        biller_code=payment.biller_code,
        biller_name=biller_name,
        account_no=payment.account_no,
        period=payment.period,
        amount_fen=payment.amount_fen,
        member_no=payment.member_no,
        points=payment.points,
        points_reversed=payment.points_reversed,
        channel=payment.channel,
        institution_code=payment.institution_code,
        external_id=payment.external_id,
        biller_ref=payment.biller_ref,
        decline_reason=payment.decline_reason,
        created_at=as_utc(payment.created_at).isoformat(),
        paid_at=_moment(payment.paid_at),
        reversed_at=_moment(payment.reversed_at),
        credit_fen=payment.credit_fen,
        collected_fen=payment.amount_fen - payment.credit_fen,
    )


def receipt(session: Session, payment: orm.BillPayment) -> Receipt:
    bill_no, biller_name = session.execute(
        select(orm.Bill.bill_no, orm.Biller.name)
        .join(orm.Biller, orm.Biller.code == orm.Bill.biller_code)
        .where(orm.Bill.id == payment.bill_id)
    ).one()
    return _receipt(payment, bill_no, biller_name)


def find_payment(session: Session, payment_no: str) -> orm.BillPayment | None:
    return session.scalars(
        select(orm.BillPayment).where(orm.BillPayment.payment_no == payment_no)
    ).one_or_none()


def payment_receipt(session: Session, payment_no: str) -> Receipt:
    """Raises UnknownPayment."""
    payment = find_payment(session, payment_no)
    if payment is None:
        raise UnknownPayment(f"no bill payment {payment_no!r}")
    return receipt(session, payment)


def member_activity(session: Session, member_id: int) -> list[ActivityEntry]:
    """The member's bill payments, newest first; a reversal is an entry of its own.

    Amounts are negative (money the member paid), a reversal gives them back; a
    payment the biller declined or never received took nothing and shows 0.
    """
    rows = session.execute(
        select(orm.BillPayment, orm.Biller.name)
        .join(orm.Biller, orm.Biller.code == orm.BillPayment.biller_code)
        .where(orm.BillPayment.member_id == member_id)
    ).all()
    entries: list[ActivityEntry] = []
    for payment, biller_name in rows:
        took_nothing = payment.status in (PaymentStatus.DECLINED, PaymentStatus.FAILED)
        entries.append(
            ActivityEntry(
                occurred_at=as_utc(payment.created_at),
                kind="bill",
                reference=payment.payment_no,
                title=f"{biller_name} {payment.period} 缴费",
                status=payment.status,
                channel=payment.channel,
                amount_fen=0 if took_nothing else -payment.amount_fen,
                points=payment.points,
            )
        )
        if payment.status == PaymentStatus.REVERSED and payment.reversed_at is not None:
            entries.append(
                ActivityEntry(
                    occurred_at=as_utc(payment.reversed_at),
                    kind="bill",
                    reference=payment.payment_no,
                    title=f"{biller_name} {payment.period} 缴费冲正",
                    status="reversal",
                    channel=payment.channel,
                    amount_fen=payment.amount_fen,
                    points=-payment.points_reversed,
                )
            )
    entries.sort(key=lambda entry: entry.occurred_at, reverse=True)
    return entries


def payment_owner(session: Session, payment_no: str) -> Owner | None:
    """A payment a member made themself belongs to no channel: only they (and staff) act on it."""
    row = session.execute(
        select(
            orm.BillPayment.member_id,
            orm.BillPayment.channel,
            orm.BillPayment.institution_code,
            orm.BillPayment.paid_by_member,
        ).where(orm.BillPayment.payment_no == payment_no)
    ).one_or_none()
    if row is None:
        return None
    return Owner(row[0], None if row[3] else row[1], None if row[3] else row[2])
