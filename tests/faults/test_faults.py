"""Faults on real processes: in every case, the readings stored are exactly the valid
messages the broker accepted (unique (device, ts)), every malformed one is dead-lettered,
and nothing is lost."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from launch.local.process import ManagedProcess
from tests.support.faultrig import Outcome, Rig
from tests.support.proxy import CuttableProxy
from tests.support.traffic import Key, Publisher, stored_keys
from tests.support.waiting import wait_for, wait_until_steady

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
RATE = 2000
"""Messages a second while a fault happens: 40 times the county's daylight rate."""


def receiver_pid(worker: ManagedProcess) -> int:
    """The worker's MQTT receiver process (ingest/receiver_process.py), its only child."""
    assert worker.pid is not None
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def assert_exact(outcome: Outcome) -> None:
    assert outcome.stored == outcome.sent_valid, f"lost readings: {outcome}"
    assert outcome.dead_lettered == outcome.sent_invalid, f"lost malformed messages: {outcome}"
    assert outcome.unexpected == 0, f"stored what nobody sent: {outcome}"
    assert outcome.lost == 0


def test_broker_restarted_gracefully_mid_stream_loses_nothing(rig: Rig) -> None:
    rig.ingest()
    messages = rig.traffic(12_000)
    publisher = rig.publisher()
    stream = rig.publish_in_background(messages, RATE, publisher)
    wait_for(lambda: len(publisher.sent) > 4000)
    rig.broker.stop()  # SIGTERM: Mosquitto writes its sessions and queues to disk
    time.sleep(1.0)
    rig.broker.start()
    stream.join()
    outcome = rig.settle("broker restarted (SIGTERM) mid-stream", publisher.sent, messages)
    publisher.close()
    assert_exact(outcome)


def test_influxd_stopped_longer_than_the_retries_loses_nothing(rig: Rig) -> None:
    rig.ingest()
    messages = rig.traffic(12_000)
    publisher = rig.publisher()
    stream = rig.publish_in_background(messages, RATE, publisher)
    wait_for(lambda: len(stored_keys(rig.influx)) > 1000)
    rig.influxd.stop()
    time.sleep(8.0)  # write timeout 2 s, back-off at most 1 s: many attempts fail meanwhile
    rig.influxd.start()
    stream.join()
    outcome = rig.settle(
        "influxd stopped 8 s mid-stream", publisher.sent, messages, note="spooled, replayed"
    )
    publisher.close()
    assert_exact(outcome)
    counters = rig.counters("ingest-1")
    assert counters["points_spooled"] > 0, "the points waited in the spool"
    assert counters["spool_points"] == 0, "and the spool drained"


def test_influxd_accepting_but_not_answering_loses_nothing(rig: Rig) -> None:
    rig.ingest()
    messages = rig.traffic(12_000)
    publisher = rig.publisher()
    stream = rig.publish_in_background(messages, RATE, publisher)
    wait_for(lambda: len(stored_keys(rig.influx)) > 1000)
    pid = rig.influxd.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # the kernel still accepts connections; nobody answers
    try:
        time.sleep(8.0)
    finally:
        os.kill(pid, signal.SIGCONT)
    stream.join()
    outcome = rig.settle(
        "influxd frozen (SIGSTOP) 8 s", publisher.sent, messages, note="timed out, spooled"
    )
    publisher.close()
    assert_exact(outcome)
    assert rig.counters("ingest-1")["points_spooled"] > 0


def test_ingest_killed_mid_batch_and_restarted_loses_nothing(rig: Rig) -> None:
    worker = rig.ingest()
    messages = rig.traffic(20_000)
    publisher = rig.publisher()
    stream = rig.publish_in_background(messages, 0, publisher)  # as fast as it goes
    wait_for(lambda: rig.counters("ingest-1").get("points_written", 0) > 0)
    receiver = receiver_pid(worker)
    worker.kill()  # SIGKILL while batches are arriving and being written
    # Its receiver must not outlive it: it would hold the session the restart needs.
    wait_for(lambda: _gone(receiver), timeout=10)
    stream.join()
    more = rig.traffic(5_000)  # arrives while no worker runs: queued for its session
    publisher.publish(more, 0)
    rig.ingest()
    outcome = rig.settle("ingest SIGKILLed mid-batch, restarted", publisher.sent, messages + more)
    publisher.close()
    assert_exact(outcome)


def test_ingest_receiver_killed_is_restarted_and_loses_nothing(rig: Rig) -> None:
    worker = rig.ingest()
    messages = rig.traffic(12_000)
    publisher = rig.publisher()
    stream = rig.publish_in_background(messages, RATE, publisher)
    wait_for(lambda: rig.counters("ingest-1").get("points_written", 0) > 2000)
    os.kill(receiver_pid(worker), signal.SIGKILL)  # the MQTT half only; the worker lives
    stream.join()
    outcome = rig.settle("ingest's MQTT receiver SIGKILLed", publisher.sent, messages)
    publisher.close()
    assert_exact(outcome)
    assert worker.returncode() is None, "the worker itself kept running"
    assert rig.counters("ingest-1")["receiver_restarts"] == 1
    outcome.note = "restarted by its worker"


