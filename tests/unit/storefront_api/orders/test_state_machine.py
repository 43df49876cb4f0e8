"""Every allowed and every forbidden order transition, from the one table that defines them."""

from __future__ import annotations

import itertools

import pytest

from storefront_api.orders.domain import (
    TRANSITIONS,
    IllegalTransition,
    OrderEvent,
    OrderStatus,
    next_status,
)

S, E = OrderStatus, OrderEvent

EXPECTED = {
    (S.CREATED, E.PAY): S.PAID,
    (S.CREATED, E.AWAIT_PICKUP): S.READY_FOR_PICKUP,
    (S.CREATED, E.SHIP): S.SHIPPED,
    (S.CREATED, E.CANCEL): S.CANCELLED,
    (S.CREATED, E.EXPIRE): S.EXPIRED,
    (S.PAID, E.AWAIT_PICKUP): S.READY_FOR_PICKUP,
    (S.PAID, E.SHIP): S.SHIPPED,
    (S.PAID, E.CANCEL): S.CANCELLED,
    (S.READY_FOR_PICKUP, E.PICK_UP): S.PICKED_UP,
    (S.READY_FOR_PICKUP, E.CANCEL): S.CANCELLED,
    (S.READY_FOR_PICKUP, E.EXPIRE): S.EXPIRED,
    (S.SHIPPED, E.DELIVER): S.DELIVERED,
    (S.PICKED_UP, E.RETURN): S.REFUNDED,
    (S.DELIVERED, E.RETURN): S.REFUNDED,
}


def test_the_table_is_exactly_the_documented_lifecycle():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("status", "event"), sorted(EXPECTED, key=str))
def test_allowed(status, event):
    assert next_status(status, event) is EXPECTED[(status, event)]


FORBIDDEN = sorted(
    (pair for pair in itertools.product(OrderStatus, OrderEvent) if pair not in EXPECTED), key=str
)


@pytest.mark.parametrize(("status", "event"), FORBIDDEN)
def test_forbidden(status, event):
    with pytest.raises(IllegalTransition) as raised:
        next_status(status, event)
    assert status.value in raised.value.detail


def test_final_states_allow_nothing():
    for status in (S.CANCELLED, S.REFUNDED, S.EXPIRED):
        for event in OrderEvent:
            with pytest.raises(IllegalTransition):
                next_status(status, event)


def test_nothing_leaves_picked_up_or_delivered_except_a_return():
    for status in (S.PICKED_UP, S.DELIVERED):
        allowed = [event for event in OrderEvent if (status, event) in TRANSITIONS]
        assert allowed == [E.RETURN]
