"""The ledger's use cases, one module per kind of movement; reached through points_engine."""
