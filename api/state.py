"""What the API process holds: settings, stores, the registry view and what analytics'
forecasts read, with short-lived caches for the figures many callers ask for at once."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from analytics.forecasts import ForecastSources
from api.security import VerifiedTokens
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.localtime import local_day
from pvmon.registry.lookup import FleetLookup
from pvmon.registry.store import load_registry, registry_version
from pvmon.settings import Settings

T = TypeVar("T")

REGISTRY_REFRESH_S = 60.0
"""How often the API asks whether the registry changed (another process imported one)."""
FIGURES_TTL_S = 60.0
"""Fleet figures change with each five-minute analytics run at most; a minute is fresh."""


class ApiState:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        influx: InfluxClient,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = session_factory(engine)
        self.influx = influx
        self.tz = ZoneInfo(settings.timezone)
        self.clock = clock
        self._lock = threading.Lock()
        self._view: tuple[float, FleetLookup] | None = None
        self._version: int | None = None
        self._forecasts: ForecastSources | None = None
        self._cache: dict[Any, tuple[float, Any]] = {}
        self._key_locks: dict[Any, threading.Lock] = {}
        self.tokens = VerifiedTokens()

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return local_day(self.now(), self.tz)

    def view(self) -> FleetLookup:
        with self._lock:
            if self._view is None or time.monotonic() - self._view[0] > REGISTRY_REFRESH_S:
                self._refresh()
            assert self._view is not None
            return self._view[1]

    def _refresh(self) -> None:
        """Read the registry again only if it changed: a province's takes seconds to read."""
        with self.sessions() as session:
            version = registry_version(session)
            if self._view is not None and version == self._version:
                self._view = (time.monotonic(), self._view[1])
                return
            self._view = (time.monotonic(), FleetLookup.build(load_registry(session)))
        self._version = version
        self._forecasts = None

    def forecast_sources(self) -> ForecastSources:
        """What analytics' forecasts read (``analytics.forecasts``), renewed with the
        registry view."""
        view = self.view()
        with self._lock:
            if self._forecasts is None:
                self._forecasts = ForecastSources.of(self.settings, self.influx, view.registry)
            return self._forecasts

    def cached(self, key: Any, compute: Callable[[], T], ttl: float = FIGURES_TTL_S) -> T:
        """``compute()``, kept for ``ttl`` seconds under ``key``; callers arriving while it
        is computed wait for that result rather than computing it again."""
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < ttl:
            return hit[1]  # type: ignore[no-any-return]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            hit = self._cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < ttl:
                return hit[1]  # type: ignore[no-any-return]
            value = compute()
            self._cache[key] = (time.monotonic(), value)
            return value

    def forget(self) -> None:
        """Drop the registry view and cached figures (after a registry import)."""
        with self._lock:
            self._view = None
            self._forecasts = None
            self._cache.clear()
