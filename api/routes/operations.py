"""For the bureau's operators: ingest status, the dead letter, registry files."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, UploadFile
from fastapi.responses import FileResponse
from sqlalchemy import select
from starlette.background import BackgroundTask

from alerts import actions
from api import queries
from api.deps import Context, Db, Who, forbidden
from api.models import DeadLetterOut, ImportResult, IngestStatus
from api.responses import XLSX, files, invalid_file, problems
from ingest.status import read_status
from pvmon.db import tables
from pvmon.registry.files import write_registry
from pvmon.registry.importing import import_county, import_registry
from pvmon.registry.store import load_registry
from pvmon.registry.validate import RegistryInvalid

router = APIRouter(tags=["operations"])

MAX_UPLOAD = 20 * 1024 * 1024


def _operator(who: Who) -> None:
    if not who.scope.reads_operations:
        raise forbidden()


def _registrar(who: Who) -> None:
    if not who.scope.keeps_registry:
        raise forbidden()


@router.get("/ingest/status", response_model=IngestStatus, summary="Ingest's counters")
def ingest_status(who: Who, ctx: Context) -> IngestStatus:
    """Counters summed over the live ingest workers, loggers online, open alerts, and the
    dead letters of the last day by reason."""
    _operator(who)
    status = read_status(ctx.engine)
    with ctx.sessions() as session:
        open_alerts = actions.count_alerts(session, actions.AlertFilter(state="active"))
    return IngestStatus(
        **status.__dict__,
        open_alerts=open_alerts,
        dead_letters_24h=queries.dead_letter_counts(ctx, ctx.now() - dt.timedelta(days=1)),
    )


@router.get("/ingest/dead-letters", response_model=list[DeadLetterOut], summary="Dead letter")
def dead_letters(
    who: Who,
    ctx: Context,
    session: Db,
    reason: Annotated[str | None, Query(max_length=32)] = None,
    station_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[DeadLetterOut]:
    """Refused messages with their reason, newest first, a page at a time; each with the
    head of its payload, its whole size and SHA-256."""
    _operator(who)
    head = ctx.settings.ingest.dead_letter_head_bytes
    q = select(tables.DeadLetter)
    if reason:
        q = q.where(tables.DeadLetter.reason == reason)
    if station_id:
        q = q.where(tables.DeadLetter.station_id == station_id)
    q = q.order_by(tables.DeadLetter.id.desc()).limit(limit).offset(offset)
    return [
        DeadLetterOut(
            id=d.id,
            received_at=d.received_at,
            topic=d.topic,
            reason=d.reason,
            detail=d.detail,
            station_id=d.station_id,
            device_id=d.device_id,
            payload=d.payload[:head].decode("utf-8", errors="replace"),
            payload_bytes=d.payload_bytes,
            payload_sha256=d.payload_sha256,
        )
        for d in session.scalars(q)
    ]


@router.get(
    "/registry/export",
    response_class=FileResponse,
    summary="The registry as an XLSX workbook",
    responses=files(XLSX),
)
def export_registry(who: Who, session: Db) -> FileResponse:
    """The whole registry; a county's bureau in a province gets its county's part."""
    _registrar(who)
    folder = Path(tempfile.mkdtemp(prefix="pvmon-export-"))
    path = folder / "registry.xlsx"
    registry = load_registry(session)
    county = who.scope.county
    if county is not None:
        registry = registry.of_county(county)
    write_registry(registry, path)
    return FileResponse(
        path,
        media_type=XLSX,
        filename=f"pv-registry-{county}.xlsx" if county else "yonghe-pv-registry.xlsx",
        background=BackgroundTask(_remove, folder),
    )


def _shown_name(filename: str | None) -> str:
    """The uploaded file's own name, as its sender knows it, without any directories."""
    return Path(filename or "").name[:100] or "workbook"


def _remove(folder: Path) -> None:
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()


@router.post(
    "/registry/import",
    response_model=ImportResult,
    summary="Replace the registry",
    responses=problems(413),
)
async def import_workbook(who: Who, ctx: Context, file: UploadFile) -> ImportResult:
    """An XLSX workbook as exported: checked whole; any bad row → 422 listing every
    problem, and nothing changes. A county's bureau in a province replaces its county's
    part; a row of another county is refused with the file."""
    _registrar(who)
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise HTTPException(413, f"larger than {MAX_UPLOAD // 1024 // 1024} MB")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.xlsx"
        path.write_bytes(data)
        name, county = _shown_name(file.filename), who.scope.county
        try:
            if county is None:
                registry = import_registry(ctx.sessions, path, name, by=who.by("api"))
            else:
                whole = import_county(ctx.sessions, path, county, name, by=who.by("api"))
                registry = whole.of_county(county)
        except RegistryInvalid as exc:
            raise HTTPException(422, invalid_file(exc.errors)) from None
    ctx.forget()
    return ImportResult(sheets={name: len(rows) for name, rows in registry.sheets().items()})
