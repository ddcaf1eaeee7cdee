"""Create the database and retention policies, for whichever InfluxDB generation answers.

Writing and querying use the 1.x HTTP API on every generation; only provisioning differs.
The 1.x path runs in this project's tests; the 2.x and 3.x paths follow those servers'
documented APIs and stay marked unverified until they run where a Docker engine exists.
"""

from __future__ import annotations

from typing import Literal

import httpx

from pvmon.influx.client import InfluxClient, InfluxRejected, series_values

RAW_RP = "raw"
"""Raw telemetry and events, kept for ``raw_retention_days`` (the default policy)."""
ROLLUP_RP = "rollups"
"""Daily rollups, kept for the stations' life."""
ROLLUP_SHARD = "52w"

Generation = Literal["1", "2", "3"]


def detect_generation(client: InfluxClient) -> Generation:
    version = client.ping().lstrip("v")
    if version.startswith("1."):
        return "1"
    if version.startswith("2."):
        return "2"
    if version.startswith("3."):
        return "3"
    raise InfluxRejected(f"cannot tell the InfluxDB generation from version {version!r}")


def provision(
    client: InfluxClient,
    *,
    raw_days: int,
    generation: str = "auto",
    token: str | None = None,
    org: str | None = None,
) -> Generation:
    """Make sure the database and its retention policies exist; safe to repeat."""
    gen: Generation = detect_generation(client) if generation == "auto" else generation  # type: ignore[assignment]
    if gen == "1":
        _provision_v1(client, raw_days)
    elif gen == "2":
        _provision_v2(client, raw_days, token, org)
    else:
        _provision_v3(client, token)
    return gen


def _provision_v1(client: InfluxClient, raw_days: int) -> None:
    db = client.database
    client.execute(f'CREATE DATABASE "{db}"')
    existing = {
        row["name"]: row
        for row in series_values(client.query(f'SHOW RETENTION POLICIES ON "{db}"'))
    }
    if RAW_RP in existing:
        client.execute(f'ALTER RETENTION POLICY "{RAW_RP}" ON "{db}" DURATION {raw_days}d DEFAULT')
    else:
        client.execute(
            f'CREATE RETENTION POLICY "{RAW_RP}" ON "{db}" DURATION {raw_days}d '
            "REPLICATION 1 DEFAULT"
        )
    # Rollups are few points over many days: year-long shards keep a query over the year
    # from touching ~50 weekly shards per series (the 1.x default for an infinite policy).
    if ROLLUP_RP in existing:
        client.execute(
            f'ALTER RETENTION POLICY "{ROLLUP_RP}" ON "{db}" SHARD DURATION {ROLLUP_SHARD}'
        )
    else:
        client.execute(
            f'CREATE RETENTION POLICY "{ROLLUP_RP}" ON "{db}" DURATION INF '
            f"REPLICATION 1 SHARD DURATION {ROLLUP_SHARD}"
        )


def _provision_v2(client: InfluxClient, raw_days: int, token: str | None, org: str | None) -> None:
    """Buckets ``<db>/raw`` and ``<db>/rollups`` with DBRP mappings (unverified here)."""
    from influxdb_client import BucketRetentionRules, InfluxDBClient
    from influxdb_client.domain.dbrp_create import DBRPCreate
    from influxdb_client.service.dbr_ps_service import DBRPsService

    if not token or not org:
        raise InfluxRejected("InfluxDB 2.x needs PVMON_INFLUX_TOKEN and PVMON_INFLUX_ORG")
    db = client.database
    with InfluxDBClient(url=client.url, token=token, org=org) as v2:
        org_id = v2.organizations_api().find_organizations(org=org)[0].id
        dbrps = DBRPsService(v2.api_client)
        mapped = {(m.database, m.retention_policy) for m in dbrps.get_dbr_ps(org_id=org_id).content}
        for rp, seconds in ((RAW_RP, raw_days * 86400), (ROLLUP_RP, 0)):
            name = f"{db}/{rp}"
            bucket = v2.buckets_api().find_bucket_by_name(name)
            if bucket is None:
                rules = (
                    [BucketRetentionRules(type="expire", every_seconds=seconds)] if seconds else []
                )
                bucket = v2.buckets_api().create_bucket(
                    bucket_name=name, retention_rules=rules, org_id=org_id
                )
            if (db, rp) not in mapped:
                dbrps.post_dbrp(
                    DBRPCreate(
                        org_id=org_id,
                        bucket_id=bucket.id,
                        database=db,
                        retention_policy=rp,
                        default=rp == RAW_RP,
                    )
                )


def _provision_v3(client: InfluxClient, token: str | None) -> None:
    """InfluxDB 3 Core creates a database through its v3 API (unverified here)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{client.url}/api/v3/configure/database",
        json={"db": client.database},
        headers=headers,
        timeout=10,
    )
    if response.status_code not in (200, 201, 204, 409):
        raise InfluxRejected(
            f"creating database {client.database!r}: HTTP {response.status_code} "
            f"{response.text[:300]}"
        )
