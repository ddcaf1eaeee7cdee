"""planned orders: the plan and month of a recurring order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.add_column(sa.Column("plan_key", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("period", sa.String(length=7), nullable=True))
        batch.create_unique_constraint(
            op.f("uq_work_orders_station_id"), ["station_id", "plan_key", "period"]
        )


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch:
        batch.drop_constraint(op.f("uq_work_orders_station_id"), type_="unique")
        batch.drop_column("period")
        batch.drop_column("plan_key")
