"""Schemathesis against the API's own OpenAPI description: generated requests to every
operation, signed in as the bureau and as a collective, never get a server error and get only
answers the description documents; hostile values in the API and the pages get 4xx."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
import schemathesis
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from api import pages, security
from api.app import create_app
from pvmon.db import tables
from pvmon.db.engine import session_factory
from tests.support.world import World, world_fixtures

EXAMPLES = 20
"""Generated requests per operation and role (about 27 operations, two roles)."""


template, schema_world = world_fixtures()


def token_of(world: World, username: str) -> str:
    with session_factory(world.engine).begin() as session:
        user = session.query(tables.User).filter_by(username=username).one()
        return security.create_token(session, user, "schemathesis", dt.datetime.now(dt.UTC))


def session_of(world: World, username: str) -> str:
    """A dashboard session cookie for ``username``, opened in the store (the generated
    sign-ins above may have locked the password route for the test client's address)."""
    with session_factory(world.engine).begin() as session:
        user = session.query(tables.User).filter_by(username=username).one()
        return security.open_session(session, user, dt.datetime.now(dt.UTC), hours=1)


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
)


@pytest.mark.parametrize("role", ["bureau", "collective"])
def test_generated_requests_get_no_server_error_and_only_documented_answers(
    schema_world: World, role: str
) -> None:
    """Every operation, ``EXAMPLES`` generated requests each (hypothesis, by schemathesis),
    as the bureau (who may call them all) and as a collective (whose answers are mostly
    403 and 404): no 5xx, and every status, media type, body and header as documented."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(schema_world.ctx))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    headers = {"Authorization": f"Bearer {token_of(schema_world, role)}"}
    calls: Counter[str] = Counter()
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            calls[f"{case.method} {case.path}"] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except FailureGroup as found:  # every operation is tried; all failures are reported
            failures += [
                f"{operation.label}: " + " ".join(str(e).split())[:240] for e in found.exceptions
            ]
    print(f"schemathesis ({role}): {sum(calls.values())} requests over {len(calls)} operations")
    assert not failures, "\n".join(failures)
    assert {"/api/v1/fleet/summary", "/api/v1/villages/{village_id}", "/metrics"} <= {
        key.split(" ", 1)[1] for key in calls
    }


HOSTILE_REQUESTS = [
    ("GET", "/api/v1/stations/{station}/series?start=9999-12-31T23:59:59-12:00"),
    ("GET", "/api/v1/stations/{station}/series?end=0001-01-01T00:00:00%2B14:00"),
    ("GET", "/api/v1/devices/{device}/series?start=9999-12-31T23:59:59-12:00"),
    ("GET", "/api/v1/devices/{device}/series?end=0001-01-01T00:00:00%2B14:00"),
    ("GET", "/a/9223372036854775808"),
    ("GET", "/a/99999999999999999999"),
    ("POST", "/a/9223372036854775808/ack"),
    ("POST", "/a/99999999999999999999/resolve"),
]


@pytest.mark.parametrize(("method", "path"), HOSTILE_REQUESTS)
def test_values_outside_their_range_are_refused_not_a_server_error(
    schema_world: World, method: str, path: str
) -> None:
    station = schema_world.stations[0]
    device = next(i.id for i in schema_world.registry.inverters if i.station_id == station)
    with TestClient(create_app(schema_world.ctx), raise_server_exceptions=False) as c:
        cookie = {"Cookie": f"pvmon_session={session_of(schema_world, 'bureau')}"}
        r = c.request(method, path.format(station=station, device=device), headers=cookie)
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
        assert c.get("/api/v1/auth/me", headers=cookie).status_code == 200


HOSTILE_VALUES = [
    "0",
    "-1",
    "9223372036854775808",
    "99999999999999999999",
    "1e309",
    "NaN",
    "..%2F..%2Fetc%2Fpasswd",
    "%00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "郑家塬",
    "x" * 5000,
]
HOSTILE_QUERIES = ["year", "lang", "next", "state", "page"]


def page_routes() -> list[tuple[str, str]]:
    """(method, path) of every HTML page but signing out (which takes no values and would
    end the sweep's session)."""
    return [
        (method, route.path)
        for route in pages.router.routes
        if isinstance(route, APIRoute) and route.path != "/logout"
        for method in sorted(route.methods)
    ]


@pytest.mark.parametrize("role", ["bureau", "collective"])
def test_hostile_path_and_query_values_on_every_page_get_no_server_error(
    schema_world: World, role: str
) -> None:
    app = create_app(schema_world.ctx)
    routes = page_routes()
    assert len(routes) >= 10
    cookie = {"Cookie": f"pvmon_session={session_of(schema_world, role)}"}
    served: Counter[int] = Counter()
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as c:
        for method, path in routes:
            for value in HOSTILE_VALUES:
                filled = re.sub(r"\{[^}]+\}", value, path)
                for query in [{}, *({q: value} for q in HOSTILE_QUERIES)]:
                    r = c.request(method, filled, params=query, headers=cookie)
                    served[r.status_code] += 1
                    assert r.status_code < 500, (method, filled, query, r.text[:300])
    print(f"pages ({role}): {sum(served.values())} requests, statuses {dict(served)}")
