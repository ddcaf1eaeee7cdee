"""The data directory's declared paths (``pvmon.datapaths``) copied into a backup and back.

A SQLite file among them (ingest's spool, a gateway's buffer) is copied with SQLite's online
backup API, since its writer may be appending; its ``-wal`` and ``-shm`` companions are not
copied (the copy holds what they held). Everything else is copied as it is."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from backup.stores import sqlite_copy

FILES_DIR = "files"
SQLITE_HEADER = b"SQLite format 3\x00"
COMPANIONS = ("-wal", "-shm", "-journal")


def copy_out(source: Path, target: Path) -> None:
    """``source`` (a file or a directory) to ``target`` in the backup."""
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_file(source, target)
        return
    for path in _walk(source):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        _copy_file(path, destination)
    target.mkdir(parents=True, exist_ok=True)


def _walk(root: Path) -> Iterator[Path]:
    for directory, _, names in os.walk(root):
        for name in sorted(names):
            if not name.endswith(COMPANIONS):
                yield Path(directory) / name


def _copy_file(source: Path, target: Path) -> None:
    with source.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head == SQLITE_HEADER:
        sqlite_copy(source, target)
    else:
        shutil.copy2(source, target)


def is_empty(path: Path) -> bool:
    """Nothing there to overwrite: absent, or an empty directory."""
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def copy_back(source: Path, target: Path) -> None:
    """``source`` from the backup into place at ``target`` (absent or empty), whole: copied
    beside it first, then renamed."""
    partial = target.with_name(target.name + ".restoring")
    if partial.exists():
        shutil.rmtree(partial) if partial.is_dir() else partial.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, partial)
        if target.is_dir():
            target.rmdir()
    else:
        shutil.copy2(source, partial)
    os.replace(partial, target)
