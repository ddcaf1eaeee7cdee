"""API security: sign-ins rate-limited per address, no cross-origin access, and no start
outside the demo with a published password or a placeholder secret."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from api import security
from api.app import create_app
from api.main import InsecureStart, refuse_insecure
from api.state import ApiState
from api.users import DEMO_PASSWORD, demo_users
from launch.cli import app as cli
from launch.local.process import ManagedProcess, free_port, port_open
from pvmon.db import tables
from pvmon.db.engine import session_factory
from pvmon.influx.client import InfluxClient
from pvmon.settings import load_settings, placeholder_secrets


@pytest.fixture
def users_engine(loaded_engine: Engine) -> Engine:
    with session_factory(loaded_engine).begin() as session:
        demo_users(session, dt.datetime.now(dt.UTC))
    return loaded_engine


@pytest.fixture
def ctx(tmp_path: Path, users_engine: Engine, influx: InfluxClient) -> ApiState:
    settings = load_settings(
        data_dir=tmp_path,
        influx_url=influx.url,
        influx_db=influx.database,
        database_url=users_engine.url.render_as_string(hide_password=False),
    )
    return ApiState(settings, users_engine, influx)


@pytest.fixture
def attacker(ctx: ApiState) -> Iterator[TestClient]:
    with TestClient(create_app(ctx), client=("203.0.113.9", 50000)) as c:
        yield c


def sign_in(c: TestClient, username: str, password: str) -> int:
    return c.post(
        "/api/v1/auth/login", json={"username": username, "password": password}
    ).status_code


def test_five_wrong_passwords_lock_that_username_for_that_address(
    attacker: TestClient, ctx: ApiState
) -> None:
    assert [sign_in(attacker, "bureau", f"guess{n}") for n in range(5)] == [401] * 5
    locked = attacker.post(
        "/api/v1/auth/login", json={"username": "bureau", "password": DEMO_PASSWORD}
    )
    assert locked.status_code == 429, "not even the right password gets through"
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    assert sign_in(attacker, "supervisor", DEMO_PASSWORD) == 200, "other users are not locked"
    with TestClient(create_app(ctx), client=("198.51.100.7", 50000)) as elsewhere:
        assert sign_in(elsewhere, "bureau", DEMO_PASSWORD) == 200, "nor other addresses"
    page = attacker.post(
        "/login", data={"username": "bureau", "password": DEMO_PASSWORD, "next": "/"}
    )
    assert page.status_code == 429
    assert "登录失败次数过多" in page.text


def test_spraying_many_usernames_from_one_address_is_stopped(attacker: TestClient) -> None:
    codes = [sign_in(attacker, f"user{n}", "x") for n in range(21)]
    assert codes[:20] == [401] * 20
    assert codes[20] == 429


def test_no_cross_origin_access(attacker: TestClient) -> None:
    preflight = attacker.options(
        "/api/v1/fleet/summary",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    plain = attacker.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_outside_the_demo_the_api_refuses_published_passwords_and_placeholders(
    ctx: ApiState, users_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InsecureStart) as refused:
        refuse_insecure(ctx.settings, users_engine)
    assert "user 'bureau' has the published demo password" in str(refused.value)
    refuse_insecure(ctx.settings.model_copy(update={"demo": True}), users_engine)
    risky = load_settings(
        mqtt_url="mqtt://ingest:changeme@localhost:1883",
        influx_token="s3cr3t-token-from-the-vault",
        alerts={"dingtalk": [{"name": "county", "url": "http://x", "secret": "secret"}]},
    )
    assert placeholder_secrets(risky) == ["PVMON_MQTT_URL password", "DingTalk robot county secret"]
    monkeypatch.setenv("PVMON_DATABASE_URL", str(users_engine.url))
    result = CliRunner().invoke(cli, ["api"])
    assert result.exit_code == 1
    assert "refusing to start outside demo mode" in result.output
    assert DEMO_PASSWORD not in result.output, "names the problem, never the secret"


@pytest.fixture
def api_process(ctx: ApiState, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``pvmon api`` as it runs in production (uvicorn with the project's settings), on a
    free port; returns its base URL."""
    started: list[ManagedProcess] = []

    def start(**env: str) -> str:
        port = free_port()
        process = ManagedProcess(
            "api",
            [sys.executable, "-m", "launch", "api"],
            tmp_path / f"api-{port}.log",
            {
                **os.environ,
                "PVMON_DEMO": "true",
                "PVMON_API_PORT": str(port),
                "PVMON_DATA_DIR": str(tmp_path),
                "PVMON_DATABASE_URL": ctx.engine.url.render_as_string(hide_password=False),
                "PVMON_INFLUX_URL": ctx.influx.url,
                "PVMON_INFLUX_DB": ctx.influx.database,
                **env,
            },
        )
        process.start()
        started.append(process)
        process.wait_ready(lambda: port_open("127.0.0.1", port), timeout=60)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.stop()


def test_a_forged_forwarded_address_does_not_lift_the_lockout(
    api_process: Callable[..., str],
) -> None:
    base = api_process()

    def login(password: str, forwarded: str | None = None) -> int:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        return httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": "bureau", "password": password},
            headers=headers,
        ).status_code

    assert [login(f"guess{n}") for n in range(5)] == [401] * 5
    assert login(DEMO_PASSWORD) == 429
    assert login(DEMO_PASSWORD, forwarded="203.0.113.77") == 429, "no proxy is trusted"
    assert login(DEMO_PASSWORD, forwarded="203.0.113.78, 127.0.0.1") == 429


