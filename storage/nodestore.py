"""Every SQL statement of the node database: peers, keys, outbox, inbox, receipts, audit.

Reads are methods of ``NodeStore``; writes that must commit together (an inbound batch
with its peer updates and receipts) go through ``NodeStore.write(fn)``, which runs
``fn(NodeTx)`` as one transaction (see ``Database.run_write``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, TypeVar

import sqlalchemy as sa

from .database import Database, insert_many
from .schema import audit_log, outbox, own_keys, peer_keys, peers, receipts, received, sent

T = TypeVar("T")


class OutboxState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    REJECTED = "rejected"  # the peer refused it for good (reason in last_error)
    DEAD = "dead"  # gave up after the give-up time


@dataclass(frozen=True, slots=True)
class KeyRow:
    kid: str
    sign_public: bytes
    enc_public: bytes
    valid_until: int | None


@dataclass(frozen=True, slots=True)
class PeerRow:
    node_id: str
    name: str
    country: str
    languages: list[str]
    url: str
    status: str
    status_reason: str
    roles: list[str]
    groups: list[str]
    fingerprint: str
    created_at: int
    updated_at: int
    keys: tuple[KeyRow, ...] = ()

    def valid_keys(self, now_ms: int) -> dict[str, KeyRow]:
        return {
            k.kid: k for k in self.keys if k.valid_until is None or k.valid_until > now_ms
        }

    @property
    def current_key(self) -> KeyRow:
        return next(k for k in self.keys if k.valid_until is None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.node_id, "name": self.name, "country": self.country,
            "languages": self.languages, "url": self.url, "status": self.status,
            "status_reason": self.status_reason, "roles": self.roles, "groups": self.groups,
            "fingerprint": self.fingerprint, "created_at": self.created_at,
            "updated_at": self.updated_at,
            "keys": [{"kid": k.kid, "valid_until": k.valid_until} for k in self.keys],
        }


@dataclass(frozen=True, slots=True)
class OutboxRow:
    seq: int
    envelope_id: str
    peer_id: str
    type: str
    envelope: bytes
    state: str
    attempts: int
    next_attempt_at: int
    created_at: int
    expires_at: int
    last_error: str
    delivered_at: int | None


@dataclass(frozen=True, slots=True)
class NewOutbox:
    envelope_id: str
    peer_id: str
    type: str
    envelope: bytes
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class NewSent:
    envelope_id: str
    type: str
    recipients: Sequence[str]
    tlp: str
    created_at: int
    expires_at: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class NewReceived:
    origin: str
    envelope_id: str
    type: str
    digest: bytes
    tlp: str
    catalog: int
    created_at: int
    expires_at: int
    received_at: int
    via: str
    envelope: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class ReceivedRow:
    origin: str
    envelope_id: str
    type: str
    tlp: str
    catalog: int
    created_at: int
    received_at: int
    via: str
    payload: bytes
    envelope: bytes
    read_at: int | None


@dataclass(slots=True)
class DeliveryCounts:
    """Per-peer outbox counts by state, for the dashboard and `outbox`."""

    by_peer: dict[str, dict[str, int]] = field(default_factory=dict)


def _peer_from(row: sa.Row[Any], keys: Iterable[KeyRow]) -> PeerRow:
    m = row._mapping
    return PeerRow(
        node_id=m["node_id"], name=m["name"], country=m["country"], languages=m["languages"],
        url=m["url"], status=m["status"], status_reason=m["status_reason"], roles=m["roles"],
        groups=m["groups"], fingerprint=m["fingerprint"], created_at=m["created_at"],
        updated_at=m["updated_at"], keys=tuple(keys),
    )


def _audit_hash(prev: bytes, at: int, actor: str, action: str, subject: str, detail: Any) -> bytes:
    body = json.dumps([at, actor, action, subject, detail], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(prev + body.encode()).digest()


GENESIS = b"\0" * 32


@lru_cache(maxsize=1024)
def _json_list(items: tuple[str, ...]) -> str:
    """A JSON column's text for a list of ids (the same few recipient lists recur)."""
    return json.dumps(list(items))


