"""A local Mosquitto broker configured for the no-loss promise (DESIGN §3)."""

from __future__ import annotations

import getpass
import shutil
from dataclasses import dataclass
from pathlib import Path

from launch.local.process import ManagedProcess, ServiceError, port_open

MAX_PACKET_BYTES = 1024 * 1024
"""Larger packets are refused by the broker itself; ingest refuses more than its own limit."""


@dataclass(frozen=True)
class MosquittoOptions:
    port: int
    directory: Path
    max_queued_messages: int = 1_000_000
    """Mosquitto's default, 1000, silently drops QoS 1 backlog for a slow or absent consumer."""
    max_queued_bytes: int = 512 * 1024 * 1024
    max_inflight_messages: int = 1000
    persistence: bool = True
    autosave_interval: int = 1000
    autosave_on_changes: bool = True
    """Save after every ``autosave_interval`` changes rather than seconds: a SIGKILL then loses
    at most that many changes, where every 30 s lost whole sessions (docs/reliability.md)."""
    host: str = "127.0.0.1"
    password_file: Path | None = None
    """With an ACL file: no anonymous clients, each user only where the ACL lets it."""
    acl_file: Path | None = None
    certfile: Path | None = None
    """With ``keyfile``: TLS on the listener (clients use ``mqtts://``)."""
    keyfile: Path | None = None


def render_config(o: MosquittoOptions) -> str:
    lines = [f"listener {o.port} {o.host}"]
    if o.certfile and o.keyfile:
        lines += [f"certfile {o.certfile}", f"keyfile {o.keyfile}"]
    if o.password_file:
        # The username is the client id: a credential can only be its own client, never
        # knock another off or take over its session (pvmon/brokerauth.py).
        lines += [
            "allow_anonymous false",
            f"password_file {o.password_file}",
            "use_username_as_clientid true",
        ]
        if o.acl_file:
            lines.append(f"acl_file {o.acl_file}")
    else:
        lines.append("allow_anonymous true")
    lines += [
        f"user {getpass.getuser()}",
        f"max_queued_messages {o.max_queued_messages}",
        f"max_queued_bytes {o.max_queued_bytes}",
        f"max_inflight_messages {o.max_inflight_messages}",
        f"max_packet_size {MAX_PACKET_BYTES}",
        "max_connections -1",
        "set_tcp_nodelay true",
        "persistent_client_expiration 14d",
        f"log_dest file {o.directory / 'mosquitto.log'}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages false",
    ]
    if o.persistence:
        lines += [
            "persistence true",
            f"persistence_location {o.directory}/",
            f"autosave_interval {o.autosave_interval}",
            f"autosave_on_changes {'true' if o.autosave_on_changes else 'false'}",
        ]
    return "\n".join(lines) + "\n"


class Mosquitto(ManagedProcess):
    def __init__(self, options: MosquittoOptions, binary: str = "mosquitto") -> None:
        # Debian installs the broker in /usr/sbin, which is not on ordinary users' PATH.
        path = shutil.which(binary) or shutil.which(binary, path="/usr/sbin:/usr/local/sbin")
        if path is None:
            raise ServiceError(
                f"{binary} not found: install Debian's 'mosquitto' package "
                "(./setup.sh does) or set PVMON_MQTT_URL to an existing broker"
            )
        options.directory.mkdir(parents=True, exist_ok=True)
        self.options = options
        self.config_path = options.directory / "mosquitto.conf"
        super().__init__(
            "mosquitto",
            [path, "-c", str(self.config_path)],
            options.directory / "mosquitto.stdout.log",
        )

    @property
    def url(self) -> str:
        scheme = "mqtts" if self.options.certfile else "mqtt"
        return f"{scheme}://{self.options.host}:{self.options.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.config_path.write_text(render_config(self.options))
        super().start()
        self.wait_ready(lambda: port_open(self.options.host, self.options.port), timeout)
