"""The InfluxDB client's connections: a read sent again when its kept-alive connection
drops under it, a write never sent twice, idle connections kept (a real HTTP server on a
socket, ``tests/support/droppinghttp.py``)."""

import time
from collections.abc import Callable, Iterator

import pytest

from pvmon.influx.client import InfluxClient, InfluxUnavailable
from tests.support.droppinghttp import SERIES, DroppingHttpServer


@pytest.fixture
def serve() -> Iterator[Callable[[set[int]], DroppingHttpServer]]:
    servers: list[DroppingHttpServer] = []

    def start(drop: set[int]) -> DroppingHttpServer:
        servers.append(DroppingHttpServer(drop))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def test_a_read_whose_connection_drops_under_it_is_sent_again(serve) -> None:
    server = serve({2})
    with InfluxClient(server.url, "pv") as influx:
        influx.query("SELECT 1")
        assert influx.query("SELECT 2") == SERIES
    assert server.connections == 2
    assert [r.split(b" ")[0] for r in server.requests] == [b"GET"] * 3


def test_a_streamed_read_is_sent_again_too(serve) -> None:
    server = serve({2})
    with InfluxClient(server.url, "pv") as influx:
        influx.query("SELECT 1")
        assert list(influx.stream("SELECT 2")) == SERIES
    assert len(server.requests) == 3


def test_a_write_whose_connection_drops_is_reported_not_sent_twice(serve) -> None:
    server = serve({2})
    with InfluxClient(server.url, "pv") as influx:
        influx.query("SELECT 1")
        with pytest.raises(InfluxUnavailable, match="POST"):
            influx.write(["m v=1 1"])
    assert [r.split(b" ")[0] for r in server.requests] == [b"GET", b"POST"]


def test_a_read_dropped_twice_is_unavailable(serve) -> None:
    server = serve({2, 3})
    with InfluxClient(server.url, "pv") as influx:
        influx.query("SELECT 1")
        with pytest.raises(InfluxUnavailable, match="disconnected"):
            influx.query("SELECT 2")
    assert len(server.requests) == 3


def test_an_idle_connection_is_kept_past_httpx_default_expiry(serve) -> None:
    """Five seconds is httpx's default keep-alive expiry; a pool that expires connections
    can close one another thread was just given (``pvmon/influx/client.py``)."""
    server = serve(set())
    with InfluxClient(server.url, "pv") as influx:
        influx.query("SELECT 1")
        time.sleep(5.5)
        influx.query("SELECT 2")
    assert server.connections == 1