def _placeholder(dialect: sa.Dialect) -> str:
    """The driver's positional parameter marker."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


class NodeTx:
    """Writes that share one transaction."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def upsert_peer(
        self, *, node_id: str, name: str, country: str, languages: Sequence[str], url: str,
        status: str, fingerprint: str, now_ms: int, reason: str = "",
    ) -> None:
        values = dict(
            name=name, country=country, languages=list(languages), url=url, status=status,
            status_reason=reason, fingerprint=fingerprint, updated_at=now_ms,
        )
        done = self.conn.execute(
            sa.update(peers).where(peers.c.node_id == node_id).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(
                sa.insert(peers).values(
                    node_id=node_id, roles=["peer"], groups=[], created_at=now_ms, **values
                )
            )

    def set_peer_status(self, node_id: str, status: str, reason: str, now_ms: int) -> None:
        self.conn.execute(
            sa.update(peers).where(peers.c.node_id == node_id)
            .values(status=status, status_reason=reason, updated_at=now_ms)
        )

    def add_peer_key(
        self, peer_id: str, kid: str, sign_public: bytes, enc_public: bytes, now_ms: int,
        *, retire_others_at: int | None,
    ) -> None:
        """Add a key as the peer's current one; other keys stay valid until retire_others_at."""
        self.conn.execute(
            sa.update(peer_keys)
            .where(peer_keys.c.peer_id == peer_id, peer_keys.c.kid != kid,
                   peer_keys.c.valid_until.is_(None))
            .values(valid_until=retire_others_at if retire_others_at is not None else now_ms)
        )
        exists = self.conn.scalar(
            sa.select(sa.func.count()).select_from(peer_keys)
            .where(peer_keys.c.peer_id == peer_id, peer_keys.c.kid == kid)
        )
        if not exists:
            self.conn.execute(
                sa.insert(peer_keys).values(
                    peer_id=peer_id, kid=kid, sign_public=sign_public, enc_public=enc_public,
                    added_at=now_ms, valid_until=None,
                )
            )

    def add_own_key(self, kid: str, sign_public: bytes, enc_public: bytes, now_ms: int,
                          *, retire_others_at: int | None) -> None:
        self.conn.execute(
            sa.update(own_keys).where(own_keys.c.kid != kid, own_keys.c.valid_until.is_(None))
            .values(valid_until=retire_others_at if retire_others_at is not None else now_ms)
        )
        self.conn.execute(
            sa.insert(own_keys).values(
                kid=kid, sign_public=sign_public, enc_public=enc_public, created_at=now_ms,
                valid_until=None,
            )
        )

    def record_sent(self, items: Sequence[NewSent]) -> None:
        insert_many(self.conn, sent, [
            dict(envelope_id=i.envelope_id, type=i.type,
                 recipients=_json_list(tuple(i.recipients)), tlp=i.tlp,
                 created_at=i.created_at, expires_at=i.expires_at, payload=i.payload)
            for i in items
        ])

    def enqueue(self, items: Sequence[NewOutbox]) -> None:
        pending = OutboxState.PENDING.value
        insert_many(self.conn, outbox, [
            dict(envelope_id=i.envelope_id, peer_id=i.peer_id, type=i.type,
                 envelope=i.envelope, state=pending, attempts=0,
                 next_attempt_at=i.created_at, created_at=i.created_at,
                 expires_at=i.expires_at, last_error="")
            for i in items
        ])

    def known_received(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], bytes]:
        """Digests of envelopes already received, by (origin, envelope id)."""
        found: dict[tuple[str, str], bytes] = {}
        for origin in {o for o, _ in keys}:
            ids = [e for o, e in keys if o == origin]
            # Through the driver: this runs for every inbound batch, and SQLAlchemy would
            # compile an IN of a new length each time.
            mark = _placeholder(self.conn.dialect)
            sql = (f"SELECT envelope_id, digest FROM {received.name} WHERE origin = {mark} "
                   f"AND envelope_id IN ({', '.join([mark] * len(ids))})")
            rows = self.conn.exec_driver_sql(sql, (origin, *ids))
            found.update({(origin, eid): bytes(digest) for eid, digest in rows})
        return found

    def insert_received(self, items: Sequence[NewReceived]) -> None:
        insert_many(self.conn, received, [
            dict(origin=i.origin, envelope_id=i.envelope_id, type=i.type, digest=i.digest,
                 tlp=i.tlp, catalog=i.catalog, created_at=i.created_at,
                 expires_at=i.expires_at, received_at=i.received_at, via=i.via,
                 envelope=i.envelope, payload=i.payload)
            for i in items
        ])

    def add_receipts(self, rows: Sequence[tuple[str, str, str, int, str]]) -> None:
        """(envelope id, peer, kind, at, receipt id); a receipt seen twice is kept once."""
        insert_many(self.conn, receipts,
                    [dict(envelope_id=e, peer_id=p, kind=k, at=at, receipt_id=r)
                     for e, p, k, at, r in rows], skip_existing=True)

    def audit(self, *, at: int, actor: str, action: str, subject: str,
              detail: dict[str, Any] | None = None) -> None:
        """Append to the hash-chained audit log."""
        detail = detail or {}
        prev = self.conn.scalar(
            sa.select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        )
        prev = prev or GENESIS
        self.conn.execute(
            sa.insert(audit_log).values(
                at=at, actor=actor, action=action, subject=subject, detail=detail,
                prev_hash=prev, hash=_audit_hash(prev, at, actor, action, subject, detail),
            )
        )

    # -- outbox state ------------------------------------------------------------------

    def mark_delivered(self, seqs: Sequence[int], now_ms: int) -> None:
        if seqs:
            self.conn.execute(
                sa.update(outbox).where(outbox.c.seq.in_(seqs))
                .values(state=OutboxState.DELIVERED.value, delivered_at=now_ms, last_error="")
            )

    def mark_rejected(self, items: Sequence[tuple[int, str]]) -> None:
        for seq, reason in items:
            self.conn.execute(
                sa.update(outbox).where(outbox.c.seq == seq)
                .values(state=OutboxState.REJECTED.value, last_error=reason)
            )

    def mark_retry(self, seqs: Sequence[int], *, next_attempt_at: int, error: str) -> None:
        if seqs:
            self.conn.execute(
                sa.update(outbox).where(outbox.c.seq.in_(seqs))
                .values(attempts=outbox.c.attempts + 1, next_attempt_at=next_attempt_at,
                        last_error=error[:500])
            )

    def due_now(self, peer_id: str, now_ms: int) -> int:
        """Make everything queued for peer that waits on a back-off due now; how many."""
        done = self.conn.execute(
            sa.update(outbox)
            .where(outbox.c.peer_id == peer_id, outbox.c.state == OutboxState.PENDING.value,
                   outbox.c.next_attempt_at > now_ms)
            .values(next_attempt_at=now_ms)
        )
        return done.rowcount or 0

    def mark_dead(self, seqs: Sequence[int], error: str) -> None:
        if seqs:
            self.conn.execute(
                sa.update(outbox).where(outbox.c.seq.in_(seqs))
                .values(state=OutboxState.DEAD.value, last_error=error[:500])
            )

    def retry_dead(self, now_ms: int, *, peer_id: str | None = None,
                   envelope_id: str | None = None) -> int:
        """Put dead-lettered (and rejected) messages back in the queue; return how many."""
        q = sa.update(outbox).where(
            outbox.c.state.in_([OutboxState.DEAD.value, OutboxState.REJECTED.value])
        )
        if peer_id:
            q = q.where(outbox.c.peer_id == peer_id)
        if envelope_id:
            q = q.where(outbox.c.envelope_id == envelope_id)
        done = self.conn.execute(
            q.values(state=OutboxState.PENDING.value, next_attempt_at=now_ms, attempts=0,
                     created_at=now_ms)
        )
        return done.rowcount or 0

    def abandon_for_peer(self, peer_id: str, reason: str) -> None:
        """Dead-letter everything still queued for a revoked peer."""
        self.conn.execute(
            sa.update(outbox)
            .where(outbox.c.peer_id == peer_id, outbox.c.state == OutboxState.PENDING.value)
            .values(state=OutboxState.DEAD.value, last_error=reason)
        )

    def mark_read(self, origin: str, envelope_id: str, now_ms: int) -> bool:
        done = self.conn.execute(
            sa.update(received)
            .where(received.c.origin == origin, received.c.envelope_id == envelope_id,
                   received.c.read_at.is_(None))
            .values(read_at=now_ms)
        )
        return bool(done.rowcount)


