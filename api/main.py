"""``pvmon api``: the API and dashboards under uvicorn."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from api.app import create_app
from api.state import ApiState
from api.users import users_with_demo_password
from pvmon.db.engine import session_factory
from pvmon.settings import Settings, placeholder_secrets
from pvmon.stores import open_database, open_influx


class InsecureStart(Exception):
    """The API would start with a published password or a placeholder secret."""


def refuse_insecure(settings: Settings, engine: Engine) -> None:
    """Outside the demo, no user may have the demo password and no secret a placeholder."""
    if settings.demo:
        return
    with session_factory(engine)() as session:
        users = users_with_demo_password(session)
    problems = [f"user {u!r} has the published demo password" for u in users]
    problems += [f"{name} is a placeholder" for name in placeholder_secrets(settings)]
    if problems:
        raise InsecureStart(
            "refusing to start outside demo mode (PVMON_DEMO=true):\n  " + "\n  ".join(problems)
        )


def server_config(settings: Settings, app: FastAPI, host: str) -> uvicorn.Config:
    """uvicorn believes ``X-Forwarded-For`` only from the configured proxies (its own default
    trusts 127.0.0.1, so any local caller could claim any address)."""
    return uvicorn.Config(
        app,
        host=host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
    )


def serve(settings: Settings, host: str = "127.0.0.1") -> None:
    engine = open_database(settings, connections=2 * settings.api_threads)
    refuse_insecure(settings, engine)
    with open_influx(settings) as influx:
        app = create_app(ApiState(settings, engine, influx))
        uvicorn.Server(server_config(settings, app, host)).run()
    engine.dispose()
