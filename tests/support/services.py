"""Real services a test needs; under ``CI=true`` a missing one fails the test."""

from __future__ import annotations

import datetime as dt
import os

import pytest

CI = os.environ.get("CI", "").lower() == "true"


AS_OF = dt.date(2026, 11, 28)
"""The generated registry's certificates are dated relative to this day in tests."""


def missing_service(reason: str) -> None:
    if CI:
        pytest.fail(f"CI=true and a service is missing: {reason}")
    pytest.skip(reason)
