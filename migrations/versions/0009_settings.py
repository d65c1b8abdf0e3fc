"""settings the office changes in the browser (which kinds of file may be uploaded); a half-year
summary's 审核人 (half_year_summaries.approved_by), as on the quarterly form

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:27:29.959131

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('settings',
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    with op.batch_alter_table("half_year_summaries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_by", sa.String(length=50), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("half_year_summaries", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
    op.drop_table('settings')
