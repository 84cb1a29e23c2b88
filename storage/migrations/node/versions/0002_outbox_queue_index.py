"""outbox: index the queue in sequence order per peer

The delivery reads each peer's queue in sequence order from a cursor; an index on
(state, peer_id, seq) serves that read without sorting every pending row.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')
        batch_op.create_index('ix_outbox_queue', ['state', 'peer_id', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_queue')
        batch_op.create_index('ix_outbox_due', ['state', 'peer_id', 'next_attempt_at', 'seq'],
                              unique=False)
