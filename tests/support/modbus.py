"""A real Modbus TCP server (pymodbus's) on a free port, serving holding registers per unit
id that a test sets and changes while the server runs, and can make stop answering."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
)
from pymodbus.server import ModbusTcpServer

from launch.local.process import free_port
from tests.support.waiting import wait_for

HOLDING = 3
"""pymodbus's function code for holding registers."""


class ModbusServer:
    def __init__(self, maps: Mapping[int, tuple[int, Sequence[int]]]) -> None:
        """``maps``: unit id → (first register address, registers)."""
        self.port = free_port()
        self.units = {
            unit: ModbusDeviceContext(hr=ModbusSequentialDataBlock(base + 1, list(regs)))
            for unit, (base, regs) in maps.items()
        }
        self._loop = asyncio.new_event_loop()
        self._server: ModbusTcpServer | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        context = ModbusServerContext(devices=self.units, single=False)
        self._server = ModbusTcpServer(context, address=("127.0.0.1", self.port))
        await self._server.serve_forever()

    def start(self) -> ModbusServer:
        self._thread.start()
        wait_for(lambda: self._server is not None and self._server.is_active(), timeout=10)
        return self

    def stop(self) -> None:
        """Stop answering (a device switched off); again is harmless."""
        if self._server is not None and self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
        self._thread.join(10)

    def set(self, unit: int, address: int, values: Sequence[int]) -> None:
        """Write registers of one unit, as the device's firmware would."""
        self.units[unit].setValues(HOLDING, address, list(values))

    def get(self, unit: int, address: int, count: int) -> list[int]:
        return list(self.units[unit].getValues(HOLDING, address, count))


@contextmanager
def modbus_server(maps: Mapping[int, tuple[int, Sequence[int]]]) -> Iterator[ModbusServer]:
    server = ModbusServer(maps).start()
    try:
        yield server
    finally:
        server.stop()
