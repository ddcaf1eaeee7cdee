"""dead letters keep a payload's head, its size and its SHA-256

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Existing rows keep their payloads as they were (nothing is cut from what was kept); their
size and digest are computed from them here, in batches.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.add_column(sa.Column("payload_bytes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payload_sha256", sa.String(length=64), nullable=True))
    letters = sa.table(
        "dead_letters",
        sa.column("id", sa.Integer),
        sa.column("payload", sa.LargeBinary),
        sa.column("payload_bytes", sa.Integer),
        sa.column("payload_sha256", sa.String),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(letters.c.id, letters.c.payload)
            .where(letters.c.id > last)
            .order_by(letters.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            letters.update()
            .where(letters.c.id == sa.bindparam("row_id"))
            .values(payload_bytes=sa.bindparam("size"), payload_sha256=sa.bindparam("digest")),
            [
                {
                    "row_id": r.id,
                    "size": len(r.payload),
                    "digest": hashlib.sha256(r.payload).hexdigest(),
                }
                for r in rows
            ],
        )
        last = rows[-1].id
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.alter_column("payload_bytes", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("payload_sha256", existing_type=sa.String(length=64), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch_op:
        batch_op.drop_column("payload_sha256")
        batch_op.drop_column("payload_bytes")
