"""Partner exchange facade: partners, points out and in, settlement and acknowledgement."""

from storefront_api.partners.domain import (
    AcknowledgementRefused,
    DailyLimitReached,
    ExchangeNotOffered,
    ExchangeStatus,
    PartnerTerms,
)
from storefront_api.partners.reference import PARTNERS, PartnerSeed
from storefront_api.partners.services import (
    Acknowledged,
    Answer,
    Exchange,
    ExchangeInCommand,
    ExchangeOutCommand,
    acknowledge,
    exchange_in,
    exchange_out,
    exchange_owner,
    exchange_view,
    list_partners,
    load_partners,
    parse_acknowledgement,
    settlement_file,
)

__all__ = [
    "PARTNERS",
    "Acknowledged",
    "AcknowledgementRefused",
    "Answer",
    "DailyLimitReached",
    "Exchange",
    "ExchangeInCommand",
    "ExchangeNotOffered",
    "ExchangeOutCommand",
    "ExchangeStatus",
    "PartnerSeed",
    "PartnerTerms",
    "acknowledge",
    "exchange_in",
    "exchange_out",
    "exchange_owner",
    "exchange_view",
    "list_partners",
    "load_partners",
    "parse_acknowledgement",
    "settlement_file",
]
