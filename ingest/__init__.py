"""MQTT → validation → InfluxDB, at least once, with a dead letter for what is refused."""
