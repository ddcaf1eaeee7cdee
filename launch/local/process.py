"""A child process with a log file, a readiness check, and a clean stop."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class ServiceError(RuntimeError):
    pass


class ManagedProcess:
    def __init__(
        self, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        if self.running():
            return
        argv = self.argv
        setpriv = shutil.which("setpriv")
        if setpriv and threading.current_thread() is threading.main_thread():
            # The child gets SIGTERM if its parent dies, even by SIGKILL (Linux pdeathsig).
            # The kernel ties this to the thread that forks, so only the main thread asks.
            argv = [setpriv, "--pdeathsig", "TERM", "--", *argv]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # A session of its own: a terminal's Ctrl-C reaches only the parent, which then
            # stops its children in order.
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )

    def wait_ready(self, ready: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise ServiceError(
                    f"{self.name} exited with code {self.returncode()} before it "
                    f"was ready; see {self.log_path}:\n{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.05)
        raise ServiceError(f"{self.name} not ready after {timeout:.0f} s; see {self.log_path}")

    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM to the process and what it started, then SIGKILL if it has not exited
        within ``timeout``; whatever of its session is still there afterwards (a pool's
        workers, say) is killed too — nothing it started outlives the stop."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self._signal_session(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_session(signal.SIGKILL)
                self.process.wait()
        self._signal_session(signal.SIGKILL)
        return self.process.returncode

    def _signal_session(self, sig: signal.Signals) -> None:
        """The process leads its own session and process group (``start``)."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
