"""What the fleet's inverters read, fault scenarios included, without any I/O.

The live simulation publishes these readings over MQTT; the history backfill writes them
straight into InfluxDB; tests take them as they are. Each device's lifetime counter gathers
the energy of every point of its reporting grid, however far apart its readings are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pvmon.telemetry import EventBit, OperatingState
from simulators.fleet_arrays import SimFleet
from simulators.model import Conditions, FleetModel
from simulators.physics import hash_noise
from simulators.scenario import ActiveFault, FaultKind

FAULT_EVENT_BIT = EventBit.GROUND_FAULT
FIELDS = ("W", "WH", "DCV", "DCA", "Hz", "TmpCab", "St", "Evt1", "seq")


@dataclass(frozen=True)
class FaultState:
    factor: np.ndarray
    """DC-side factor: station spread aside, 1 for a healthy device."""
    silent: np.ndarray
    tripped: np.ndarray
    dark: np.ndarray
    lost: np.ndarray
    """The logger's link is down without buffering: the reading never leaves it."""
    stuck_since: np.ndarray
    """When the power the logger sends froze (epoch seconds; -1: it did not)."""
    clock_s: np.ndarray
    """How far the logger's stamp is off the true time [s]."""


@dataclass(frozen=True)
class ReadingBatch:
    idx: np.ndarray
    ts: np.ndarray
    """The true time of each reading."""
    stamped: np.ndarray
    """The time its logger stamps on it (its clock may be off)."""
    fields: dict[str, np.ndarray]
    visible: np.ndarray
    """The reading is sent: the sun is up, the inverter is not off, the link not lost."""
    lost: np.ndarray
    """Readings the logger would have sent but lost with its link."""

    def rows(self) -> np.ndarray:
        return np.nonzero(self.visible)[0]


