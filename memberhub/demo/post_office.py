"""The post office's own business in the history: mail, bill payments, newspaper subscriptions.

At the counter members post mail (registered items, parcels and EMS are scanned on their way
over the following days; ordinary letters are not tracked), pay utility bills at the sandbox
billers (a few declined, answered late or reversed the same day; also in the app), and
subscribe to newspapers (also by phone, on the web and in the app; a few cancel mid-term).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import points_engine
from common.clock import business_date
from memberhub.demo.ordering import address
from memberhub.demo.people import SimMember, at, pick
from memberhub.demo.sales import EXTERNAL_PREFIX, PAYMENT
from memberhub.demo.world import MailScan, SubscriptionCancel, World
from storefront_api import bills, mail, subscriptions, vouchers

# Mail services: (service, S10 service indicator, lowest fee, highest fee, scanned on its way).
MAIL_SERVICES = (
    ("letter", "LK", 120, 800, False),
    ("registered", "RR", 500, 1500, True),
    ("parcel", "CP", 1200, 6000, True),
    ("ems", "EE", 2200, 9000, True),
)
# Where posted items are scanned: the first sorting centre, then the destination's.
SORTING_CENTRES = ("上海邮区中心局", "上海航空邮件处理中心")
DESTINATIONS = ("上海", "上海", "上海", "北京", "广州", "杭州", "南京", "苏州", "成都", "武汉")
DELIVERY_SECTIONS = ("东区", "西区", "南区", "北区", "城中")
MAIL_RETURNED = 0.01
# A member holding a mailing voucher remembers it at the counter this often.
MAILING_VOUCHER_REMEMBERED = 0.8

# Bills: what a household pays, and the account-number endings the sandbox billers turn
# into faults (docs/api.md, Bills): a few accounts decline or time out; none gets the
# 3-second answer.
BILL_KINDS = {"electricity": 0.3, "water": 0.2, "gas": 0.2, "broadband": 0.15, "landline": 0.15}
SANDBOX_DECLINES = "9991"
SANDBOX_TIMES_OUT = "9992"
SANDBOX_FAULTS = ("0000", SANDBOX_DECLINES, SANDBOX_TIMES_OUT, "9993")
DECLINING_ACCOUNTS = 0.03
TIMING_OUT_ACCOUNTS = 0.01
BILLS_REVERSED = 0.05  # 冲正 at the counter, minutes after paying

SUBSCRIPTION_TERMS = {"monthly": 0.3, "quarterly": 0.3, "annual": 0.4}
SUBSCRIPTIONS_CANCELLED = 0.1


# -- mail ------------------------------------------------------------------------------------


def post_mail(world: World, day: date, moment: datetime, person: SimMember, outlet: str) -> None:
    """The counter accepts one or two items from the member; tracked ones are scanned later."""
    rng = world.rng
    for _ in range(rng.choice((1, 1, 1, 2))):
        service, indicator, low, high, tracked = rng.choice(MAIL_SERVICES)
        tracking_no = _tracking_no(world, indicator)
        fee = rng.randrange(low, high + 1, 10)
        fee -= _mailing_voucher(world, day, moment, person, outlet, fee)
        command = mail.AcceptanceCommand(
            external_id=f"POS-{outlet}-{day:%Y%m%d}-{world.next_seq():07d}",
            tracking_no=tracking_no,
            service=service,
            fee_fen=fee,
            accepted_at=moment,
            member=person.ref(rng, "counter"),
        )
        with world.transaction() as uow:
            body = mail.accept_mailing(uow, world.directory, "counter", outlet, command).body
        world.counts.mailings += 1
        person.owner().points_estimate += int(body["points"] or 0)
        if tracked:
            world.mailings.append(tracking_no)
            person.owner().mailings.append(tracking_no)
            _plan_scans(world, day, tracking_no)


def _mailing_voucher(
    world: World, day: date, moment: datetime, person: SimMember, outlet: str, fee: int
) -> int:
    """The till takes the member's mailing voucher off the postage; what it took off."""
    owner = person.owner()
    voucher = owner.take_voucher(day, "mailing", fee, world.rng, MAILING_VOUCHER_REMEMBERED)
    if voucher is None:
        return 0
    if voucher.value_fen >= fee:  # kept for a dearer item: the postage may not be nil
        owner.vouchers.append(voucher)
        return 0
    command = vouchers.CounterUse(
        external_id=f"POS-{outlet}-{day:%Y%m%d}-{world.next_seq():07d}-VU",
        voucher_code=voucher.code,
        member=points_engine.MemberRef(member_no=owner.member_no),
        institution_code=outlet,
        business_type="mailing",
        spend_fen=fee,
    )
    with world.transaction() as uow:
        used = vouchers.use_at_counter(
            uow, world.directory, channel="counter", command=command, now=moment
        ).body
    world.counts.vouchers_used += 1
    return used.applied_fen


