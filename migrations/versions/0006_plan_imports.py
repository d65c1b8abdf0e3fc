"""plan imports: an uploaded arrangement kept between its preview and its confirmation;
a task's words for every department (all_wording)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 07:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("all_wording", sa.String(length=100), nullable=False, server_default=""))
    op.create_table(
        "plan_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("parsed", sa.JSON(), nullable=False),
        sa.Column("corrections", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_plan_imports_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_imports_plan_id_plans"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_imports")),
    )
    with op.batch_alter_table("plan_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_imports_plan_id"), ["plan_id"], unique=False)


def downgrade():
    with op.batch_alter_table("plan_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_imports_plan_id"))
    op.drop_table("plan_imports")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("all_wording")
