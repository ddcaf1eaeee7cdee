"""The gateway's disk buffer: oldest first, kept across a restart, bounded by dropping the
oldest (counted)."""

from __future__ import annotations

from pathlib import Path

from gateway.buffer import MessageBuffer


def test_held_messages_come_back_oldest_first_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "buffer" / "S1.sqlite"
    buffer = MessageBuffer(path, 1_000_000)
    for n in range(5):
        buffer.hold("pv/S1/D1/telemetry", f'{{"ts": {n}, "W": 1}}'.encode())
    buffer.close()
    again = MessageBuffer(path, 1_000_000)
    held = again.oldest(3)
    assert [h.payload for h in held] == [f'{{"ts": {n}, "W": 1}}'.encode() for n in range(3)]
    for h in held[:2]:
        again.sent(h.seq)
    assert len(again) == 3
    assert again.oldest(1)[0].payload == b'{"ts": 2, "W": 1}'


def test_a_full_buffer_drops_the_oldest_and_counts_it(tmp_path: Path) -> None:
    buffer = MessageBuffer(tmp_path / "b.sqlite", 400)
    for n in range(40):
        buffer.hold("pv/S1/D1/telemetry", f'{{"ts": {n:04d}}}'.encode())
    kept = [h.payload for h in buffer.oldest(100)]
    assert buffer.dropped == 40 - len(kept)
    assert buffer.dropped > 0
    assert kept[-1] == b'{"ts": 0039}', "the newest is always kept"
    assert kept == sorted(kept), "still oldest first"
