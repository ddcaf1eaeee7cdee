"""The simulated fleet: each station's data logger publishing its inverters' telemetry."""
