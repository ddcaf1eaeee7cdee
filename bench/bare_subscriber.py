"""The MQTT side's limit: one bare paho-mqtt subscriber at QoS 1 that only counts.

Persistent MQTT 5 session, ReceiveMaximum 10,000, paho's own acknowledgements; prints the
epoch time of its connection, of its first and of its ``COUNT``-th message, then exits.
With ``--subscribe-only`` it subscribes and leaves (its session then queues a backlog).

Run by bench/ingest.py: python -m bench.bare_subscriber HOST PORT COUNT [--subscribe-only]
"""

from __future__ import annotations

import argparse
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--subscribe-only", action="store_true")
    args = parser.parse_args()
    received = 0
    first = last = connected = 0.0
    subscribed = threading.Event()
    done = threading.Event()

    def on_connect(client: mqtt.Client, *_: object) -> None:
        nonlocal connected
        connected = time.time()
        client.subscribe("pv/#", options=SubscribeOptions(qos=1))

    def on_message(*_: object) -> None:
        nonlocal received, first, last
        if received == 0:
            first = time.time()
        received += 1
        if received == args.count:
            last = time.time()
            done.set()

    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id="bare-subscriber", protocol=mqtt.MQTTv5
    )
    client.on_connect = on_connect
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = on_message
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 3600
    props.ReceiveMaximum = 10_000
    client.connect(args.host, args.port, 60, clean_start=False, properties=props)
    client.loop_start()
    subscribed.wait(30)
    print("subscribed", flush=True)
    if not args.subscribe_only:
        done.wait(600)
    client.disconnect()
    client.loop_stop()
    print(f"connected={connected:.6f} first={first:.6f} last={last:.6f} n={received}")


if __name__ == "__main__":
    main()
