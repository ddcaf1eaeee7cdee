"""The API against a real store: four days of one township's simulated telemetry in a real
influxd, computed by analytics, alerts from the engine, and a user of every role. Every
endpoint is called in scope and out of it."""

from __future__ import annotations

import datetime as dt
import gc
import io
import tempfile
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import structlog.testing
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from alerts import actions
from analytics import live
from analytics.context import Analytics
from api import queries
from api.app import create_app
from api.scope import Role
from api.state import YOUNG_OBJECTS, ApiState
from api.users import DEMO_PASSWORD, NewUser, add_user
from ingest.deadletter import DeadLetterRows
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx import schema
from pvmon.influx.client import InfluxClient, series_values
from pvmon.influx.lineprotocol import encode_point
from pvmon.influx.provision import ROLLUP_RP
from pvmon.registry.schema import Registry
from pvmon.registry.store import load_registry, replace_registry
from pvmon.settings import load_settings
from tests.support.waiting import wait_for
from tests.support.world import TOWNSHIP, World, login, world_fixtures

template, world = world_fixtures()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.ctx)) as c:
        yield c


@pytest.fixture
def users(client: TestClient) -> dict[str, dict[str, str]]:
    return {
        name: login(client, name) for name in ("bureau", "supervisor", "maintainer", "collective")
    }


GET_ENDPOINTS = [
    "/api/v1/auth/me",
    "/api/v1/fleet/summary",
    "/api/v1/targets",
    "/api/v1/compliance",
    "/api/v1/maintainers",
    "/api/v1/stations",
    "/api/v1/stations/VS001",
    "/api/v1/stations/VS001/series",
    "/api/v1/devices/X/series",
    "/api/v1/villages",
    "/api/v1/villages/V001",
    "/api/v1/villages/V001/households",
    "/api/v1/alerts",
    "/api/v1/alerts/1",
    "/api/v1/orders",
    "/api/v1/orders/1",
    "/api/v1/ingest/status",
    "/api/v1/ingest/dead-letters",
    "/api/v1/registry/export",
]


@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_without_credentials_every_endpoint_says_401_and_nothing_else(
    client: TestClient, path: str
) -> None:
    r = client.get(path)
    assert r.status_code == 401
    assert r.json() == {"detail": "not signed in"}
    bad = client.get(path, headers={"Authorization": "Bearer pvm_nope_nope"})
    assert bad.status_code == 401
    cookie = client.get(path, headers={"Cookie": "pvmon_session=forged"})
    assert cookie.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/alerts/1/ack"),
        ("post", "/api/v1/alerts/1/resolve"),
        ("post", "/api/v1/auth/tokens"),
        ("post", "/api/v1/registry/import"),
    ],
)
def test_without_credentials_no_action_is_taken(client: TestClient, method: str, path: str) -> None:
    assert getattr(client, method)(path).status_code == 401


def test_login_sets_an_http_only_cookie_and_wrong_passwords_are_refused(
    client: TestClient,
) -> None:
    wrong = client.post("/api/v1/auth/login", json={"username": "bureau", "password": "x"})
    assert wrong.status_code == 401
    nobody = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x"})
    assert nobody.status_code == 401
    r = client.post("/api/v1/auth/login", json={"username": "bureau", "password": DEMO_PASSWORD})
    header = r.headers["set-cookie"]
    assert "HttpOnly" in header
    assert "samesite=lax" in header.lower()
    me = client.get(
        "/api/v1/auth/me", headers={"Cookie": f"pvmon_session={r.cookies['pvmon_session']}"}
    )
    assert me.json()["role"] == "bureau"
    out = client.post(
        "/api/v1/auth/logout", headers={"Cookie": f"pvmon_session={r.cookies['pvmon_session']}"}
    )
    assert out.status_code == 204
    gone = client.get(
        "/api/v1/auth/me", headers={"Cookie": f"pvmon_session={r.cookies['pvmon_session']}"}
    )
    assert gone.status_code == 401


