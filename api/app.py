"""The FastAPI application: ``/api/v1`` (documented at ``/docs``), ``/healthz``,
``/metrics``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import anyio.to_thread
import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text

from api import (
    alertpages,
    financepages,
    orderpages,
    pages,
    rankingpages,
    reportpages,
    stationpages,
    villagepages,
)
from api.metrics import StoreCollector
from api.models import Health
from api.responses import SIGNED_IN
from api.routes import (
    alerts,
    archive,
    assessment,
    audit,
    auth,
    exports,
    fleet,
    money,
    operations,
    orders,
    stations,
    villagebooks,
    villages,
)
from api.state import ApiState
from pvmon.influx.client import InfluxError, InfluxUnavailable

API_PREFIX = "/api/v1"

log = structlog.get_logger(__name__)


def create_app(ctx: ApiState) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The routes run in anyio's worker threads; as many as the database pool serves
        # (settings.api_threads: two connections each), never the default 40.
        anyio.to_thread.current_default_thread_limiter().total_tokens = ctx.settings.api_threads
        threading.Thread(target=ctx.warm, name="registry-warmup", daemon=True).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Yonghe PV operations monitor (永和县光伏扶贫电站运行监测)",
        version="1",
        description="Generation, targets, revenue attribution, certification and alerts of "
        "Yonghe county's poverty-alleviation PV fleet. Every endpoint is scoped to the "
        "caller's role: the bureau, a township supervisor, a maintainer, a village collective.",
    )
    app.state.context = ctx

    @app.exception_handler(InfluxUnavailable)
    def influx_away(request: Request, exc: InfluxUnavailable) -> JSONResponse:
        log.warning("influx_unavailable", path=request.url.path, error=str(exc))
        return JSONResponse({"detail": "InfluxDB is unavailable; try again shortly"}, 503)

    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth.router)
    for module in (
        fleet,
        stations,
        villages,
        villagebooks,
        money,
        alerts,
        orders,
        assessment,
        exports,
        audit,
        archive,
        operations,
    ):
        api.include_router(module.router, responses=SIGNED_IN)
    app.include_router(api)
    app.include_router(orderpages.router)  # before pages: /a/{id}/order, not /a/{id}/{how}
    app.include_router(pages.router)
    app.include_router(stationpages.router)
    app.include_router(alertpages.router)
    app.include_router(rankingpages.router)
    app.include_router(villagepages.router)
    app.include_router(financepages.router)
    app.include_router(reportpages.router)
    app.mount("/static", StaticFiles(directory=Path(pages.__file__).parent / "static"), "static")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        """The API answers 422 with the errors; a page says so in words (a path value out of
        its range names nothing that exists: 404)."""
        if request.url.path.startswith(API_PREFIX):
            return await request_validation_exception_handler(request, exc)
        in_path = any(e["loc"][:1] == ("path",) for e in exc.errors())
        if in_path:
            return pages.problem_page(request, None, 404, "not_found")
        return pages.problem_page(request, None, 400, "bad_request")

    @app.exception_handler(pages.SignIn)
    def sign_in(_request: Request, exc: pages.SignIn) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", 303)

    registry = CollectorRegistry()
    registry.register(StoreCollector(ctx))

    @app.get(
        "/healthz",
        tags=["operations"],
        summary="Liveness of the stores",
        response_model=Health,
        responses={503: {"model": Health, "description": "A store is unreachable"}},
    )
    def healthz() -> JSONResponse:
        checks = {"database": "ok", "influxdb": "ok"}
        try:
            with ctx.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any driver error means the store is not usable
            checks["database"] = f"error: {type(exc).__name__}"
        try:
            ctx.influx.ping()
        except InfluxError as exc:
            checks["influxdb"] = f"error: {type(exc).__name__}"
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", **checks}, 200 if ok else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