class NodeStore:
    """The node database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, url: str, *, synchronous: str = "NORMAL") -> NodeStore:
        return cls(await Database.open(url, "node", synchronous=synchronous))

    async def close(self) -> None:
        await self.db.close()

    async def write(self, fn: Callable[[NodeTx], T]) -> T:
        """Run fn(tx) in one write transaction and return what it returns; nothing is
        kept if it raises. fn is synchronous: it only calls ``NodeTx`` methods and
        computes, it never waits on anything else."""
        return await self.db.run_write(lambda conn: fn(NodeTx(conn)))

    # -- keys and peers ----------------------------------------------------------------

    async def own_keys(self) -> list[KeyRow]:
        rows = await self.db.fetch_all(sa.select(own_keys).order_by(own_keys.c.created_at))
        return [KeyRow(r.kid, r.sign_public, r.enc_public, r.valid_until) for r in rows]

    async def get_peer(self, node_id: str) -> PeerRow | None:
        def read(conn: sa.Connection) -> PeerRow | None:
            row = conn.execute(sa.select(peers).where(peers.c.node_id == node_id)).first()
            if row is None:
                return None
            keys = conn.execute(
                sa.select(peer_keys).where(peer_keys.c.peer_id == node_id)
                .order_by(peer_keys.c.added_at)
            )
            return _peer_from(
                row, [KeyRow(k.kid, k.sign_public, k.enc_public, k.valid_until) for k in keys]
            )

        # On every send and, once a second, on the door's and the senders' hot paths.
        return await self.db.run_read(read)

    async def list_peers(self, status: str | None = None) -> list[PeerRow]:
        async with self.db.read() as conn:
            q = sa.select(peers).order_by(peers.c.node_id)
            if status:
                q = q.where(peers.c.status == status)
            rows = (await conn.execute(q)).all()
            keys = (await conn.execute(sa.select(peer_keys).order_by(peer_keys.c.added_at))).all()
        by_peer: dict[str, list[KeyRow]] = {}
        for k in keys:
            by_peer.setdefault(k.peer_id, []).append(
                KeyRow(k.kid, k.sign_public, k.enc_public, k.valid_until)
            )
        return [_peer_from(r, by_peer.get(r.node_id, [])) for r in rows]

    # -- outbox ------------------------------------------------------------------------

    async def due(self, peer_id: str, now_ms: int, limit: int, *,
                  after_seq: int = 0) -> list[OutboxRow]:
        """Rows due for peer, in queue order, after the given position in the queue."""
        query = (
            sa.select(*(outbox.c[f] for f in OutboxRow.__slots__))
            .where(outbox.c.state == OutboxState.PENDING.value, outbox.c.peer_id == peer_id,
                   outbox.c.next_attempt_at <= now_ms, outbox.c.seq > after_seq)
            .order_by(outbox.c.seq).limit(limit)
        )
        return await self.db.run_read(
            lambda conn: [OutboxRow(*r) for r in conn.execute(query)]
        )

    async def peers_with_pending(self) -> dict[str, int]:
        """Peers with pending messages, and the earliest time one of them is due."""
        rows = await self.db.fetch_all(
            sa.select(outbox.c.peer_id, sa.func.min(outbox.c.next_attempt_at))
            .where(outbox.c.state == OutboxState.PENDING.value)
            .group_by(outbox.c.peer_id)
        )
        return {r[0]: r[1] for r in rows}

    async def list_outbox(self, *, state: str | None = None, peer_id: str | None = None,
                          limit: int = 100) -> list[OutboxRow]:
        q = sa.select(outbox).order_by(outbox.c.seq.desc()).limit(limit)
        if state:
            q = q.where(outbox.c.state == state)
        if peer_id:
            q = q.where(outbox.c.peer_id == peer_id)
        return [OutboxRow(**r._mapping) for r in await self.db.fetch_all(q)]

    async def outbox_counts(self) -> DeliveryCounts:
        rows = await self.db.fetch_all(
            sa.select(outbox.c.peer_id, outbox.c.state, sa.func.count())
            .group_by(outbox.c.peer_id, outbox.c.state)
        )
        counts = DeliveryCounts()
        for peer_id, state, n in rows:
            counts.by_peer.setdefault(peer_id, {})[state] = n
        return counts

    # -- inbox -------------------------------------------------------------------------

    async def list_received(self, *, types: Sequence[str], limit: int = 100,
                            unread_only: bool = False) -> list[ReceivedRow]:
        q = (
            sa.select(received).where(received.c.type.in_(list(types)))
            .order_by(received.c.received_at.desc(), received.c.envelope_id.desc()).limit(limit)
        )
        if unread_only:
            q = q.where(received.c.read_at.is_(None))
        return [_received_row(r) for r in await self.db.fetch_all(q)]

    async def get_received(self, envelope_id: str) -> ReceivedRow | None:
        r = await self.db.fetch_one(sa.select(received).where(received.c.envelope_id == envelope_id))
        return _received_row(r) if r else None


    async def receipts_for(self, envelope_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        rows = await self.db.fetch_all(
            sa.select(receipts).where(receipts.c.envelope_id.in_(list(envelope_ids)))
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r.envelope_id, []).append(
                {"peer": r.peer_id, "kind": r.kind, "at": r.at}
            )
        return out


    # -- audit -------------------------------------------------------------------------

    async def audit_entries(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self.db.fetch_all(
            sa.select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
        )
        return [
            {"seq": r.seq, "at": r.at, "actor": r.actor, "action": r.action,
             "subject": r.subject, "detail": r.detail}
            for r in rows
        ]

    async def verify_audit(self) -> tuple[bool, int, str]:
        """Walk the hash chain: (intact, entries checked, where it broke)."""
        prev = GENESIS
        n = 0
        async with self.db.read() as conn:
            result = await conn.stream(sa.select(audit_log).order_by(audit_log.c.seq))
            async for r in result:
                n += 1
                expected = _audit_hash(prev, r.at, r.actor, r.action, r.subject, r.detail)
                if r.prev_hash != prev or r.hash != expected:
                    return False, n, f"entry {r.seq} does not match the chain"
                prev = r.hash
        return True, n, ""


def _received_row(r: sa.Row[Any]) -> ReceivedRow:
    m = r._mapping
    return ReceivedRow(
        origin=m["origin"], envelope_id=m["envelope_id"], type=m["type"], tlp=m["tlp"],
        catalog=m["catalog"], created_at=m["created_at"], received_at=m["received_at"],
        via=m["via"], payload=m["payload"], envelope=m["envelope"], read_at=m["read_at"],
    )
