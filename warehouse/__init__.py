"""DuckDB warehouse: star schema, incremental sync, read-only access that follows each sync, export.

The public facade: `sync_warehouse` (the only writer), `install_warehouse` (puts a
backed-up file in place the way a sync publishes), `WarehouseReader` (dashboards' read
side), `export_parquet`, the masking and calendar rules the dashboards share, and the
per-member features and labels of the insights models (`member_features`), and a
campaign's incremental effect by the API's rules (`campaign_headline`).
"""

from common.masking import mask_name, mask_phone
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
