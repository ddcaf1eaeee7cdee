"""What a backup holds, written last into it: a backup without its manifest is not one.

Every file is listed with its size and SHA-256, so that a restore checks the whole backup
before it touches anything; the relational store's rows are counted per table, so that a
restore shows them back."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from pydantic import BaseModel

MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackedFile(BaseModel):
    path: str
    """Relative to the backup's directory."""
    bytes: int
    sha256: str


class BackedPath(BaseModel):
    name: str
    """The data path's name (``pvmon.datapaths``)."""
    source: str
    """Where it was (a directory, or one file)."""
    present: bool
    is_file: bool = False


class Manifest(BaseModel):
    created_at: dt.datetime
    schema_revision: str | None
    """The relational store's migration when it was backed up."""
    dialect: str
    """``sqlite`` or ``postgresql``."""
    influx_db: str
    rows: dict[str, int]
    """Rows per table of the relational store, as backed up."""
    paths: list[BackedPath]
    files: list[BackedFile]


def file_entry(root: Path, path: Path) -> BackedFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return BackedFile(
        path=path.relative_to(root).as_posix(), bytes=path.stat().st_size, sha256=digest.hexdigest()
    )


def damaged(root: Path, manifest: Manifest) -> list[str]:
    """The backup's files that are missing or differ from the manifest (empty: intact)."""
    out = []
    for entry in manifest.files:
        path = root / entry.path
        if not path.is_file():
            out.append(f"{entry.path}: missing")
        elif file_entry(root, path) != entry:
            out.append(f"{entry.path}: differs from the manifest (size or SHA-256)")
    return out
