"""Partner exchange use cases: points out to a partner, points in from one, the daily
settlement file and the partner's acknowledgement of it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

import points_engine
from common import idempotency
from common.clock import business_date, to_utc, utcnow
from common.errors import Invalid, UnknownReference
from common.idempotency import Written
from common.ownership import Owner
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from storefront_api.partners.domain import (
    AcknowledgementRefused,
    DailyLimitReached,
    ExchangeStatus,
    PartnerTerms,
)
from storefront_api.partners.orm import Partner, PartnerExchange, PartnerReward
from storefront_api.partners.reference import (
    PARTNER_REWARDS,
    PARTNERS,
    PartnerRewardSeed,
    PartnerSeed,
)

SETTLEMENT_COLUMNS = ("exchange_no", "business_date", "partner_member_no", "units", "points")
ANSWERS = (ExchangeStatus.SETTLED.value, ExchangeStatus.REJECTED.value)


@dataclass(frozen=True)
class ExchangeOutCommand:
    external_id: str
    member_no: str
    partner_code: str
    points: int
    partner_member_no: str


@dataclass(frozen=True)
class ExchangeInCommand:
    external_id: str
    member_no: str
    partner_code: str
    partner_points: int
    partner_member_no: str


@dataclass(frozen=True)
class Exchange:
    exchange_no: str
    direction: str
    partner_code: str
    member_no: str
    partner_member_no: str
    points: int
    partner_units: int
    status: str
    business_date: date
    available: int  # the member's available points after it


@dataclass(frozen=True)
class Answer:
    exchange_no: str
    result: str
    reason: str | None


@dataclass(frozen=True)
class Acknowledged:
    settled: int
    rejected: int
    unchanged: int
    points_returned: int


def load_partners(
    uow: UnitOfWork,
    seeds: tuple[PartnerSeed, ...] = PARTNERS,
    rewards: tuple[PartnerRewardSeed, ...] = PARTNER_REWARDS,
) -> None:
    """Add the partners not yet known, each with its hidden reward and ledger account, and
    which catalogue rewards arrive in which partner's currency."""
    for seed in seeds:
        points_engine.ensure_partner_reward(uow, seed.reward_code, seed.name, seed.name_en)
        if uow.session.get(Partner, seed.code) is None:
            uow.session.add(Partner(**seed.__dict__, active=True))
    uow.session.flush()
    for reward in rewards:
        if uow.session.get(PartnerReward, reward.reward_code) is None:
            uow.session.add(PartnerReward(**reward.__dict__))
    uow.session.flush()


def _terms(session: Session, code: str) -> PartnerTerms:
    partner = session.get(Partner, code)
    if partner is None or not partner.active:
        raise UnknownReference.field("partner_code", "unknown partner")
    return PartnerTerms(
        partner.code,
        partner.reward_code,
        partner.out_points_per_unit,
        partner.out_min_points,
        partner.out_daily_limit_points,
        partner.in_partner_units,
        partner.in_points,
    )


def exchange_out(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    command: ExchangeOutCommand,
    *,
    scope: str,
    channel: str | None,
    now: datetime | None = None,
) -> Written[Exchange]:
    """Spend points into a partner's currency (FIFO by expiry), once per scope and
    external_id. The line waits for the day's settlement file.

    Raises UnknownReference, ExchangeNotOffered, Invalid (minimum, multiple),
    InsufficientPoints, PointsDebtOutstanding, DailyLimitReached (all naming the field).
    """
    moment = to_utc(now) if now is not None else utcnow()

    def effect() -> Exchange:
        session = uow.session
        terms = _terms(session, command.partner_code)
        units = terms.units_out(command.points)
        member = directory.resolve(
            uow, points_engine.MemberRef(member_no=command.member_no), "member_no"
        )
        day = business_date(moment)
        exchange_no = public_no("PX")
        # Spending locks the member's accounts, so the same member's exchanges queue
        # here and the daily sum below sees every one committed before.
        redemption_no = points_engine.pay_with_points(
            uow,
            member_id=member.member_id,
            points=command.points,
            cash_fen=0,
            reference=f"partner:{exchange_no}",
            channel=channel,
            field="points",
            as_of=day,
            reward_code=terms.reward_code,
        )
        _check_daily_limit(session, terms, member.member_id, day, command.points, "points")
        return _record(
            uow,
            "out",
            exchange_no,
            terms.code,
            member,
            command,
            command.points,
            units,
            ExchangeStatus.PENDING,
            day,
            redemption_no,
            channel,
            moment,
        )

    return idempotency.once(
        uow.session,
        idempotency.Key(scope, "partner_exchange_out", command.external_id),
        command,
        effect,
        kind=Exchange,
    )


