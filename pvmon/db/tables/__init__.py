"""The relational schema, one module per owner: the package that writes a table is named in
its module's docstring (``registry``: the core registry; ``audit``: the core's audit log;
``ingest``; ``analytics``; ``alerts``; ``maintenance``; ``finance``; ``reports``; ``users``:
the API). Everything is re-exported here, so code says ``tables.Alert``. Stable codes are the
keys everywhere (townships, villages, stations, inverter serials, people); names are plain data.
Alembic migrations in ``pvmon/migrations`` create these tables.
"""

from pvmon.db.tables.alerts import Alert, AlertEvent, Delivery, Send
from pvmon.db.tables.analytics import (
    Finding,
    JobRun,
    StationDegradation,
    StationSoiling,
    VillageStatement,
    WorkLease,
)
from pvmon.db.tables.audit import AuditEntry
from pvmon.db.tables.base import Base, UTCDateTime
from pvmon.db.tables.finance import (
    Adjustment,
    Disclosure,
    IncomeUse,
    Receipt,
    Settlement,
    VillageMonth,
)
from pvmon.db.tables.ingest import DeadLetter, DeviceStatus, IngestWorker, LateDay, LoggerStatus
from pvmon.db.tables.maintenance import WorkOrder, WorkOrderPhoto, WorkOrderStep
from pvmon.db.tables.registry import (
    REGISTRY_TABLES,
    Certificate,
    County,
    DeviceAddress,
    Inverter,
    Person,
    Station,
    StationCost,
    StationMaintainer,
    StationShare,
    Tariff,
    Township,
    Village,
    VillageMaintainer,
)
from pvmon.db.tables.reports import Report
from pvmon.db.tables.users import ApiToken, LoginFailure, User, WebSession

__all__ = [
    "REGISTRY_TABLES",
    "Adjustment",
    "Alert",
    "AlertEvent",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Certificate",
    "County",
    "DeadLetter",
    "Delivery",
    "DeviceAddress",
    "DeviceStatus",
    "Disclosure",
    "Finding",
    "IncomeUse",
    "IngestWorker",
    "Inverter",
    "JobRun",
    "LateDay",
    "LoggerStatus",
    "LoginFailure",
    "Person",
    "Receipt",
    "Report",
    "Send",
    "Settlement",
    "Station",
    "StationCost",
    "StationDegradation",
    "StationMaintainer",
    "StationShare",
    "StationSoiling",
    "Tariff",
    "Township",
    "UTCDateTime",
    "User",
    "Village",
    "VillageMaintainer",
    "VillageMonth",
    "VillageStatement",
    "WebSession",
    "WorkLease",
    "WorkOrder",
    "WorkOrderPhoto",
    "WorkOrderStep",
]
