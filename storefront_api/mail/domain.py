"""Mail rules: UPU S10 tracking numbers and the order a mail item's status may take."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from common.errors import Conflict, Invalid, NotFound

SERVICES = ("letter", "registered", "parcel", "ems")
SERVICE_TITLES = {
    "letter": "平信 Letter",
    "registered": "挂号信 Registered letter",
    "parcel": "包裹 Parcel",
    "ems": "特快专递 EMS",
}
# UPU S10 weights, applied to the eight serial digits from the left.
SERIAL_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
S10_LENGTH = 13
# Counter and scanner clocks are not exact; a few minutes ahead of ours is not "the future".
CLOCK_SKEW = timedelta(minutes=5)


class InvalidTrackingNumber(Invalid):
    code = "invalid-tracking-number"
    title = "Invalid tracking number"


class UnknownMailing(NotFound):
    code = "unknown-mailing"
    title = "Unknown mail item"


class TrackingNumberTaken(Conflict):
    code = "tracking-number-taken"
    title = "Tracking number already accepted"


class ForbiddenTransition(Conflict):
    code = "forbidden-transition"
    title = "Status change not allowed"


class EventTimeInvalid(Invalid):
    code = "invalid-event-time"
    title = "Invalid event time"


class MailStatus(StrEnum):
    ACCEPTED = "accepted"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNED = "returned"


NEXT_STATUSES: Mapping[MailStatus, frozenset[MailStatus]] = {
    MailStatus.ACCEPTED: frozenset({MailStatus.IN_TRANSIT}),
    # A parcel is scanned at every sorting centre it passes, so in_transit repeats.
    MailStatus.IN_TRANSIT: frozenset(
        {MailStatus.IN_TRANSIT, MailStatus.OUT_FOR_DELIVERY, MailStatus.RETURNED}
    ),
    MailStatus.OUT_FOR_DELIVERY: frozenset({MailStatus.DELIVERED, MailStatus.RETURNED}),
    MailStatus.DELIVERED: frozenset(),
    MailStatus.RETURNED: frozenset(),
}


def check_digit(serial: str) -> int:
    """The S10 check digit of an 8-digit serial.

    11 - (sum of digit * weight, weights 8,6,4,2,3,5,9,7) mod 11; a result of 10 is
    written 0 and 11 is written 5. Raises ValueError for anything but 8 ASCII digits.
    """
    if len(serial) != len(SERIAL_WEIGHTS) or not (serial.isascii() and serial.isdigit()):
        raise ValueError(f"an S10 serial is 8 digits, not {serial!r}")
    weighted = sum(
        int(digit) * weight for digit, weight in zip(serial, SERIAL_WEIGHTS, strict=True)
    )
    digit = 11 - weighted % 11
    return {10: 0, 11: 5}.get(digit, digit)


def _ascii_letters(text: str) -> bool:
    return text.isascii() and text.isalpha()


def normalise_tracking_no(raw: str, field: str = "tracking_no") -> str:
    """The stored form of an S10 number: upper case, spaces of the printed form removed.

    The shape is 2 letters (service indicator), 8 digits (serial), 1 check digit and
    2 letters (ISO 3166 country code), e.g. EE123456785CN. Raises InvalidTrackingNumber
    naming `field`, saying whether the shape or the check digit is wrong.
    """
    number = "".join(raw.split()).upper()
    if len(number) != S10_LENGTH:
        reason = (
            f"must be {S10_LENGTH} characters (2 letters, 9 digits, 2 letters, "
            f"e.g. EE123456785CN), not {len(number)}"
        )
    elif not _ascii_letters(number[:2]):
        reason = "must start with 2 letters (the service indicator)"
    elif not (number[2:11].isascii() and number[2:11].isdigit()):
        reason = "characters 3 to 11 must be digits (8-digit serial and check digit)"
    elif not _ascii_letters(number[11:]):
        reason = "must end with a 2-letter ISO country code"
    else:
        expected = check_digit(number[2:10])
        if int(number[10]) == expected:
            return number
        reason = f"check digit {number[10]} is wrong: serial {number[2:10]} gives {expected}"
    raise InvalidTrackingNumber.field(field, reason)


def check_service(service: str, field: str = "service") -> None:
    if service not in SERVICES:
        raise Invalid.field(field, f"must be one of {', '.join(SERVICES)}")


def check_not_future(moment: datetime, now: datetime, field: str) -> None:
    """Raises EventTimeInvalid when `moment` lacks an offset or lies ahead of `now`."""
    if moment.tzinfo is None:
        raise EventTimeInvalid.field(field, "must carry a UTC offset")
    if moment > now + CLOCK_SKEW:
        raise EventTimeInvalid.field(field, "must not be in the future")


@dataclass(frozen=True)
class TrackingState:
    """Where a mail item stands: what the rules need to accept or refuse its next event."""

    status: MailStatus
    accepted_at: datetime
    last_event_at: datetime

    def check_next(
        self, status: MailStatus, occurred_at: datetime, now: datetime, field: str = "occurred_at"
    ) -> None:
        """Refuse an event that may not follow, or that is timed before what it follows.

        Allowed: accepted → in_transit (repeatable) → out_for_delivery → delivered or
        returned; returned may also follow in_transit; nothing follows delivered or
        returned. Events arrive in the order they happened: none before acceptance, none
        before the last recorded event (equal times are allowed), none in the future.
        Raises ForbiddenTransition (the status) before EventTimeInvalid (the time).
        """
        allowed = NEXT_STATUSES[self.status]
        if status not in allowed:
            if not allowed:
                reason = f"the item is already {self.status.value}; no event may follow"
            else:
                names = " or ".join(sorted(next_status.value for next_status in allowed))
                reason = (
                    f"an item that is {self.status.value} may next be {names}, not {status.value}"
                )
            raise ForbiddenTransition(reason)
        check_not_future(occurred_at, now, field)
        if occurred_at < self.accepted_at:
            raise EventTimeInvalid.field(
                field, f"must not be before the acceptance at {self.accepted_at.isoformat()}"
            )
        if occurred_at < self.last_event_at:
            raise EventTimeInvalid.field(
                field, f"must not be before the last event at {self.last_event_at.isoformat()}"
            )
