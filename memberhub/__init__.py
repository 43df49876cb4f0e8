"""Composition root: the `memberhub` CLI, demo data, and wiring of the app."""
