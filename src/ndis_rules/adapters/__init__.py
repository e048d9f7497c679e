"""Adapters for the ports in :mod:`ndis_rules.ports`. The core never imports this package."""
