"""A small InfluxDB client over the 1.x HTTP API, which InfluxDB 1.x serves natively and
2.x/3.x through their v1-compatibility endpoints (DESIGN §3 Storage)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import orjson


class InfluxError(Exception):
    pass


class InfluxUnavailable(InfluxError):
    """Temporary: refused connection, timeout, 5xx or 429 — retry later."""


class InfluxRejected(InfluxError):
    """Permanent: the server refused the request (4xx); retrying the same data will not help."""


DROPPED = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
"""A kept-alive connection that failed under a request: a read is sent once more, on
another connection (a new connection refused, or a timeout, is not retried: the server is
away or slow, and asking again at once would not help)."""


class InfluxClient:
    def __init__(
        self,
        url: str,
        database: str,
        *,
        token: str | None = None,
        timeout: float = 10.0,
        bearer: bool = False,
    ) -> None:
        headers = {}
        if token:
            headers["Authorization"] = f"{'Bearer' if bearer else 'Token'} {token}"
        self.url = url.rstrip("/")
        self.database = database
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout),
            # Idle connections are kept until the server closes them: with a keep-alive
            # expiry, httpcore 1.0.9's pool can close an expired idle connection that
            # another thread has just been given (encode/httpcore#1110), and that request
            # fails with EBADF (the likely cause of the station page's rare 503s under load).
            limits=httpx.Limits(
                max_connections=8, max_keepalive_connections=8, keepalive_expiry=None
            ),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InfluxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ping(self) -> str:
        """The server's version string; raises ``InfluxUnavailable`` when it does not answer."""
        response = self._request("GET", "/ping")
        return response.headers.get("X-Influxdb-Version", "")

    def write(self, lines: Sequence[str], *, rp: str | None = None, precision: str = "s") -> None:
        if not lines:
            return
        params = {"db": self.database, "precision": precision}
        if rp:
            params["rp"] = rp
        body = ("\n".join(lines) + "\n").encode()
        self._request("POST", "/write", params=params, content=body)

    def query(
        self, q: str, *, epoch: str = "s", database: str | None = None, method: str = "GET"
    ) -> list[dict[str, Any]]:
        """Series of the first statement's result (``[]`` when it has none)."""
        params = {"q": q, "epoch": epoch, "db": database or self.database}
        if method == "POST":
            response = self._request("POST", "/query", data=params)
        else:
            response = self._request("GET", "/query", params=params)
        results = orjson.loads(response.content).get("results", [])
        for result in results:
            if "error" in result:
                raise InfluxRejected(f"query failed: {result['error']} ({q})")
        return results[0].get("series", []) if results else []

    def stream(
        self, q: str, *, epoch: str = "s", chunk_size: int = 10_000, database: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Series of a query as InfluxDB sends them in chunks, so that no server row limit
        truncates a large result and no single response has to hold it all."""
        params = {
            "q": q,
            "epoch": epoch,
            "db": database or self.database,
            "chunked": "true",
            "chunk_size": str(chunk_size),
        }
        response = self._send("GET", "/query", stream=True, params=params)
        try:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                for result in orjson.loads(line).get("results", []):
                    if "error" in result:
                        raise InfluxRejected(f"query failed: {result['error']} ({q})")
                    yield from result.get("series", [])
        except httpx.TransportError as exc:
            raise InfluxUnavailable(f"GET {self.url}/query: {exc!r}") from exc
        finally:
            response.close()

    def execute(self, q: str) -> None:
        """Run a statement that changes the server (CREATE, ALTER, DROP)."""
        self.query(q, method="POST")

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._send(method, path, stream=False, **kwargs)

    def _send(self, method: str, path: str, *, stream: bool, **kwargs: Any) -> httpx.Response:
        """The response to a request, its status checked (a streamed one still open); a
        read (GET) whose kept-alive connection fails under it is sent once more."""
        request = self._http.build_request(method, path, **kwargs)
        try:
            try:
                response = self._http.send(request, stream=stream)
            except DROPPED:
                if method != "GET":
                    raise
                response = self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            raise InfluxUnavailable(f"{method} {self.url}{path}: {exc!r}") from exc
        if response.status_code >= 400:
            response.read()
            response.close()
        self._raise_for(response, method, path)
        return response

    @staticmethod
    def _raise_for(response: httpx.Response, method: str, path: str) -> None:
        if response.status_code >= 500 or response.status_code == 429:
            raise InfluxUnavailable(
                f"{method} {path}: HTTP {response.status_code} {response.text[:300]}"
            )
        if response.status_code >= 400:
            raise InfluxRejected(
                f"{method} {path}: HTTP {response.status_code} {response.text[:500]}"
            )


def series_values(series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of query series as dicts, each with the series' tags merged in."""
    rows = []
    for s in series:
        tags = s.get("tags", {})
        for values in s.get("values", []):
            rows.append({**tags, **dict(zip(s["columns"], values, strict=True))})
    return rows
