"""DuckDB warehouse: star schema, incremental sync, read-only access that follows each sync, export.

The public facade: `sync_warehouse` (the only writer), `install_warehouse` (puts a
backed-up file in place the way a sync publishes), `WarehouseReader` (dashboards' read
side), `export_parquet`, the masking and calendar rules the dashboards share, and the
per-member features and labels of the insights models (`member_features`), and a
campaign's incremental effect by the API's rules (`campaign_headline`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.lazy_exports import lazy_exports
from common.masking import mask_name, mask_phone

if TYPE_CHECKING:
    from warehouse.campaign_effect import CampaignHeadline, campaign_headline
    from warehouse.export import export_parquet
    from warehouse.member_features import (
        daily_purchases,
        member_features,
        purchase_range,
        purchases_after,
    )
    from warehouse.reader import WarehouseNotReady, WarehouseReader
    from warehouse.schema import DIMENSION_TABLES, FACT_TABLES, SCHEMA_VERSION
    from warehouse.sync import SyncInProgress, SyncReport, install_warehouse, sync_warehouse

__getattr__ = lazy_exports(
    __name__,
    {
        "CampaignHeadline": "campaign_effect",
        "DIMENSION_TABLES": "schema",
        "FACT_TABLES": "schema",
        "SCHEMA_VERSION": "schema",
        "SyncInProgress": "sync",
        "SyncReport": "sync",
        "WarehouseNotReady": "reader",
        "WarehouseReader": "reader",
        "campaign_headline": "campaign_effect",
        "daily_purchases": "member_features",
        "export_parquet": "export",
        "install_warehouse": "sync",
        "member_features": "member_features",
        "purchase_range": "member_features",
        "purchases_after": "member_features",
        "sync_warehouse": "sync",
    },
)

__all__ = [
    "DIMENSION_TABLES",
    "FACT_TABLES",
    "SCHEMA_VERSION",
    "CampaignHeadline",
    "SyncInProgress",
    "SyncReport",
    "WarehouseNotReady",
    "WarehouseReader",
    "campaign_headline",
    "daily_purchases",
    "export_parquet",
    "install_warehouse",
    "mask_name",
    "mask_phone",
    "member_features",
    "purchase_range",
    "purchases_after",
    "sync_warehouse",
]
