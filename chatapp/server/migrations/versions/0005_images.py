"""images: pictures image models drew, kept in the database (models.GeneratedImage)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 19:54:24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generatedimage",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("mime", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("generatedimage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_generatedimage_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_generatedimage_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("generatedimage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_generatedimage_user_id"))
        batch_op.drop_index(batch_op.f("ix_generatedimage_message_id"))

    op.drop_table("generatedimage")
