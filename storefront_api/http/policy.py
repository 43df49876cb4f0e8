"""Who may call each operation and which objects they may touch: the one access table.

Every route names its rule here by endpoint (`<blueprint>.<view>`); a route without a
rule cannot be registered. The route layer (routing.py) enforces a rule in two steps:

1. before the body is read: is this kind of caller allowed at all (anonymous, the
   member, which channels, which staff roles)? No credentials: 401; wrong kind: 403.
2. once the request is parsed: may this caller touch this object? A member only their
   own records; a channel key only what its own channel (and, for keys bound to an
   outlet or store, that institution) created, unless the rule widens it: a pickup is
   handed over by the counter of the order's outlet, a delivery by the courier
   channel, some reads serve any channel. Staff act by role on any object.

Views never repeat these checks. The OpenAPI document prints each rule, and
tests/api/test_access_matrix.py proves, from this table, that exactly the allowed
callers get through. Personal data in answers is masked by the same rule that masks
it on the dashboards (common.masking).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

import crm
from common.codes import CHANNELS
from common.errors import Forbidden, Unauthorized
from common.masking import mask_name, mask_phone, sees_personal_data
from common.ownership import Owner
from storefront_api.auth import ChannelPrincipal, MemberPrincipal, Principal, StaffPrincipal
from storefront_api.orders import ORDER_CHANNELS
from storefront_api.prepaid import CARD_SELLING_CHANNELS

# Channels that take orders, serve members face to face or in their own apps, sell
# prepaid cards, take card payments, or scan mail on its way.
ORDERING = ORDER_CHANNELS
SERVING = ("web", "app", "counter", "retail", "hotline")
CARD_SELLING = CARD_SELLING_CHANNELS
CARD_ACCEPTING = ("counter", "retail", "web", "app")
SCANNING = ("counter", "distribution")
COURIER = "distribution"
TILLS = ("counter", "retail")

MARKETING = ("marketer", "admin")
FINANCE = ("finance", "admin")
ADMIN = ("admin",)
ALL_STAFF = ("marketer", "finance", "admin")


class Scope(StrEnum):
    """How a channel key must relate to the object it acts on (any one suffices)."""

    ANY = "any"  # whatever object it is
    CREATOR = "creator"  # its own channel (and outlet, for outlet-bound keys) created it
    OUTLET = "outlet"  # a counter key of the outlet where the order is collected
    COURIER = "courier"  # the courier channel, for orders delivered to an address
    INSTITUTION = "institution"  # the institution the request names is the key's own


@dataclass(frozen=True)
class Target:
    """The object a rule is about: its kind and where the request names it."""

    kind: str
    field: str
    in_body: bool = False


@dataclass(frozen=True)
class Rule:
    anonymous: bool = False
    member: bool = False
    channels: tuple[str, ...] = ()
    scope: tuple[Scope, ...] = (Scope.ANY,)
    staff: tuple[str, ...] = ()
    target: Target | None = None
    # Writes by channel keys and staff go to the audit log unless this says otherwise.
    audit: bool = True
    # Fields of the answer (top level and in `items`) holding personal data, shown
    # whole to the member themself and to staff roles that see personal data.
    personal: tuple[str, ...] = ()
    channels_see_personal: bool = False

    @property
    def open_to_all(self) -> bool:
        return self.anonymous and self.member and bool(self.channels) and bool(self.staff)


def anyone() -> Rule:
    return Rule(anonymous=True, member=True, channels=CHANNELS, staff=ALL_STAFF, audit=False)


def staff(*roles: str, **more: Any) -> Rule:
    return Rule(staff=roles, **more)


MEMBER_PATH = Target("member", "member_no")
MEMBER_BODY = Target("member", "member_no", in_body=True)
MEMBER_REF_BODY = Target("member_ref", "member", in_body=True)
ORDER = Target("order", "order_no")
PROFILE = ("phone", "name", "birthday", "identifiers")

POLICY: dict[str, Rule] = {
    # -- sign-in -------------------------------------------------------------------
    "auth.member_token": anyone(),
    "auth.staff_token": anyone(),
    "auth.log_out": staff(*ALL_STAFF, audit=False),
    "verification.request_code": Rule(anonymous=True, audit=False),
    "verification.request_member_code": Rule(member=True, target=MEMBER_PATH, audit=False),
    # -- members -------------------------------------------------------------------
    "members.register": Rule(anonymous=True, channels=CHANNELS, personal=PROFILE),
    "members.lookup": Rule(channels=CHANNELS, staff=ALL_STAFF, personal=PROFILE),
    "members.get_member": Rule(
        member=True, channels=CHANNELS, staff=ALL_STAFF, target=MEMBER_PATH, personal=PROFILE
    ),
    # Consent is the member's own declaration: nobody changes it for them.
    "members.update": Rule(member=True, target=MEMBER_PATH),
    "members.link": Rule(member=True, channels=CHANNELS, target=MEMBER_PATH),
    "members.merge": staff(*ADMIN),
    "members.merges": staff(*ADMIN),
    "members.unmerge": staff(*ADMIN),
    "members.points": Rule(member=True, channels=CHANNELS, staff=ALL_STAFF, target=MEMBER_PATH),
    "members.tier": Rule(member=True, channels=CHANNELS, staff=ALL_STAFF, target=MEMBER_PATH),
    "members.ledger": Rule(member=True, channels=CHANNELS, staff=ALL_STAFF, target=MEMBER_PATH),
    "members.adjust": staff(*FINANCE),
    "activity.member_activity": Rule(member=True, staff=ALL_STAFF, target=MEMBER_PATH),
    # -- ledger writes -------------------------------------------------------------
    "accruals.accrue": Rule(
        channels=CHANNELS,
        scope=(Scope.INSTITUTION,),
        target=Target("institution", "institution_code", in_body=True),
    ),
    "accruals.preview": Rule(
        channels=CHANNELS,
        scope=(Scope.INSTITUTION,),
        target=Target("institution", "institution_code", in_body=True),
    ),
    # Each item's institution is checked with `may_act_for`, item by item.
    "accruals.accrue_batch": Rule(channels=CHANNELS),
    "accruals.refund": Rule(
        channels=CHANNELS,
        scope=(Scope.CREATOR,),
        target=Target("accrual", "original_external_id", in_body=True),
    ),
    # -- catalogue, rewards, redemptions ---------------------------------------------
    "orders.list_products": anyone(),
    "orders.get_product": anyone(),
    "orders.add_product": staff(*ADMIN),
    "orders.update_product": staff(*ADMIN),
    "rewards.list_rewards": anyone(),
    "rewards.add_reward": staff(*ADMIN),
    "rewards.redeem": Rule(member=True, channels=SERVING, target=MEMBER_BODY),
    "rewards.cancel": Rule(
        member=True,
        channels=SERVING,
        scope=(Scope.CREATOR,),
        staff=FINANCE,
        target=Target("redemption", "redemption_id"),
    ),
    # A voucher is the member's; serving channels see that they hold one, not its code.
    "vouchers.member_vouchers": Rule(
        member=True,
        channels=SERVING,
        staff=ALL_STAFF,
        target=MEMBER_PATH,
        personal=("code",),
    ),
    # The till where the member presents the code; only that till gives it back.
    "vouchers.use_voucher": Rule(
        channels=TILLS,
        scope=(Scope.INSTITUTION,),
        target=Target("institution", "institution_code", in_body=True),
    ),
    "vouchers.cancel_use": Rule(
        channels=TILLS, scope=(Scope.CREATOR,), target=Target("voucher_use", "use_no")
    ),
    # -- orders and pickup -----------------------------------------------------------
    "orders.place_order": Rule(member=True, channels=ORDERING, target=MEMBER_BODY),
    "orders.pay_order": Rule(channels=ORDERING, scope=(Scope.CREATOR,), target=ORDER),
    "orders.get_order": Rule(
        member=True,
        channels=CHANNELS,
        scope=(Scope.CREATOR, Scope.OUTLET, Scope.COURIER),
        staff=ALL_STAFF,
        target=ORDER,
        personal=("address",),
        channels_see_personal=True,
    ),
    "orders.cancel_order": Rule(
        member=True, channels=ORDERING, scope=(Scope.CREATOR,), target=ORDER
    ),
    "orders.return_order": Rule(
        member=True,
        channels=ORDERING,
        scope=(Scope.CREATOR, Scope.OUTLET),
        staff=FINANCE,
        target=ORDER,
    ),
    "orders.ship_order": Rule(
        channels=ORDERING, scope=(Scope.CREATOR, Scope.COURIER), target=ORDER
    ),
    "orders.deliver_order": Rule(
        channels=ORDERING, scope=(Scope.CREATOR, Scope.COURIER), target=ORDER
    ),
    # The new code goes to the member's phone only (see orders.reissue_pickup_code).
    "orders.reissue_pickup_code": Rule(
        member=True, channels=ORDERING, scope=(Scope.CREATOR,), target=ORDER
    ),
    "orders.verify_pickup": Rule(
        channels=("counter",),
        scope=(Scope.INSTITUTION,),
        target=Target("institution", "outlet_code", in_body=True),
    ),
    "orders.member_orders": Rule(
        member=True,
        channels=CHANNELS,
        staff=ALL_STAFF,
        target=MEMBER_PATH,
        personal=("address",),
        channels_see_personal=True,
    ),
    # -- reference data and campaigns ------------------------------------------------
    "reference.tiers": anyone(),
    "reference.institutions": anyone(),
    "reference.channels": anyone(),
    "reference.categories": anyone(),
    "reference.business_types": anyone(),
    "reference.list_campaigns": staff("marketer", "finance", "admin"),
    "reference.get_campaign": staff("marketer", "finance", "admin"),
    "reference.create_campaign": staff(*MARKETING),
    "reference.update_campaign": staff(*MARKETING),
    "reference.campaign_lift": staff("marketer", "finance", "admin", audit=False),
    "reference.earning_rules": staff(*ALL_STAFF),
    "reference.schedule_earning_rule": staff(*MARKETING),
    "reference.pause_campaign": staff(*MARKETING),
    "reference.resume_campaign": staff(*MARKETING),
    "reference.stop_campaign": staff(*MARKETING),
    "reference.simulate_proposed_campaign": staff(*MARKETING, audit=False),
    "reference.simulate_existing_campaign": staff(*MARKETING, audit=False),
    # -- partner exchange ------------------------------------------------------------
    "partners.list_partners": anyone(),
    "partners.exchange_out": Rule(member=True, channels=SERVING, target=MEMBER_BODY),
    # Finance books what a partner's file says its members bought in (a channel key is
    # not bound to one partner, so no key may credit a partner's points).
    "partners.exchange_in": staff(*FINANCE),
    "partners.get_exchange": Rule(
        member=True,
        channels=SERVING,
        scope=(Scope.CREATOR,),
        staff=FINANCE,
        target=Target("partner_exchange", "exchange_no"),
    ),
    # -- daily clearing --------------------------------------------------------------
    "clearing.run_clearing": staff(*FINANCE),
    "clearing.get_run": staff(*FINANCE, audit=False),
    "clearing.download_report": staff(*FINANCE, audit=False),
    "clearing.download_journal": staff(*FINANCE, audit=False),
    # A channel reports its own sales; a key bound to an outlet only for that outlet.
    "clearing.submit_control_total": Rule(
        channels=CHANNELS,
        scope=(Scope.INSTITUTION,),
        target=Target("institution", "institution_code", in_body=True),
    ),
    # -- segments and member scores (crm.insights) -----------------------------------
    "segments.list_segments": staff(*MARKETING),
    "segments.segment_members": staff(*MARKETING, personal=("phone", "name")),
    "segments.export_segment": staff(*MARKETING, personal=("phone", "name")),
    "segments.member_scores": staff(*MARKETING),
    # -- mail ------------------------------------------------------------------------
    "mail.accept": Rule(channels=("counter",)),
    "mail.record_event": Rule(channels=SCANNING),
    "mail.track": anyone(),
    # -- bills -----------------------------------------------------------------------
    "bills.list_billers": anyone(),
    "bills.query_bill": Rule(member=True, channels=CHANNELS, audit=False),
    "bills.pay": Rule(member=True, channels=CHANNELS, target=MEMBER_REF_BODY),
    "bills.show": Rule(
        member=True,
        channels=CHANNELS,
        scope=(Scope.CREATOR,),
        staff=ALL_STAFF,
        target=Target("bill_payment", "payment_no"),
    ),
    "bills.status_check": Rule(
        member=True,
        channels=CHANNELS,
        scope=(Scope.CREATOR,),
        staff=FINANCE,
        target=Target("bill_payment", "payment_no"),
    ),
    "bills.reverse": Rule(
        channels=CHANNELS, scope=(Scope.CREATOR,), target=Target("bill_payment", "payment_no")
    ),
    # -- subscriptions ---------------------------------------------------------------
    "subscriptions.press_titles": anyone(),
    "subscriptions.subscribe": Rule(member=True, channels=SERVING, target=MEMBER_REF_BODY),
    "subscriptions.get_subscription": Rule(
        member=True,
        channels=SERVING,
        scope=(Scope.CREATOR,),
        staff=ALL_STAFF,
        target=Target("subscription", "subscription_no"),
        personal=("delivery_address",),
        channels_see_personal=True,
    ),
    "subscriptions.cancel": Rule(
        member=True,
        channels=SERVING,
        scope=(Scope.CREATOR,),
        staff=FINANCE,
        target=Target("subscription", "subscription_no"),
    ),
    # -- prepaid cards ---------------------------------------------------------------
    "prepaid_cards.issue": Rule(
        channels=CARD_SELLING,
        scope=(Scope.INSTITUTION,),
        staff=FINANCE,
        target=Target("institution", "institution_code", in_body=True),
    ),
    "prepaid_cards.get_card": Rule(
        member=True, channels=CARD_ACCEPTING, staff=ALL_STAFF, target=Target("card", "card_no")
    ),
    "prepaid_cards.transactions": Rule(
        member=True,
        channels=CARD_SELLING,
        scope=(Scope.CREATOR,),
        staff=FINANCE,
        target=Target("card", "card_no"),
    ),
    "prepaid_cards.set_status": staff(*FINANCE),
    "prepaid_cards.top_up": Rule(channels=CARD_SELLING),
    # Anyone at a till holding a card number could charge it: the PIN is the proof.
    "prepaid_cards.charge": Rule(channels=CARD_ACCEPTING),
    "prepaid_cards.refund": Rule(
        channels=CARD_ACCEPTING, scope=(Scope.CREATOR,), target=Target("card_charge", "charge_no")
    ),
    # -- administration --------------------------------------------------------------
    "admin.list_staff": staff(*ADMIN),
    "admin.create_staff": staff(*ADMIN),
    "admin.update_staff": staff(*ADMIN),
    "admin.reset_password": staff(*ADMIN),
    "admin.list_keys": staff(*ADMIN),
    "admin.create_key": staff(*ADMIN),
    "admin.rotate_key": staff(*ADMIN),
    "admin.revoke_key": staff(*ADMIN),
    "admin.audit_events": staff(*ADMIN),
}


def rule_for(endpoint: str) -> Rule:
    try:
        return POLICY[endpoint]
    except KeyError:
        raise LookupError(f"no access rule for {endpoint!r}: add it to policy.POLICY") from None


def admit(rule: Rule, principal: Principal | None) -> None:
    """Step 1, before the body is read: may this kind of caller call at all?

    Raises Unauthorized (no credentials where some are needed) or Forbidden.
    """
    if principal is None:
        if not rule.anonymous:
            raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
        return
    if isinstance(principal, MemberPrincipal):
        allowed = rule.member
    elif isinstance(principal, ChannelPrincipal):
        allowed = principal.channel in rule.channels
    else:
        allowed = principal.role in rule.staff
    if not allowed:
        raise Forbidden(f"not allowed for {describe_caller(principal)}; allowed: {describe(rule)}")


def needs_owner(rule: Rule, principal: Principal | None) -> bool:
    """Whether step 2 has to look the object up for this caller."""
    if rule.target is None:
        return False
    if isinstance(principal, MemberPrincipal):
        return True
    return isinstance(principal, ChannelPrincipal) and Scope.ANY not in rule.scope


def check_owner(
    rule: Rule, principal: Principal | None, owner: Owner | None, session: Session
) -> None:
    """Step 2: may this caller touch this object? An unknown object (None) passes, so the
    view answers 404 as for anyone. Raises Forbidden."""
    if owner is None or not needs_owner(rule, principal):
        return
    if isinstance(principal, MemberPrincipal):
        if owner.member_id is None or not crm.queries.same_member(
            session, principal.member_no, owner.member_id
        ):
            raise Forbidden("a member may see and act only on their own records")
        return
    assert isinstance(principal, ChannelPrincipal)
    if any(_related(scope, principal, owner) for scope in rule.scope):
        return
    if rule.scope == (Scope.INSTITUTION,):
        check_institution(principal, owner.institution_code or "")
    kind = rule.target.kind.replace("_", " ") if rule.target else "object"
    raise Forbidden(f"this {principal.channel} key may not act on this {kind}: {describe(rule)}")


def _related(scope: Scope, key: ChannelPrincipal, owner: Owner) -> bool:
    if scope is Scope.ANY:
        return True
    if scope is Scope.CREATOR:
        return owner.channel == key.channel and (
            key.institution_code is None or owner.institution_code == key.institution_code
        )
    if scope is Scope.OUTLET:
        return (
            key.channel == "counter"
            and owner.outlet_code is not None
            and owner.outlet_code == key.institution_code
        )
    if scope is Scope.COURIER:
        return key.channel == COURIER and owner.outlet_code is None
    return may_act_for(key, owner.institution_code)


def may_act_for(key: ChannelPrincipal, institution_code: str | None) -> bool:
    """A key bound to an outlet or store acts only for that institution; others for any."""
    return key.institution_code is None or key.institution_code == institution_code


def check_institution(key: ChannelPrincipal, institution_code: str) -> None:
    """`may_act_for` as a check (a batch applies it to each of its items)."""
    if not may_act_for(key, institution_code):
        raise Forbidden(
            f"this key belongs to {key.institution_code} and may not act for {institution_code}"
        )


# -- personal data in answers ------------------------------------------------------------


def sees_personal(rule: Rule, principal: Principal | None) -> bool:
    # The member, and a person registering themself without credentials: the policy
    # lets them reach no one's records but their own.
    if principal is None or isinstance(principal, MemberPrincipal):
        return True
    if isinstance(principal, StaffPrincipal):
        return sees_personal_data(principal.role)
    return isinstance(principal, ChannelPrincipal) and rule.channels_see_personal


def masked(rule: Rule, principal: Principal | None, body: Any) -> Any:
    """The answer with `rule.personal` fields masked unless this caller may see them."""
    if not rule.personal or sees_personal(rule, principal) or not isinstance(body, dict):
        return body
    shown = _mask_fields(body, rule.personal)
    if isinstance(shown.get("items"), list):
        shown["items"] = [
            _mask_fields(item, rule.personal) if isinstance(item, dict) else item
            for item in shown["items"]
        ]
    return shown


_MASKS: dict[str, Callable[[Any], Any]] = {
    "phone": lambda value: mask_phone(value) if isinstance(value, str) else value,
    "name": lambda value: mask_name(value) if isinstance(value, str) else value,
    "birthday": lambda value: None,
    "address": lambda value: "****" if value else value,
    "delivery_address": lambda value: "****" if value else value,
    "code": lambda value: "****-****-****-" + value[-4:] if isinstance(value, str) else value,
    "identifiers": lambda items: (
        [
            {**item, "value": mask_phone(item["value"])}
            if isinstance(item, dict) and item.get("type") == "phone"
            else item
            for item in items
        ]
        if isinstance(items, list)
        else items
    ),
}


def _mask_fields(body: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {
        key: _MASKS[key](value) if key in fields and key in _MASKS else value
        for key, value in body.items()
    }


# -- words for people -----------------------------------------------------------------------


def describe_caller(principal: Principal) -> str:
    if isinstance(principal, MemberPrincipal):
        return "a member token"
    if isinstance(principal, ChannelPrincipal):
        return f"a {principal.channel} key"
    return f"the {principal.role} role"


_SCOPE_WORDS = {
    Scope.CREATOR: "on what its own channel (and outlet, for counter and retail keys) created",
    Scope.OUTLET: "a counter key of the outlet where it is collected",
    Scope.COURIER: "the distribution (courier) channel for deliveries",
    Scope.INSTITUTION: "for its own outlet or store only",
}


def describe(rule: Rule) -> str:
    """The rule in one sentence, as the OpenAPI document and 403 answers state it."""
    if rule.open_to_all:
        return "anyone, no credentials needed"
    parts = []
    if rule.anonymous:
        parts.append("anyone without credentials")
    if rule.member:
        parts.append("the member (own records only)" if rule.target else "a member")
    if rule.channels:
        who = (
            "any channel key"
            if set(rule.channels) == set(CHANNELS)
            else "channel keys of " + ", ".join(rule.channels)
        )
        scopes = [_SCOPE_WORDS[s] for s in rule.scope if s is not Scope.ANY]
        parts.append(who + (" (" + "; or ".join(scopes) + ")" if scopes else ""))
    if rule.staff:
        parts.append("staff roles " + ", ".join(rule.staff))
    return "; ".join(parts) if parts else "nobody"


def as_document(rule: Rule) -> dict[str, Any]:
    """The rule as the `x-access-policy` extension of an OpenAPI operation."""
    return {
        "anonymous": rule.anonymous,
        "member": "own records" if rule.member and rule.target else rule.member,
        "channels": list(rule.channels),
        "channel_scope": [str(scope) for scope in rule.scope],
        "staff_roles": list(rule.staff),
        "object": None
        if rule.target is None
        else {"kind": rule.target.kind, "named_by": rule.target.field},
        "personal_data_masked": list(rule.personal),
    }
