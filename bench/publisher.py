"""The benchmark's data loggers in a process of their own: publish the workload at QoS 1, at
full speed or at a steady rate, and write each message's publish time (epoch seconds, in
publish order) to a .npy file for latency.

Run by bench/ingest.py: python -m bench.publisher HOST PORT COUNT NEWEST_TS [--rate R] [--times F]
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np
import paho.mqtt.client as mqtt

from bench.workload import fleet, messages

MAX_OUTSTANDING = 20_000
"""paho reuses message ids once its 16-bit counter wraps; stay well below."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("newest_ts", type=int)
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s; 0: full speed")
    parser.add_argument("--times", help="write publish times here (.npy)")
    args = parser.parse_args()
    payloads = list(messages(fleet(), args.count, args.newest_ts))

    acked = 0
    done = threading.Event()
    lock = threading.Lock()

    def on_publish(*_: object) -> None:
        nonlocal acked
        with lock:
            acked += 1
            if acked == args.count:
                done.set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.on_publish = on_publish
    client.connect(args.host, args.port, 60)
    client.loop_start()
    times = np.empty(args.count)
    started = time.time()
    for n, (topic, payload) in enumerate(payloads):
        if args.rate:
            ahead = started + n / args.rate - time.time()
            if ahead > 0:
                time.sleep(ahead)
        while n - acked > MAX_OUTSTANDING:
            time.sleep(0.001)
        times[n] = time.time()
        client.publish(topic, payload, qos=1)
    done.wait(600)
    elapsed = time.time() - started
    client.disconnect()
    client.loop_stop()
    if args.times:
        np.save(args.times, times)
    print(f"published {acked:,} of {args.count:,} in {elapsed:.2f} s", flush=True)


if __name__ == "__main__":
    main()
