"""What the API process holds: settings, stores, the registry view and what analytics'
forecasts read, with short-lived caches for the figures many callers ask for at once."""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import structlog
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
log = structlog.get_logger(__name__)

REGISTRY_REFRESH_S = 60.0
"""How often the API asks whether the registry changed (another process imported one)."""
VIEW_FIGURES_TTL_S = 3_600.0
"""What follows from a registry view alone (with the day in its key where it counts) is
kept under the view's serial for an hour: a new view is a new key, and an hour bounds what
old views' entries hold. Kept a minute, a province's certification report was worked out
again each minute in a request (some 1.2 s of an API process's work)."""
FIGURES_TTL_S = 60.0
"""Fleet figures change with each five-minute analytics run at most; a minute is fresh."""
CACHE_ENTRIES = 5_000
"""Past this many cached figures, the expired ones are dropped."""


YOUNG_OBJECTS = 50_000
"""Allocations between the collector's passes over the youngest objects (CPython's default
is 700). With the registry frozen, what stays in view of the collector is the caches and
the requests in flight, and a full pass over them (some 45 ms at a province's size) ran
two or three times a second under load (the overview map's township outlines): at this
threshold none ran in forty seconds of that load."""


def settle_heap() -> None:
    """Put what the process holds now — above all a new registry view, some three million
    objects at a province's size — out of the cyclic garbage collector's sight
    (``gc.freeze``). A full collection over a 100-county registry took 1.1 s here, and
    every request of the process waited for it each time one ran: the p95 of every
    endpoint under load. The view's objects are still freed by reference counting when a
    new view replaces them; the one collection here sweeps whatever cycles the last view
    left. The collector's young generation is widened (``YOUNG_OBJECTS``)."""
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
    gc.unfreeze()
    gc.collect()
    gc.freeze()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection while a registry view is built: its millions of new objects
    set off full collections over all of them, some 25 of them, up to a second each at a
    province's size (``settle_heap`` runs one when the view is done)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
        self._refresh_lock = threading.Lock()
        self._view: tuple[float, FleetLookup] | None = None
        self._version: int | None = None
        self._forecasts: tuple[FleetLookup, ForecastSources] | None = None
        self._cache: dict[Any, tuple[float, float, Any, Any]] = {}
        self._key_locks: dict[Any, threading.Lock] = {}
        self.tokens = VerifiedTokens()

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return local_day(self.now(), self.tz)

    def view(self) -> FleetLookup:
        """The registry as lookups. Every REGISTRY_REFRESH_S one caller asks whether it
        changed and reads it again if so, while the others go on with the view they have
        (a province's registry takes tens of seconds to read); only the first read is
        waited for by all."""
        current = self._view
        if current is not None and time.monotonic() - current[0] <= REGISTRY_REFRESH_S:
            return current[1]
        if current is None:
            with self._refresh_lock:
                if self._view is None:
                    self._refresh()
        elif self._refresh_lock.acquire(blocking=False):
            try:
                self._refresh()
            finally:
                self._refresh_lock.release()
        assert self._view is not None
        return self._view[1]

    def _refresh(self) -> None:
        """Read the registry again only if it changed."""
        with self.sessions() as session:
            version = registry_version(session)
            if self._view is not None and version == self._version:
                self._view = (time.monotonic(), self._view[1])
                return
            with collector_paused():
                view = FleetLookup.build(load_registry(session))
        self._version = version
        self._view = (time.monotonic(), view)
        settle_heap()

    def warm(self) -> None:
        """Read the registry ahead of the first request (in a thread of its own at start);
        a failure is left for the requests to meet and report."""
        try:
            self.view()
        except Exception:  # the store may be away at start; requests will say so
            log.warning("registry_warmup_failed", exc_info=True)

    def forecast_sources(self) -> ForecastSources:
        """What analytics' forecasts read (``analytics.forecasts``), renewed with the
        registry view."""
        view = self.view()
        with self._lock:
            if self._forecasts is None or self._forecasts[0] is not view:
                sources = ForecastSources.of(self.settings, self.influx, view.registry)
                self._forecasts = (view, sources)
            return self._forecasts[1]

    def cached(
        self,
        key: Any,
        compute: Callable[[], T],
        ttl: float = FIGURES_TTL_S,
        version: Any = None,
        aside: bool = False,
    ) -> T:
        """``compute()``, kept for ``ttl`` seconds under ``key`` while ``version`` stays
        (what the value was computed from: when it differs, the value is stale). Callers
        arriving while it is computed the first time wait for that result rather than
        computing it again; once it is stale, one caller computes it again while the
        others are answered with the value before (a province's figures take seconds to
        read). With ``aside``, a value only past its time (its version the same) is
        computed again in a thread of its own, and that caller too is answered with the
        value before (a province's forecast takes seconds of work)."""
        hit = self._cache.get(key)
        if hit is not None and self._fresh(hit, version):
            return hit[2]  # type: ignore[no-any-return]
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        if hit is not None and not key_lock.acquire(blocking=False):
            return hit[2]  # type: ignore[no-any-return]
        if hit is None:
            key_lock.acquire()
        if aside and hit is not None and hit[3] == version:
            work = (key, compute, ttl, version, key_lock)
            threading.Thread(target=self._compute_aside, args=work, daemon=True).start()
            return hit[2]  # type: ignore[no-any-return]
        return self._compute(key, compute, ttl, version, key_lock)

    def _compute(
        self, key: Any, compute: Callable[[], T], ttl: float, version: Any, held: threading.Lock
    ) -> T:
        """The value computed and kept, ``held`` (the key's lock) released."""
        try:
            hit = self._cache.get(key)
            if hit is not None and self._fresh(hit, version):
                return hit[2]  # type: ignore[no-any-return]
            value = compute()
            self._cache[key] = (time.monotonic(), ttl, value, version)
        finally:
            held.release()
        if len(self._cache) > CACHE_ENTRIES:
            self._expire()
        return value

    def _compute_aside(self, *work: Any) -> None:
        """``_compute`` in a thread of its own: a failure is logged, and the value before
        is served until a later caller computes it again."""
        try:
            self._compute(*work)
        except Exception:
            log.warning("figure_not_renewed", key=repr(work[0])[:200], exc_info=True)

    @staticmethod
    def _fresh(hit: tuple[float, float, Any, Any], version: Any) -> bool:
        return time.monotonic() - hit[0] < hit[1] and hit[3] == version

    def _expire(self) -> None:
        """Drop what has outlived its time (keys carry versions and days: old ones are
        never asked for again)."""
        now = time.monotonic()
        with self._lock:
            for key, (at, ttl, _, _) in list(self._cache.items()):
                if now - at >= ttl:
                    self._cache.pop(key, None)
                    self._key_locks.pop(key, None)

    def forget(self) -> None:
        """Drop the registry view and cached figures (after a registry import)."""
        with self._lock:
            self._view = None
            self._cache.clear()
