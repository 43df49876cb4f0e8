"""Loads the reference data of `reference_data` through each package's own loader (idempotent)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

import crm
import crm.insights
import points_engine
from common.organisation import BusinessType, Category, Channel, Institution
from common.unit_of_work import transaction
from memberhub import reference_data as data
from storefront_api import bills, catalogue, partners, subscriptions


def load_reference_data(session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as uow:
        session = uow.session
        for seed in data.INSTITUTIONS:
            if session.get(Institution, seed.code) is None:
                session.add(Institution(**seed.__dict__))
                session.flush()
        for channel in data.CHANNELS:
            if session.get(Channel, channel.code) is None:
                session.add(Channel(**channel.__dict__))
        for business_type in data.BUSINESS_TYPES:
            if session.get(BusinessType, business_type.code) is None:
                session.add(BusinessType(**business_type.__dict__))
        for category in data.CATEGORIES:
            if session.get(Category, category.code) is None:
                session.add(Category(**category.__dict__))
    with transaction(session_factory) as uow:
        crm.load_club(
            uow,
            [
                crm.TierData(
                    t.code,
                    t.name,
                    t.name_en,
                    t.rank,
                    t.min_points_12m,
                    t.min_spend_fen_12m,
                    t.birthday_bonus_points,
                    t.free_delivery,
                )
                for t in data.TIERS
            ],
            campaign_bonus_qualifies=data.CLUB.campaign_bonus_qualifies,
            grace_days=data.CLUB.grace_days,
        )
    with transaction(session_factory) as uow:
        crm.insights.load_segments(uow, crm.insights.DEFAULT_SEGMENTS)
    with transaction(session_factory) as uow:
        points_engine.load_ledger_reference(
            uow,
            rules=[points_engine.RuleData(**rule.__dict__) for rule in data.EARNING_RULES],
            tier_multipliers=[(t.code, t.multiplier_bp) for t in data.TIERS],
            rewards=[points_engine.RewardData(**r.__dict__) for r in data.REWARDS],
            institution_codes=[i.code for i in data.INSTITUTIONS],
        )
    with transaction(session_factory) as uow:
        subscriptions.load_press_titles(uow)
    with transaction(session_factory) as uow:
        catalogue.load_products(uow, catalogue.PRODUCTS)
    with transaction(session_factory) as uow:
        bills.load_billers(uow)
    with transaction(session_factory) as uow:
        partners.load_partners(uow)
