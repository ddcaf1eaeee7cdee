"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_reason"), ["reason"], unique=False)
        batch_op.create_index(
            "ix_dead_letters_reason_received", ["reason", "received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dead_letters_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_dead_letters_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "device_status",
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("last_ts", sa.DateTime(), nullable=False),
        sa.Column("last_received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_status")),
    )
    with op.batch_alter_table("device_status", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_device_status_station_id"), ["station_id"], unique=False
        )

    op.create_table(
        "ingest_workers",
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("host", sa.String(length=128), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("counters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_ingest_workers")),
    )
    op.create_table(
        "late_days",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "day", name=op.f("pk_late_days")),
    )
    with op.batch_alter_table("late_days", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_late_days_last_seen_at"), ["last_seen_at"], unique=False
        )

    op.create_table(
        "logger_status",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_logger_status")),
    )
    op.create_table(
        "townships",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("former_name", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_townships")),
    )
    op.create_table(
        "villages",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("township_id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("altitude_m", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["township_id"], ["townships.id"], name=op.f("fk_villages_township_id_townships")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_villages")),
    )
    with op.batch_alter_table("villages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_villages_township_id"), ["township_id"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("mobile", sa.String(length=32), nullable=True),
        sa.Column("wecom_id", sa.String(length=64), nullable=True),
        sa.Column("dingtalk_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=128), nullable=True),
        sa.Column("village_id", sa.String(length=16), nullable=True),
        sa.Column("township_id", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["township_id"], ["townships.id"], name=op.f("fk_people_township_id_townships")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_people_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_role"), ["role"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_township_id"), ["township_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_village_id"), ["village_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.Column("cert_type", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("review_due_on", sa.Date(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_certificates_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_person_id"), ["person_id"], unique=False)

    op.create_table(
        "stations",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("township_id", sa.String(length=16), nullable=False),
        sa.Column("village_id", sa.String(length=16), nullable=True),
        sa.Column("household_id", sa.String(length=16), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("altitude_m", sa.Float(), nullable=False),
        sa.Column("capacity_kwp", sa.Float(), nullable=False),
        sa.Column("tilt_deg", sa.Float(), nullable=False),
        sa.Column("azimuth_deg", sa.Float(), nullable=False),
        sa.Column("commissioned_on", sa.Date(), nullable=False),
        sa.Column("grid_loss_factor", sa.Float(), nullable=False),
        sa.Column("subsidy_cap_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["people.id"], name=op.f("fk_stations_household_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["township_id"], ["townships.id"], name=op.f("fk_stations_township_id_townships")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_stations_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
    )
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stations_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_stations_township_id"), ["township_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stations_village_id"), ["village_id"], unique=False)

    op.create_table(
        "village_maintainers",
        sa.Column("village_id", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_village_maintainers_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_village_maintainers_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("village_id", "person_id", name=op.f("pk_village_maintainers")),
    )
    op.create_table(
        "inverters",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("rated_ac_w", sa.Float(), nullable=False),
        sa.Column("wh_scale_exp", sa.Integer(), nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_inverters_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inverters")),
    )
    with op.batch_alter_table("inverters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inverters_station_id"), ["station_id"], unique=False)

    op.create_table(
        "station_costs",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("annual_yuan", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_station_costs_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("station_id", "item", name=op.f("pk_station_costs")),
    )
    op.create_table(
        "station_maintainers",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("person_id", sa.String(length=16), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_station_maintainers_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_station_maintainers_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("station_id", "person_id", name=op.f("pk_station_maintainers")),
    )
    op.create_table(
        "station_shares",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("village_id", sa.String(length=16), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_station_shares_station_id_stations")
        ),
        sa.ForeignKeyConstraint(
            ["village_id"], ["villages.id"], name=op.f("fk_station_shares_village_id_villages")
        ),
        sa.PrimaryKeyConstraint("station_id", "village_id", name=op.f("pk_station_shares")),
    )
    op.create_table(
        "tariffs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column("grid_yuan_per_kwh", sa.Float(), nullable=False),
        sa.Column("subsidy_yuan_per_kwh", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["stations.id"], name=op.f("fk_tariffs_station_id_stations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariffs")),
    )
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tariffs_station_id"), ["station_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("tariffs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tariffs_station_id"))

    op.drop_table("tariffs")
    op.drop_table("station_shares")
    op.drop_table("station_maintainers")
    op.drop_table("station_costs")
    with op.batch_alter_table("inverters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inverters_station_id"))

    op.drop_table("inverters")
    op.drop_table("village_maintainers")
    with op.batch_alter_table("stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stations_village_id"))
        batch_op.drop_index(batch_op.f("ix_stations_township_id"))
        batch_op.drop_index(batch_op.f("ix_stations_kind"))

    op.drop_table("stations")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_person_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_village_id"))
        batch_op.drop_index(batch_op.f("ix_people_township_id"))
        batch_op.drop_index(batch_op.f("ix_people_role"))

    op.drop_table("people")
    with op.batch_alter_table("villages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_villages_township_id"))

    op.drop_table("villages")
    op.drop_table("townships")
    op.drop_table("logger_status")
    with op.batch_alter_table("late_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_late_days_last_seen_at"))

    op.drop_table("late_days")
    op.drop_table("ingest_workers")
    with op.batch_alter_table("device_status", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_status_station_id"))

    op.drop_table("device_status")
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dead_letters_station_id"))
        batch_op.drop_index(batch_op.f("ix_dead_letters_received_at"))
        batch_op.drop_index("ix_dead_letters_reason_received")
        batch_op.drop_index(batch_op.f("ix_dead_letters_reason"))

    op.drop_table("dead_letters")
