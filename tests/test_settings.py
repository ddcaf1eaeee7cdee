from pathlib import Path

import pytest

from pvmon.settings import SettingsError, load_settings


def test_defaults_need_no_configuration(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.mqtt_url is None
    assert settings.influx_url is None
    assert settings.influx_db == "pvmon"
    assert settings.raw_retention_days == 400
    assert settings.timezone == "Asia/Shanghai"
    assert settings.sqlalchemy_url == f"sqlite:///{(tmp_path / 'pvmon.db').resolve()}"
    assert settings.ingest.effective_receive_maximum == 2 * settings.ingest.batch_size


def test_toml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pvmon.toml"
    config.write_text('influx_db = "from_toml"\napi_port = 9000\n[ingest]\nbatch_size = 1000\n')
    monkeypatch.setenv("PVMON_CONFIG", str(config))
    monkeypatch.setenv("PVMON_API_PORT", "9100")
    monkeypatch.setenv("PVMON_INGEST__WORKER_ID", "ingest-7")
    settings = load_settings()
    assert settings.influx_db == "from_toml"
    assert settings.api_port == 9100
    assert settings.ingest.batch_size == 1000
    assert settings.ingest.worker_id == "ingest-7"


def test_mqtt_url_with_credentials_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PVMON_MQTT_URL", "mqtts://ingest:s3cret@broker.example:8884")
    endpoint = load_settings().mqtt
    assert endpoint is not None
    assert (endpoint.host, endpoint.port, endpoint.username, endpoint.password, endpoint.tls) == (
        "broker.example",
        8884,
        "ingest",
        "s3cret",
        True,
    )


def test_postgres_url_gets_the_psycopg_driver() -> None:
    settings = load_settings(database_url="postgresql://pv@db:5432/pvmon")
    assert settings.sqlalchemy_url == "postgresql+psycopg://pv@db:5432/pvmon"


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("PVMON_MQTT_URL", "http://broker:1883", "PVMON_MQTT_URL"),
        ("PVMON_INFLUX_URL", "influx:8086", "must start with http"),
        ("PVMON_DATABASE_URL", "mysql://x", "sqlite:///"),
        ("PVMON_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("PVMON_INGEST__BATCH_SIZE", "0", "PVMON_INGEST__BATCH_SIZE"),
        ("PVMON_API_PORT", "eighty", "PVMON_API_PORT"),
        ("PVMON_TRUSTED_PROXIES", '["proxy.example"]', "not an IP address or network"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, message: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_receive_maximum_below_batch_size_is_refused() -> None:
    with pytest.raises(SettingsError, match="batch could never fill"):
        load_settings(ingest={"batch_size": 5000, "receive_maximum": 100})