def test_a_configured_proxy_is_believed_about_its_callers(
    api_process: Callable[..., str],
) -> None:
    base = api_process(PVMON_TRUSTED_PROXIES='["127.0.0.0/8"]')

    def login(password: str, forwarded: str) -> int:
        return httpx.post(
            f"{base}/api/v1/auth/login",
            json={"username": "bureau", "password": password},
            headers={"X-Forwarded-For": forwarded},
        ).status_code

    assert [login(f"guess{n}", "203.0.113.5") for n in range(5)] == [401] * 5
    assert login(DEMO_PASSWORD, "203.0.113.5") == 429, "the proxy's caller is locked out"
    assert login(DEMO_PASSWORD, "198.51.100.9") == 200, "another caller behind it is not"


def test_many_people_opening_pages_at_once_are_served_not_refused(
    api_process: Callable[..., str],
) -> None:
    """Each page holds its request's database session while a helper opens another: with
    more requests in flight than the pool has pairs of connections, they wait on each other
    until the pool times out (seen: 500s with 20 clients on the township page)."""
    base = api_process(PVMON_API_THREADS="4")
    signed = httpx.post(
        f"{base}/login",
        data={"username": "bureau", "password": DEMO_PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    cookie = {"Cookie": f"pvmon_session={signed.cookies['pvmon_session']}"}

    def page(path: str) -> int:
        return httpx.get(f"{base}{path}", headers=cookie, timeout=120).status_code

    paths = ["/townships/T03", "/overview", "/alerts", "/rankings"] * 12
    with ThreadPoolExecutor(len(paths)) as pool:
        answers = list(pool.map(page, paths))
    assert answers == [200] * len(paths)


def counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2 check made from now on (the real check, counted)."""
    made: list[str] = []
    real = security.verify_secret

    def counted(stored: str, secret: str) -> bool:
        made.append(secret)
        return real(stored, secret)

    monkeypatch.setattr(security, "verify_secret", counted)
    return made


def test_a_token_asked_by_many_requests_at_once_is_checked_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A client's twenty connections arrive together: one of them checks the slow hash,
    the others are answered by it, and only one of them writes the token's use."""
    made = counting_checks(monkeypatch)
    stored = security.hash_secret("s3cret")
    tokens = security.VerifiedTokens()
    with ThreadPoolExecutor(20) as pool:
        answers = list(
            pool.map(lambda _: tokens.check("pvm_t1_s3cret", "s3cret", stored), range(20))
        )
        recorded = list(pool.map(lambda _: tokens.use_to_record("t1"), range(20)))
    assert answers == [True] * 20
    assert made == ["s3cret"]
    assert recorded.count(True) == 1


def test_a_checked_token_is_not_checked_again_however_long_it_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kept for a minute before, the check expired for every request of a busy client at
    once; its use is still written again once a minute."""
    made = counting_checks(monkeypatch)
    stored = security.hash_secret("s3cret")
    now = [0.0]
    tokens = security.VerifiedTokens(record_every_s=60.0, clock=lambda: now[0])
    assert tokens.check("pvm_t1_s3cret", "s3cret", stored)
    assert tokens.use_to_record("t1")
    now[0] = 59.0
    assert not tokens.use_to_record("t1")
    now[0] = 3600.0
    assert tokens.check("pvm_t1_s3cret", "s3cret", stored)
    assert tokens.use_to_record("t1")
    assert made == ["s3cret"]


def test_a_wrong_secret_is_refused_every_time_and_a_new_hash_is_checked_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made = counting_checks(monkeypatch)
    stored = security.hash_secret("s3cret")
    tokens = security.VerifiedTokens()
    assert not tokens.check("pvm_t1_guess", "guess", stored)
    assert not tokens.check("pvm_t1_guess", "guess", stored)
    assert tokens.check("pvm_t1_s3cret", "s3cret", stored)
    assert not tokens.check("pvm_t1_s3cret", "s3cret", security.hash_secret("other"))
    assert made == ["guess", "guess", "s3cret", "s3cret"]


def test_guessing_a_tokens_secret_over_and_over_does_not_grow_what_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each wrong guess is checked (and refused); what the process keeps for them stays
    bounded however many there are."""
    monkeypatch.setattr(security.VerifiedTokens, "MAX_KEPT", 3)
    stored = security.hash_secret("s3cret")
    tokens = security.VerifiedTokens()
    for n in range(10):
        assert not tokens.check(f"pvm_t1_guess{n}", f"guess{n}", stored)
    assert len(tokens._checking) <= 3
    assert tokens.check("pvm_t1_s3cret", "s3cret", stored)


def test_a_dashboard_session_past_its_time_or_of_a_deactivated_user_lets_no_one_in(
    ctx: ApiState, users_engine: Engine
) -> None:
    """The session's cookie and its user are read in one query: an expired session and a
    user since deactivated are both sent to sign in, and a live one is let in."""
    with TestClient(create_app(ctx)) as c:
        signed = c.post("/login", data={"username": "bureau", "password": DEMO_PASSWORD})
        assert signed.status_code == 200
        assert c.get("/overview", follow_redirects=False).status_code == 200
        with session_factory(users_engine).begin() as session:
            for row in session.query(tables.WebSession):
                row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        expired = c.get("/overview", follow_redirects=False)
        assert (expired.status_code, expired.headers["location"]) == (303, "/login?next=/overview")
        c.post("/login", data={"username": "bureau", "password": DEMO_PASSWORD})
        assert c.get("/overview", follow_redirects=False).status_code == 200
        with session_factory(users_engine).begin() as session:
            session.query(tables.User).filter_by(username="bureau").one().active = False
        assert c.get("/overview", follow_redirects=False).status_code == 303
