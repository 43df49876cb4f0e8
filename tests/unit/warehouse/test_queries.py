"""The pure parts of the metric queries: periods and the incremental-effect estimate."""

from __future__ import annotations

import math
import statistics
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warehouse import queries
from warehouse.queries import Filters


def test_the_previous_period_has_the_same_length_and_ends_the_day_before() -> None:
    f = Filters(date(2026, 3, 1), date(2026, 3, 31), inst="SH-HP", channel="web")
    previous = f.previous()
    assert (previous.start, previous.end) == (date(2026, 1, 29), date(2026, 2, 28))
    assert previous.days == f.days == 31
    assert (previous.inst, previous.channel) == ("SH-HP", "web")
    with pytest.raises(ValueError):
        Filters(date(2026, 3, 2), date(2026, 3, 1))


def test_date_keys_are_yyyymmdd() -> None:
    assert queries.date_key(date(2026, 1, 5)) == 20260105


def test_the_effect_is_welchs_difference_with_a_normal_interval() -> None:
    treated = [0, 100, 200, 300, 400]
    holdout = [0, 0, 100, 100]
    effect = queries.incremental_effect(
        len(treated),
        sum(treated),
        statistics.variance(treated),
        len(holdout),
        sum(holdout),
        statistics.variance(holdout),
    )
    assert effect is not None
    assert effect.lift == pytest.approx(200 - 50)
    error = math.sqrt(statistics.variance(treated) / 5 + statistics.variance(holdout) / 4)
    assert effect.low == pytest.approx(150 - 1.959963984540054 * error)
    assert effect.high == pytest.approx(150 + 1.959963984540054 * error)


def test_no_estimate_without_two_members_in_each_group() -> None:
    assert queries.incremental_effect(1, 10, math.nan, 5, 10, 1.0) is None
    assert queries.incremental_effect(5, 10, 1.0, 0, 0, math.nan) is None
    assert queries.incremental_effect(5, 10, math.nan, 5, 10, 1.0) is None


@given(
    st.lists(st.integers(0, 10**7), min_size=2, max_size=40),
    st.lists(st.integers(0, 10**7), min_size=2, max_size=40),
)
def test_the_interval_is_centred_on_the_lift_and_never_inverted(
    treated: list[int], holdout: list[int]
) -> None:
    effect = queries.incremental_effect(
        len(treated),
        sum(treated),
        statistics.variance(treated),
        len(holdout),
        sum(holdout),
        statistics.variance(holdout),
    )
    assert effect is not None
    assert effect.low <= effect.lift <= effect.high
    assert effect.high - effect.lift == pytest.approx(effect.lift - effect.low, abs=1e-6)
    assert effect.lift == pytest.approx(statistics.mean(treated) - statistics.mean(holdout))
