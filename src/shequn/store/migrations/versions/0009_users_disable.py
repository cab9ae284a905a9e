"""Console users can be disabled (owners end their access without deleting them).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.add_column(sa.Column("disabled_ts", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("web_users") as batch:
        batch.drop_column("disabled_ts")