def _check_daily_limit(
    session: Session, terms: PartnerTerms, member_id: int, day: date, points: int, field: str
) -> None:
    """Raises DailyLimitReached when `points` more would pass the member's limit today.

    Run after the member's accounts are locked, so the same member's exchanges queue and
    the sum sees every one committed before."""
    spent_today = session.scalar(
        select(func.coalesce(func.sum(PartnerExchange.points), 0)).where(
            PartnerExchange.member_id == member_id,
            PartnerExchange.partner_code == terms.code,
            PartnerExchange.direction == "out",
            PartnerExchange.business_date == day,
            PartnerExchange.status != ExchangeStatus.REJECTED.value,
        )
    )
    if int(spent_today or 0) + points > terms.out_daily_limit_points:
        left = max(terms.out_daily_limit_points - int(spent_today or 0), 0)
        raise DailyLimitReached(
            f"{terms.code} takes at most {terms.out_daily_limit_points} points a day per "
            f"member; {left} left today",
            Invalid.field(field, f"at most {left} more points today").errors,
        )


def partner_of_reward(session: Session, reward_code: str) -> tuple[str, int] | None:
    """(partner code, units) a catalogue reward arrives as, if it is a partner's."""
    row = session.get(PartnerReward, reward_code)
    return None if row is None else (row.partner_code, row.units)


def deliver_reward(
    uow: UnitOfWork,
    member: points_engine.MemberInfo,
    redemption: points_engine.Redeemed,
    partner_member_no: str,
    *,
    external_id: str,
    channel: str | None,
    now: datetime | None = None,
) -> Exchange:
    """The exchange line a redeemed partner reward becomes (500 miles for the member's
    airline number), waiting for the day's settlement file like any exchange out; a
    line the partner rejects gives the redemption's points back. Counts towards the
    member's daily limit. Raises UnknownReference (no partner takes this reward),
    DailyLimitReached (naming `reward_code`)."""
    session = uow.session
    moment = to_utc(now) if now is not None else utcnow()
    found = partner_of_reward(session, redemption.reward_code)
    if found is None:
        raise UnknownReference.field("reward_code", "no partner takes this reward")
    partner_code, units = found
    terms = _terms(session, partner_code)
    day = business_date(moment)
    _check_daily_limit(
        session, terms, member.member_id, day, redemption.points_spent, "reward_code"
    )
    command = ExchangeOutCommand(
        external_id, member.member_no, partner_code, redemption.points_spent, partner_member_no
    )
    return _record(
        uow,
        "out",
        public_no("PX"),
        partner_code,
        member,
        command,
        redemption.points_spent,
        units * redemption.quantity,
        ExchangeStatus.PENDING,
        day,
        redemption.redemption_id,
        channel,
        moment,
    )


def days_with_pending_lines(session: Session, partner_code: str, *, before: date) -> list[date]:
    """Business days before `before` whose lines out to the partner were never answered."""
    return list(
        session.scalars(
            select(PartnerExchange.business_date)
            .where(
                PartnerExchange.partner_code == partner_code,
                PartnerExchange.direction == "out",
                PartnerExchange.business_date < before,
                PartnerExchange.status.in_(
                    [ExchangeStatus.PENDING.value, ExchangeStatus.SENT.value]
                ),
            )
            .distinct()
            .order_by(PartnerExchange.business_date)
        )
    )


def exchange_of_redemption(session: Session, redemption_no: str) -> tuple[str, str] | None:
    """(exchange_no, status) of the exchange line a redemption became, if any."""
    row = session.execute(
        select(PartnerExchange.exchange_no, PartnerExchange.status).where(
            PartnerExchange.redemption_no == redemption_no
        )
    ).first()
    return None if row is None else (row[0], row[1])