def _tracking_no(world: World, indicator: str) -> str:
    while True:
        serial = f"{world.rng.randrange(10**8):08d}"
        number = f"{indicator}{serial}{mail.check_digit(serial)}CN"
        if number not in world.tracking_numbers:
            world.tracking_numbers.add(number)
            return number


def _plan_scans(world: World, day: date, tracking_no: str) -> None:
    """Sorted overnight, at the destination's centre the next night, then out and delivered.

    Scan hours never overlap (sorting 1-6 h, out for delivery 7-9 h, delivered 10-18 h), so
    the scans of an item are always in order.
    """
    rng = world.rng
    city = rng.choice(DESTINATIONS)
    when = day + timedelta(days=1)
    scans = [("in_transit", rng.choice(SORTING_CENTRES), when, 1.0, 6.0)]
    if city != "上海":
        when += timedelta(days=1)
        scans.append(("in_transit", f"{city}邮区中心局", when, 1.0, 6.0))
    when += timedelta(days=rng.randint(0, 1))
    office = f"{city}{rng.choice(DELIVERY_SECTIONS)}投递部"
    if rng.random() < MAIL_RETURNED:
        scans.append(("returned", office, when + timedelta(days=2), 10.0, 18.0))
    else:
        scans.append(("out_for_delivery", office, when, 7.0, 9.0))
        scans.append(("delivered", office, when, 10.0, 18.0))
    for status, location, on, opens, closes in scans:
        world.plan(on, MailScan(tracking_no, status, location, at(on, rng.uniform(opens, closes))))


def scan(world: World, event: MailScan) -> None:
    command = mail.EventCommand(
        status=event.status,
        location=event.location,
        occurred_at=event.at,
        external_id=f"SCAN-{event.tracking_no}-{world.next_seq():07d}",
    )
    with world.transaction() as uow:
        mail.record_event(uow, "distribution", None, event.tracking_no, command)
    world.counts.mail_events += 1


# -- bills -----------------------------------------------------------------------------------


def pay_bill(
    world: World, day: date, moment: datetime, person: SimMember, channel: str, outlet: str
) -> None:
    """Look a household bill up and pay it (at a counter or in the app); a few are reversed."""
    rng = world.rng
    owner = person.owner()
    kind = pick(rng, BILL_KINDS)
    try:
        bill = bills.query_bill(
            world.uow, world.biller_for, world.billers[kind], _bill_account(world, owner, kind)
        )
    except bills.NoBillDue:
        return  # this month's bill is paid already
    if channel == "app":
        payer, member = bills.Payer.member(owner.member_no), None
    else:
        payer, member = bills.Payer(channel, outlet), person.ref(rng, channel)
    command = bills.PaymentCommand(
        external_id=f"{EXTERNAL_PREFIX[channel]}-BP-{day:%Y%m%d}-{world.next_seq():07d}",
        bill_id=bill.bill_id,
        amount_fen=bill.amount_due_fen,
        member=member,
    )
    try:
        receipt = bills.pay_bill(
            world.uow, world.biller_for, world.directory, payer, command, now=moment
        ).body
    except bills.PaymentDeclined:
        world.counts.bills_declined += 1
        return
    world.counts.bill_payments += 1
    world.counts.bill_credits += receipt.credit_fen > 0
    payment_no = str(receipt.payment_no)
    if receipt.status != bills.PaymentStatus.PAID:
        world.unanswered_bills.append(payment_no)
        return
    owner.points_estimate += receipt.points
    reversal_at = moment + timedelta(minutes=rng.randint(2, 30))
    if (
        channel == "counter"
        and rng.random() < BILLS_REVERSED
        and reversal_at <= world.now
        and business_date(reversal_at) == day  # reversals are same-day only
    ):
        bills.reverse_payment(
            world.uow,
            world.biller_for,
            payer,
            f"{command.external_id}-REV",
            payment_no,
            now=reversal_at,
        )
        world.counts.bills_reversed += 1


