"""The mail event rules: which scan times are impossible, and the status taken from the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import Invalid
from storefront_api.mail.domain import (
    EventTimeInvalid,
    MailStatus,
    RecordedEvent,
    check_event_time,
    check_not_future,
    latest_event,
)

ACCEPTED_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

STATUSES = st.sampled_from(MailStatus)
# Minutes after the acceptance: few enough distinct values that equal times come up often.
MINUTES = st.integers(0, 40)


def _time_reason(occurred_at: datetime) -> str:
    with pytest.raises(EventTimeInvalid) as caught:
        check_event_time(occurred_at, ACCEPTED_AT, NOW)
    assert isinstance(caught.value, Invalid)
    assert [e.field for e in caught.value.errors] == ["occurred_at"]
    return caught.value.errors[0].message


# -- times ----------------------------------------------------------------------------------


def test_an_event_before_acceptance_is_refused_and_one_at_it_is_not() -> None:
    assert "before the acceptance" in _time_reason(ACCEPTED_AT - timedelta(seconds=1))
    check_event_time(ACCEPTED_AT, ACCEPTED_AT, NOW)


def test_an_event_in_the_future_is_refused_beyond_the_clock_skew() -> None:
    assert "future" in _time_reason(NOW + timedelta(minutes=6))
    check_event_time(NOW + timedelta(minutes=4), ACCEPTED_AT, NOW)


def test_a_time_without_offset_is_refused() -> None:
    assert "offset" in _time_reason(datetime(2026, 11, 21, 10, 0))
    with pytest.raises(EventTimeInvalid, match="offset"):
        check_not_future(datetime(2026, 11, 20, 10, 0), NOW, "accepted_at")


def test_offsets_compare_as_instants() -> None:
    same_instant = datetime.fromisoformat("2026-11-20T10:00:00+08:00")  # 02:00 UTC
    check_event_time(same_instant, ACCEPTED_AT, NOW)
    assert "before the acceptance" in _time_reason(
        datetime.fromisoformat("2026-11-20T09:59:59+08:00")
    )


def test_the_field_is_the_callers() -> None:
    with pytest.raises(EventTimeInvalid) as caught:
        check_event_time(NOW + timedelta(days=1), ACCEPTED_AT, NOW, "events[3].occurred_at")
    assert caught.value.errors[0].field == "events[3].occurred_at"


# -- status ---------------------------------------------------------------------------------


def _recorded(arrived: list[tuple[MailStatus, int]]) -> list[RecordedEvent]:
    """Events numbered in the order they arrived, as the service records them."""
    return [
        RecordedEvent(status, ACCEPTED_AT + timedelta(minutes=minutes), sequence)
        for sequence, (status, minutes) in enumerate(arrived, start=1)
    ]


@given(st.data())
def test_for_any_arrival_order_the_status_is_that_of_the_latest_by_time(
    data: st.DataObject,
) -> None:
    happened = data.draw(
        st.lists(st.tuples(STATUSES, MINUTES), min_size=1, max_size=8, unique_by=lambda e: e[1])
    )
    arrived = data.draw(st.permutations(happened))
    last_in_time = sorted(happened, key=lambda event: event[1])[-1]
    assert latest_event(_recorded(arrived)).status is last_in_time[0]


@given(st.data())
def test_of_events_at_the_same_latest_time_the_one_recorded_last_counts(
    data: st.DataObject,
) -> None:
    tied = data.draw(st.lists(STATUSES, min_size=2, max_size=4))
    earlier = data.draw(st.lists(st.tuples(STATUSES, st.integers(0, 29)), max_size=4))
    arrived = data.draw(st.permutations([*earlier, *((status, 30) for status in tied)]))
    recorded_last_at_30 = next(status for status, minutes in reversed(arrived) if minutes == 30)
    assert latest_event(_recorded(arrived)).status is recorded_last_at_30


def test_skipped_steps_and_late_scans_are_taken_as_they_are() -> None:
    in_transit, delivered = MailStatus.IN_TRANSIT, MailStatus.DELIVERED
    # in_transit, then delivered with no out_for_delivery scan between
    assert latest_event(_recorded([(in_transit, 5), (delivered, 9)])).status is delivered
    # a sorting-centre scan uploaded after the delivery it preceded
    late = _recorded([(MailStatus.ACCEPTED, 0), (delivered, 9), (in_transit, 5)])
    assert latest_event(late) == RecordedEvent(delivered, ACCEPTED_AT + timedelta(minutes=9), 2)


def test_an_item_without_events_has_no_status() -> None:
    with pytest.raises(ValueError):
        latest_event([])