def exchange_in(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    command: ExchangeInCommand,
    *,
    now: datetime | None = None,
) -> Written[Exchange]:
    """Credit programme points bought with a partner's points, once per the partner's
    transaction id (`external_id`); finance books it from the partner's file (the route's
    audit log names who). Raises UnknownReference, ExchangeNotOffered, Invalid."""
    moment = to_utc(now) if now is not None else utcnow()

    def effect() -> Exchange:
        session = uow.session
        terms = _terms(session, command.partner_code)
        points = terms.points_in(command.partner_points)
        member = directory.resolve(
            uow, points_engine.MemberRef(member_no=command.member_no), "member_no"
        )
        day = business_date(moment)
        exchange_no = public_no("PX")
        points_engine.credit_from_partner(
            uow,
            member_id=member.member_id,
            partner_reward_code=terms.reward_code,
            points=points,
            reference=f"partner_in:{exchange_no}",
            as_of=day,
        )
        return _record(
            uow,
            "in",
            exchange_no,
            terms.code,
            member,
            command,
            points,
            command.partner_points,
            ExchangeStatus.COMPLETED,
            day,
            None,
            None,  # booked by finance, not by a channel
            moment,
        )

    return idempotency.once(
        uow.session,
        idempotency.Key(
            f"partner:{command.partner_code}", "partner_exchange_in", command.external_id
        ),
        command,
        effect,
        kind=Exchange,
    )


def _record(
    uow: UnitOfWork,
    direction: str,
    exchange_no: str,
    partner_code: str,
    member: points_engine.MemberInfo,
    command: ExchangeOutCommand | ExchangeInCommand,
    points: int,
    units: int,
    status: ExchangeStatus,
    day: date,
    redemption_no: str | None,
    channel: str | None,
    moment: datetime,
) -> Exchange:
    session = uow.session
    session.add(
        PartnerExchange(
            exchange_no=exchange_no,
            direction=direction,
            partner_code=partner_code,
            member_id=member.member_id,
            partner_member_no=command.partner_member_no,
            points=points,
            partner_units=units,
            status=status.value,
            business_date=day,
            redemption_no=redemption_no,
            channel=channel,
            external_id=command.external_id,
            created_at=moment,
        )
    )
    session.flush()
    summary = points_engine.queries.points_summary(session, member.member_id, day)
    return Exchange(
        exchange_no,
        direction,
        partner_code,
        member.member_no,
        command.partner_member_no,
        points,
        units,
        status.value,
        day,
        int(summary["available"]),
    )


def settlement_file(uow: UnitOfWork, partner_code: str, day: date) -> str:
    """The day's exchange lines to the partner as CSV (those not answered yet: sending the
    file again lists them again); they are marked sent."""
    session = uow.session
    _terms(session, partner_code)
    rows = session.execute(
        select(
            PartnerExchange.exchange_no,
            PartnerExchange.business_date,
            PartnerExchange.partner_member_no,
            PartnerExchange.partner_units,
            PartnerExchange.points,
        )
        .where(
            PartnerExchange.partner_code == partner_code,
            PartnerExchange.direction == "out",
            PartnerExchange.business_date == day,
            PartnerExchange.status.in_([ExchangeStatus.PENDING.value, ExchangeStatus.SENT.value]),
        )
        .order_by(PartnerExchange.exchange_no)
        .with_for_update()
    ).all()
    session.execute(
        update(PartnerExchange)
        .where(
            PartnerExchange.exchange_no.in_([row[0] for row in rows]),
            PartnerExchange.status == ExchangeStatus.PENDING.value,
        )
        .values(status=ExchangeStatus.SENT.value)
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SETTLEMENT_COLUMNS)
    for exchange_no, business_day, partner_member_no, units, points in rows:
        writer.writerow([exchange_no, str(business_day), partner_member_no, units, points])
    return out.getvalue()


