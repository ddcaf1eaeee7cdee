"""An HTTP/1.1 server that keeps connections alive and drops the ones a test names: the
request is read, then the connection is closed without an answer, as when a server or a
connection dies under a request. It answers every other request with one InfluxDB result."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import BinaryIO

import orjson

from launch.local.process import free_port

SERIES = [{"name": "m", "columns": ["time"], "values": [[1]]}]
ANSWER = orjson.dumps({"results": [{"statement_id": 0, "series": SERIES}]}) + b"\n"


class DroppingHttpServer:
    def __init__(self, drop: set[int]) -> None:
        """``drop``: which requests (counted from 1, over all connections) go unanswered."""
        self.drop = drop
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while (head := self._read_head(reader)) is not None:
                length = _content_length(head)
                body = reader.read(length) if length else b""
                with self._lock:
                    self.requests.append(head.split(b"\r\n", 1)[0] + b" " + body)
                    number = len(self.requests)
                if number in self.drop:
                    with contextlib.suppress(OSError):
                        conn.shutdown(socket.SHUT_RDWR)
                    return
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(ANSWER)}\r\n\r\n".encode()
                    + ANSWER
                )

    @staticmethod
    def _read_head(reader: BinaryIO) -> bytes | None:
        lines = []
        while True:
            line = reader.readline()
            if not line:
                return None
            if line in (b"\r\n", b"\n"):
                return b"".join(lines)
            lines.append(line)

    def close(self) -> None:
        self._listener.close()


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
