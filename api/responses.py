"""What the API answers besides success, documented once: every error is a ``Problem``
(``{"detail": "…"}``), and each route lists the codes it can give, so the OpenAPI
description says exactly what a client will see (checked by schemathesis)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from pvmon.registry.validate import RowError


class Problem(BaseModel):
    detail: str


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class FieldProblems(BaseModel):
    """FastAPI's validation errors, and a refused file's rows in the same shape."""

    detail: list[FieldProblem]


WHY = {
    400: "A value the data cannot answer (a day outside the fleet's years, a range too long)",
    401: "Not signed in (no or an invalid token or session)",
    403: "Not allowed for the caller's role",
    404: "Not found, or outside the caller's scope",
    409: "The alert's or the order's state does not allow this now",
    413: "The upload is too large",
    415: "The upload is not of a type taken here (a photo: JPEG, PNG or WebP)",
    422: "A value refused: out of its range, or (an order's assignee) not allowed to do it",
    429: "Too many failed sign-ins from this address (see Retry-After)",
    503: "A store is unavailable; try again shortly",
}

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes. A 422 is either the route's reason in
    words or FastAPI's own validation errors (a value its type allows but a rule refuses:
    an amount with three decimals), so both shapes are documented."""
    return {
        code: {
            "model": Problem | FieldProblems if code == 422 else Problem,
            "description": WHY[code],
        }
        for code in codes
    }


SIGNED_IN = problems(401, 403, 503)
"""What every route that needs a caller can answer."""


def files(*media: str) -> dict[int | str, dict[str, Any]]:
    """A 200 that is a file of one of these media types."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "The file", "content": dict.fromkeys(media, binary)}}


def invalid_file(errors: list[RowError]) -> list[dict[str, Any]]:
    """A refused file's problems in FastAPI's validation-error shape (HTTP 422): each
    located in the upload by sheet and row."""
    return [
        {
            "loc": ["body", "file", e.sheet, *([e.row] if e.row is not None else [])],
            "msg": str(e),
            "type": "registry_invalid",
        }
        for e in errors
    ]


def json_of(model: BaseModel | str) -> Response:
    """``model`` (or a model's JSON, kept) as a route's JSON answer, serialized once. A
    route that returns the model itself has FastAPI check it against the declared
    response model and convert it twice before writing it: for the fleet summary's and
    the map's hundreds of township rows at a province's size, that cost as much as the
    route's own work. The route still declares its ``response_model`` for the OpenAPI
    description."""
    body = model if isinstance(model, str) else model.model_dump_json()
    return Response(body, media_type="application/json")