def test_an_api_token_works_and_only_its_hash_is_stored(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    made = client.post("/api/v1/auth/tokens", json={"name": "etl"}, headers=users["bureau"])
    assert made.status_code == 201
    token = made.json()["token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "bureau"
    with session_factory(world.engine)() as session:
        stored = session.scalars(select(tables.ApiToken.secret_hash)).all()
    secret = token.split("_", 2)[2]
    assert all(secret not in h and h.startswith("$argon2id$") for h in stored)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tampered}"}).status_code
        == 401
    )


def test_the_bureau_summary_adds_up_the_rollups(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    r = client.get("/api/v1/fleet/summary", headers=users["bureau"])
    assert r.status_code == 200
    body = r.json()
    today = dt.datetime.now(world.ctx.tz).date()
    start = int(
        dt.datetime.combine(dt.date(today.year, 1, 1), dt.time(0), world.ctx.tz).timestamp()
    )
    rows = series_values(
        world.influx.query(
            f'SELECT "energy_kwh" FROM "{ROLLUP_RP}"."{schema.STATION_DAILY}" '
            f"WHERE time >= {start}s"
        )
    )
    expected = sum(r["energy_kwh"] for r in rows)
    assert expected > 0
    assert body["year"]["energy_kwh"] == pytest.approx(expected, rel=1e-6)
    assert body["year"]["revenue_yuan"] > 0
    producing = [t["id"] for t in body["townships"] if t["year_kwh"] > 0]
    assert producing == [TOWNSHIP], "only the township whose days were computed"
    assert {t["name"] for t in body["townships"]} >= {"芝河镇", "桑壁镇"}
    assert sum(body["stations_by_state"].values()) == len(world.registry.stations)
    listed = client.get("/api/v1/stations?limit=5000", headers=users["bureau"]).json()
    assert body["stations_by_state"] == Counter(s["state"] for s in listed), (
        "the township counts agree with each station's state"
    )
    assert len(body["stations_by_state"]) > 1
    assert body["open_alerts"] == 2


def test_the_summary_counts_an_alert_resolved_at_once_while_its_figures_are_kept(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    before = client.get("/api/v1/fleet/summary", headers=users["bureau"]).json()
    assert before["open_alerts"] == 2
    with world.ctx.sessions() as session:
        first = actions.list_alerts(session, actions.AlertFilter(state="active"))[0]
        actions.resolve_by_hand(session, first.id, "bureau", "test", dt.datetime.now(dt.UTC))
        session.commit()
    after = client.get("/api/v1/fleet/summary", headers=users["bureau"]).json()
    assert after["open_alerts"] == 1
    assert after | {"open_alerts": 2} == before, "nothing else changed"
    page = client.get("/overview", headers=users["bureau"]).text
    assert '<div class="big"><a href="/alerts">1</a>' in page.split('id="alerts-count"', 1)[1]


def test_a_supervisor_sees_only_their_township(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    me = client.get("/api/v1/auth/me", headers=users["supervisor"]).json()
    stations = client.get("/api/v1/stations", headers=users["supervisor"]).json()
    assert stations
    assert {s["township_id"] for s in stations} == {me["township_id"]}
    foreign = next(s.id for s in world.registry.stations if s.township_id != me["township_id"])
    assert client.get(f"/api/v1/stations/{foreign}", headers=users["supervisor"]).status_code == 404
    alerts = client.get("/api/v1/alerts", headers=users["supervisor"]).json()
    assert all(a["township_id"] == me["township_id"] for a in alerts)
    listed = client.get("/api/v1/villages?limit=1000", headers=users["supervisor"]).json()
    assert {v["id"] for v in listed} == {
        v.id for v in world.registry.villages if v.township_id == me["township_id"]
    }
    for v in listed:
        own = client.get(f"/api/v1/villages/{v['id']}", headers=users["supervisor"]).json()
        assert v["year_net_yuan"] == (own["annual"] or {}).get("net_yuan"), v["id"]
    assert any(v["year_net_yuan"] for v in listed), "the computed township's income"


def test_a_maintainer_sees_their_stations_and_acts_only_on_their_alerts(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    h = users["maintainer"]
    listed = {s["id"] for s in client.get("/api/v1/stations", headers=h).json()}
    assert world.mine in listed
    assert world.others not in listed
    alerts = client.get("/api/v1/alerts", headers=h).json()
    assert {a["station_id"] for a in alerts} == {world.mine}
    with session_factory(world.engine)() as session:
        theirs = session.scalars(
            select(tables.Alert.id).where(tables.Alert.station_id == world.others)
        ).one()
    assert client.post(f"/api/v1/alerts/{theirs}/ack", headers=h).status_code == 404
    assert client.get(f"/api/v1/alerts/{theirs}", headers=h).status_code == 404
    with session_factory(world.engine)() as session:
        untouched = session.get(tables.Alert, theirs)
        assert untouched is not None
        assert untouched.state == "open"
    own = alerts[0]["id"]
    acked = client.post(f"/api/v1/alerts/{own}/ack", json={"note": "在路上"}, headers=h)
    assert acked.status_code == 200
    assert acked.json()["state"] == "acknowledged"
    detail = client.get(f"/api/v1/alerts/{own}", headers=h).json()
    ack = next(e for e in detail["history"] if e["action"] == "acknowledged")
    assert (ack["channel"], ack["detail"]["note"]) == ("api", "在路上")
    done = client.post(f"/api/v1/alerts/{own}/resolve", headers=h)
    assert done.json()["state"] == "resolved"
    assert client.post(f"/api/v1/alerts/{own}/ack", headers=h).status_code == 409
    assert client.get("/api/v1/fleet/summary", headers=h).status_code == 403
    assert client.get("/api/v1/ingest/status", headers=h).status_code == 403


def test_a_collective_reads_its_own_village_and_nothing_of_another(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    h = users["collective"]
    village = client.get("/api/v1/auth/me", headers=h).json()["village_id"]
    other = next(v.id for v in world.registry.villages if v.id != village)
    mine = client.get(f"/api/v1/villages/{village}", headers=h)
    assert mine.status_code == 200
    assert mine.json()["stations"], "its stations and shares"
    theirs = client.get(f"/api/v1/villages/{other}", headers=h)
    assert theirs.status_code == 404
    assert other not in theirs.text
    assert client.get(f"/api/v1/villages/{other}/households", headers=h).status_code == 404
    assert [v["id"] for v in client.get("/api/v1/villages", headers=h).json()] == [village]
    assert client.get("/api/v1/alerts", headers=h).status_code == 403
    assert client.get("/api/v1/fleet/summary", headers=h).status_code == 403
    assert client.get("/api/v1/registry/export", headers=h).status_code == 403


def test_a_village_in_the_computed_township_shows_its_statements_and_forecast(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    village = next(v.id for v in world.registry.villages if v.township_id == TOWNSHIP)
    body = client.get(f"/api/v1/villages/{village}", headers=users["bureau"]).json()
    assert body["annual"]["net_yuan"] == pytest.approx(
        body["annual"]["grid_yuan"] + body["annual"]["subsidy_yuan"] - body["annual"]["costs_yuan"]
    )
    assert body["annual"]["estimated"] is True
    assert body["months"]
    assert body["forecast"]["target_yuan"] == 200_000
    households = client.get(f"/api/v1/villages/{village}/households", headers=users["bureau"])
    assert households.status_code == 200
    rows = households.json()
    expected = [
        s.id for s in world.registry.stations if s.kind == "household" and s.village_id == village
    ]
    assert sorted(r["station_id"] for r in rows) == sorted(expected)
    assert all(r["forecast"]["target_yuan"] == 3_000 for r in rows), "each has its forecast"
    assert any(r["forecast"]["actual_yuan"] > 0 for r in rows), "from its computed days"


def test_station_detail_and_series(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    station = next(s for s in world.stations if s.startswith("VS"))
    h = users["bureau"]
    detail = client.get(f"/api/v1/stations/{station}", headers=h).json()
    assert len(detail["days"]) == 4
    assert all(d["energy_kwh"] > 0 for d in detail["days"])
    assert detail["maintainers"]
    first_day = dt.date.fromisoformat(detail["days"][0]["day"])
    start = dt.datetime.combine(first_day, dt.time(0), world.ctx.tz)
    series = client.get(
        f"/api/v1/stations/{station}/series",
        params={
            "resolution": "1h",
            "start": start.isoformat(),
            "end": (start + dt.timedelta(days=1)).isoformat(),
        },
        headers=h,
    ).json()
    assert max(p["value"] for p in series["points"]) > 0
    daily = client.get(
        f"/api/v1/stations/{station}/series",
        params={"resolution": "1d", "start": start.isoformat()},
        headers=h,
    ).json()
    assert [round(p["value"], 3) for p in daily["points"]] == [
        round(d["energy_kwh"], 3) for d in detail["days"]
    ]
    device = world.ctx.view().inverters[station][0]
    raw = client.get(
        f"/api/v1/devices/{device}/series",
        params={
            "resolution": "raw",
            "start": start.isoformat(),
            "end": (start + dt.timedelta(hours=13)).isoformat(),
        },
        headers=h,
    )
    assert raw.status_code == 200
    assert raw.json()["points"]
    too_many = client.get(
        f"/api/v1/stations/{station}/series",
        params={"resolution": "raw", "start": "2020-01-01T00:00:00+08:00"},
        headers=h,
    )
    assert too_many.status_code == 400
    naive = client.get(
        f"/api/v1/stations/{station}/series", params={"start": "2026-01-01T00:00:00"}, headers=h
    )
    assert naive.status_code == 400


def test_targets_compliance_and_maintainers(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    h = users["bureau"]
    targets = client.get("/api/v1/targets", headers=h).json()
    assert targets["target_kwh"] == 21_000_000
    assert targets["status"] == "insufficient_data", "four days say nothing of the year"
    assert targets["days_with_data"] == 4
    assert targets["required_performance"] is None
    compliance = client.get("/api/v1/compliance", headers=h).json()
    assert 0 < compliance["rate"] < 1
    assert compliance["uncovered_stations"]
    assert compliance["certified"] == compliance["maintainers"] - len(
        {m["id"] for m in compliance["invalid"]}
    )
    mine = client.get("/api/v1/maintainers", headers=users["maintainer"]).json()
    me = client.get("/api/v1/auth/me", headers=users["maintainer"]).json()
    assert {m["id"] for m in mine} == {me["person_id"]}


def test_operations_ingest_dead_letters_registry_health_metrics(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    h = users["bureau"]
    rows = DeadLetterRows("w", world.settings.ingest.dead_letter_head_bytes)
    with session_factory(world.engine).begin() as session:
        session.execute(
            tables.DeadLetter.__table__.insert(),
            [
                rows.row(now, "pv/VS001/x/telemetry", b"{bad", "malformed_json", "Expecting")
                for now in [dt.datetime.now(dt.UTC)]
            ],
        )
        # As rows kept whole before heads were cut (migration 0006 keeps them so).
        session.add(
            tables.DeadLetter(
                received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
                worker_id="w",
                topic="pv/VS002/x/telemetry",
                payload=b"y" * 50_000,
                payload_bytes=50_000,
                payload_sha256="0" * 64,
                reason="oversized",
                detail="payload of 50000 bytes exceeds 8192",
                station_id="VS002",
            )
        )
        now = dt.datetime.now(dt.UTC)
        session.add(
            tables.IngestWorker(
                worker_id="ingest-9",
                host="h",
                pid=1,
                started_at=now,
                heartbeat_at=now,
                counters={"received": 10, "spool_points": 1234, "spool_bytes": 56789},
            )
        )
    status = client.get("/api/v1/ingest/status", headers=h).json()
    assert status["dead_letters_24h"] == {"malformed_json": 1}
    assert (status["spool_points"], status["spool_bytes"]) == (1234, 56789)
    letters = client.get(
        "/api/v1/ingest/dead-letters", params={"reason": "malformed_json"}, headers=h
    ).json()
    assert letters[0]["payload"] == "{bad"
    assert letters[0]["station_id"] == "VS001"
    old = client.get("/api/v1/ingest/dead-letters", params={"reason": "oversized"}, headers=h)
    assert old.json()[0]["payload_bytes"] == 50_000
    assert len(old.json()[0]["payload"]) == world.settings.ingest.dead_letter_head_bytes
    assert len(old.content) < 5_000, "the listing is bounded by the heads"
    exported = client.get("/api/v1/registry/export", headers=h)
    assert exported.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(exported.content), read_only=True)
    assert "stations" in book.sheetnames
    bad = client.post(
        "/api/v1/registry/import",
        files={"file": ("fleet.xlsx", b"not a workbook", "application/octet-stream")},
        headers=h,
    )
    assert bad.status_code == 422
    assert (
        client.post(
            "/api/v1/registry/import",
            files={"file": ("fleet.xlsx", exported.content, "application/octet-stream")},
            headers=users["supervisor"],
        ).status_code
        == 403
    )
    good = client.post(
        "/api/v1/registry/import",
        files={"file": ("fleet.xlsx", exported.content, "application/octet-stream")},
        headers=h,
    )
    assert good.status_code == 200
    assert good.json()["sheets"]["stations"] == len(world.registry.stations)
    health = client.get("/healthz")
    assert health.json() == {"status": "ok", "database": "ok", "influxdb": "ok"}
    metrics = client.get("/metrics").text
    assert (
        'pvmon_alerts{state="open"}' in metrics or 'pvmon_alerts{state="acknowledged"}' in metrics
    )
    assert "pvmon_job_runs" in metrics
    assert "pvmon_ingest_received_total" in metrics
    assert "pvmon_ingest_spool_points 1234.0" in metrics


def test_health_reports_an_unreachable_influxdb(
    world: World, users: dict[str, dict[str, str]]
) -> None:
    """Health says which store is away; a request that needs it gets 503, and the log
    names the path and the error for the operator."""
    from tests.support.receivers import closed_port_url

    ctx = ApiState(world.settings, world.engine, InfluxClient(closed_port_url(), "x"))
    with TestClient(create_app(ctx)) as c, structlog.testing.capture_logs() as logged:
        r = c.get("/healthz")
        summary = c.get("/api/v1/fleet/summary", headers=users["bureau"])
    assert r.status_code == 503
    assert r.json()["influxdb"].startswith("error")
    assert summary.status_code == 503
    away = [e for e in logged if e["event"] == "influx_unavailable"]
    assert [e["path"] for e in away] == ["/api/v1/fleet/summary"]
    assert away[0]["error"]


def test_users_are_checked_against_the_registry(world: World) -> None:
    from api.users import UserError

    with session_factory(world.engine).begin() as session:
        with pytest.raises(UserError, match="no village"):
            add_user(
                session,
                NewUser("c2", Role.COLLECTIVE, village_id="NOPE"),
                "longenough",
                dt.datetime.now(dt.UTC),
            )
        with pytest.raises(UserError, match="8 characters"):
            add_user(session, NewUser("b2", Role.BUREAU), "short", dt.datetime.now(dt.UTC))
        with pytest.raises(UserError, match="exists"):
            add_user(session, NewUser("bureau", Role.BUREAU), "longenough", dt.datetime.now(dt.UTC))


def test_a_revoked_token_stops_at_once_even_when_its_hash_was_checked_recently(
    client: TestClient, users: dict[str, dict[str, str]], world: World
) -> None:
    token = client.post("/api/v1/auth/tokens", json={"name": "x"}, headers=users["bureau"])
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 200  # verified, cached
    token_id = token.json()["token"].split("_")[1]
    with session_factory(world.engine).begin() as session:
        row = session.get(tables.ApiToken, token_id)
        assert row is not None
        assert row.last_used_at is not None
        row.revoked = True
    assert client.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_a_refused_registry_import_names_the_upload_not_the_servers_files(
    client: TestClient, users: dict[str, dict[str, str]]
) -> None:
    bad = client.post(
        "/api/v1/registry/import",
        files={"file": ("fleet.xlsx", b"not a workbook", "application/octet-stream")},
        headers=users["bureau"],
    )
    assert bad.status_code == 422
    assert "fleet.xlsx" in bad.text, "the problem names the file the user sent"
    assert tempfile.gettempdir() not in bad.text
    assert "upload" not in bad.text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_todays_live_energy_follows_the_counter_rules(
    tmp_path: Path, loaded_engine: Engine, influx: InfluxClient, default_registry: Registry
) -> None:
    """A household's counter jumps by 1,000 kWh in one five-minute interval at ~2 kW: that
    interval counts as its power, as in the daily rollup, not as the jump."""
    tz = dt.timezone(dt.timedelta(hours=8))
    noon = dt.datetime(2026, 11, 20, 12, 0, tzinfo=tz)
    home = next(s for s in default_registry.stations if s.kind == "household")
    device = next(i for i in default_registry.inverters if i.station_id == home.id)
    first = int(dt.datetime(2026, 11, 20, 9, 55, tzinfo=tz).timestamp())
    lines, wh = [], 5_000_000.0
    for n in range(25):
        if n:
            wh += 1_000_000 if n == 7 else 2000 * 300 / 3600
        fields = {"W": 2000.0, "WH": wh, "St": 4}
        lines.append(
            schema.telemetry_line(
                home.id, device.id, "household", home.township_id, first + 300 * n, fields
            )
        )
    influx.write(lines)
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=loaded_engine.url.render_as_string(hide_password=False),
    )
    live.energy_today(Analytics.open(settings, loaded_engine, influx), noon)  # the frequent job
    ctx = ApiState(settings, loaded_engine, influx, clock=lambda: noon)
    today = queries.summary(ctx, None)["today"]
    assert today["by_segment"]["household"] == pytest.approx(24 * 2000 * 300 / 3600 / 1000)


def test_the_registry_is_read_again_only_when_it_changed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's import reaches the API; an unchanged registry (a province's takes
    seconds to read) is not read again."""
    monkeypatch.setattr("api.state.REGISTRY_REFRESH_S", 0.0)
    first = world.ctx.view()
    assert world.ctx.view() is first
    with session_factory(world.engine).begin() as session:
        registry = load_registry(session)
        registry.townships[0] = registry.townships[0].model_copy(update={"name": "新名乡"})
        replace_registry(session, registry)
    changed = world.ctx.view()
    assert changed is not first
    assert changed.township_names[registry.townships[0].id] == "新名乡"
    assert world.ctx.view() is changed


def test_the_certification_report_is_kept_with_its_registry_view_and_no_longer(
    client: TestClient,
    users: dict[str, dict[str, str]],
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The report is worked out once per registry view (a province's took seconds, every
    minute): certificates imported elsewhere count at once, under the new view."""
    monkeypatch.setattr("api.state.REGISTRY_REFRESH_S", 0.0)
    h = users["bureau"]
    before = client.get("/api/v1/compliance", headers=h).json()
    assert before["certified"] > 0
    first = world.ctx.view().serial
    with session_factory(world.engine).begin() as session:
        registry = load_registry(session)
        registry.certificates = []
        replace_registry(session, registry)
    after = client.get("/api/v1/compliance", headers=h).json()
    assert world.ctx.view().serial != first
    assert (after["maintainers"], after["certified"]) == (before["maintainers"], 0)


def test_a_new_registry_view_is_out_of_the_garbage_collectors_passes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full collection passing over a province's registry stopped every request of the
    API process for a second: each view the API reads is frozen out of those passes, no
    collection runs while it is built, and the collector's young generation is widened."""
    monkeypatch.setattr("api.state.REGISTRY_REFRESH_S", 0.0)
    world.ctx.view()
    gc.unfreeze()
    collections: list[int] = []
    loading = threading.Event()

    def counted(phase: str, info: dict) -> None:
        if phase == "start" and loading.is_set():
            collections.append(info["generation"])

    def load(session: Session) -> Registry:
        loading.set()
        try:
            return load_registry(session)
        finally:
            loading.clear()

    monkeypatch.setattr("api.state.load_registry", load)
    gc.set_threshold(1, 10, 10)  # any allocation would set a collection off
    gc.callbacks.append(counted)
    with session_factory(world.engine).begin() as session:
        registry = load_registry(session)
        registry.townships[0] = registry.townships[0].model_copy(update={"name": "又一名乡"})
        replace_registry(session, registry)
    try:
        view = world.ctx.view()
    finally:
        gc.callbacks.remove(counted)
    assert view.township_names[registry.townships[0].id] == "又一名乡"
    assert gc.get_freeze_count() >= len(view.stations) + len(view.inverter_rows)
    assert collections == [], "none while the view was read"
    assert gc.isenabled()
    assert gc.get_threshold()[0] == YOUNG_OBJECTS
    station = next(iter(view.stations.values()))
    assert not any(o is station for o in gc.get_objects()), "not in any generation passed over"


def test_while_one_caller_reads_a_changed_registry_the_others_go_on_with_the_view_they_have(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's registry takes tens of seconds to read: requests do not wait for it."""
    monkeypatch.setattr("api.state.REGISTRY_REFRESH_S", 0.0)
    first = world.ctx.view()
    reading, release = threading.Event(), threading.Event()

    def slow_load(session: Session) -> Registry:
        reading.set()
        release.wait(30)
        return load_registry(session)

    monkeypatch.setattr("api.state.load_registry", slow_load)
    with session_factory(world.engine).begin() as session:
        registry = load_registry(session)
        registry.townships[0] = registry.townships[0].model_copy(update={"name": "新名乡"})
        replace_registry(session, registry)
    reader = threading.Thread(target=world.ctx.view)
    reader.start()
    assert reading.wait(30)
    assert world.ctx.view() is first, "the old view, at once, while the new one is read"
    release.set()
    reader.join(30)
    assert world.ctx.view().township_names[registry.townships[0].id] == "新名乡"


def test_cached_figures_past_their_time_are_dropped_not_kept_forever(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys carry versions and days, so old ones are never asked for again: the cache
    drops what has expired once it holds many."""
    monkeypatch.setattr("api.state.CACHE_ENTRIES", 3)
    ctx = world.ctx
    ctx.forget()
    for n in range(3):
        ctx.cached(("old", n), lambda n=n: n, ttl=0.0)
    ctx.cached("kept", lambda: "kept", ttl=600.0)
    ctx.cached("another", lambda: "another", ttl=600.0)
    assert ctx.cached("kept", lambda: "computed again") == "kept"
    assert ctx.cached(("old", 0), lambda: "computed again", ttl=0.0) == "computed again"
    assert len(ctx._cache) <= 3


def test_an_expired_figure_is_recomputed_by_one_caller_while_the_others_get_the_last(
    world: World,
) -> None:
    """A province's figures take seconds to read: when they expire, one caller reads them
    again and the others are answered at once with the figures before; a figure never
    computed is waited for."""
    ctx = world.ctx
    ctx.cached("figure", lambda: "before", ttl=0.0)
    reading, release = threading.Event(), threading.Event()

    def slow() -> str:
        reading.set()
        release.wait(30)
        return "after"

    answers: list[str] = []
    reader = threading.Thread(target=lambda: answers.append(ctx.cached("figure", slow, 0.0)))
    reader.start()
    assert reading.wait(30)
    assert ctx.cached("figure", lambda: "computed twice", ttl=0.0) == "before"
    release.set()
    reader.join(30)
    assert answers == ["after"]
    assert ctx.cached("figure", lambda: "again", ttl=600.0) == "again", "expired: recomputed"
    assert ctx.cached("figure", lambda: "not again", ttl=600.0) == "again"


def test_a_figure_renewed_aside_keeps_even_its_caller_from_waiting(world: World) -> None:
    """A forecast past its time is computed again in a thread of its own: the caller who
    found it old is answered at once with the one before, as is everyone until the new
    one is there; a renewal that fails leaves the one before, and a later caller tries
    again. A figure whose version changed is still waited for."""
    ctx = world.ctx
    ctx.cached("forecast", lambda: "before", ttl=0.0, aside=True)
    reading, release = threading.Event(), threading.Event()

    def slow() -> str:
        reading.set()
        release.wait(30)
        return "after"

    assert ctx.cached("forecast", slow, 0.0, aside=True) == "before"
    assert reading.wait(30)
    assert ctx.cached("forecast", lambda: "twice", 0.0, aside=True) == "before"
    release.set()
    wait_for(lambda: ctx.cached("forecast", lambda: "x", 600.0, aside=True) == "after", 30)

    def failing() -> str:
        raise OSError("influxd away")

    ctx.cached("model", lambda: "kept", ttl=0.0, aside=True)
    assert ctx.cached("model", failing, 0.0, aside=True) == "kept"
    wait_for(lambda: ctx.cached("model", lambda: "renewed", 600.0, aside=True) == "renewed", 30)
    assert ctx.cached("model", lambda: "new version", 600.0, "v2", aside=True) == "new version"


def test_a_figure_computed_from_what_has_since_changed_is_computed_again(world: World) -> None:
    """A figure kept for a long time is computed again as soon as what it was computed from
    changed (its version), and not before; while that runs, the others get the last one."""
    ctx = world.ctx
    assert ctx.cached("figure", lambda: "day 1", ttl=600.0, version=1) == "day 1"
    assert ctx.cached("figure", lambda: "not again", ttl=600.0, version=1) == "day 1"
    assert ctx.cached("figure", lambda: "day 2", ttl=600.0, version=2) == "day 2"
    reading, release = threading.Event(), threading.Event()

    def slow() -> str:
        reading.set()
        release.wait(30)
        return "day 3"

    reader = threading.Thread(target=lambda: ctx.cached("figure", slow, 600.0, version=3))
    reader.start()
    assert reading.wait(30)
    assert ctx.cached("figure", lambda: "twice", ttl=600.0, version=3) == "day 2"
    release.set()
    reader.join(30)
    assert ctx.cached("figure", lambda: "not again", ttl=600.0, version=3) == "day 3"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_stations_figures_are_read_again_when_their_day_is_computed_again_and_only_then(
    tmp_path: Path,
    loaded_engine: Engine,
    influx: InfluxClient,
    default_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A province's 224,000 stations' figures are read when the fleet's last rollup
    changes: a new day, or the day computed again with late data."""
    from api.routes import stations
    from pvmon.stores import provision_influx

    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=loaded_engine.url.render_as_string(hide_password=False),
    )
    provision_influx(influx, settings)
    tz = dt.timezone(dt.timedelta(hours=8))
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=tz)
    station = default_registry.stations[0]

    def computed(day: int, kwh: float) -> None:
        ts = int(dt.datetime(2026, 11, day, tzinfo=tz).timestamp())
        fields = {"energy_kwh": kwh, "yf": kwh / 100, "csi": 1.0}
        influx.write(
            [
                encode_point(schema.STATION_DAILY, {"station": station.id}, fields, ts),
                encode_point(schema.FLEET_DAILY, {}, {"energy_kwh": kwh}, ts),
            ],
            rp=ROLLUP_RP,
        )

    reads: list[tuple] = []
    real = queries.station_kpis_on
    monkeypatch.setattr(
        queries, "station_kpis_on", lambda c, last: reads.append(last) or real(c, last)
    )
    monkeypatch.setattr(stations, "ROLLUP_CHECK_S", 0.0)
    ctx = ApiState(settings, loaded_engine, influx, clock=lambda: now)
    computed(18, 400.0)
    assert stations.station_kpis(ctx)[station.id]["energy_kwh"] == 400.0
    assert stations.station_kpis(ctx)[station.id]["day"] == "2026-11-18"
    assert len(reads) == 1, "unchanged: not read again"
    computed(18, 420.0)  # the same day, computed again
    assert stations.station_kpis(ctx)[station.id]["energy_kwh"] == 420.0
    computed(19, 380.0)
    assert stations.station_kpis(ctx)[station.id] == {
        "day": "2026-11-19",
        "energy_kwh": 380.0,
        "yf": 3.8,
        "csi": 1.0,
        "peer_index": None,
        "availability": None,
    }
    assert len(reads) == 3
