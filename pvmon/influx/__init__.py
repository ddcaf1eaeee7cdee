"""InfluxDB access over the 1.x HTTP API (line protocol to /write, InfluxQL to /query)."""
