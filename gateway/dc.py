"""The DC side of an inverter with several inputs (MPPT trackers, PV strings) as the
contract's two figures."""

from __future__ import annotations

from collections.abc import Iterable


def dc_totals(
    inputs: Iterable[tuple[float | None, float | None]],
) -> tuple[float | None, float | None]:
    """(current, voltage) of each input → ``DCA`` the sum of the currents and ``DCV`` their
    current-weighted mean voltage (the plain mean when no current flows). Inputs that report
    neither are left out; (None, None) when none reports anything."""
    pairs = [(a, v) for a, v in inputs if a is not None and v is not None]
    if not pairs:
        return None, None
    current = sum(a for a, _ in pairs)
    if current > 0:
        return current, sum(a * v for a, v in pairs) / current
    return current, sum(v for _, v in pairs) / len(pairs)
