"""Shared core of the Yonghe PV operations monitor: settings, domain, stores, registry."""
