"""Small rules every ledger use case shares: public ids and the business day to use."""

from __future__ import annotations

from datetime import date

from common.clock import business_date, utcnow


def as_of_day(as_of: date | None) -> date:
    return as_of if as_of is not None else business_date(utcnow())
