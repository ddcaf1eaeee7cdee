"""counties above the townships, with their targets: a registry that had none is Yonghe's

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

YONGHE = {"id": "C001", "name": "永和县"}
"""``pvmon.registry.schema.YONGHE`` as it was when this migration was written."""


def upgrade() -> None:
    counties = op.create_table(
        "counties",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("village_energy_kwh", sa.Float(), nullable=True),
        sa.Column("village_revenue_yuan", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counties")),
    )
    bind = op.get_bind()
    held = bind.execute(sa.text("SELECT count(*) FROM townships")).scalar_one()
    if held:
        op.bulk_insert(counties, [YONGHE])
    with op.batch_alter_table("townships") as batch:
        batch.add_column(sa.Column("county_id", sa.String(length=16), nullable=True))
    op.execute(sa.text("UPDATE townships SET county_id = :id").bindparams(id=YONGHE["id"]))
    with op.batch_alter_table("townships") as batch:
        batch.alter_column("county_id", existing_type=sa.String(length=16), nullable=False)
        batch.create_foreign_key(
            op.f("fk_townships_county_id_counties"), "counties", ["county_id"], ["id"]
        )
        batch.create_index(op.f("ix_townships_county_id"), ["county_id"])


def downgrade() -> None:
    with op.batch_alter_table("townships") as batch:
        batch.drop_index(op.f("ix_townships_county_id"))
        batch.drop_constraint(op.f("fk_townships_county_id_counties"), type_="foreignkey")
        batch.drop_column("county_id")
    op.drop_table("counties")
