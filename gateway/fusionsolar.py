"""Huawei FusionSolar's Northbound interface (``/thirdData/…``) for inverters whose only
link is the vendor's cloud. Built from the interface's documented shapes and tested
against a local stand-in: **unverified against the real cloud**, which cannot be reached
from here.

One account (an API user's ``userName`` and ``systemCode``) covers many stations: a
``CloudPoller`` logs in, keeps the XSRF token and logs in again when the cloud says the
session ended (failCode 305), lists the account's plants and their inverters (devTypeId
1 string inverter, 38 residential), and reads every inverter's real-time KPIs at most
once per interval, up to 100 devices a call. When the cloud says it is called too often
(failCode 407) it backs off, doubling the wait up to an hour. After an outage it fetches
the 5-minute history of the days it missed, which the station gateways publish with the
readings' own times before the current one.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
import structlog

from gateway.device import DeviceUnreachable, number
from gateway.huawei import state_of_code
from pvmon.localtime import day_start, local_day
from pvmon.telemetry import Reading, dc_totals

log = structlog.get_logger("gateway")

NOT_LOGGED_IN = 305
TOO_FREQUENT = 407
BATCH = 100
"""Devices (and plants) per call: the documented maximum."""
INVERTER_TYPES = frozenset({1, 38})
STRINGS = 28
"""PV inputs the real-time KPIs may report (``pv1_u``/``pv1_i`` … ``pv28_…``)."""
MAX_BACKOFF_S = 3600


class CloudError(Exception):
    """The cloud refused or failed a call; the message says which and why."""


class TooFrequent(CloudError):
    pass


def to_reading(ts: int, items: Mapping[str, Any]) -> Reading:
    """A device's ``dataItemMap`` (``active_power`` kW, ``total_cap`` lifetime kWh,
    ``elec_freq``, ``temperature``, ``inverter_state`` as Huawei's status code, the PV
    inputs' ``pvN_u``/``pvN_i``) → a reading."""
    kw, kwh = number(items.get("active_power")), number(items.get("total_cap"))
    state = number(items.get("inverter_state"))
    dca, dcv = dc_totals(
        (number(items.get(f"pv{n}_i")), number(items.get(f"pv{n}_u")))
        for n in range(1, STRINGS + 1)
    )
    return Reading(
        ts=ts,
        W=kw * 1000 if kw is not None else 0.0,
        WH=kwh * 1000 if kwh is not None else None,
        DCV=dcv,
        DCA=dca,
        Hz=number(items.get("elec_freq")),
        TmpCab=number(items.get("temperature")),
        St=state_of_code(int(state)) if state is not None else None,
    )


def batches(ids: Iterable[str], size: int = BATCH) -> list[list[str]]:
    items = sorted(ids)
    return [items[i : i + size] for i in range(0, len(items), size)]


