"""Who connects to the broker as whom (DESIGN §3: no device speaks for another).

Each station's data logger has a credential of its own (username = station id) and may
publish only under ``pv/<station>/…``; each ingest worker has one too, named as its MQTT
client id (``pvmon-<worker id>``), and may only read. The broker uses the username as the
client id (Mosquitto's ``use_username_as_clientid``), so a credential can only ever be its
own client and never knock another off or take its session — ingest's included.

The credentials live in ``credentials.csv`` (user, password, in the clear, mode 0600: for
whoever configures the loggers), written by ``pvmon broker config`` (``launch/broker.py``)
and read here by whoever must connect as one of them (the simulator's loggers, ``pvmon up``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEFAULT_INGEST_WORKER = "ingest-1"
WORKER_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


def ingest_client_id(worker_id: str) -> str:
    """The MQTT client id of an ingest worker, and the username of its credential."""
    return f"pvmon-{worker_id}"


INGEST_USER = ingest_client_id(DEFAULT_INGEST_WORKER)


class BrokerConfigError(Exception):
    pass


@dataclass(frozen=True)
class BrokerFiles:
    directory: Path

    @property
    def credentials(self) -> Path:
        return self.directory / "credentials.csv"

    @property
    def passwd(self) -> Path:
        return self.directory / "passwd"

    @property
    def acl(self) -> Path:
        return self.directory / "acl"

    def password_of(self, user: str) -> str:
        found = read_credentials(self.credentials).get(user)
        if found is None:
            raise BrokerConfigError(f"no broker credential for {user!r} in {self.credentials}")
        return found


def read_credentials(path: Path) -> dict[str, str]:
    """user → password from a credentials file (empty when there is none)."""
    if not path.exists():
        return {}
    with path.open(newline="", encoding="utf-8") as f:
        return {row["user"]: row["password"] for row in csv.DictReader(f)}
