"""One asyncio loop in a thread of its own, for the adapters whose libraries are async
(huawei-solar): the gateway's polling threads hand it coroutines and wait for them."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="aio")
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """The coroutine's result; ``TimeoutError`` (and the coroutine cancelled) when it
        takes longer than ``timeout_s``."""
        return asyncio.run_coroutine_threadsafe(
            asyncio.wait_for(coroutine, timeout_s), self.loop
        ).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
