"""DuckDB warehouse: star schema, incremental sync, metric queries, clearing (not built yet)."""
