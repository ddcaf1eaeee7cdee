"""Pure computations over telemetry: energy, KPIs, detection, targets, revenue (DESIGN §3)."""
