"""dated ownership shares and station costs (valid_from, valid_to): the rows a station had
hold from its commissioning

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DATED = {"station_shares": ["station_id", "village_id"], "station_costs": ["station_id", "item"]}


def upgrade() -> None:
    for table, key in DATED.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
            batch.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        op.execute(
            f"UPDATE {table} SET valid_from = (SELECT commissioned_on FROM stations"
            f" WHERE stations.id = {table}.station_id)"
        )
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.alter_column("valid_from", existing_type=sa.Date(), nullable=False)
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", [*key, "valid_from"])


def downgrade() -> None:
    for table, key in DATED.items():
        op.execute(f"DELETE FROM {table} WHERE valid_to IS NOT NULL")
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", key)
            batch.drop_column("valid_to")
            batch.drop_column("valid_from")
