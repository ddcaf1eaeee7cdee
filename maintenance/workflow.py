"""An order's states and the steps between them (pure).

created → assigned → accepted → on site → done → verified. An order may be assigned
again (to another maintainer) until someone is on site; notes may be added at any time
before it is verified, photos by its maintainer from accepting it until it is verified,
an inverter replacement by its maintainer while on site;
a done or verified order whose fault comes back is reopened and goes back to its
maintainer, assigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from pvmon.findings import Severity


class OrderState(StrEnum):
    CREATED = "created"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    ON_SITE = "on_site"
    DONE = "done"
    VERIFIED = "verified"


class Step(StrEnum):
    CREATE = "create"
    ASSIGN = "assign"
    ACCEPT = "accept"
    ARRIVE = "arrive"
    NOTE = "note"
    PHOTO = "photo"
    REPLACE = "replace"
    """An inverter replaced on site: the old serial retired, the new one added."""
    DONE = "done"
    VERIFY = "verify"
    REOPEN = "reopen"


S = OrderState
FROM: dict[Step, frozenset[OrderState]] = {
    Step.ASSIGN: frozenset({S.CREATED, S.ASSIGNED, S.ACCEPTED}),
    Step.ACCEPT: frozenset({S.ASSIGNED}),
    Step.ARRIVE: frozenset({S.ACCEPTED}),
    Step.NOTE: frozenset({S.CREATED, S.ASSIGNED, S.ACCEPTED, S.ON_SITE, S.DONE}),
    Step.PHOTO: frozenset({S.ACCEPTED, S.ON_SITE, S.DONE}),
    Step.REPLACE: frozenset({S.ON_SITE}),
    Step.DONE: frozenset({S.ON_SITE}),
    Step.VERIFY: frozenset({S.DONE}),
    Step.REOPEN: frozenset({S.DONE, S.VERIFIED}),
}
"""The states each step may be taken from."""
TO: dict[Step, OrderState] = {
    Step.ASSIGN: S.ASSIGNED,
    Step.ACCEPT: S.ACCEPTED,
    Step.ARRIVE: S.ON_SITE,
    Step.DONE: S.DONE,
    Step.VERIFY: S.VERIFIED,
    Step.REOPEN: S.ASSIGNED,
}
"""The state a step leads to (a note leaves the state as it is)."""
ASSIGNEES_STEPS = frozenset({Step.ACCEPT, Step.ARRIVE, Step.PHOTO, Step.REPLACE, Step.DONE})
"""Steps only the order's maintainer takes."""
OPEN_STATES = frozenset({S.CREATED, S.ASSIGNED, S.ACCEPTED, S.ON_SITE})
"""Work still to do: these count as open, and late once past their deadline."""


class InvalidStep(ValueError):
    def __init__(self, step: Step, state: OrderState) -> None:
        super().__init__(f"an order that is {state} cannot be given the step {step}")
        self.step, self.state = step, state


def after(state: OrderState, step: Step) -> OrderState:
    """The state after ``step``; ``InvalidStep`` when it cannot be taken from ``state``."""
    if state not in FROM[step]:
        raise InvalidStep(step, state)
    return TO.get(step, state)


def deadline(
    created_at: dt.datetime, severity: Severity, hours: Mapping[Severity, float]
) -> dt.datetime:
    return created_at + dt.timedelta(hours=hours[severity])


def is_late(state: OrderState, deadline_at: dt.datetime, now: dt.datetime) -> bool:
    return state in OPEN_STATES and now > deadline_at
