"""Backup and restore of everything the system keeps: InfluxDB, the relational store, and
the data directory's declared paths (``pvmon.datapaths``). Public: ``backup.run``."""
