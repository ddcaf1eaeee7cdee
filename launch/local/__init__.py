"""Local Mosquitto and influxd processes, for ``pvmon up`` and for the tests."""
