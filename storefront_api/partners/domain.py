"""Partner exchange rules: rates, minimums, daily limits, the life of an exchange line."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.errors import Conflict, Invalid, NotFound, RuleViolation


class ExchangeStatus(StrEnum):
    PENDING = "pending"  # points taken, not yet in a settlement file
    SENT = "sent"  # in a settlement file, waiting for the partner's answer
    SETTLED = "settled"  # the partner credited its currency
    REJECTED = "rejected"  # the partner refused: the points went back to their lots
    COMPLETED = "completed"  # an exchange in: the points were credited


class UnknownPartner(NotFound):
    code = "unknown-partner"
    title = "No such partner"


class ExchangeNotOffered(RuleViolation):
    code = "exchange-not-offered"
    title = "This partner does not offer that exchange"


class DailyLimitReached(RuleViolation):
    code = "partner-daily-limit"
    title = "The member's daily exchange limit with this partner is reached"


class AcknowledgementRefused(Conflict):
    code = "acknowledgement-refused"
    title = "The acknowledgement file does not fit the exchange lines"


@dataclass(frozen=True)
class PartnerTerms:
    code: str
    reward_code: str  # the hidden reward exchanges out redeem
    out_points_per_unit: int | None  # points per unit of the partner's currency
    out_min_points: int
    out_daily_limit_points: int
    in_partner_units: int | None  # so many of the partner's points ...
    in_points: int | None  # ... buy so many programme points

    def units_out(self, points: int, field: str = "points") -> int:
        """The partner's units for `points`. Raises ExchangeNotOffered, Invalid."""
        if self.out_points_per_unit is None:
            raise ExchangeNotOffered(f"{self.code} takes no points out")
        if points < self.out_min_points:
            raise Invalid.field(field, f"at least {self.out_min_points} points")
        if points % self.out_points_per_unit:
            raise Invalid.field(field, f"a multiple of {self.out_points_per_unit} points")
        return points // self.out_points_per_unit

    def points_in(self, partner_units: int, field: str = "partner_points") -> int:
        """Programme points bought with `partner_units`. Raises ExchangeNotOffered, Invalid."""
        if self.in_partner_units is None or self.in_points is None:
            raise ExchangeNotOffered(f"{self.code} sends no points in")
        if partner_units <= 0 or partner_units % self.in_partner_units:
            raise Invalid.field(field, f"a positive multiple of {self.in_partner_units}")
        return partner_units // self.in_partner_units * self.in_points
