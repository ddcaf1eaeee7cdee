"""money: settlement statements, receipts, closed village months, adjustments, income uses
and published disclosure sheets

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(14, 2, asdecimal=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "settlements",
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("export_kwh", MONEY, nullable=False),
        sa.Column("grid_yuan", MONEY, nullable=False),
        sa.Column("subsidy_yuan", MONEY, nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("settled_on", sa.Date(), nullable=True),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        _fk("settlements", "station_id", "stations"),
        sa.PrimaryKeyConstraint("station_id", "period", name=op.f("pk_settlements")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("covers_from", sa.String(length=7), nullable=False),
        sa.Column("covers_to", sa.String(length=7), nullable=False),
        sa.Column("amount_yuan", MONEY, nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        _fk("receipts", "station_id", "stations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("station_id", "kind", "reference", name=op.f("uq_receipts_station_id")),
    )
    op.create_index(op.f("ix_receipts_station_id"), "receipts", ["station_id"])
    op.create_index(op.f("ix_receipts_received_on"), "receipts", ["received_on"])
    op.create_table(
        "village_months",
        sa.Column("village_id", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        _fk("village_months", "village_id", "villages"),
        sa.PrimaryKeyConstraint("village_id", "period", name=op.f("pk_village_months")),
    )
    op.create_table(
        "adjustments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_id", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount_yuan", MONEY, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("corrects", sa.String(length=7), nullable=True),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.Column("made_by", sa.String(length=64), nullable=False),
        _fk("adjustments", "village_id", "villages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustments")),
    )
    op.create_index(op.f("ix_adjustments_village_id"), "adjustments", ["village_id"])
    op.create_index(op.f("ix_adjustments_period"), "adjustments", ["period"])
    op.create_table(
        "income_uses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_id", sa.String(length=16), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount_yuan", MONEY, nullable=False),
        sa.Column("person", sa.String(length=64), nullable=True),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.Column("monthly_yuan", MONEY, nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        _fk("income_uses", "village_id", "villages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_income_uses")),
    )
    op.create_index(op.f("ix_income_uses_village_id"), "income_uses", ["village_id"])
    op.create_index(op.f("ix_income_uses_used_on"), "income_uses", ["used_on"])
    op.create_table(
        "disclosures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("village_id", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("posted_from", sa.Date(), nullable=False),
        sa.Column("posted_until", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        _fk("disclosures", "village_id", "villages"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosures")),
    )
    op.create_index(op.f("ix_disclosures_village_id"), "disclosures", ["village_id"])


def downgrade() -> None:
    for table in (
        "disclosures",
        "income_uses",
        "adjustments",
        "village_months",
        "receipts",
        "settlements",
    ):
        op.drop_table(table)
