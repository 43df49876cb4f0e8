"""The mail status rules: every allowed and every forbidden next event, and event times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from common.errors import Conflict, Invalid
from storefront_api.mail.domain import (
    EventTimeInvalid,
    ForbiddenTransition,
    MailStatus,
    TrackingState,
    check_not_future,
)

ACCEPTED_AT = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
LAST_AT = ACCEPTED_AT + timedelta(hours=5)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LATER = LAST_AT + timedelta(hours=1)

ACC, TRANSIT, OUT, DONE, BACK = (
    MailStatus.ACCEPTED,
    MailStatus.IN_TRANSIT,
    MailStatus.OUT_FOR_DELIVERY,
    MailStatus.DELIVERED,
    MailStatus.RETURNED,
)
# Written out by hand, not derived from the module under test.
ALLOWED = {
    (ACC, TRANSIT),
    (TRANSIT, TRANSIT),
    (TRANSIT, OUT),
    (TRANSIT, BACK),
    (OUT, DONE),
    (OUT, BACK),
}
PAIRS = list(product(MailStatus, MailStatus))


def _state(status: MailStatus) -> TrackingState:
    return TrackingState(status, ACCEPTED_AT, LAST_AT)


def test_the_table_covers_all_twenty_five_pairs() -> None:
    assert len(PAIRS) == 25
    assert set(PAIRS) > ALLOWED


@pytest.mark.parametrize(("current", "following"), sorted(ALLOWED), ids=str)
def test_allowed(current: MailStatus, following: MailStatus) -> None:
    _state(current).check_next(following, LATER, NOW)


@pytest.mark.parametrize(("current", "following"), [p for p in PAIRS if p not in ALLOWED], ids=str)
def test_forbidden(current: MailStatus, following: MailStatus) -> None:
    with pytest.raises(ForbiddenTransition) as caught:
        _state(current).check_next(following, LATER, NOW)
    assert isinstance(caught.value, Conflict)
    assert current.value in caught.value.detail


@pytest.mark.parametrize("final", [DONE, BACK])
def test_nothing_follows_a_final_status_and_the_reason_says_so(final: MailStatus) -> None:
    for following in MailStatus:
        with pytest.raises(ForbiddenTransition, match="no event may follow"):
            _state(final).check_next(following, LATER, NOW)


def test_the_reason_names_what_may_come_next() -> None:
    with pytest.raises(ForbiddenTransition) as caught:
        _state(OUT).check_next(TRANSIT, LATER, NOW)
    assert caught.value.detail == (
        "an item that is out_for_delivery may next be delivered or returned, not in_transit"
    )


def test_a_forbidden_status_is_reported_before_a_bad_time() -> None:
    with pytest.raises(ForbiddenTransition):
        _state(DONE).check_next(TRANSIT, ACCEPTED_AT - timedelta(days=1), NOW)


def _time_reason(occurred_at: datetime, state: TrackingState | None = None) -> str:
    with pytest.raises(EventTimeInvalid) as caught:
        (state or _state(TRANSIT)).check_next(TRANSIT, occurred_at, NOW)
    assert isinstance(caught.value, Invalid)
    assert [e.field for e in caught.value.errors] == ["occurred_at"]
    return caught.value.errors[0].message


def test_an_event_before_acceptance_is_refused() -> None:
    early = TrackingState(ACC, ACCEPTED_AT, ACCEPTED_AT)
    reason = _time_reason(ACCEPTED_AT - timedelta(seconds=1), early)
    assert "before the acceptance" in reason


def test_an_event_before_the_last_one_is_refused_and_an_equal_time_is_not() -> None:
    assert "before the last event" in _time_reason(LAST_AT - timedelta(seconds=1))
    _state(TRANSIT).check_next(TRANSIT, LAST_AT, NOW)


def test_an_event_in_the_future_is_refused_beyond_the_clock_skew() -> None:
    assert "future" in _time_reason(NOW + timedelta(minutes=6))
    _state(TRANSIT).check_next(TRANSIT, NOW + timedelta(minutes=4), NOW)


def test_a_time_without_offset_is_refused() -> None:
    with pytest.raises(EventTimeInvalid, match="offset"):
        check_not_future(datetime(2026, 11, 20, 10, 0), NOW, "accepted_at")


def test_offsets_compare_as_instants() -> None:
    shanghai = datetime.fromisoformat("2026-11-20T15:00:00+08:00")  # 07:00 UTC == LAST_AT
    _state(TRANSIT).check_next(OUT, shanghai, NOW)
