"""A service ``pvmon up`` started is stopped with everything it started: a pool's worker
processes do not outlive it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from launch.local.process import ManagedProcess
from tests.support.waiting import wait_for

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status").read_text()
    return "State:\tZ" not in status


def test_stopping_a_service_stops_the_processes_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    service = ManagedProcess(
        "pool", [sys.executable, "-c", PARENT, str(pid_file)], tmp_path / "pool.log"
    )
    service.start()
    wait_for(lambda: pid_file.exists() and pid_file.read_text() != "")
    child = int(pid_file.read_text())
    assert alive(child)
    service.stop(timeout=5)
    assert not service.running()
    wait_for(lambda: not alive(child), timeout=5)
