"""Finds who owns the object a request names, for step 2 of the access policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

import crm
import points_engine
from common.ownership import Owner
from storefront_api import bills, orders, partners, prepaid, subscriptions, vouchers
from storefront_api.auth import ChannelPrincipal, Principal

Resolver = Callable[[Session, Any, Principal | None], Owner | None]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _member_ref(session: Session, ref: Any, _: Principal | None) -> Owner | None:
    if ref is None:
        return None
    return crm.queries.member_owner_by_reference(
        session,
        getattr(ref, "member_no", None),
        getattr(ref, "phone", None),
        getattr(ref, "card_no", None),
    )


def _accrual(session: Session, external_id: Any, principal: Principal | None) -> Owner | None:
    # A refund names the purchase by the id its own channel gave it: another channel's
    # purchase is out of reach by construction; the owner says which outlet took it.
    if not isinstance(principal, ChannelPrincipal) or _text(external_id) is None:
        return None
    return points_engine.queries.accrual_owner(session, principal.channel, external_id)


def _institution(_: Session, code: Any, __: Principal | None) -> Owner | None:
    return Owner(institution_code=code) if isinstance(code, str) else None


def _keyed(find: Callable[[Session, str], Owner | None]) -> Resolver:
    return lambda session, key, _: find(session, key) if isinstance(key, str) else None


RESOLVERS: dict[str, Resolver] = {
    "member": _keyed(crm.queries.member_owner),
    "member_ref": _member_ref,
    "order": _keyed(orders.order_owner),
    "redemption": _keyed(points_engine.queries.redemption_owner),
    "accrual": _accrual,
    "card": _keyed(prepaid.queries.card_owner),
    "card_charge": _keyed(prepaid.queries.charge_owner),
    "bill_payment": _keyed(bills.payment_owner),
    "subscription": _keyed(subscriptions.subscription_owner),
    "partner_exchange": _keyed(partners.exchange_owner),
    "voucher_use": _keyed(vouchers.use_owner),
    "institution": _institution,
}


def owner_of(session: Session, kind: str, key: Any, principal: Principal | None) -> Owner | None:
    return RESOLVERS[kind](session, key, principal)
