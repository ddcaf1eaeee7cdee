"""station_soiling: each station's soiling as estimated up to a day, and its recent cost

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_soiling",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column("loss_now_pct", sa.Float(), nullable=False),
        sa.Column("lost_kwh", sa.Float(), nullable=False),
        sa.Column("lost_yuan", sa.Float(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("cleaning_yuan", sa.Float(), nullable=False),
        sa.Column("intervals", sa.Integer(), nullable=False),
        sa.Column("cleanings", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "as_of", name=op.f("pk_station_soiling")),
    )


def downgrade() -> None:
    op.drop_table("station_soiling")
