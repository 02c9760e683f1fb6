"""answer reasoning and ending

The model's reasoning apart from the answer, how long it reasoned and the tokens it spent on it;
how each answer ended; and the user's choice to keep reasoning unfolded. Existing rows read as
answers without reasoning whose ending was not recorded.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ending", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "reasoning",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(sa.Column("reasoning_ms", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reasoning_tokens", sa.Integer(), nullable=True))
    with op.batch_alter_table("usersettings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reasoning_open", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("usersettings", schema=None) as batch_op:
        batch_op.drop_column("reasoning_open")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("reasoning_tokens")
        batch_op.drop_column("reasoning_ms")
        batch_op.drop_column("reasoning")
        batch_op.drop_column("ending")
