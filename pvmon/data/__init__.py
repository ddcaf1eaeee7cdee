"""Data files shipped with pvmon (the plan's village table)."""
