"""Mail: counter acceptance of S10-numbered items, their tracking events, the sender's points."""

from storefront_api.mail.domain import (
    SERVICES,
    InvalidTrackingNumber,
    MailStatus,
    TrackingNumberTaken,
    UnknownMailing,
    check_digit,
    normalise_tracking_no,
)
from storefront_api.mail.queries import TrackingView, member_activity, tracking
from storefront_api.mail.services import (
    AcceptanceCommand,
    EventCommand,
    accept_mailing,
    record_event,
)

__all__ = [
    "SERVICES",
    "AcceptanceCommand",
    "EventCommand",
    "InvalidTrackingNumber",
    "MailStatus",
    "TrackingNumberTaken",
    "TrackingView",
    "UnknownMailing",
    "accept_mailing",
    "check_digit",
    "member_activity",
    "normalise_tracking_no",
    "record_event",
    "tracking",
]
