"""leaders' briefs sent without asking: who subscribes to which briefs (brief_subscriptions),
the ledger of deliveries, one row per subscriber and brief (brief_deliveries), and the workbook an
e-mail carries (outgoing_mail.attachment_id)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:12:53.143799

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "brief_subscriptions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("wants_quarter", sa.Boolean(), nullable=False),
        sa.Column("wants_half", sa.Boolean(), nullable=False),
        sa.Column("wants_year", sa.Boolean(), nullable=False),
        sa.Column("wants_weekly", sa.Boolean(), nullable=False),
        sa.Column("by_email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_brief_subscriptions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_brief_subscriptions")),
    )
    op.create_table(
        "brief_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("quarter", "half", "year", "weekly", name="briefkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("archive_id", sa.Integer(), nullable=True),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["archive_id"],
            ["archive_files.id"],
            name=op.f("fk_brief_deliveries_archive_id_archive_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["outgoing_mail.id"],
            name=op.f("fk_brief_deliveries_mail_id_outgoing_mail"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_brief_deliveries_plan_id_plans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_brief_deliveries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_brief_deliveries")),
        sa.UniqueConstraint("user_id", "kind", "scope", name=op.f("uq_brief_deliveries_user_id")),
    )
    with op.batch_alter_table("brief_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_brief_deliveries_scope"), ["scope"], unique=False)
        batch_op.create_index(batch_op.f("ix_brief_deliveries_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_brief_deliveries_archive_id"), ["archive_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_brief_deliveries_mail_id"), ["mail_id"], unique=False)

    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_outgoing_mail_attachment_id_archive_files"),
            "archive_files",
            ["attachment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_outgoing_mail_attachment_id"), ["attachment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outgoing_mail", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outgoing_mail_attachment_id"))
        batch_op.drop_constraint(batch_op.f("fk_outgoing_mail_attachment_id_archive_files"), type_="foreignkey")
        batch_op.drop_column("attachment_id")

    with op.batch_alter_table("brief_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_brief_deliveries_mail_id"))
        batch_op.drop_index(batch_op.f("ix_brief_deliveries_archive_id"))
        batch_op.drop_index(batch_op.f("ix_brief_deliveries_plan_id"))
        batch_op.drop_index(batch_op.f("ix_brief_deliveries_scope"))

    op.drop_table("brief_deliveries")
    op.drop_table("brief_subscriptions")
