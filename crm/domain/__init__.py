"""Pure member rules: phone numbers, identifiers, member numbers, tiers, errors."""
