"""Photos of the work, from a maintainer's phone: checked, stored under the data dir
(``pvmon.datapaths.order_photos``) beside a thumbnail, and recorded as a step of the order.

The check trusts neither the file's name nor the type the phone claims: Pillow reads the
image's own header, and only JPEG, PNG and WebP within the size and pixel limits pass.
Files are written to a temporary name, fsync'd and renamed, so a photo is either whole on
disk or not there; the same photo sent again to the same order (a retry on a weak
connection) is the photo already stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maintenance import actions
from maintenance.workflow import Step
from pvmon.datapaths import order_photos
from pvmon.db import tables
from pvmon.durable import write_whole
from pvmon.settings import MaintenanceSettings, Settings

FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
"""What a phone's camera or screenshot gives, by Pillow's format name: (media type, suffix)."""
SUFFIXES = dict(FORMATS.values())


class PhotoRefused(ValueError):
    """Why a photo was not taken: a catalog key (``photo.*``) and its values."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(f"{key} {values}")
        self.key, self.values = key, values


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes = field(repr=False)
    media_type: str
    suffix: str
    width: int
    height: int
    sha256: str


def check(data: bytes, limits: MaintenanceSettings) -> CheckedPhoto:
    """The photo if it is an image we take, within the limits; ``PhotoRefused`` otherwise."""
    if not data:
        raise PhotoRefused("photo.empty")
    if len(data) > limits.photo_max_bytes:
        raise PhotoRefused(
            "photo.too_large", size_mb=len(data) / 1e6, max_mb=limits.photo_max_bytes / 1e6
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if kind in FORMATS and width * height <= limits.photo_max_pixels:
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise PhotoRefused("photo.not_an_image") from None
    if kind not in FORMATS:
        raise PhotoRefused("photo.wrong_type", kind=kind or "?")
    if width * height > limits.photo_max_pixels:
        raise PhotoRefused("photo.too_many_pixels", width=width, height=height)
    media_type, suffix = FORMATS[kind]
    return CheckedPhoto(data, media_type, suffix, width, height, hashlib.sha256(data).hexdigest())


def thumbnail(data: bytes, px: int) -> bytes:
    """A JPEG no larger than ``px`` on its longer side, turned upright as the phone held it."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((px, px))
        out = io.BytesIO()
        upright.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def path_of(settings: Settings, photo: tables.WorkOrderPhoto, thumb: bool = False) -> Path:
    suffix = "thumb.jpg" if thumb else SUFFIXES[photo.media_type]
    return order_photos(settings) / str(photo.order_id) / f"{photo.id}.{suffix}"


def attach(
    session: Session,
    settings: Settings,
    order_id: int,
    data: bytes,
    name: str,
    actor: str,
    channel: str | None,
    now: dt.datetime,
) -> tables.WorkOrderPhoto:
    """Check the photo, store it with its thumbnail and record the step; the caller commits
    (and calls ``discard`` if the commit fails)."""
    order = actions.get(session, order_id)
    actions.may_take(order, Step.PHOTO, actor)
    photo = check(data, settings.maintenance)
    same = session.scalars(
        select(tables.WorkOrderPhoto).where(
            tables.WorkOrderPhoto.order_id == order_id,
            tables.WorkOrderPhoto.sha256 == photo.sha256,
        )
    ).first()
    if same is not None:
        return same
    held = session.scalar(select(func.count()).where(tables.WorkOrderPhoto.order_id == order_id))
    if (held or 0) >= settings.maintenance.photos_per_order:
        raise PhotoRefused("photo.too_many", max=settings.maintenance.photos_per_order)
    row = tables.WorkOrderPhoto(
        order_id=order_id,
        uploaded_at=now,
        uploaded_by=actor,
        media_type=photo.media_type,
        size_bytes=len(photo.data),
        width=photo.width,
        height=photo.height,
        sha256=photo.sha256,
        name=name[:200],
    )
    session.add(row)
    session.flush()
    write_whole(path_of(settings, row), photo.data)
    write_whole(
        path_of(settings, row, thumb=True), thumbnail(photo.data, settings.maintenance.thumbnail_px)
    )
    actions.record(session, order, Step.PHOTO, actor, channel, now, {"photo": row.id})
    return row


def discard(settings: Settings, photo: tables.WorkOrderPhoto) -> None:
    """Remove a photo's files whose row was not committed."""
    for thumb in (False, True):
        path_of(settings, photo, thumb).unlink(missing_ok=True)


def file_of(
    session: Session, settings: Settings, order_id: int, photo_id: int, thumb: bool = False
) -> tuple[Path, str] | None:
    """The file of one of an order's photos and its media type (None: no such photo, or its
    file is gone)."""
    photo = session.get(tables.WorkOrderPhoto, photo_id)
    if photo is None or photo.order_id != order_id:
        return None
    path = path_of(settings, photo, thumb)
    return (path, "image/jpeg" if thumb else photo.media_type) if path.is_file() else None


def photos(session: Session, order_id: int) -> list[tables.WorkOrderPhoto]:
    return list(
        session.scalars(
            select(tables.WorkOrderPhoto)
            .where(tables.WorkOrderPhoto.order_id == order_id)
            .order_by(tables.WorkOrderPhoto.id)
        )
    )
