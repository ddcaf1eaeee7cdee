"""The HTTP API and dashboards (FastAPI): role-scoped views of the fleet (DESIGN §3)."""