def test_qos1_redelivery_of_written_messages_stores_each_once(rig: Rig) -> None:
    proxy = CuttableProxy(rig.broker.options.host, rig.broker.options.port)
    rig.ingest(port=proxy.port)
    messages = rig.traffic(12_000)
    publisher = rig.publisher()
    stream = rig.publish_in_background(messages, RATE, publisher)
    for _ in range(3):
        written = len(stored_keys(rig.influx))
        wait_for(lambda w=written: len(stored_keys(rig.influx)) > w + 500)
        proxy.cut()  # ingest's connection dies between its writes and its acknowledgements
        time.sleep(1.5)
    stream.join()
    outcome = rig.settle("ingest's connection cut 3× (QoS 1 redelivery)", publisher.sent, messages)
    publisher.close()
    proxy.close()
    assert_exact(outcome)
    received = rig.counters("ingest-1")["received"]
    assert received > outcome.sent_valid + outcome.sent_invalid, "some were delivered twice"
    outcome.note = f"{received - outcome.sent_valid - outcome.sent_invalid:,} redelivered"


def streaming_to_two_shared_workers(
    rig: Rig, count: int, b_received: int, logger: str | None = None
) -> tuple[ManagedProcess, list[tuple[str, bytes, Key]], Publisher, threading.Thread]:
    """Workers ingest-a and ingest-b share the stream of ``count`` messages at ``RATE`` (all
    from station ``logger``'s logger when given, else the fleet's); returns once ingest-b has
    received ``b_received`` of them."""
    rig.ingest("ingest-a", shared_group="ingest")
    b = rig.ingest("ingest-b", shared_group="ingest")
    messages = rig.traffic(count, stations=frozenset({logger}) if logger else None)
    publisher = rig.publisher(logger) if logger else rig.publisher()
    stream = rig.publish_in_background(messages, RATE, publisher)
    wait_for(lambda: rig.counters("ingest-b").get("received", 0) > b_received)
    return b, messages, publisher, stream


def test_two_shared_workers_one_killed_lose_nothing(rig: Rig) -> None:
    victim, messages, publisher, stream = streaming_to_two_shared_workers(rig, 20_000, 3000)
    victim.kill()
    stream.join()
    wait_until_steady(lambda: len(stored_keys(rig.influx)), steady_s=1.0)  # ingest-a's share
    valid = {k for k in publisher.sent if k[0] != "bad"}
    waiting = len(valid - stored_keys(rig.influx))
    rig.ingest("ingest-b", shared_group="ingest")  # its session still holds what it had
    outcome = rig.settle(
        "2 shared workers, one SIGKILLed",
        publisher.sent,
        messages,
        note=f"{waiting:,} waited in the killed worker's session until it restarted",
    )
    publisher.close()
    assert_exact(outcome)


def test_a_retired_worker_leaves_the_group_and_nothing_waits_for_it(secure_rig: Rig) -> None:
    """On the broker as production runs it: the retiring worker's own credential is the
    only one that can take its session back."""
    rig = secure_rig
    leaving, messages, publisher, stream = streaming_to_two_shared_workers(
        rig, 10_000, 2000, logger="VS001"
    )
    leaving.stop()  # its persistent session keeps receiving a share while it is away
    time.sleep(1.0)  # the fault: a second of traffic queues for the stopped worker
    code, log = rig.retire("ingest-b", shared_group="ingest")
    assert code == 0, log[-3000:]
    assert "ingest_retired" in log
    stream.join()
    after = rig.traffic(3_000, stations=frozenset({"VS001"}))  # only ingest-a is left
    publisher.publish(after, RATE)
    outcome = rig.settle(
        "2 shared workers, one retired mid-stream", publisher.sent, messages + after
    )
    publisher.close()
    assert_exact(outcome)
    assert not session_present(rig, "pvmon-ingest-b"), "the retired worker's session ended"
    outcome.note = "retired with pvmon ingest --retire; later traffic all to the other"


def session_present(rig: Rig, client_id: str) -> bool:
    """Whether the broker still holds a session for ``client_id`` (asked without ending it)."""
    answered = threading.Event()
    present: list[bool] = []

    def on_connect(_c: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, *_: object) -> None:
        present.append(flags.session_present)
        answered.set()

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    if rig.broker_files:  # the broker names the client after its credential
        client.username_pw_set(client_id, rig.broker_files.password_of(client_id))
    client.on_connect = on_connect
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    client.connect(
        rig.broker.options.host, rig.broker.options.port, clean_start=False, properties=properties
    )
    client.loop_start()
    assert answered.wait(10)
    client.disconnect()
    client.loop_stop()
    return present[0]


def intruder(rig: Rig, station: str, client_id: str) -> mqtt.Client:
    """A logger's credential connecting under someone else's client id with a clean start,
    over and over (paho reconnects by itself when the broker drops it)."""
    assert rig.broker_files is not None
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    client.username_pw_set(station, rig.broker_files.password_of(station))
    client.reconnect_delay_set(0.2, 1)
    client.connect_async(rig.broker.options.host, rig.broker.options.port, clean_start=True)
    client.loop_start()
    return client


def test_a_logger_using_ingests_or_another_loggers_client_id_takes_nothing(
    secure_rig: Rig,
) -> None:
    rig = secure_rig
    rig.ingest()
    messages = rig.traffic(8_000, stations=frozenset({"VS001"}))
    publisher = rig.publisher("VS001")
    stream = rig.publish_in_background(messages, RATE / 4, publisher)
    wait_for(lambda: len(publisher.sent) > 1000)
    intruders = [intruder(rig, "VS002", "pvmon-ingest-1"), intruder(rig, "VS002", "VS001")]
    stream.join()
    for c in intruders:
        c.loop_stop()
        c.disconnect()
    outcome = rig.settle(
        "a logger's credential under ingest's and another logger's client id",
        publisher.sent,
        messages,
        note="broker ties client ids to credentials",
    )
    publisher.close()
    assert_exact(outcome)
