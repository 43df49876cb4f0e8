"""Pickup codes in use: issue one for an order, find the order a code collects, throttle guesses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from common.clock import as_utc
from common.errors import Conflict, Forbidden, NotFound, Throttled
from storefront_api.pickup.domain import Throttle, hash_pickup_code, new_pickup_code
from storefront_api.pickup.orm import PickupCode, PickupFailure


class WrongOutlet(Forbidden):
    code = "wrong-outlet"
    title = "This order is collected at another outlet"


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


def check_code(
    session: Session,
    *,
    code: str,
    outlet_code: str,
    caller: str,
    secret: str,
    today: date,
    now: datetime,
    throttle: Throttle,
) -> CodeMatch:
    """The order this code collects at this outlet, locked; or the reason it does not.

    A key that got `throttle.max_failures` codes wrong recently is refused (Throttled)
    before the code is even looked at. Unknown codes and codes of another outlet count
    as wrong. Raises Throttled, UnknownPickupCode, WrongOutlet, PickupCodeUsed,
    PickupCodeExpired. The caller records failures with `record_failure` in a
    transaction of its own, since the failing request's transaction rolls back.
    """
    failures = [
        as_utc(moment)
        for moment in session.scalars(
            select(PickupFailure.occurred_at).where(
                PickupFailure.caller == caller,
                PickupFailure.occurred_at > now - throttle.window,
            )
        )
    ]
    wait = throttle.retry_after(failures, now)
    if wait is not None:
        raise Throttled(f"too many wrong pickup codes from this key; retry in {wait} s", wait)
    row = session.scalars(
        select(PickupCode)
        .where(PickupCode.code_hash == hash_pickup_code(code, secret))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        raise UnknownPickupCode("no order waits for this pickup code")
    if row.outlet_code != outlet_code:
        raise WrongOutlet(f"this order is collected at {row.outlet_code}, not at {outlet_code}")
    if row.used_at is not None:
        raise PickupCodeUsed(f"this pickup code was used at {row.used_at.isoformat()}")
    if row.expires_on < today:
        raise PickupCodeExpired(f"this pickup code expired after {row.expires_on.isoformat()}")
    return CodeMatch(row.order_id, row.outlet_code, row.expires_on)


def mark_used(session: Session, order_id: int, now: datetime) -> None:
    row = session.scalars(select(PickupCode).where(PickupCode.order_id == order_id)).one()
    row.used_at = now


def record_failure(
    session: Session, caller: str, outlet_code: str, now: datetime, keep: Throttle
) -> None:
    """Note a wrong code for the throttle; entries older than its window are dropped."""
    session.execute(
        delete(PickupFailure).where(
            PickupFailure.caller == caller, PickupFailure.occurred_at <= now - keep.window
        )
    )
    session.add(PickupFailure(caller=caller, outlet_code=outlet_code, occurred_at=now))


def pickup_code_of(session: Session, order_id: int) -> PickupCode | None:
    return session.scalars(select(PickupCode).where(PickupCode.order_id == order_id)).one_or_none()
