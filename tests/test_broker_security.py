"""The broker keeps each data logger to its own station: credentials and ACL generated from
the registry, enforced by a real Mosquitto."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from launch.broker import generate
from launch.local.mosquitto import Mosquitto
from pvmon.brokerauth import INGEST_USER, read_credentials
from tests.support.waiting import wait_for


def client(
    broker: Mosquitto,
    user: str | None,
    password: str | None,
    *,
    client_id: str | None = None,
    clean: bool = False,
) -> tuple[mqtt.Client, ReasonCode]:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"t-{user}-{time.monotonic_ns()}",
        protocol=mqtt.MQTTv5,
    )
    if user:
        c.username_pw_set(user, password)
    outcome: list[ReasonCode] = []
    connected = threading.Event()

    def on_connect(_c, _u, _f, reason, _p) -> None:  # type: ignore[no-untyped-def]
        outcome.append(reason)
        connected.set()

    c.on_connect = on_connect
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 0 if clean else 3600
    c.connect(broker.options.host, broker.options.port, clean_start=clean, properties=properties)
    c.loop_start()
    assert connected.wait(10), "the broker answers"
    return c, outcome[0]


def subscribed_ingest(
    broker: Mosquitto, passwords: dict[str, str], topic: str, client_id: str | None = None
) -> tuple[mqtt.Client, list[str]]:
    """Ingest's credential, subscribed to ``topic``; the topics it receives."""
    ingest, ok = client(broker, INGEST_USER, passwords[INGEST_USER], client_id=client_id)
    assert not ok.is_failure
    received: list[str] = []
    ingest.on_message = lambda _c, _u, m: received.append(m.topic)
    subscribed = threading.Event()
    ingest.on_subscribe = lambda *_: subscribed.set()
    ingest.subscribe(topic, qos=1)
    assert subscribed.wait(10)
    return ingest, received


def test_a_logger_publishes_under_its_own_station_only(
    tmp_path: Path, broker_factory: Callable[..., Mosquitto]
) -> None:
    files = generate(["VS001", "VS002"], tmp_path / "broker")
    broker = broker_factory(password_file=files.passwd, acl_file=files.acl)
    passwords = read_credentials(files.credentials)
    ingest, received = subscribed_ingest(broker, passwords, "$share/ingest/pv/#")

    logger, ok = client(broker, "VS001", passwords["VS001"])
    assert not ok.is_failure
    own = logger.publish("pv/VS001/INV1/telemetry", b'{"ts": 1, "W": 1}', qos=1)
    other = logger.publish("pv/VS002/INV9/telemetry", b'{"ts": 1, "W": 666}', qos=1)
    sentinel = logger.publish("pv/VS001/INV1/telemetry", b'{"ts": 2, "W": 1}', qos=1)
    for info in (own, other, sentinel):
        info.wait_for_publish(10)
    wait_for(lambda: len(received) >= 2, timeout=10)  # QoS 1 from one client keeps its order
    assert received == ["pv/VS001/INV1/telemetry"] * 2, "the other station's topic is refused"

    _, wrong = client(broker, "VS002", passwords["VS001"])
    assert wrong.is_failure, "another station's password does not open its account"
    _, anonymous = client(broker, None, None)
    assert anonymous.is_failure, "no anonymous clients"
    for c in (ingest, logger):
        c.loop_stop()
        c.disconnect()


def test_regenerating_keeps_passwords_and_rotating_changes_them(tmp_path: Path) -> None:
    first = read_credentials(generate(["VS001"], tmp_path).credentials)
    again = read_credentials(generate(["VS001", "VS002"], tmp_path).credentials)
    assert again["VS001"] == first["VS001"]
    assert set(again) == {INGEST_USER, "VS001", "VS002"}
    rotated = read_credentials(generate(["VS001", "VS002"], tmp_path, rotate=True).credentials)
    assert rotated["VS001"] != first["VS001"]
    assert (tmp_path / "credentials.csv").stat().st_mode & 0o077 == 0, "private to its owner"
    hashed = (tmp_path / "passwd").read_text()
    assert rotated["VS001"] not in hashed
    assert "VS001:$7$" in hashed


def test_no_credential_takes_over_another_clients_session(
    tmp_path: Path, broker_factory: Callable[..., Mosquitto]
) -> None:
    """A logger's credential connecting under ingest's client id, or another logger's, does
    not disconnect them or end their sessions (it may only ever be its own client)."""
    files = generate(["VS001", "VS002"], tmp_path / "broker")
    broker = broker_factory(password_file=files.passwd, acl_file=files.acl)
    passwords = read_credentials(files.credentials)
    ingest, received = subscribed_ingest(broker, passwords, "pv/#", client_id="pvmon-ingest-1")
    logger, _ = client(broker, "VS002", passwords["VS002"], client_id="VS002")
    kicked: list[str] = []
    ingest.on_disconnect = lambda *_: kicked.append("ingest")
    logger.on_disconnect = lambda *_: kicked.append("VS002")

    intruders = [
        client(broker, "VS001", passwords["VS001"], client_id="pvmon-ingest-1", clean=True),
        client(broker, "VS001", passwords["VS001"], client_id="VS002", clean=True),
    ]
    # Each intruder has its CONNACK: a take-over would already have sent the kick.
    logger.publish("pv/VS002/INV2/telemetry", b'{"ts": 1, "W": 2}', qos=1).wait_for_publish(10)
    wait_for(lambda: received == ["pv/VS002/INV2/telemetry"], timeout=10)
    assert kicked == [], "nobody was knocked off by a client id that is not the intruder's"
    assert received == ["pv/VS002/INV2/telemetry"], "ingest's subscription is intact"
    for c, _ in intruders:
        c.loop_stop()
        c.disconnect()
    for c in (ingest, logger):
        c.loop_stop()
        c.disconnect()
