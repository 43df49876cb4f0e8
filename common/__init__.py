"""Shared kernel: settings, database base, error categories, money and time helpers."""
