"""Tables of the node database: peers, keys, inbox, outbox, receipts, audit log.

Times are epoch milliseconds (integers) throughout, as on the wire.
"""

from __future__ import annotations

import sqlalchemy as sa

node_metadata = sa.MetaData()

peers = sa.Table(
    "peers",
    node_metadata,
    sa.Column("node_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("fingerprint", sa.String(40), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.BigInteger, nullable=False),
)

peer_keys = sa.Table(
    "peer_keys",
    node_metadata,
    sa.Column("peer_id", sa.String(64), sa.ForeignKey("peers.node_id"), primary_key=True),
    sa.Column("kid", sa.String(16), primary_key=True),
    sa.Column("sign_public", sa.LargeBinary(32), nullable=False),
    sa.Column("enc_public", sa.LargeBinary(32), nullable=False),
    sa.Column("added_at", sa.BigInteger, nullable=False),
    # None while the key is current; set to the end of the grace period once rotated.
    sa.Column("valid_until", sa.BigInteger, nullable=True),
)

own_keys = sa.Table(
    "own_keys",
    node_metadata,
    sa.Column("kid", sa.String(16), primary_key=True),
    sa.Column("sign_public", sa.LargeBinary(32), nullable=False),
    sa.Column("enc_public", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("valid_until", sa.BigInteger, nullable=True),
)

sent = sa.Table(
    "sent",
    node_metadata,
    sa.Column("envelope_id", sa.String(36), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("tlp", sa.String(16), nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)

outbox = sa.Table(
    "outbox",
    node_metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("envelope_id", sa.String(36), nullable=False),
    sa.Column("peer_id", sa.String(64), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False, server_default=""),
    sa.Column("delivered_at", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("envelope_id", "peer_id", name="uq_outbox_envelope_peer"),
    sa.Index("ix_outbox_queue", "state", "peer_id", "seq"),
)

received = sa.Table(
    "received",
    node_metadata,
    sa.Column("origin", sa.String(64), primary_key=True),
    sa.Column("envelope_id", sa.String(36), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("digest", sa.LargeBinary(32), nullable=False),
    sa.Column("tlp", sa.String(16), nullable=False),
    sa.Column("catalog", sa.Integer, nullable=False),
    sa.Column("created_at", sa.BigInteger, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False),
    sa.Column("received_at", sa.BigInteger, nullable=False),
    sa.Column("via", sa.String(64), nullable=False),
    sa.Column("envelope", sa.LargeBinary, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("read_at", sa.BigInteger, nullable=True),
    sa.Index("ix_received_type_time", "type", "received_at"),
)

receipts = sa.Table(
    "receipts",
    node_metadata,
    sa.Column("envelope_id", sa.String(36), primary_key=True),
    sa.Column("peer_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("receipt_id", sa.String(36), nullable=False),
)

audit_log = sa.Table(
    "audit_log",
    node_metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("prev_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)
