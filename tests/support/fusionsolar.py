"""A local HTTP stand-in for FusionSolar's Northbound interface, following its documented
shapes (the one fake the project allows: the real cloud cannot be reached from here).

It answers ``/thirdData/login`` (the token in the ``xsrf-token`` header and the
``XSRF-TOKEN`` cookie), ``stations`` (paged), ``getDevList``, ``getDevRealKpi`` and
``getDevFiveMinutes``; every answer is ``{"success", "failCode", "data", "params",
"message"}``. A test sets the devices' values and history, ends every session (failCode
305), makes real-time calls too frequent (failCode 407) or takes the cloud down (HTTP 503).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from launch.local.process import free_port

WRONG_CREDENTIALS = 20001
NOT_LOGGED_IN = 305
TOO_FREQUENT = 407


@dataclass
class CloudDev:
    plant: str
    dev_type: int = 1
    values: dict[str, Any] = field(default_factory=dict)
    history: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """(collectTime in ms, dataItemMap) of its 5-minute points."""


class FusionSolarStandIn:
    def __init__(self, user: str = "pvmon-api", system_code: str = "s3cret", page_size: int = 100):
        self.user, self.system_code, self.page_size = user, system_code, page_size
        self.devices: dict[str, CloudDev] = {}
        self.tokens: set[str] = set()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.down = False
        self.real_kpi_every_s = 0.0
        """The least time between two real-time calls for one device type."""
        self._last_real_kpi: dict[int, float] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FusionSolarStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def called(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.calls if p == path]

    def end_sessions(self) -> None:
        self.tokens.clear()

    def plants(self) -> list[str]:
        return sorted({d.plant for d in self.devices.values()})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                path = self.path.removeprefix("/thirdData/")
                cloud.calls.append((path, body))
                if cloud.down:
                    self._send(503, {"message": "service unavailable"})
                    return
                if path == "login":
                    self._login(body)
                    return
                if self.headers.get("XSRF-TOKEN") not in cloud.tokens:
                    self._send(200, failed(NOT_LOGGED_IN, "USER_MUST_RELOGIN"))
                    return
                self._send(200, cloud.answer(path, body))

            def _login(self, body: dict[str, Any]) -> None:
                if (body.get("userName"), body.get("systemCode")) != (
                    cloud.user,
                    cloud.system_code,
                ):
                    self._send(200, failed(WRONG_CREDENTIALS, "user name or system code wrong"))
                    return
                token = secrets.token_hex(16)
                cloud.tokens.add(token)
                self._send(
                    200, ok(None), {"xsrf-token": token, "Set-Cookie": f"XSRF-TOKEN={token}"}
                )

            def _send(
                self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler

    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        interfaces = {
            "stations": self._stations,
            "getDevList": self._dev_list,
            "getDevRealKpi": self._real_kpi,
            "getDevFiveMinutes": self._five_minutes,
        }
        if path not in interfaces:
            return failed(404, f"no interface {path}")
        if len(str(body.get("devIds", "")).split(",")) > 100:
            return failed(20010, "at most 100 devices per call")
        return interfaces[path](body)

    def _stations(self, body: dict[str, Any]) -> dict[str, Any]:
        plants = self.plants()
        page = int(body.get("pageNo", 1))
        chunk = plants[(page - 1) * self.page_size : page * self.page_size]
        pages = max(1, -(-len(plants) // self.page_size))
        listed = [{"plantCode": p, "plantName": p} for p in chunk]
        return ok({"list": listed, "pageCount": pages, "pageNo": page})

    def _dev_list(self, body: dict[str, Any]) -> dict[str, Any]:
        wanted = set(str(body["stationCodes"]).split(","))
        return ok(
            [
                {
                    "id": int(i),
                    "stationCode": d.plant,
                    "devTypeId": d.dev_type,
                    "esnCode": f"ESN{i}",
                }
                for i, d in self.devices.items()
                if d.plant in wanted
            ]
        )

    def _real_kpi(self, body: dict[str, Any]) -> dict[str, Any]:
        dev_type, now = int(body["devTypeId"]), time.monotonic()
        if now - self._last_real_kpi.get(dev_type, -1e9) < self.real_kpi_every_s:
            return failed(TOO_FREQUENT, "ACCESS_FREQUENCY_IS_TOO_HIGH")
        self._last_real_kpi[dev_type] = now
        ids = [i for i in str(body["devIds"]).split(",") if i in self.devices]
        return ok([{"devId": int(i), "dataItemMap": self.devices[i].values} for i in ids])

    def _five_minutes(self, body: dict[str, Any]) -> dict[str, Any]:
        day_ms = int(body["collectTime"])
        ids = [i for i in str(body["devIds"]).split(",") if i in self.devices]
        return ok(
            [
                {"devId": int(i), "collectTime": at, "dataItemMap": values}
                for i in ids
                for at, values in self.devices[i].history
                if day_ms <= at < day_ms + 86_400_000
            ]
        )


def ok(data: Any) -> dict[str, Any]:
    return {
        "success": True,
        "failCode": 0,
        "data": data,
        "params": {"currentTime": int(time.time() * 1000)},
        "message": None,
    }


def failed(code: int, message: str) -> dict[str, Any]:
    return {"success": False, "failCode": code, "data": None, "params": {}, "message": message}