class NorthboundClient:
    """The calls, with the session kept and renewed."""

    def __init__(self, base_url: str, user: str, system_code: str, timeout_s: float) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self.user, self.system_code = user, system_code
        self._token: str | None = None

    def login(self) -> None:
        response = self._post("login", {"userName": self.user, "systemCode": self.system_code})
        self._answer("login", response)
        token = response.headers.get("xsrf-token") or response.cookies.get("XSRF-TOKEN")
        if not token:
            raise CloudError("login: the answer carries no XSRF token")
        self._token = token

    def call(self, path: str, body: Mapping[str, Any]) -> Any:
        """The ``data`` of a successful answer; logs in first, and again once when the
        cloud says the session has ended."""
        for _ in range(2):
            if self._token is None:
                self.login()
            try:
                return self._answer(path, self._post(path, body, self._token))
            except _SessionEnded:
                self._token = None
        raise CloudError(f"{path}: the session ended again right after logging in")

    def _post(self, path: str, body: Mapping[str, Any], token: str | None = None) -> httpx.Response:
        headers = {"XSRF-TOKEN": token} if token else {}
        try:
            return self.http.post(f"/thirdData/{path}", json=dict(body), headers=headers)
        except httpx.HTTPError as exc:
            raise CloudError(f"{path}: {exc}") from exc

    @staticmethod
    def _answer(path: str, response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise CloudError(f"{path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise CloudError(f"{path}: the answer is not JSON") from exc
        code = answer.get("failCode") if isinstance(answer, dict) else None
        if code == NOT_LOGGED_IN:
            raise _SessionEnded
        if code == TOO_FREQUENT:
            raise TooFrequent(f"{path}: called too often (failCode 407)")
        if not isinstance(answer, dict) or answer.get("success") is not True:
            raise CloudError(
                f"{path}: failCode {code}: {answer.get('message') if code else answer}"
            )
        return answer.get("data")

    def plants(self) -> list[str]:
        codes, page, pages = [], 1, 1
        while page <= pages:
            data = self.call("stations", {"pageNo": page})
            codes += [p["plantCode"] for p in data["list"]]
            pages, page = int(data.get("pageCount") or 1), page + 1
        return codes

    def inverters(self, plants: list[str]) -> dict[str, int]:
        """devId → devTypeId of the plants' inverters."""
        out = {}
        for batch in batches(plants):
            for d in self.call("getDevList", {"stationCodes": ",".join(batch)}):
                if d.get("devTypeId") in INVERTER_TYPES:
                    out[str(d["id"])] = int(d["devTypeId"])
        return out

    def real_kpis(self, dev_type: int, ids: list[str]) -> list[dict[str, Any]]:
        body = {"devIds": ",".join(ids), "devTypeId": dev_type}
        return list(self.call("getDevRealKpi", body) or [])

    def five_minutes(self, dev_type: int, ids: list[str], day_ms: int) -> list[dict[str, Any]]:
        body = {"devIds": ",".join(ids), "devTypeId": dev_type, "collectTime": day_ms}
        return list(self.call("getDevFiveMinutes", body) or [])

    def close(self) -> None:
        self.http.close()


class _SessionEnded(Exception):
    pass


class CloudPoller:
    """Every inverter of one account, read together once per poll time."""

    def __init__(self, client: NorthboundClient, interval_s: int, tz: dt.tzinfo) -> None:
        self.client, self.interval_s, self.tz = client, interval_s, tz
        self._lock = threading.Lock()
        self._types: dict[str, int] | None = None
        self._latest: dict[str, Reading] = {}
        self._missed: dict[str, dict[int, Reading]] = defaultdict(dict)
        """devId → the history's readings by time (a retried catch-up adds none twice)."""
        self._round: int | None = None
        self._error: str | None = None
        self._last_good: int | None = None
        self._backoff_s = 0.0
        self._resume_at = 0.0

    def reading(self, device: str, ts: int) -> Reading:
        with self._lock:
            if self._round != ts:
                self._round = ts
                self._refresh(ts)
            if self._error is not None:
                raise DeviceUnreachable(f"FusionSolar: {self._error}")
            if self._types is not None and device not in self._types:
                raise DeviceUnreachable(f"FusionSolar: no inverter {device} in the account")
            if device not in self._latest:
                raise DeviceUnreachable(f"FusionSolar: no real-time data for {device}")
            return self._latest[device]

    def missed(self, device: str) -> list[Reading]:
        with self._lock:
            held = self._missed.pop(device, {})
            return [held[ts] for ts in sorted(held)]

    def _refresh(self, ts: int) -> None:
        if time.monotonic() < self._resume_at:
            self._error = f"backing off for {self._backoff_s:.0f} s: called too often"
            return
        try:
            types = self._types if self._types is not None else self._discover()
            latest = {}
            for dev_type, ids in self._by_type(types).items():
                for batch in batches(ids):
                    for item in self.client.real_kpis(dev_type, batch):
                        latest[str(item["devId"])] = to_reading(ts, item.get("dataItemMap", {}))
            if self._last_good is not None and ts - self._last_good > self.interval_s:
                self._catch_up(types, self._last_good, ts)
        except TooFrequent as exc:
            self._backoff_s = min(max(2 * self._backoff_s, self.interval_s), MAX_BACKOFF_S)
            self._resume_at = time.monotonic() + self._backoff_s
            self._error = str(exc)
            log.warning("fusionsolar_too_frequent", backoff_s=self._backoff_s)
            return
        except (CloudError, KeyError, TypeError, ValueError) as exc:
            self._error = str(exc) or type(exc).__name__
            log.warning("fusionsolar_failed", error=self._error)
            return
        self._latest, self._error, self._last_good, self._backoff_s = latest, None, ts, 0.0

    def _discover(self) -> dict[str, int]:
        self._types = self.client.inverters(self.client.plants())
        log.info("fusionsolar_devices", inverters=len(self._types))
        return self._types

    @staticmethod
    def _by_type(types: Mapping[str, int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = defaultdict(list)
        for device, dev_type in types.items():
            out[dev_type].append(device)
        return out

    def _catch_up(self, types: Mapping[str, int], after: int, before: int) -> None:
        """The 5-minute points strictly between the last good poll and this one."""
        day, last = local_day(after, self.tz), local_day(before, self.tz)
        found = 0
        while day <= last:
            day_ms = day_start(day, self.tz) * 1000
            for dev_type, ids in self._by_type(types).items():
                for batch in batches(ids):
                    for item in self.client.five_minutes(dev_type, batch, day_ms):
                        at = int(item["collectTime"]) // 1000
                        if after < at < before:
                            reading = to_reading(at, item.get("dataItemMap", {}))
                            self._missed[str(item["devId"])][at] = reading
                            found += 1
            day += dt.timedelta(days=1)
        log.info("fusionsolar_caught_up", readings=found, after=after, before=before)

    def close(self) -> None:
        self.client.close()


class CloudDevice:
    """One inverter of a FusionSolar account, by its devId."""

    def __init__(self, poller: CloudPoller, device: str) -> None:
        self.poller, self.device = poller, device

    def poll(self, ts: int) -> Reading:
        return self.poller.reading(self.device, ts)

    def missed(self) -> list[Reading]:
        return self.poller.missed(self.device)

    def close(self) -> None:
        """The account's poller is closed by the service, once."""
