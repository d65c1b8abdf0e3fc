"""hand-off notices and preferences: a notice says which hand-off it reports (submitted,
returned, accepted) and when the hourly digest took it; each user chooses bell or bell + e-mail;
a returned form's lines carry the office's comments (return_lines.review_comment)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:55:43.603760

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("by_email", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "event", name=op.f("pk_notification_preferences")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event", sa.String(length=20), server_default="", nullable=False))
        batch_op.add_column(sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("return_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_comment", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("return_lines", schema=None) as batch_op:
        batch_op.drop_column("review_comment")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("digested_at")
        batch_op.drop_column("event")

    op.drop_table("notification_preferences")
