"""village_statements.computed_at indexed: the newest statement dates the whole books

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_village_statements_computed_at", "village_statements", ["computed_at"])


def downgrade() -> None:
    op.drop_index("ix_village_statements_computed_at", table_name="village_statements")
