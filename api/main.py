"""``pvmon api``: the API and dashboards under uvicorn."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from api.context import ApiContext
from pvmon.runtime import open_database, open_influx
from pvmon.settings import Settings


def serve(settings: Settings, host: str = "127.0.0.1") -> None:
    engine = open_database(settings)
    with open_influx(settings) as influx:
        app = create_app(ApiContext(settings, engine, influx))
        uvicorn.run(app, host=host, port=settings.api_port, log_config=None, access_log=False)
    engine.dispose()
