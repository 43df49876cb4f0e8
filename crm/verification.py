"""One-time codes that prove a person holds a phone: sent by SMS, used once, throttled.

Self-registration by phone and a member linking a card or a third-party id to
themselves need one. A code is bound to what it was asked for (`purpose` and
`subject`, e.g. the card number being linked), so a code sent for one action cannot
authorise another; only an HMAC of it is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from common import throttle
from common.clock import as_utc, utcnow
from common.errors import Invalid, Throttled
from common.sms import SmsSender
from common.unit_of_work import UnitOfWork
from crm.adapters.orm import Identifier, VerificationCode
from crm.domain.errors import IdentifierTaken, VerificationCodeRefused
from crm.domain.identity import normalise_phone

PURPOSES = ("register", "link_identifier")
CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
# One code a minute per phone and purpose, ten a day per phone (SMS cost, and nobody is
# flooded with texts); five tries per phone and purpose in ten minutes.
SEND_SPACING = throttle.Limit(attempts=1, window=timedelta(seconds=60))
SEND_DAILY = throttle.Limit(attempts=10, window=timedelta(days=1))
TRIES = throttle.Limit(attempts=5, window=timedelta(minutes=10))


def _digest(secret: str, phone: str, purpose: str, subject: str, code: str) -> str:
    message = f"{phone}|{purpose}|{subject}|{code}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def send_code(
    new_uow: Callable[[], UnitOfWork],
    sender: SmsSender,
    secret: str,
    phone: str,
    purpose: str,
    subject: str = "",
    *,
    draw: Callable[[int], int] = secrets.randbelow,
) -> int:
    """Send a fresh code to `phone` for `purpose` (+ `subject`); returns its lifetime in s.

    It runs its own transaction: a refused request still counts against the phone, and
    the code goes out only once it is stored. Raises Invalid (phone, purpose),
    IdentifierTaken (registering a phone already registered, as POST /members would
    say), Throttled (asked again too soon or too often).
    """
    if purpose not in PURPOSES:
        raise Invalid.field("purpose", f"must be one of {', '.join(PURPOSES)}")
    phone = normalise_phone(phone)
    with new_uow() as uow:
        session = uow.session
        if purpose == "register" and session.scalar(
            select(Identifier.id).where(Identifier.type == "phone", Identifier.value == phone)
        ):
            raise IdentifierTaken(
                "this phone is already registered",
                Invalid.field("phone", "already registered").errors,
            )
        spacing_key = f"otp-send:{phone}:{purpose}"
        for key, limit in ((spacing_key, SEND_SPACING), (f"otp-day:{phone}", SEND_DAILY)):
            hit = throttle.hit(session, key, limit)
            if hit.over(limit):
                uow.commit()  # the refused request still counts
                raise Throttled(
                    f"a code was sent to this phone recently; retry in {hit.retry_after} s",
                    hit.retry_after,
                )
        code = f"{draw(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        now = utcnow()
        session.add(
            VerificationCode(
                phone=phone,
                purpose=purpose,
                subject=subject,
                code_sha256=_digest(secret, phone, purpose, subject, code),
                attempts=0,
                created_at=now,
                expires_at=now + VALID_FOR,
            )
        )
        uow.commit()
    minutes = VALID_FOR.seconds // 60
    sender.send(phone, f"【会员中心】验证码 {code}，{minutes} 分钟内有效。", code=code)
    return int(VALID_FOR.total_seconds())


def count_try(new_uow: Callable[[], UnitOfWork], phone: str, purpose: str) -> None:
    """Count one try at a code, committed on its own before the code is checked, so a burst
    of guesses is counted one by one. Raises Throttled."""
    key = f"otp-try:{normalise_phone(phone)}:{purpose}"
    with new_uow() as uow:
        hit = throttle.hit(uow.session, key, TRIES)
        uow.commit()
    if hit.over(TRIES):
        raise Throttled(f"too many wrong codes; retry in {hit.retry_after} s", hit.retry_after)


def use_code(
    uow: UnitOfWork, secret: str, phone: str, purpose: str, subject: str, code: str | None
) -> None:
    """Mark the matching unexpired code used, in the caller's transaction (so it is used
    only if the action it proves is done). Raises Invalid naming `verification_code`."""
    if not code:
        raise VerificationCodeRefused.field(
            "verification_code", "needed: ask POST /api/v1/verification-codes to send one"
        )
    phone = normalise_phone(phone)
    now = utcnow()
    digest = _digest(secret, phone, purpose, subject, code)
    candidates = uow.session.scalars(
        select(VerificationCode)
        .where(
            VerificationCode.phone == phone,
            VerificationCode.purpose == purpose,
            VerificationCode.subject == subject,
            VerificationCode.used_at.is_(None),
        )
        .with_for_update()
    ).all()
    for row in candidates:
        if as_utc(row.expires_at) > now and hmac.compare_digest(row.code_sha256, digest):
            row.used_at = now
            throttle.forgive(uow.session, f"otp-try:{phone}:{purpose}")
            return
    raise VerificationCodeRefused.field("verification_code", "wrong or expired code")
