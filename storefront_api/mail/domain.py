"""Mail rules: UPU S10 tracking numbers, which event times are possible, an item's status."""

from __future__ import annotations

from collections.abc import Iterable
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


class EventTimeInvalid(Invalid):
    code = "invalid-event-time"
    title = "Invalid event time"


class MailStatus(StrEnum):
    ACCEPTED = "accepted"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNED = "returned"


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
    # ASCII before upper(): "ſ".upper() is "S", and such a number is not an S10 one.
    compact = "".join(raw.split())
    number = compact.upper() if compact.isascii() else compact
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


def check_event_time(
    occurred_at: datetime, accepted_at: datetime, now: datetime, field: str = "occurred_at"
) -> None:
    """Refuse only an impossible scan time: no offset, in the future, before the acceptance.

    Any order and any skipped step are possible (a scanner may be offline for a day, an
    out-for-delivery scan is often missed), so neither is checked. The acceptance time is
    ours, recorded by our own counter, so a scan before it is a wrong clock, not a fact.
    Raises EventTimeInvalid naming `field`.
    """
    check_not_future(occurred_at, now, field)
    if occurred_at < accepted_at:
        raise EventTimeInvalid.field(
            field, f"must not be before the acceptance at {accepted_at.isoformat()}"
        )


@dataclass(frozen=True)
class RecordedEvent:
    """What the status rule needs of a recorded event; `sequence` is the order recorded."""

    status: MailStatus
    occurred_at: datetime
    sequence: int


def latest_event(events: Iterable[RecordedEvent]) -> RecordedEvent:
    """The event an item's status is taken from: the latest by `occurred_at`.

    Of events at the same instant, the one recorded last wins, so a correction scanned
    right after a mistaken scan with the same time counts. Raises ValueError when there
    are no events (every item has at least its acceptance).
    """
    return max(events, key=lambda event: (event.occurred_at, event.sequence))
