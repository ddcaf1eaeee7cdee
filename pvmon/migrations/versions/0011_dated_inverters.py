"""dated inverters (valid_from, valid_to) and dead letters recovered once their device is known

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inverters") as batch:
        batch.alter_column("installed_on", new_column_name="valid_from")
        batch.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("recovered_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("recovered_at")
    with op.batch_alter_table("inverters") as batch:
        batch.drop_column("valid_to")
        batch.alter_column("valid_from", new_column_name="installed_on")
