"""Subscription arithmetic: periods over month ends and leap years, prices, pro-rata refunds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from common.errors import Invalid
from points_engine.domain.lots import cumulative_reversal
from storefront_api.subscriptions.domain import (
    Period,
    SubscriptionFullyDelivered,
    Term,
    add_months,
    delivered_charge_fen,
    parse_term,
    price_fen,
    quote_cancellation,
    start_date_errors,
)

# -- periods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_on", "term", "ends_on", "days"),
    [
        (date(2027, 1, 1), Term.MONTHLY, date(2027, 1, 31), 31),
        (date(2027, 2, 1), Term.MONTHLY, date(2027, 2, 28), 28),
        (date(2028, 2, 1), Term.MONTHLY, date(2028, 2, 29), 29),
        (date(2027, 4, 1), Term.MONTHLY, date(2027, 4, 30), 30),
        (date(2026, 12, 1), Term.MONTHLY, date(2026, 12, 31), 31),
        (date(2026, 12, 1), Term.QUARTERLY, date(2027, 2, 28), 31 + 31 + 28),
        (date(2027, 12, 1), Term.QUARTERLY, date(2028, 2, 29), 31 + 31 + 29),
        (date(2027, 11, 1), Term.QUARTERLY, date(2028, 1, 31), 30 + 31 + 31),
        (date(2027, 1, 1), Term.ANNUAL, date(2027, 12, 31), 365),
        (date(2028, 1, 1), Term.ANNUAL, date(2028, 12, 31), 366),
        (date(2027, 3, 1), Term.ANNUAL, date(2028, 2, 29), 366),
        (date(2028, 3, 1), Term.ANNUAL, date(2029, 2, 28), 365),
        (date(2099, 12, 1), Term.ANNUAL, date(2100, 11, 30), 365),
        (date(2100, 2, 1), Term.MONTHLY, date(2100, 2, 28), 28),
        (date(2000, 2, 1), Term.MONTHLY, date(2000, 2, 29), 29),
    ],
)
def test_a_period_ends_the_day_before_the_same_day_months_later(starts_on, term, ends_on, days):
    period = Period.of(starts_on, term)
    assert period.ends_on == ends_on
    assert period.days == days


def test_months_are_added_only_to_the_first_of_a_month():
    assert add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 1), 24) == date(2028, 1, 1)
    with pytest.raises(ValueError):
        add_months(date(2027, 1, 31), 1)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 1, 1)), st.sampled_from(Term))
def test_consecutive_terms_tile_the_calendar(day, term):
    first = Period.of(day.replace(day=1), term)
    following = Period.of(first.ends_on + timedelta(days=1), term)
    assert following.starts_on.day == 1
    assert following.starts_on == first.ends_on + timedelta(days=1)
    assert 28 <= first.days / {"monthly": 1, "quarterly": 3, "annual": 12}[term] <= 31


# -- start dates and terms -----------------------------------------------------------------


def test_start_date_is_the_first_of_a_month_not_in_the_past():
    today = date(2026, 11, 25)
    assert start_date_errors(date(2026, 12, 1), today) == []
    assert [e.errors[0].field for e in start_date_errors(date(2026, 12, 2), today)] == [
        "start_date"
    ]
    assert "first day" in start_date_errors(date(2026, 12, 31), today)[0].detail
    assert "before today" in start_date_errors(date(2026, 11, 1), today)[0].detail
    assert len(start_date_errors(date(2026, 10, 15), today)) == 2


def test_the_first_of_the_month_may_start_the_same_day():
    assert start_date_errors(date(2026, 12, 1), date(2026, 12, 1)) == []
    assert start_date_errors(date(2026, 12, 1), date(2026, 12, 2)) != []


def test_unknown_terms_name_the_field():
    assert parse_term("quarterly") is Term.QUARTERLY
    with pytest.raises(Invalid) as raised:
        parse_term("weekly")
    assert raised.value.errors[0].field == "term"


# -- prices --------------------------------------------------------------------------------


def test_prices_of_each_term():
    assert price_fen(4200, Term.MONTHLY) == 4200
    assert price_fen(4200, Term.QUARTERLY) == 12600
    # 12 x 42.00 = 504.00 yuan, 5% off = 478.80 yuan
    assert price_fen(4200, Term.ANNUAL) == 47880
    # 12 x 0.33 = 3.96 yuan; 5% is 19.8 fen, of which 19 are given: 3.77 yuan
    assert price_fen(33, Term.ANNUAL) == 377


@given(st.integers(min_value=1, max_value=10**9))
def test_annual_discount_is_whole_fen_and_never_above_five_percent(monthly):
    annual = price_fen(monthly, Term.ANNUAL)
    gross = 12 * monthly
    assert annual <= gross
    assert (gross - annual) * 100 <= gross * 5
    assert (gross - annual + 1) * 100 > gross * 5


# -- cancellation ----------------------------------------------------------------------------


PERIOD = Period(date(2027, 1, 1), date(2027, 12, 31))


def test_cancel_before_the_start_refunds_everything():
    quote = quote_cancellation(PERIOD, 47880, date(2026, 12, 31))
    assert (quote.delivered_days, quote.undelivered_days) == (0, 365)
    assert (quote.refund_fen, quote.kept_fen) == (47880, 0)


def test_the_first_day_is_delivered_when_cancelled_on_it():
    quote = quote_cancellation(PERIOD, 47880, date(2027, 1, 1))
    assert (quote.delivered_days, quote.undelivered_days) == (1, 364)
    # 47880 x 364 / 365 = 47748.82...: rounded down
    assert quote.refund_fen == 47748
    assert quote.kept_fen == 132


def test_cancel_mid_term():
    quote = quote_cancellation(PERIOD, 47880, date(2027, 6, 30))
    assert quote.delivered_days == 181
    assert quote.undelivered_days == 184
    # 47880 x 184 / 365 = 24136.76...
    assert quote.refund_fen == 24136
    assert quote.kept_fen == 23744


def test_the_day_before_the_last_leaves_one_day_to_refund():
    quote = quote_cancellation(PERIOD, 47880, date(2027, 12, 30))
    assert quote.undelivered_days == 1
    assert quote.refund_fen == 131  # 47880 / 365 = 131.18


def test_a_leap_february_refunds_by_its_29_days():
    february = Period.of(date(2028, 2, 1), Term.MONTHLY)
    quote = quote_cancellation(february, 2900, date(2028, 2, 28))
    assert (quote.undelivered_days, quote.refund_fen) == (1, 100)


@pytest.mark.parametrize("cancelled_on", [date(2027, 12, 31), date(2028, 1, 1), date(2030, 5, 5)])
def test_nothing_is_left_on_or_after_the_last_day(cancelled_on):
    with pytest.raises(SubscriptionFullyDelivered):
        quote_cancellation(PERIOD, 47880, cancelled_on)


def test_a_refund_below_one_fen_is_zero():
    quote = quote_cancellation(PERIOD, 100, date(2027, 12, 30))
    assert (quote.refund_fen, quote.kept_fen) == (0, 100)


periods = st.builds(
    Period.of,
    st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 1, 1)).map(
        lambda day: day.replace(day=1)
    ),
    st.sampled_from(Term),
)
totals = st.integers(min_value=1, max_value=10**10)


@st.composite
def cancellations(draw):
    period = draw(periods)
    offset = draw(st.integers(min_value=-40, max_value=period.days - 2))
    return period, draw(totals), period.starts_on + timedelta(days=offset)


@given(cancellations())
def test_no_fen_is_lost_or_created(case):
    period, total, cancelled_on = case
    quote = quote_cancellation(period, total, cancelled_on)
    assert quote.refund_fen + quote.kept_fen == total
    assert quote.delivered_days + quote.undelivered_days == period.days
    assert 0 <= quote.refund_fen <= total


@given(cancellations())
def test_refund_and_delivered_charge_computed_apart_agree(case):
    """The refund (rounded down) and the delivered days' price (rounded up), each computed
    on its own, add up to exactly what was paid."""
    period, total, cancelled_on = case
    quote = quote_cancellation(period, total, cancelled_on)
    assert delivered_charge_fen(period, total, quote.delivered_days) == quote.kept_fen


@given(cancellations())
def test_the_member_is_never_refunded_for_a_delivered_day(case):
    period, total, cancelled_on = case
    quote = quote_cancellation(period, total, cancelled_on)
    # refund / total <= undelivered / days, in exact integers
    assert quote.refund_fen * period.days <= total * quote.undelivered_days
    # and short of it by less than one fen
    assert (quote.refund_fen + 1) * period.days > total * quote.undelivered_days


@given(cancellations(), st.integers(min_value=1, max_value=400))
def test_a_later_cancellation_never_refunds_more(case, later_by):
    period, total, cancelled_on = case
    later = cancelled_on + timedelta(days=later_by)
    assume(later < period.ends_on)
    first = quote_cancellation(period, total, cancelled_on)
    assert quote_cancellation(period, total, later).refund_fen <= first.refund_fen


@given(cancellations(), st.integers(min_value=0, max_value=10**8))
def test_points_reversed_with_the_ledgers_rule_stay_within_those_earned(case, earned):
    """The ledger reverses floor(earned x refund / total): never more than earned, all of
    them only for a full refund, and never more than the undelivered share."""
    period, total, cancelled_on = case
    quote = quote_cancellation(period, total, cancelled_on)
    assume(quote.refund_fen > 0)
    reversed_points = cumulative_reversal(earned, total, 0, quote.refund_fen)
    assert 0 <= reversed_points <= earned
    if quote.refund_fen == total:
        assert reversed_points == earned
    assert reversed_points * period.days <= earned * quote.undelivered_days
