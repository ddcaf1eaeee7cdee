"""The composition root: the ``pvmon`` command, ``pvmon up`` and what it starts (a local
Mosquitto and influxd, the broker's credentials, the demo registry and users). It may import
every package; nothing imports it (``.importlinter``)."""
