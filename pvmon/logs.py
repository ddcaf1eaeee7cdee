"""Structured logging: JSON lines for files and services, readable lines on a terminal."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import structlog


class Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is logged, not to the stream it
    was when logging was configured (a command run inside a test runner gets a stderr that
    is closed after it; a later record would fail to print)."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(
    level: str = "info",
    *,
    json: bool | None = None,
    file: Path | None = None,
    console_level: str | None = None,
) -> None:
    """Configure structlog and the standard library (paho, httpx) to log the same way:
    JSON lines to ``file`` when given, and to stderr at ``console_level`` (default
    ``level``) — readable lines on a terminal, JSON otherwise (``json`` decides)."""
    if json is None:
        json = not sys.stderr.isatty()
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

    def formatter(renderer: structlog.typing.Processor) -> logging.Formatter:
        return structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )

    console = Stderr()
    console.setLevel((console_level or level).upper())
    console.setFormatter(
        formatter(structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer())
    )
    handlers: list[logging.Handler] = [console]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(file, encoding="utf-8")
        to_file.setFormatter(formatter(structlog.processors.JSONRenderer()))
        handlers.append(to_file)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for noisy in ("httpx", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
