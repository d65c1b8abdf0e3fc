"""an index for the dashboard's progress: a quarter's lines counted by task and status from the
index alone (return_lines (return_id, task_id, status))

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:30:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_return_lines_return_id_task_id_status", "return_lines", ["return_id", "task_id", "status"], unique=False
    )


def downgrade():
    op.drop_index("ix_return_lines_return_id_task_id_status", table_name="return_lines")