class ReadingGenerator:
    def __init__(
        self,
        fleet: SimFleet,
        model: FleetModel,
        faults: list[ActiveFault],
        counters: np.ndarray,
        counted_until: int,
        energy_step_s: int | None = None,
    ) -> None:
        self.fleet = fleet
        self.model = model
        self.faults = faults
        self.counters = counters
        """Each device's counter [Wh], covering its grid up to ``counted_until``."""
        self.counted_until = np.full(fleet.size, counted_until, dtype=np.int64)
        self.energy_step_s = energy_step_s
        """Between sparse readings, integrate output at this step (None: every grid point)."""
        for fault in faults:
            if fault.kind == FaultKind.CLEANING:
                model.soiling.clean(fault.devices, fault.local_day())

    def fault_state(self, idx: np.ndarray, ts: np.ndarray) -> FaultState:
        factor = np.ones(idx.size)
        silent = np.zeros(idx.size, dtype=bool)
        tripped = np.zeros(idx.size, dtype=bool)
        dark = np.zeros(idx.size, dtype=bool)
        lost = np.zeros(idx.size, dtype=bool)
        stuck_since = np.full(idx.size, -1, dtype=np.int64)
        clock_s = np.zeros(idx.size, dtype=np.int64)
        for fault in self.faults:
            hit = np.isin(idx, fault.devices) & fault.active(ts)
            match fault.kind:
                case FaultKind.OUTPUT_LOSS | FaultKind.SHADING | FaultKind.SOILING:
                    factor[hit] *= 1 - fault.loss(ts[hit])
                case FaultKind.OUTAGE:
                    silent |= hit
                case FaultKind.FAULT:
                    tripped |= hit
                case FaultKind.ZERO_OUTPUT:
                    dark |= hit
                case FaultKind.COMM_LOSS:
                    lost |= hit
                case FaultKind.STUCK:
                    stuck_since[hit] = fault.start
                case FaultKind.CLOCK:
                    clock_s[hit] = fault.offset
        factor[silent | tripped | dark] = 0.0
        return FaultState(factor, silent, tripped, dark, lost, stuck_since, clock_s)

    def _frozen_power(self, idx: np.ndarray, state: FaultState, p_ac: np.ndarray) -> np.ndarray:
        """The power each reading shows: what it read when its register froze, if it did."""
        stuck = np.flatnonzero(state.stuck_since >= 0)
        if not stuck.size:
            return p_ac
        at, devices = state.stuck_since[stuck], idx[stuck]
        then = self.model.conditions(devices, at, self.fault_state(devices, at).factor)
        shown = p_ac.copy()
        shown[stuck] = then.output.p_ac
        return shown

    def readings(self, idx: np.ndarray, ts: np.ndarray) -> ReadingBatch:
        """Readings of devices ``idx`` (each at most once) at times ``ts``."""
        self._reset_counters(idx, ts)
        state = self.fault_state(idx, ts)
        cond = self.model.conditions(idx, ts, state.factor)
        self._gather_energy(idx, ts, cond)
        counters = self.counters[idx] + self._part_of_next_point(idx, ts)
        fields = self._fields(idx, ts, cond, state, counters)
        return _batch(idx, ts, fields, cond, state)

    def _part_of_next_point(self, idx: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """What a reading between grid points (the one at start-up) shows beyond its
        counter: the elapsed share of the next point's energy, so that its counter rises
        with the time that passes (no impossible rise to the next point), and the next
        point's own reading, which adds that point's whole energy, never shows less."""
        f = self.fleet
        after = next_on_grid(f, idx, ts)
        share = 1.0 - (after - ts) / f.interval_s[idx]
        part = np.zeros(idx.size)
        off = np.nonzero(share > 0)[0]
        if off.size:
            cond = self.model.conditions(
                idx[off], after[off], self.fault_state(idx[off], after[off]).factor
            )
            part[off] = cond.output.p_ac * f.interval_s[idx[off]] / 3600 * share[off]
        return part

    def span(self, until: int) -> ReadingBatch:
        """Every grid reading of every device after its counted time, up to ``until``,
        computed at once (rows grouped by device, in time order). For whole days of
        history; a reading's counter includes its own interval."""
        f = self.fleet
        devices = np.arange(f.size)
        first = next_on_grid(f, devices, self.counted_until)
        counts = np.maximum(0, (until - first) // f.interval_s + 1)
        idx = np.repeat(devices, counts)
        if not idx.size:
            empty = np.zeros(0, dtype=np.int64)
            none = empty.astype(bool)
            return ReadingBatch(empty, empty, empty, dict.fromkeys(FIELDS, empty), none, none)
        step = np.arange(idx.size) - np.repeat(np.cumsum(counts) - counts, counts)
        ts = first[idx] + step * f.interval_s[idx]
        state = self.fault_state(idx, ts)
        cond = self.model.conditions(idx, ts, state.factor)
        energy = cond.output.p_ac * f.interval_s[idx] / 3600
        wh = self._running_counters(idx, ts, energy)
        fields = self._fields(idx, ts, cond, state, wh)
        self.counted_until[devices] = np.maximum(
            self.counted_until,
            np.where(counts > 0, first + (counts - 1) * f.interval_s, self.counted_until),
        )
        return _batch(idx, ts, fields, cond, state)

    def _running_counters(self, idx: np.ndarray, ts: np.ndarray, energy: np.ndarray) -> np.ndarray:
        """Each row's counter, rows grouped by device in time order: the device's counter
        plus its energy so far, restarting from zero at a counter reset."""
        new_device = np.r_[True, idx[1:] != idx[:-1]]
        reset = np.zeros(idx.size, dtype=bool)
        for fault in self.faults:
            if fault.kind != FaultKind.COUNTER_RESET:
                continue
            hit = np.isin(idx, fault.devices) & (ts >= fault.start)
            hit &= self.counted_until[idx] < fault.start
            reset |= hit & ~(np.r_[False, hit[:-1]] & ~new_device)
        segment = np.cumsum(new_device | reset) - 1
        starts = np.nonzero(new_device | reset)[0]
        base = np.where(reset[starts], 0.0, self.counters[idx[starts]])
        running = np.cumsum(energy)
        offset = running[starts] - energy[starts]
        wh = base[segment] + running - offset[segment]
        last = np.r_[new_device[1:], True]
        self.counters[idx[last]] = wh[last]
        return wh

    def _reset_counters(self, idx: np.ndarray, ts: np.ndarray) -> None:
        """A reset inside a device's open window zeroes its counter at the reset time."""
        for fault in self.faults:
            if fault.kind != FaultKind.COUNTER_RESET:
                continue
            hit = np.isin(idx, fault.devices) & (self.counted_until[idx] < fault.start)
            hit &= ts >= fault.start
            devices = idx[hit]
            self.counters[devices] = 0.0
            self.counted_until[devices] = fault.start

    def _gather_energy(self, idx: np.ndarray, ts: np.ndarray, cond: Conditions) -> None:
        f = self.fleet
        since = self.counted_until[idx]
        interval = f.interval_s[idx]
        on_grid = (ts - f.phase_s[idx]) % interval == 0
        # The usual case, a reading on the grid right after the previous one: its own
        # output is the only grid point in the window.
        single = on_grid & (since < ts) & (since >= ts - interval)
        energy = np.where(single, cond.output.p_ac * interval / 3600, 0.0)
        wide = np.nonzero((since < ts) & ~single)[0]
        if wide.size:
            energy[wide] = self.model.energy_wh(
                idx[wide], since[wide], ts[wide], factor=self._factor, step_s=self.energy_step_s
            )
        self.counters[idx] += energy
        self.counted_until[idx] = np.maximum(since, ts)

    def _factor(self, idx: np.ndarray, ts: np.ndarray) -> np.ndarray:
        return self.fault_state(idx, ts).factor

    def _fields(
        self,
        idx: np.ndarray,
        ts: np.ndarray,
        cond: Conditions,
        state: FaultState,
        counters: np.ndarray,
    ) -> dict[str, np.ndarray]:
        f, out = self.fleet, cond.output
        load = np.clip(out.p_dc / (f.kwp[idx] * 1000), 0, 1.2)
        dcv = (
            f.dc_nominal_v[idx]
            * (1 - 0.0035 * (out.t_cell - 25))
            * (0.92 + 0.08 * np.minimum(1, 5 * load))
            * (1 + 0.004 * hash_noise(ts, idx, 1.0))
        )
        dcv = np.where(state.tripped, f.dc_nominal_v[idx] * 1.18, np.where(state.dark, 0.0, dcv))
        st = np.where(
            state.tripped,
            OperatingState.FAULT,
            np.where(state.dark, OperatingState.STANDBY, out.state),
        )
        unit = f.wh_unit[idx]
        return {
            "W": np.round(self._frozen_power(idx, state, out.p_ac), 1),
            "WH": (np.floor(counters / unit) * unit).astype(np.int64),
            "DCV": np.round(dcv, 1),
            "DCA": np.round(np.where(dcv > 0, out.p_dc / np.maximum(dcv, 1), 0), 2),
            "Hz": np.round(50 + 0.02 * hash_noise(ts, idx, 2.0), 3),
            "TmpCab": np.round(
                cond.temp_air + 3 + 15 * out.p_ac / f.rated_w[idx] + 0.5 * hash_noise(ts, idx, 3.0),
                1,
            ),
            "St": st.astype(int),
            "Evt1": np.where(state.tripped, 1 << FAULT_EVENT_BIT, 0),
            "seq": (ts - f.phase_s[idx]) // f.interval_s[idx],
        }


def _batch(
    idx: np.ndarray,
    ts: np.ndarray,
    fields: dict[str, np.ndarray],
    cond: Conditions,
    state: FaultState,
) -> ReadingBatch:
    sendable = ~cond.night & ~state.silent
    return ReadingBatch(
        idx, ts, ts + state.clock_s, fields, sendable & ~state.lost, sendable & state.lost
    )


def next_on_grid(fleet: SimFleet, idx: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Each device's first reporting time strictly after ``after``."""
    interval, phase = fleet.interval_s[idx], fleet.phase_s[idx]
    return after + interval - (after - phase) % interval


def first_on_grid(fleet: SimFleet, idx: np.ndarray, at_or_after: np.ndarray) -> np.ndarray:
    return next_on_grid(fleet, idx, np.asarray(at_or_after) - 1)
