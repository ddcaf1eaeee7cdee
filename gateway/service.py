"""``pvmon gateway``: every station whose inverters have addresses in the registry (or the
chosen ones), each played by a ``StationGateway`` polling at the station's interval."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import structlog

from gateway.aio import LoopThread
from gateway.buffer import MessageBuffer
from gateway.device import Device
from gateway.fusionsolar import CloudDevice, CloudPoller, NorthboundClient
from gateway.huawei import HuaweiDevice, HuaweiLink
from gateway.opendtu import DtuBroker, OpenDtuDevice
from gateway.station import StationGateway
from gateway.sunspec import SunSpecDevice
from pvmon.brokerauth import read_credentials
from pvmon.datapaths import gateway_buffers
from pvmon.domain import Protocol
from pvmon.localtime import local_day, utc_now
from pvmon.registry.effective import carries_on
from pvmon.registry.schema import DeviceAddressRow, Registry
from pvmon.settings import MqttEndpoint, Settings

log = structlog.get_logger("gateway")


class GatewayConfigError(ValueError):
    """The registry or the settings do not let the gateway start: says what to change."""


@dataclass(frozen=True)
class Plan:
    station: str
    interval_s: int
    addresses: list[DeviceAddressRow]


def plans(registry: Registry, settings: Settings, chosen: list[str] | None) -> list[Plan]:
    """The stations to play, each with its in-service devices' addresses and its reporting
    interval (a retired inverter is not polled)."""
    today = local_day(utc_now(), ZoneInfo(settings.timezone))
    station_of = {i.id: i.station_id for i in registry.inverters if carries_on(i, today)}
    kinds = {s.id: s.kind for s in registry.stations}
    by_station: dict[str, list[DeviceAddressRow]] = defaultdict(list)
    for a in registry.device_addresses:
        if a.inverter_id in station_of:
            by_station[station_of[a.inverter_id]].append(a)
    wanted = chosen or sorted(by_station)
    missing = [s for s in wanted if s not in by_station]
    if missing:
        raise GatewayConfigError(
            f"no device addresses in the registry for {', '.join(missing)}: "
            "add them to its device_addresses sheet and import it"
        )
    cloud = settings.gateway.fusionsolar
    in_cloud = {s for s in wanted if any(a.protocol == Protocol.FUSIONSOLAR for a in by_station[s])}
    if in_cloud:
        cloud_account(settings, in_cloud)
    return [
        Plan(
            s,
            max(settings.telemetry_interval_s[kinds[s]], cloud.interval_s if s in in_cloud else 0),
            by_station[s],
        )
        for s in wanted
    ]


def cloud_account(settings: Settings, stations: set[str]) -> tuple[str, str, str]:
    """The FusionSolar account's (base URL, user, system code)."""
    cloud = settings.gateway.fusionsolar
    if not (cloud.base_url and cloud.user and cloud.system_code):
        raise GatewayConfigError(
            f"{', '.join(sorted(stations))}: inverters read from FusionSolar need its account: "
            "set PVMON_GATEWAY__FUSIONSOLAR__BASE_URL, __USER and __SYSTEM_CODE"
        )
    return cloud.base_url, cloud.user, cloud.system_code


