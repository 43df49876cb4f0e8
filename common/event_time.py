"""When a channel's event may have happened: not before the programme, not in the future."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from common.clock import SHANGHAI
from common.errors import FieldError, RuleViolation


class EventTimeOutOfRange(RuleViolation):
    """A time outside the window is not malformed input but a claim the programme cannot
    accept (it would create lots that expire decades away), so it is a rule violation
    naming the field, and the window is configuration (common.settings)."""

    code = "event-time-out-of-range"
    title = "Event time outside the programme's window"


@dataclass(frozen=True)
class EventWindow:
    """From the start of the programme (Asia/Shanghai) to `ahead` past now (clock drift)."""

    programme_start: date
    ahead: timedelta

    def check(self, moment: datetime, now: datetime, field: str = "occurred_at") -> None:
        """Raises EventTimeOutOfRange naming `field`. Compares aware datetimes only, which
        never overflows, so year 1 and year 9999 are refused, not crashed on."""
        earliest = datetime.combine(self.programme_start, time.min, SHANGHAI)
        if moment.tzinfo is None:
            return  # the caller's own check names a missing offset
        if moment < earliest:
            message = f"must not be before the programme started ({self.programme_start})"
        elif moment > now + self.ahead:
            message = f"must not be more than {int(self.ahead.total_seconds())} s in the future"
        else:
            return
        raise EventTimeOutOfRange(f"{field}: {message}", [FieldError(field, message)])
