"""Pure ledger rules: account kinds, lots, earning-rule evaluation, errors."""
