"""Pickup codes in use: issue one for an order, find the order a code collects, throttle guesses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import throttle
from common.errors import Conflict, NotFound, Throttled
from storefront_api.pickup.domain import hash_pickup_code, new_pickup_code
from storefront_api.pickup.orm import PickupCode


class PickupCodeUsed(Conflict):
    code = "pickup-code-used"
    title = "Pickup code already used"


class PickupCodeExpired(Conflict):
    code = "pickup-code-expired"
    title = "Pickup code expired"


class UnknownPickupCode(NotFound):
    code = "unknown-pickup-code"
    title = "No order has this pickup code"


def issue_code(
    session: Session, order_id: int, outlet_code: str, expires_on: date, secret: str, now: datetime
) -> str:
    """A fresh code for the order (replacing any earlier one); only its hash is stored."""
    for _ in range(10):
        code = new_pickup_code()
        digest = hash_pickup_code(code, secret)
        if session.scalar(select(PickupCode.id).where(PickupCode.code_hash == digest)) is None:
            break
    else:  # pragma: no cover - ten collisions in 10^8 codes
        raise Conflict("could not find a free pickup code; try again")
    row = session.scalars(select(PickupCode).where(PickupCode.order_id == order_id)).one_or_none()
    if row is None:
        session.add(
            PickupCode(
                order_id=order_id,
                code_hash=digest,
                outlet_code=outlet_code,
                expires_on=expires_on,
                created_at=now,
            )
        )
    else:
        row.code_hash, row.expires_on, row.used_at, row.created_at = digest, expires_on, None, now
    session.flush()
    return code


@dataclass(frozen=True)
class CodeMatch:
    order_id: int
    outlet_code: str
    expires_on: date


# Wrong codes an outlet may try in a window, whichever of its keys tries them. The
# attempt is counted before the code is looked at (see common.throttle), and a right
# code gives its attempt back, so busy outlets are never slowed by their own pickups.
WRONG_CODE_LIMIT = throttle.Limit(attempts=5, window=timedelta(minutes=10))


def throttle_key(outlet_code: str) -> str:
    return f"pickup-code:{outlet_code}"


def count_attempt(session: Session, outlet_code: str, now: datetime) -> None:
    """Count one code attempt at an outlet; raises Throttled past the limit.

    The caller commits this on its own, before the code is checked, so parallel guesses
    are counted one by one.
    """
    hit = throttle.hit(session, throttle_key(outlet_code), WRONG_CODE_LIMIT, now=now)
    if hit.over(WRONG_CODE_LIMIT):
        raise Throttled(
            f"too many wrong pickup codes at {outlet_code}; retry in {hit.retry_after} s",
            hit.retry_after,
        )


def check_code(
    session: Session, *, code: str, outlet_code: str, secret: str, today: date
) -> CodeMatch:
    """The order this code collects at this outlet, locked; or the reason it does not.

    A code is only looked up among the outlet's own codes, so a code of another outlet
    is as unknown as one never issued: the answer tells a guesser nothing. Raises
    UnknownPickupCode, PickupCodeUsed, PickupCodeExpired.
    """
    row = session.scalars(
        select(PickupCode)
        .where(
            PickupCode.code_hash == hash_pickup_code(code, secret),
            PickupCode.outlet_code == outlet_code,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise UnknownPickupCode("no order waits at this outlet for this pickup code")
    if row.used_at is not None:
        raise PickupCodeUsed(f"this pickup code was used at {row.used_at.isoformat()}")
    if row.expires_on < today:
        raise PickupCodeExpired(f"this pickup code expired after {row.expires_on.isoformat()}")
    return CodeMatch(row.order_id, row.outlet_code, row.expires_on)


def mark_used(session: Session, order_id: int, now: datetime) -> None:
    row = session.scalars(select(PickupCode).where(PickupCode.order_id == order_id)).one()
    row.used_at = now
    give_back_attempt(session, row.outlet_code)


def give_back_attempt(session: Session, outlet_code: str) -> None:
    """A right code (used now, or refused for another reason) is no guess."""
    throttle.give_back(session, throttle_key(outlet_code))


def pickup_code_of(session: Session, order_id: int) -> PickupCode | None:
    return session.scalars(select(PickupCode).where(PickupCode.order_id == order_id)).one_or_none()
