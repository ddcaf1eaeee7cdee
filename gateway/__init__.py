"""Real equipment in: read the county's inverters (Modbus TCP: SunSpec, Huawei SUN2000;
the vendor's cloud) and publish the telemetry contract for them, buffering on disk while
the broker is away (DESIGN §7)."""
