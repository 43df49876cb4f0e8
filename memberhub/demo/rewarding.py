"""Members spending points on rewards, and what arrives: vouchers kept for later orders
and postage, bill credits that pay towards the next bill, goods ordered for pickup or
delivery (their cash part paid online first)."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

import points_engine
from common.db import read_session
from memberhub.demo import ordering
from memberhub.demo.people import HeldVoucher, SimMember, pick
from memberhub.demo.sales import REDEEMING_CHANNELS, REDEMPTIONS_CANCELLED
from memberhub.demo.world import Cancel, World
from storefront_api import partners, rewards


def airline_number(member_id: int) -> str:
    """The member's 东方航空 number, as the demo makes them up."""
    return f"MU{member_id:010d}"


def redeem(world: World, day: date, moment: datetime, person: SimMember) -> None:
    """Spend points on a reward the member can afford, cheaper ones more often."""
    owner = person.owner()
    with read_session(world.runtime.session_factory) as session:
        summary = points_engine.queries.points_summary(session, owner.member_id, day)
    available = int(summary["available"])
    owner.points_estimate = available + int(summary["pending"])
    affordable = [reward for reward in world.rewards if reward[1] <= available]
    if summary["negative_debt"] or not affordable:
        return
    rng = world.rng
    code, cost, kind = rng.choices(
        affordable, weights=[1 / math.sqrt(cost) for _, cost, _ in affordable]
    )[0]
    channel = pick(rng, REDEEMING_CHANNELS)
    caller = ordering.customer(world, person, channel, "SH")
    fulfilment = None
    if kind == "goods":
        how, outlet_code, address = ordering.fulfilment_for(world, person, channel, "SH")
        fulfilment = rewards.Fulfilment(how, outlet_code, address, "online")
    request = rewards.RedeemRequest(
        points_engine.RedemptionCommand(
            external_id=f"RD-{day:%Y%m%d}-{world.next_seq():07d}",
            member_no=owner.member_no,
            reward_code=code,
        ),
        fulfilment,
        airline_number(owner.member_id) if kind == "partner_miles" else None,
    )
    redeemer = rewards.Redeemer(
        caller.scope, None if caller.member_no else caller.channel, None, caller
    )
    try:
        with world.transaction() as uow:
            body = rewards.redeem(uow, world.context, redeemer, request, as_of=day).body
    except (
        points_engine.OutOfStock,
        points_engine.InsufficientPoints,
        partners.DailyLimitReached,
    ):
        world.counts.declined += 1
        return
    world.counts.redemptions += 1
    owner.points_estimate -= cost
    if body.exchange is not None:
        world.counts.miles_rewards += 1
        return
    if body.order is not None:
        world.counts.reward_orders += 1
        world.orders[str(body.order["order_no"])] = str(body.order["status"])
        ordering.carry_on(world, day, moment, person, caller.channel, "online", body.order)
        return
    world.counts.vouchers_issued += len(body.vouchers)
    if rng.random() < REDEMPTIONS_CANCELLED:
        world.plan(day + timedelta(days=rng.randint(1, 3)), Cancel(body.redemption_id))
    else:  # the vouchers of a redemption about to be cancelled are voided, never spent
        owner.vouchers.extend(
            HeldVoucher(v.code, v.value_fen, v.min_spend_fen, v.valid_until, v.applies_to)
            for v in body.vouchers
        )


def cancel_redemption(world: World, day: date, event: Cancel) -> None:
    with world.transaction() as uow:
        rewards.cancel(uow, world.directory, event.redemption_no, as_of=day)
    world.counts.cancellations += 1
