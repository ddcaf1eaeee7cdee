"""station_degradation: each station's degradation rate as estimated up to a day

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_degradation",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("rate_pct", sa.Float(), nullable=False),
        sa.Column("low_pct", sa.Float(), nullable=False),
        sa.Column("high_pct", sa.Float(), nullable=False),
        sa.Column("pairs", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("station_id", "as_of", name=op.f("pk_station_degradation")),
    )


def downgrade() -> None:
    op.drop_table("station_degradation")