def parse_acknowledgement(text: str) -> list[Answer]:
    """`exchange_no,result,reason` rows (result settled or rejected). Raises Invalid
    naming the line."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"exchange_no", "result"} <= set(reader.fieldnames):
        raise Invalid.field("file", "the header must name exchange_no and result (and reason)")
    answers = []
    for number, row in enumerate(reader, start=2):
        result = (row.get("result") or "").strip()
        exchange_no = (row.get("exchange_no") or "").strip()
        if not exchange_no or result not in ANSWERS:
            raise Invalid.field(
                f"line {number}", "an exchange_no and a result of settled or rejected"
            )
        answers.append(Answer(exchange_no, result, (row.get("reason") or "").strip() or None))
    if len({a.exchange_no for a in answers}) != len(answers):
        raise Invalid.field("file", "names an exchange line twice")
    return answers


def acknowledge(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    partner_code: str,
    answers: list[Answer],
) -> Acknowledged:
    """Apply the partner's answers, all or none: settled lines are done, rejected ones give
    the member exactly their points back, to the lots they came from. An answer already
    applied is skipped; one that contradicts it refuses the file."""
    session = uow.session
    _terms(session, partner_code)
    lines = {
        line.exchange_no: line
        for line in session.scalars(
            select(PartnerExchange)
            .where(PartnerExchange.exchange_no.in_([a.exchange_no for a in answers]))
            .with_for_update()
        )
    }
    for answer in answers:
        line = lines.get(answer.exchange_no)
        if line is None or line.partner_code != partner_code or line.direction != "out":
            raise AcknowledgementRefused(
                f"{answer.exchange_no} is not a line sent to {partner_code}"
            )
        if line.status == ExchangeStatus.PENDING.value:
            raise AcknowledgementRefused(f"{answer.exchange_no} was never sent in a file")
        if line.status in ANSWERS and line.status != answer.result:
            raise AcknowledgementRefused(
                f"{answer.exchange_no} was already {line.status}, the file says {answer.result}"
            )
    settled = rejected = unchanged = returned = 0
    now = utcnow()
    for answer in answers:
        line = lines[answer.exchange_no]
        if line.status == answer.result:
            unchanged += 1
            continue
        if answer.result == ExchangeStatus.REJECTED.value:
            assert line.redemption_no is not None
            back = points_engine.cancel_redemption(uow, directory, line.redemption_no)
            returned += back.points_returned
            line.reject_reason = (answer.reason or "")[:200] or None
            rejected += 1
        else:
            settled += 1
        line.status, line.answered_at = answer.result, now
    session.flush()
    return Acknowledged(settled, rejected, unchanged, returned)


def exchange_owner(session: Session, exchange_no: str) -> Owner | None:
    row = session.execute(
        select(PartnerExchange.member_id, PartnerExchange.channel).where(
            PartnerExchange.exchange_no == exchange_no
        )
    ).one_or_none()
    return None if row is None else Owner(member_id=row[0], channel=row[1])


def exchange_view(session: Session, exchange_no: str) -> dict[str, object] | None:
    line = session.scalars(
        select(PartnerExchange).where(PartnerExchange.exchange_no == exchange_no)
    ).one_or_none()
    if line is None:
        return None
    return {
        "exchange_no": line.exchange_no,
        "direction": line.direction,
        "partner_code": line.partner_code,
        "partner_member_no": line.partner_member_no,
        "points": line.points,
        "partner_units": line.partner_units,
        "status": line.status,
        "business_date": line.business_date.isoformat(),
        "reject_reason": line.reject_reason,
    }


def list_partners(session: Session) -> list[dict[str, object]]:
    return [
        {
            "code": p.code,
            "name": p.name,
            "name_en": p.name_en,
            "kind": p.kind,
            "unit_name": p.unit_name,
            "out": None
            if p.out_points_per_unit is None
            else {
                "points_per_unit": p.out_points_per_unit,
                "min_points": p.out_min_points,
                "daily_limit_points": p.out_daily_limit_points,
            },
            "in": None
            if p.in_partner_units is None
            else {"partner_points": p.in_partner_units, "points": p.in_points},
        }
        for p in session.scalars(
            select(Partner).where(Partner.active.is_(True)).order_by(Partner.code)
        )
    ]
