"""Per-field topics as OpenDTU (and AhoyDTU) publish them for Hoymiles micro-inverters,
mapped onto the contract by the gateway — a bridge, so that ingest keeps one contract and
validates a DTU's readings like any other logger's.

A DTU publishes each value on its own topic under the inverter's base
(``<base>/0/power`` W, ``<base>/0/yieldtotal`` kWh, ``0/frequency``, ``0/temperature``;
``<base>/<n>/voltage|current`` for each DC input n ≥ 1; ``<base>/status/reachable``,
``status/producing`` and ``status/last_update``, the epoch seconds of its last answer
from the inverter). A ``DtuBroker`` listens to one DTU broker and keeps each topic's last
value; an ``OpenDtuDevice`` turns them into a reading at the inverter's own last update.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import paho.mqtt.client as mqtt
import structlog

from gateway.device import DeviceUnreachable
from pvmon.telemetry import OperatingState, Reading, dc_totals

log = structlog.get_logger("gateway")
INPUTS = 6
"""DC inputs a Hoymiles inverter has at most."""


def field(fields: Mapping[str, str], name: str) -> float | None:
    """A field's number; None when the DTU has not published it or published no number."""
    raw = fields.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def to_reading(ts: int, fields: Mapping[str, str]) -> Reading:
    """The last value of each of an inverter's topics (relative to its base) → a reading."""
    kwh = field(fields, "0/yieldtotal")
    producing = field(fields, "status/producing")
    state = None
    if producing is not None:
        state = OperatingState.MPPT if producing else OperatingState.SLEEPING
    dca, dcv = dc_totals(
        (field(fields, f"{n}/current"), field(fields, f"{n}/voltage")) for n in range(1, INPUTS + 1)
    )
    return Reading(
        ts=ts,
        W=field(fields, "0/power") or 0.0,
        WH=kwh * 1000 if kwh is not None else None,
        DCV=dcv,
        DCA=dca,
        Hz=field(fields, "0/frequency"),
        TmpCab=field(fields, "0/temperature"),
        St=int(state) if state is not None else None,
    )


def unreadable(fields: Mapping[str, str]) -> list[str]:
    """The fields the mapping reads whose value is not a number."""
    return [
        k for k, v in fields.items() if k.split("/")[0].isdigit() and field(fields, k) is None and v
    ]


class DtuBroker:
    """One connection to the broker a station's DTU publishes to."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._lock = threading.Lock()
        self._bases: set[str] = set()
        self._values: dict[str, dict[str, str]] = {}
        self._pending: dict[int, str] = {}
        """Subscription message id → its base, until the broker acknowledges it."""
        self._subscribed: set[str] = set()
        self._early: set[int] = set()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, clean_session=True)
        self.client.on_connect = self._connected
        self.client.on_subscribe = self._acknowledged
        self.client.on_message = self._message
        self.client.reconnect_delay_set(1, 30)
        self._started = False

    def follow(self, base: str) -> None:
        with self._lock:
            self._bases.add(base.strip("/"))
        if not self._started:
            self._started = True
            self.client.connect_async(self.host, self.port, keepalive=60)
            self.client.loop_start()
        elif self.client.is_connected():
            self._subscribe(self.client, base.strip("/"))

    def fields(self, base: str) -> dict[str, str]:
        with self._lock:
            return dict(self._values.get(base.strip("/"), {}))

    def _connected(self, client: mqtt.Client, *_args: object) -> None:
        with self._lock:
            bases = sorted(self._bases)
            self._subscribed.clear()
        for base in bases:
            self._subscribe(client, base)

    def _subscribe(self, client: mqtt.Client, base: str) -> None:
        # Not under our lock: paho takes its own, and its thread may be in a callback
        # waiting for ours (the deadlock the station gateway once had).
        _, mid = client.subscribe(f"{base}/#", qos=0)
        with self._lock:
            if mid in self._early:
                self._early.discard(mid)
                self._subscribed.add(base)
            else:
                self._pending[mid] = base

    def _acknowledged(self, _c: mqtt.Client, _u: object, mid: int, *_args: object) -> None:
        with self._lock:
            base = self._pending.pop(mid, None)
            if base is None:
                self._early.add(mid)  # acknowledged before its subscribe call returned
            else:
                self._subscribed.add(base)

    def _message(self, _c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        with self._lock:
            for base in self._bases:
                if topic.startswith(base + "/"):
                    payload = message.payload.decode("utf-8", "replace").strip()
                    self._values.setdefault(base, {})[topic[len(base) + 1 :]] = payload

    @property
    def connected(self) -> bool:
        """Connected, and every base followed is subscribed (what the DTU publishes from
        now on arrives)."""
        with self._lock:
            return self.client.is_connected() and self._bases <= self._subscribed

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class OpenDtuDevice:
    """One Hoymiles inverter as its DTU publishes it. It answers when the DTU has heard
    from it within ``stale_s`` of the poll; its reading carries the DTU's time."""

    def __init__(self, dtu: DtuBroker, base: str, stale_s: float) -> None:
        self.dtu, self.base, self.stale_s = dtu, base.strip("/"), stale_s
        self._warned: set[str] = set()
        dtu.follow(self.base)

    def poll(self, ts: int) -> Reading:
        where = f"DTU at {self.dtu.host}:{self.dtu.port}, {self.base}"
        if not self.dtu.connected:
            raise DeviceUnreachable(f"{where}: not connected to its broker")
        fields = self.dtu.fields(self.base)
        last = field(fields, "status/last_update")
        if not fields or last is None:
            raise DeviceUnreachable(f"{where}: nothing published yet")
        if field(fields, "status/reachable") == 0:
            raise DeviceUnreachable(f"{where}: the DTU does not reach the inverter")
        if ts - last > self.stale_s:
            raise DeviceUnreachable(f"{where}: last update {ts - last:.0f} s before the poll")
        bad = set(unreadable(fields))
        for name in sorted(bad - self._warned):
            log.warning("opendtu_field_unreadable", base=self.base, field=name, value=fields[name])
        self._warned = bad
        return to_reading(int(last), fields)

    def close(self) -> None:
        """The broker connection is the service's, shared by the DTU's inverters."""
