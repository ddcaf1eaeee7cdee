"""Waiting for a condition rather than sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError("condition not met in time")


def wait_until_steady(
    value: Callable[[], object], steady_s: float = 1.0, timeout: float = 60.0
) -> None:
    """Until ``value()`` has not changed for ``steady_s`` (what is in flight has landed)."""
    deadline = time.monotonic() + timeout
    last, since = value(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = value()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= steady_s:
            return
    raise AssertionError("value did not settle in time")