class Devices:
    """Builds each address's reader. Huawei units at one (host, port) — a SmartLogger's —
    share its one connection, and Huawei's async library one event loop; the cloud's
    devices share the account's one poller, a DTU's inverters its broker connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.timeout_s = settings.gateway.timeout_s
        self._links: dict[tuple[str, int], HuaweiLink] = {}
        self._loop: LoopThread | None = None
        self._cloud: CloudPoller | None = None
        self._dtus: dict[tuple[str, int], DtuBroker] = {}

    def device(self, a: DeviceAddressRow) -> Device:
        """The registry's validation has made sure each address has what its protocol
        needs; a missing field here is a registry written around it."""
        missing = GatewayConfigError(
            f"{a.inverter_id}: {a.protocol} needs {' and '.join(a.protocol.needs)}"
        )
        if a.protocol == Protocol.FUSIONSOLAR and a.cloud_id is not None:
            return CloudDevice(self._poller(a.inverter_id), a.cloud_id)
        port = a.port or a.protocol.port
        if a.host is None or port is None:
            raise missing
        if a.protocol == Protocol.OPENDTU and a.cloud_id is not None:
            return OpenDtuDevice(
                self._dtu(a.host, port), a.cloud_id, self.settings.gateway.dtu_stale_s
            )
        if a.unit_id is None:
            raise missing
        if a.protocol == Protocol.HUAWEI:
            return HuaweiDevice(self._link(a.host, port), a.unit_id)
        return SunSpecDevice(a.host, port, a.unit_id, self.timeout_s)

    def _dtu(self, host: str, port: int) -> DtuBroker:
        key = (host, port)
        if key not in self._dtus:
            self._dtus[key] = DtuBroker(host, port)
        return self._dtus[key]

    def _link(self, host: str, port: int) -> HuaweiLink:
        if self._loop is None:
            self._loop = LoopThread()
        key = (host, port)
        if key not in self._links:
            self._links[key] = HuaweiLink(self._loop, host, port, self.timeout_s)
        return self._links[key]

    def _poller(self, inverter: str) -> CloudPoller:
        if self._cloud is None:
            url, user, code = cloud_account(self.settings, {inverter})
            self._cloud = CloudPoller(
                NorthboundClient(url, user, code, self.timeout_s),
                self.settings.gateway.fusionsolar.interval_s,
                ZoneInfo(self.settings.timezone),
            )
        return self._cloud

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()
        if self._cloud is not None:
            self._cloud.close()
        for dtu in self._dtus.values():
            dtu.close()


class GatewayService:
    def __init__(
        self, settings: Settings, endpoint: MqttEndpoint, station_plans: list[Plan]
    ) -> None:
        passwords = (
            read_credentials(settings.gateway.credentials) if settings.gateway.credentials else {}
        )
        folder = gateway_buffers(settings)
        self.devices = Devices(settings)
        self.plans = {p.station: p for p in station_plans}
        self.stations = {
            p.station: StationGateway(
                p.station,
                {a.inverter_id: self.devices.device(a) for a in p.addresses},
                endpoint,
                passwords.get(p.station),
                MessageBuffer(folder / f"{p.station}.sqlite", settings.gateway.buffer_max_bytes),
            )
            for p in station_plans
        }
        self._stop = threading.Event()

    def run(self) -> None:
        for gateway in self.stations.values():
            gateway.start()
        log.info("gateway_started", stations=len(self.stations))
        due = dict.fromkeys(self.stations, 0)
        running: dict[str, Future[None]] = {}
        with ThreadPoolExecutor(min(32, len(self.stations)) or 1) as pool:
            while not self._stop.is_set():
                now = time.time()
                for station, at in due.items():
                    if now < at:
                        continue
                    interval = self.plans[station].interval_s
                    ts = int(now // interval * interval)
                    due[station] = ts + interval
                    if station in running and not running[station].done():
                        # its devices are still being read: a slow link, not a second poll
                        log.warning("gateway_poll_overrun", station=station, ts=ts)
                        continue
                    running[station] = pool.submit(self._poll, station, ts)
                self._stop.wait(max(0.05, min(due.values()) - time.time()))
        for gateway in self.stations.values():
            gateway.stop()
            gateway.buffer.close()
        self.devices.close()
        log.info("gateway_stopped")

    def _poll(self, station: str, ts: int) -> None:
        try:
            self.stations[station].poll(ts)
        except Exception:  # one station's trouble must not stop the others
            log.exception("gateway_poll_failed", station=station)

    def stop(self) -> None:
        self._stop.set()