def _bill_account(world: World, owner: SimMember, kind: str) -> str:
    """The household's account with the biller of `kind`; a few decline or time out."""
    if kind not in owner.bill_accounts:
        rng = world.rng
        number = str(rng.randrange(10**9, 10**12))
        while number[-4:] in SANDBOX_FAULTS:
            number = str(rng.randrange(10**9, 10**12))
        draw = rng.random()
        if draw < DECLINING_ACCOUNTS:
            number = number[:-4] + SANDBOX_DECLINES
        elif draw < DECLINING_ACCOUNTS + TIMING_OUT_ACCOUNTS:
            number = number[:-4] + SANDBOX_TIMES_OUT
        owner.bill_accounts[kind] = number
    return owner.bill_accounts[kind]


def example_account(phone: str) -> str:
    """A water account of the demo member's household that the sandbox bills without faults."""
    number = f"3100{phone[-6:]}"
    return number[:-1] + "5" if number[-4:] in SANDBOX_FAULTS else number


# -- subscriptions ---------------------------------------------------------------------------


def subscribe(
    world: World, day: date, moment: datetime, person: SimMember, channel: str, outlet: str
) -> None:
    """A newspaper from the first of next month, by the hotline, counter, web or the member."""
    rng = world.rng
    owner = person.owner()
    if channel == "app":
        caller = subscriptions.Caller("member", member_no=owner.member_no)
        member = points_engine.MemberRef(member_no=owner.member_no)
    else:
        institution = outlet if channel == "counter" else None
        caller = subscriptions.Caller("channel", channel=channel, institution_code=institution)
        member = person.ref(rng, channel)
    starts_on = day if day.day == 1 else (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    delivery = (
        subscriptions.Delivery("outlet", outlet_code=person.home.code)
        if rng.random() < 0.25
        else subscriptions.Delivery("address", address=address(world, person))
    )
    command = subscriptions.SubscribeCommand(
        external_id=f"{EXTERNAL_PREFIX[channel]}-SB-{day:%Y%m%d}-{world.next_seq():07d}",
        member=member,
        title_code=rng.choice(world.press_titles),
        term=pick(rng, SUBSCRIPTION_TERMS),
        start_date=starts_on,
        delivery=delivery,
        payment_method=rng.choice(PAYMENT["counter"]) if channel == "counter" else "online",
    )
    with world.transaction() as uow:
        body = subscriptions.subscribe(uow, world.directory, caller, command, now=moment).body
    world.counts.subscriptions += 1
    owner.points_estimate += int(body["points"] or 0)
    if rng.random() < SUBSCRIPTIONS_CANCELLED:
        cancel = SubscriptionCancel(str(body["subscription_no"]), caller)
        world.plan(day + timedelta(days=rng.randint(5, 40)), cancel)


def cancel_subscription(world: World, moment: datetime, event: SubscriptionCancel) -> None:
    command = subscriptions.CancelCommand(
        event.subscription_no, external_id=f"CANCEL-{event.subscription_no}"
    )
    try:
        with world.transaction() as uow:
            subscriptions.cancel_subscription(
                uow, world.directory, event.caller, command, now=moment
            )
    except subscriptions.SubscriptionFullyDelivered:
        return
    world.counts.subscriptions_cancelled += 1
