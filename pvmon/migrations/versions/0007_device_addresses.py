"""device addresses: where a gateway reads each inverter

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_addresses",
        sa.Column("inverter_id", sa.String(length=32), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=253), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("cloud_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["inverter_id"],
            ["inverters.id"],
            name=op.f("fk_device_addresses_inverter_id_inverters"),
        ),
        sa.PrimaryKeyConstraint("inverter_id", name=op.f("pk_device_addresses")),
    )


def downgrade() -> None:
    op.drop_table("device_addresses")
